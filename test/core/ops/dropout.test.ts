import assert from "node:assert/strict";
import { test } from "node:test";
import { dropout } from "../../../src/core/ops/dropout.js";
import { Rng } from "../../../src/core/rng.js";
import { Tensor } from "../../../src/core/tensor.js";
import { assertGradients, input } from "./support.js";

test("dropout is the identity when not training or p = 0", () => {
  const x = input([3, 4], 1);
  assert.equal(dropout(x, 0.5, new Rng(1), false), x);
  assert.equal(dropout(x, 0, new Rng(1), true), x);
});

test("dropout zeroes about p of the values and scales the rest by 1/(1-p)", () => {
  const x = new Tensor(new Float32Array(10000).fill(1), [100, 100]);
  const y = dropout(x, 0.3, new Rng(7), true);
  let zeros = 0;
  for (const v of y.data) {
    if (v === 0) zeros++;
    else assert.ok(Math.abs(v - 1 / 0.7) < 1e-6);
  }
  assert.ok(Math.abs(zeros / 10000 - 0.3) < 0.02, `dropped ${zeros / 10000}`);
});

test("dropout masks are reproducible from the seed", () => {
  const x = input([5, 5], 2);
  const a = dropout(x, 0.5, new Rng(3), true);
  const b = dropout(x, 0.5, new Rng(3), true);
  const c = dropout(x, 0.5, new Rng(4), true);
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
});

test("dropout gradient passes through kept units only", () => {
  const x = input([4, 6], 3);
  assertGradients(() => dropout(x, 0.4, new Rng(5), true), { x });
});

test("dropout rejects p outside [0, 1)", () => {
  assert.throws(
    () => dropout(Tensor.zeros([2]), 1, new Rng(1), true),
    /dropout: p must be in \[0, 1\), got 1/,
  );
});
