import assert from "node:assert/strict";
import test from "node:test";
import { iou } from "../../src/vision/boxes.js";
import { FALLBACK_OVERLAP, selectRegions } from "../../src/vision/regions.js";

const det = (i: number, score: number) => ({
  box: { x1: i, y1: i, x2: i + 50, y2: i + 40 },
  label: `c${i}`,
  score,
});

test("whole image first, then detections by score, then fallback to 20", () => {
  const regions = selectRegions(400, 300, [det(1, 0.3), det(2, 0.9), det(3, 0.5)]);
  assert.equal(regions.length, 20);
  assert.deepEqual(regions[0], { box: { x1: 0, y1: 0, x2: 400, y2: 300 }, source: "whole" });
  assert.deepEqual(
    regions.slice(1, 4).map((r) => [r.source, r.label, r.score]),
    [
      ["detection", "c2", 0.9],
      ["detection", "c3", 0.5],
      ["detection", "c1", 0.3],
    ],
  );
  assert.ok(regions.slice(4).every((r) => r.source === "fallback" && r.label === undefined));
});

test("keeps only the top 19 detections", () => {
  const many = Array.from({ length: 30 }, (_, i) => det(i, i / 30));
  const regions = selectRegions(400, 300, many);
  assert.equal(regions.length, 20);
  assert.equal(regions.filter((r) => r.source === "detection").length, 19);
  assert.equal(regions[1].score, 29 / 30);
  assert.equal(regions[19].score, 11 / 30);
});

test("no detections: whole image and the 19 fallback boxes", () => {
  const regions = selectRegions(400, 300, []);
  assert.equal(regions.length, 20);
  assert.equal(regions.filter((r) => r.source === "fallback").length, 19);
});

test("fallback boxes overlapping a detection come last", () => {
  const big = { box: { x1: 40, y1: 30, x2: 360, y2: 270 }, label: "dog", score: 0.9 };
  const regions = selectRegions(400, 300, [big], 6);
  assert.equal(regions.length, 6);
  for (const r of regions.slice(2)) assert.ok(iou(r.box, big.box) <= FALLBACK_OVERLAP);
});

test("one region is the whole image", () => {
  assert.deepEqual(
    selectRegions(10, 10, [det(1, 0.9)], 1).map((r) => r.source),
    ["whole"],
  );
});
