import assert from "node:assert/strict";
import test from "node:test";
import { decodeYolox, type YoloxLayout } from "../../src/vision/yolox.js";

const layout: YoloxLayout = {
  inputWidth: 64,
  inputHeight: 32,
  strides: [16, 32],
  numClasses: 2,
  decoded: false,
  scoresActivated: true,
};
// 4 x 2 cells at stride 16, then 2 x 1 at stride 32: 10 rows of 7.
const rows = 10;

function output(set: (row: number, values: number[]) => void): Float32Array {
  const out = new Float32Array(rows * 7);
  for (let r = 0; r < rows; r++) {
    const v = [0, 0, 0, 0, 0, 0, 0];
    set(r, v);
    out.set(v, r * 7);
  }
  return out;
}

test("grid/stride decode: xy = (o + cell) * stride, wh = exp(o) * stride", () => {
  // Row 5 is cell (1, 1) at stride 16; row 9 is cell (1, 0) at stride 32.
  const out = output((r, v) => {
    if (r === 5) v.splice(0, 7, 0.5, 0.25, Math.log(2), 0, 0.9, 0.1, 0.8);
    if (r === 9) v.splice(0, 7, 0, 0, 0, 0, 0.5, 0.6, 0.2);
  });
  const dets = decodeYolox(out, layout, 0.25);
  assert.equal(dets.length, 2);
  const [a, b] = dets;
  assert.equal(a.classIndex, 1);
  assert.ok(Math.abs(a.score - 0.72) < 1e-6);
  const cx = 1.5 * 16;
  const cy = 1.25 * 16;
  assert.ok(Math.abs(a.box.x1 - (cx - 16)) < 1e-4 && Math.abs(a.box.x2 - (cx + 16)) < 1e-4);
  assert.ok(Math.abs(a.box.y1 - (cy - 8)) < 1e-4 && Math.abs(a.box.y2 - (cy + 8)) < 1e-4);
  assert.equal(b.classIndex, 0);
  assert.deepEqual(b.box, { x1: 16, y1: -16, x2: 48, y2: 16 }, "centre (32, 0), size 32");
});

test("score threshold applies to objectness x class score", () => {
  const out = output((_, v) => v.splice(4, 3, 0.5, 0.4, 0.1));
  assert.equal(decodeYolox(out, layout, 0.21).length, 0);
  assert.equal(decodeYolox(out, layout, 0.2).length, rows);
});

test("raw logits go through a sigmoid when scores are not activated", () => {
  const out = output((r, v) => {
    if (r === 0) v.splice(4, 3, 10, 10, -10);
  });
  const dets = decodeYolox(out, { ...layout, scoresActivated: false }, 0.9);
  assert.equal(dets.length, 1);
  assert.ok(dets[0].score > 0.99);
});

test("an output of the wrong size names the expected layout", () => {
  assert.throws(() => decodeYolox(new Float32Array(7 * 9), layout, 0.5), /expected 10 rows of 7/);
});
