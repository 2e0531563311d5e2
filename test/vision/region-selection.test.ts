import assert from "node:assert/strict";
import { join } from "node:path";
import test from "node:test";
import { InputError } from "../../src/errors.js";
import { boxArea, iou } from "../../src/vision/boxes.js";
import { decodeImage } from "../../src/vision/decode.js";
import { Detector, detectorSettingsName } from "../../src/vision/detector.js";
import { fractionBoxes, GROUND_FRACTION, WIDE_FALLBACKS } from "../../src/vision/fallback-boxes.js";
import type { Box, Region } from "../../src/vision/image.js";
import {
  DEFAULT_DETECTOR,
  DETECTOR_PRESETS,
  parseModelConfig,
} from "../../src/vision/model-config.js";
import { ModelRegistry } from "../../src/vision/model-registry.js";
import {
  RANKED_SELECTION,
  type RegionSelection,
  SCORE_SELECTION,
  selectionName,
  selectRegions,
} from "../../src/vision/regions.js";
import { sharedDir, skipUnlessShared } from "../support/shared.js";

const person = (x1: number, y1: number, x2: number, y2: number, score = 0.9) => ({
  box: { x1, y1, x2, y2 },
  label: "person",
  score,
});
const withOptions = (o: Partial<RegionSelection>): RegionSelection => ({
  ...SCORE_SELECTION,
  ...o,
});
const boxes = (regions: readonly { box: Box }[]) =>
  regions.map(({ box: b }) => ({
    x1: Math.round(b.x1 * 1e6) / 1e6,
    y1: Math.round(b.y1 * 1e6) / 1e6,
    x2: Math.round(b.x2 * 1e6) / 1e6,
    y2: Math.round(b.y2 * 1e6) / 1e6,
  }));

test("person parts: upper body, lower body and head of a person's box, as fallback boxes", () => {
  const p = person(100, 0, 200, 200);
  const regions = selectRegions(400, 300, [p], 20, withOptions({ personParts: true }));
  assert.equal(regions.length, 20);
  assert.deepEqual(
    regions.slice(0, 5).map((r) => r.source),
    ["whole", "detection", "fallback", "fallback", "fallback"],
  );
  assert.deepEqual(boxes(regions.slice(2, 5)), [
    { x1: 105, y1: 24, x2: 195, y2: 116 },
    { x1: 105, y1: 100, x2: 195, y2: 200 },
    { x1: 125, y1: 0, x2: 175, y2: 50 },
  ]);
  for (const r of regions.slice(2, 5)) assert.equal(r.label, undefined);
});

test("person parts only for confident people, at most three, clipped to the image", () => {
  const people = [
    person(0, 0, 50, 100, 0.9),
    person(60, 0, 110, 100, 0.8),
    person(120, 0, 170, 100, 0.7),
    person(180, 0, 230, 100, 0.6),
    person(240, 0, 290, 100, 0.1),
  ];
  const s = withOptions({ personParts: true, maxOverlap: 1 });
  const regions = selectRegions(300, 100, people, 20, s);
  const parts = regions.filter(
    (r) => r.source === "fallback" && boxArea(r.box) < 50 * 100 && r.box.x2 <= 290,
  );
  // 3 people x 3 parts; the fourth (0.6) and the weak one (0.1) get none.
  const partOf = (x: number) => parts.filter((r) => r.box.x1 >= x && r.box.x2 <= x + 50).length;
  assert.deepEqual([0, 60, 120, 180, 240].map(partOf), [3, 3, 3, 0, 0]);
  const edge = selectRegions(100, 100, [person(-20, -20, 60, 120)], 20, s);
  for (const r of edge.filter((x) => x.source !== "detection"))
    assert.ok(r.box.x1 >= 0 && r.box.y1 >= 0 && r.box.x2 <= 100 && r.box.y2 <= 100);
});

test("people group: the union of two or more confident people, none for one", () => {
  const s = withOptions({ peopleGroup: true });
  const two = selectRegions(400, 300, [person(10, 20, 60, 120), person(200, 50, 260, 200)], 20, s);
  assert.deepEqual(two[3].box, { x1: 10, y1: 20, x2: 260, y2: 200 });
  assert.equal(two[3].source, "fallback");
  const one = selectRegions(
    400,
    300,
    [person(10, 20, 60, 120), person(200, 50, 260, 200, 0.1)],
    20,
    s,
  );
  assert.ok(!one.some((r) => r.box.x1 === 10 && r.box.x2 === 260));
});

test("wide fallbacks: the valued list first, then grid boxes, so an empty image still has 20", () => {
  const s = withOptions({ fallbacks: "wide", maxOverlap: 1 });
  const regions = selectRegions(100, 100, [], 20, s);
  assert.equal(regions.length, 20);
  assert.deepEqual(regions[1].box, { x1: 10, y1: 10, x2: 90, y2: 90 });
  assert.deepEqual(regions[2].box, { x1: 0, y1: 33, x2: 100, y2: 100 });
  assert.equal(WIDE_FALLBACKS.length, 17);
  for (const ranked of [RANKED_SELECTION, s]) {
    for (const size of [1, 3, 224]) {
      const r = selectRegions(size, size, [], 20, ranked);
      assert.equal(r.length, 20);
      assert.ok(r.every((x) => boxArea(x.box) > 0));
    }
  }
});

test("value ranking: a strong detection before the fallbacks, a weak one after the large boxes", () => {
  const strong = { box: { x1: 10, y1: 10, x2: 40, y2: 40 }, label: "dog", score: 0.9 };
  const weak = { box: { x1: 50, y1: 50, x2: 70, y2: 60 }, label: "cup", score: 0.05 };
  const regions = selectRegions(100, 100, [weak, strong], 20, RANKED_SELECTION);
  assert.equal(regions.length, 20);
  assert.equal(regions[1].label, "dog");
  const weakAt = regions.findIndex((r) => r.label === "cup");
  assert.ok(weakAt > 5, `the weak detection at ${weakAt}`);
  assert.equal(regions[2].source, "fallback");
});

test("value ranking: detections are set aside only by detections, other boxes by any region", () => {
  const centre = { box: { x1: 10, y1: 10, x2: 90, y2: 90 }, label: "bed", score: 0.3 };
  const inside = { box: { x1: 12, y1: 12, x2: 88, y2: 88 }, label: "couch", score: 0.2 };
  const regions = selectRegions(100, 100, [centre, inside], 8, RANKED_SELECTION);
  // The centre fallback box (value 3.6) comes first; the bed (1.6) is still kept beside it,
  // the couch (IoU 0.9 with the bed) is set aside, and no later fallback box but the ground box
  // overlaps a region by more than maxOverlap.
  assert.deepEqual(regions[1].box, { x1: 10, y1: 10, x2: 90, y2: 90 });
  assert.equal(regions[1].source, "fallback");
  assert.ok(regions.some((r) => r.label === "bed"));
  assert.ok(!regions.some((r) => r.label === "couch"));
  const isGround = (r: Region) =>
    r.box.y1 === 33 && r.box.y2 === 100 && r.box.x2 - r.box.x1 === 100;
  const rest = regions.slice(2).filter((r) => r.source === "fallback" && !isGround(r));
  for (const r of rest)
    for (const q of regions.slice(1))
      if (q !== r) assert.ok(iou(q.box, r.box) <= RANKED_SELECTION.maxOverlap);
});

test("groundBox keeps the bottom two thirds though the centre box overlaps it", () => {
  const ground = fractionBoxes(100, 100, [GROUND_FRACTION])[0];
  assert.deepEqual(ground, { x1: 0, y1: 33, x2: 100, y2: 100 });
  const centre = fractionBoxes(100, 100, [[0.1, 0.1, 0.9, 0.9]])[0];
  assert.ok(iou(ground, centre) > RANKED_SELECTION.maxOverlap);
  const has = (s: RegionSelection) =>
    selectRegions(100, 100, [], 8, s).some((r) => iou(r.box, ground) === 1);
  assert.equal(has(RANKED_SELECTION), true);
  assert.equal(has({ ...RANKED_SELECTION, groundBox: false }), false);
});

test("score selection keeps the paper's order: whole, detections by score, then fallbacks", () => {
  const d = [person(10, 10, 50, 90, 0.3), { ...person(60, 10, 90, 90, 0.8), label: "dog" }];
  assert.deepEqual(selectRegions(100, 100, d), selectRegions(100, 100, d, 20, SCORE_SELECTION));
  const r = selectRegions(100, 100, d, 20, withOptions({ personParts: true }));
  assert.deepEqual(
    r.slice(0, 3).map((x) => x.label ?? x.source),
    ["whole", "dog", "person"],
  );
});

test("selection and detector settings names: empty for the paper's, distinct otherwise", () => {
  assert.equal(selectionName(SCORE_SELECTION), "");
  assert.equal(selectionName(RANKED_SELECTION), "value+parts+group+wide+ground+overlap0.5");
  assert.equal(selectionName(withOptions({ personParts: true })), "score+parts+grid+overlap0.7");
  assert.equal(detectorSettingsName(DETECTOR_PRESETS["yolox-nano"]), "");
  assert.equal(
    detectorSettingsName(DETECTOR_PRESETS["yolox-nano-proposals"]),
    ":score0.01:nms-agnostic0.6:regions-value+parts+group+wide+ground+overlap0.5",
  );
  assert.equal(DEFAULT_DETECTOR, "yolox-nano-proposals");
});

test("a detector config file sets the NMS and the region selection, checked", () => {
  const c = parseModelConfig(
    { kind: "detector", preset: "yolox-nano", nms: "agnostic", selection: { personParts: true } },
    "d.json",
  );
  assert.ok(c.kind === "detector");
  assert.equal(c.nms, "agnostic");
  assert.deepEqual(c.selection, { ...SCORE_SELECTION, personParts: true });
  const bad = (json: object, pattern: RegExp) =>
    assert.throws(
      () => parseModelConfig({ kind: "detector", preset: "yolox-nano", ...json }, "d.json"),
      (e: Error) => e instanceof InputError && pattern.test(e.message),
    );
  bad({ nms: "none" }, /^d\.json: nms: expected one of "class", "agnostic", got "none"/);
  bad(
    { selection: { ranking: "area" } },
    /^d\.json: selection\.ranking: expected one of "score", "value"/,
  );
  bad(
    { selection: { maxOverlap: 2 } },
    /^d\.json: selection\.maxOverlap: expected a number from 0 to 1, got 2/,
  );
  bad(
    { selection: { personParts: "yes" } },
    /^d\.json: selection\.personParts: expected true or false, got "yes"/,
  );
});

test("class-agnostic NMS: no two kept boxes overlap by more than the threshold, any class", {
  skip: skipUnlessShared(
    "models/yolox_nano.onnx",
    "data/flickr8k/originals/1030985833_b0902ea560.jpg",
  ),
}, async () => {
  const shared = sharedDir()!;
  const config = {
    ...DETECTOR_PRESETS["yolox-nano-proposals"],
    model: join(shared, "models/yolox_nano.onnx"),
  };
  const detector = await Detector.load(config, new ModelRegistry(join(shared, "none")));
  const image = await decodeImage(
    join(shared, "data/flickr8k/originals/1030985833_b0902ea560.jpg"),
  );
  const found = await detector.detect(image);
  await detector.close();
  assert.match(detector.name, /^yolox:yolox_nano@416x416:score0\.01:nms-agnostic0\.6:regions-/);
  assert.ok(found.length > 5, `${found.length} boxes`);
  assert.ok(found.some((d) => d.label === "dog" && d.score > 0.5));
  for (let i = 0; i < found.length; i++)
    for (let j = i + 1; j < found.length; j++)
      assert.ok(iou(found[i].box, found[j].box) <= 0.6 + 1e-9);
  assert.deepEqual(detector.selection, RANKED_SELECTION);
});
