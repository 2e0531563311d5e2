import assert from "node:assert/strict";
import { test } from "node:test";
import { diag, reshape, transpose } from "../../../src/core/ops/reshape.js";
import { Tensor } from "../../../src/core/tensor.js";
import { assertGradients, input } from "./support.js";

test("reshape, diag and transpose: values and gradients", () => {
  const x = Tensor.from([
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9],
  ]);
  assert.deepEqual(Array.from(diag(x).data), [1, 5, 9]);
  assert.deepEqual(transpose(x).toArray(), [
    [1, 4, 7],
    [2, 5, 8],
    [3, 6, 9],
  ]);
  assert.deepEqual(reshape(x, [9, 1]).shape, [9, 1]);
  const w = input([3, 3], 1);
  const r = input([2, 3], 2);
  assertGradients(() => diag(w), { w });
  assertGradients(() => transpose(r), { r });
  assertGradients(() => reshape(r, [3, 2]), { r });
});

test("reshape and diag reject impossible shapes", () => {
  assert.throws(() => reshape(Tensor.zeros([2, 3]), [4]), /reshape: cannot view \[2,3\] as \[4\]/);
  assert.throws(() => diag(Tensor.zeros([2, 3])), /diag: \[2,3\] is not square/);
});
