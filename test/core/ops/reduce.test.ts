import assert from "node:assert/strict";
import { test } from "node:test";
import { mean, sum, sumSegments } from "../../../src/core/ops/reduce.js";
import { Tensor } from "../../../src/core/tensor.js";
import { assertClose, assertGradients, input } from "./support.js";

test("sum and mean, with gradients", () => {
  const x = input([3, 4], 1);
  const total = Array.from(x.data).reduce((a, b) => a + b);
  assertClose([sum(x).item()], [total]);
  assertClose([mean(x).item()], [total / 12]);
  assert.deepEqual(sum(x).shape, []);
  assertGradients(() => sum(x), { x });
  assertGradients(() => mean(x), { x });
});

test("sumSegments sums consecutive column segments per row", () => {
  const x = Tensor.from([
    [1, 2, 3, 4, 5, 6],
    [10, 20, 30, 40, 50, 60],
  ]);
  assert.deepEqual(sumSegments(x, [2, 0, 3, 1]).toArray(), [
    [3, 0, 12, 6],
    [30, 0, 120, 60],
  ]);
  const w = input([3, 7], 2);
  assertGradients(() => sumSegments(w, [3, 1, 3]), { w });
});

test("sumSegments rejects lengths that do not cover the columns", () => {
  assert.throws(
    () => sumSegments(Tensor.zeros([2, 6]), [2, 3]),
    /sumSegments: segment lengths sum to 5, but \[2,6\] has 6 columns/,
  );
  assert.throws(() => mean(Tensor.zeros([0])), /mean: \[0\] is empty/);
});
