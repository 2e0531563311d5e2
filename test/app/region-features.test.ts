import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { regionFeatures } from "../../src/app/region-features.js";
import type { VisionModels } from "../../src/app/vision-setup.js";
import type { ObjectDetector } from "../../src/vision/object-detector.js";
import { PixelStatsEncoder } from "../../src/vision/pixel-stats-encoder.js";
import {
  type LabelledDetection,
  RANKED_SELECTION,
  SCORE_SELECTION,
  selectRegions,
} from "../../src/vision/regions.js";

const DETECTIONS: LabelledDetection[] = [
  { box: { x1: 10, y1: 20, x2: 90, y2: 190 }, score: 0.9, label: "person" },
  { box: { x1: 100, y1: 40, x2: 200, y2: 120 }, score: 0.05, label: "dog" },
];

function detector(selection: typeof RANKED_SELECTION | undefined): ObjectDetector {
  return {
    name: "fixed",
    ...(selection ? { selection } : {}),
    detect: async () => DETECTIONS,
    close: async () => {},
  };
}

test("describe chooses regions among the detections as the detector's selection says, as features does", async () => {
  const png = await sharp({
    create: { width: 224, height: 224, channels: 3, background: { r: 90, g: 140, b: 60 } },
  })
    .png()
    .toBuffer();
  const encoder = new PixelStatsEncoder({});
  const boxes = async (d: ObjectDetector) => {
    const models: VisionModels = { encoder, detector: d, regions: 20 };
    return (await regionFeatures(models, png, "green.png")).regions.map((r) => r.box);
  };
  const ranked = await boxes(detector(RANKED_SELECTION));
  const plain = await boxes(detector(undefined));
  const want = (s: typeof RANKED_SELECTION) =>
    selectRegions(224, 224, DETECTIONS, 20, s).map((r) => r.box);
  assert.deepEqual(ranked, want(RANKED_SELECTION));
  assert.deepEqual(plain, want(SCORE_SELECTION));
  assert.notDeepEqual(ranked, plain, "the two selections differ on these detections");
});
