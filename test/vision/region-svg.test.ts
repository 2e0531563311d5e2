import assert from "node:assert/strict";
import test from "node:test";
import { regionsSvg } from "../../src/vision/region-svg.js";

test("draws detections with labels and fallback boxes dashed", () => {
  const svg = regionsSvg(
    "a<b>.jpg",
    new Uint8Array([0xff, 0xd8]),
    200,
    100,
    [
      { box: { x1: 0, y1: 0, x2: 200, y2: 100 }, source: "whole" },
      { box: { x1: 10, y1: 20, x2: 50, y2: 60 }, source: "detection", label: "dog", score: 0.876 },
      { box: { x1: 0, y1: 0, x2: 100, y2: 50 }, source: "fallback" },
    ],
    0.5,
  );
  assert.match(svg, /^<svg [^>]*width="400" height="72"/);
  assert.match(svg, /<rect x="5\.0" y="10\.0" width="20\.0" height="20\.0"[^>]*stroke-width="2.5"/);
  assert.match(svg, />dog 0\.88</);
  assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 1);
  assert.match(svg, /<title>a&#60;b&#62;\.jpg: 3 regions: whole image, 1 detections, 1 fallback/);
  assert.match(svg, /href="data:image\/jpeg;base64,\/9g="/);
});
