import assert from "node:assert/strict";
import { test } from "node:test";
import { backward } from "../../../src/core/autodiff.js";
import { maxOverRows } from "../../../src/core/ops/max-over-regions.js";
import { sum } from "../../../src/core/ops/reduce.js";
import { Tensor } from "../../../src/core/tensor.js";
import { assertGradients } from "./support.js";

test("maxOverRows takes each column's max and routes the gradient to the argmax", () => {
  const x = Tensor.from(
    [
      [1, 9, 3],
      [7, 2, 3],
      [4, 5, 8],
    ],
    undefined,
    { requiresGrad: true },
  );
  const y = maxOverRows(x);
  assert.deepEqual(y.toArray(), [[7, 9, 8]]);
  backward(sum(y));
  assert.deepEqual(Array.from(x.grad!), [0, 1, 0, 1, 0, 0, 0, 0, 1]);
});

test("maxOverRows with groups maxes within each block of rows", () => {
  const x = Tensor.from([
    [1, 5],
    [3, 2],
    [0, -1],
    [-2, -3],
  ]);
  assert.deepEqual(maxOverRows(x, 2).toArray(), [
    [3, 5],
    [0, -1],
  ]);
});

test("maxOverRows gradient check (distinct values, gaps beyond the step)", () => {
  // A permutation of spaced values, so no perturbation changes an argmax.
  const data = Float32Array.from({ length: 24 }, (_, i) => ((i * 7) % 24) * 0.1 - 1.2);
  const x = new Tensor(data, [6, 4], { requiresGrad: true });
  assertGradients(() => maxOverRows(x), { x });
  assertGradients(() => maxOverRows(x, 3), { x });
});

test("maxOverRows rejects rows that do not split into the groups", () => {
  assert.throws(
    () => maxOverRows(Tensor.zeros([5, 2]), 2),
    /maxOverRows: \[5,2\] does not split into 2 non-empty groups/,
  );
});
