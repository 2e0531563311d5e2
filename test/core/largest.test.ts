import assert from "node:assert/strict";
import { test } from "node:test";
import { largest } from "../../src/core/largest.js";

test("largest gives the positions of the n largest scores in ascending order", () => {
  const scores = Float32Array.from([0.5, 3, -1, 2, 7, 0]);
  assert.deepEqual(largest(scores, 3), [1, 3, 4]);
  assert.deepEqual(largest(scores, 1), [4]);
  assert.deepEqual(largest(scores, 0), []);
});

test("largest keeps the lower positions among ties at the cut", () => {
  const scores = Float32Array.from([1, 2, 2, 5, 2]);
  assert.deepEqual(largest(scores, 2), [1, 3]);
  assert.deepEqual(largest(scores, 3), [1, 2, 3]);
});

test("largest never picks NaN, and asking for more than there are gives every number", () => {
  const scores = Float32Array.from([Number.NaN, 1, Number.NaN, -2]);
  assert.deepEqual(largest(scores, 1), [1]);
  assert.deepEqual(largest(scores, 2), [1, 3]);
  assert.deepEqual(largest(scores, 10), [1, 3]);
});
