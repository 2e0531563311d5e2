import assert from "node:assert/strict";
import { test } from "node:test";
import { concatCols, concatRows, sliceCols, sliceRows } from "../../../src/core/ops/concat.js";
import { Tensor } from "../../../src/core/tensor.js";
import { assertGradients, input } from "./support.js";

test("concatRows and concatCols place the parts in order", () => {
  const a = Tensor.from([[1, 2]]);
  const b = Tensor.from([
    [3, 4],
    [5, 6],
  ]);
  assert.deepEqual(concatRows([a, b]).toArray(), [
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  const c = Tensor.from([[7], [8]]);
  assert.deepEqual(concatCols([b, c]).toArray(), [
    [3, 4, 7],
    [5, 6, 8],
  ]);
});

test("concat gradients", () => {
  const a = input([2, 3], 1);
  const b = input([1, 3], 2);
  const c = input([2, 2], 3);
  assertGradients(() => concatRows([a, b, a]), { a, b });
  assertGradients(() => concatCols([a, c]), { a, c });
});

test("sliceRows and sliceCols copy the range, with gradients", () => {
  const x = Tensor.from([
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9],
  ]);
  assert.deepEqual(sliceRows(x, 1, 3).toArray(), [
    [4, 5, 6],
    [7, 8, 9],
  ]);
  assert.deepEqual(sliceCols(x, 0, 2).toArray(), [
    [1, 2],
    [4, 5],
    [7, 8],
  ]);
  const w = input([4, 5], 4);
  assertGradients(() => sliceRows(w, 1, 3), { w });
  assertGradients(() => sliceCols(w, 2, 5), { w });
});

test("concat and slice reject bad shapes and ranges", () => {
  assert.throws(
    () => concatRows([Tensor.zeros([2, 3]), Tensor.zeros([2, 4])]),
    /concatRows: part 1 \[2,4\] has 4 columns, part 0 \[2,3\] has 3/,
  );
  assert.throws(
    () => concatCols([Tensor.zeros([2, 3]), Tensor.zeros([3, 3])]),
    /concatCols: part 1 \[3,3\] has 3 rows, part 0 \[2,3\] has 2/,
  );
  assert.throws(
    () => sliceRows(Tensor.zeros([2, 3]), 1, 3),
    /sliceRows: range 1..3 is outside the 2 rows of \[2,3\]/,
  );
  assert.throws(() => sliceCols(Tensor.zeros([2, 3]), 2, 1), /sliceCols: range 2..1/);
  assert.throws(() => concatRows([]), /concatRows: no tensors given/);
});
