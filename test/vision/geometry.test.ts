import assert from "node:assert/strict";
import test from "node:test";
import { boxArea, clipBox, iou } from "../../src/vision/boxes.js";
import { FALLBACK_FRACTIONS, fallbackBoxes } from "../../src/vision/fallback-boxes.js";
import { type Detection, nonMaxSuppression } from "../../src/vision/nms.js";

const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });

test("iou of identical, disjoint and half-overlapping boxes", () => {
  assert.equal(iou(box(0, 0, 10, 10), box(0, 0, 10, 10)), 1);
  assert.equal(iou(box(0, 0, 10, 10), box(10, 0, 20, 10)), 0);
  assert.equal(iou(box(0, 0, 10, 10), box(5, 0, 15, 10)), 50 / 150);
  assert.equal(iou(box(0, 0, 0, 10), box(0, 0, 10, 10)), 0);
});

test("clipBox and boxArea", () => {
  assert.deepEqual(clipBox(box(-5, 2, 30, 40), 20, 10), box(0, 2, 20, 10));
  assert.equal(boxArea(box(5, 5, 2, 9)), 0);
});

test("NMS suppresses overlaps within a class only, best first", () => {
  const d = (b: ReturnType<typeof box>, classIndex: number, score: number): Detection => ({
    box: b,
    classIndex,
    score,
  });
  const dets = [
    d(box(0, 0, 10, 10), 0, 0.6),
    d(box(1, 1, 11, 11), 0, 0.9),
    d(box(1, 1, 11, 11), 1, 0.5),
    d(box(50, 50, 60, 60), 0, 0.7),
  ];
  const kept = nonMaxSuppression(dets, 0.5);
  assert.deepEqual(
    kept.map((k) => [k.classIndex, k.score]),
    [
      [0, 0.9],
      [0, 0.7],
      [1, 0.5],
    ],
  );
  assert.equal(nonMaxSuppression(dets, 0.5, 2).length, 2);
  assert.equal(nonMaxSuppression(dets, 1).length, 4, "threshold 1 keeps everything");
});

test("19 fallback boxes, all inside the image", () => {
  assert.equal(FALLBACK_FRACTIONS.length, 19);
  for (const b of fallbackBoxes(333, 500)) {
    assert.ok(b.x1 >= 0 && b.y1 >= 0 && b.x2 <= 333 && b.y2 <= 500 && boxArea(b) > 0);
  }
});
