import assert from "node:assert/strict";
import { test } from "node:test";
import { backward } from "../../../src/core/autodiff.js";
import { matmul } from "../../../src/core/ops/matmul.js";
import { maxOfProducts, maxOverRows } from "../../../src/core/ops/max-over-regions.js";
import { sum } from "../../../src/core/ops/reduce.js";
import { Tensor } from "../../../src/core/tensor.js";
import { assertClose, assertGradients, input } from "./support.js";

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

test("maxOfProducts is maxOverRows of a b^T, and its gradient reaches only the winning rows", () => {
  const a = input([6, 4], 21);
  const b = input([5, 4], 22);
  const fused = maxOfProducts(a, b, 2);
  assert.deepEqual(fused.shape, [2, 5]);
  backward(sum(fused));
  const [ga, gb] = [a.grad!.slice(), b.grad!.slice()];
  a.zeroGrad();
  b.zeroGrad();
  const unfused = maxOverRows(matmul(a, b, { transB: true }), 2);
  assertClose(fused.data, unfused.data);
  backward(sum(unfused));
  assertClose(ga, a.grad!);
  assertClose(gb, b.grad!);
  // Each group of 3 rows: a row that wins no column gets no gradient.
  const won = new Set<number>();
  const y = maxOfProducts(a, b, 2);
  for (let g = 0; g < 2; g++) {
    for (let c = 0; c < 5; c++) {
      for (let r = 0; r < 3; r++) {
        let dot = 0;
        for (let k = 0; k < 4; k++) dot += a.data[(g * 3 + r) * 4 + k] * b.data[c * 4 + k];
        if (Math.abs(dot - y.data[g * 5 + c]) < 1e-6) won.add(g * 3 + r);
      }
    }
  }
  for (let r = 0; r < 6; r++) {
    const row = Array.from(ga.subarray(r * 4, r * 4 + 4));
    assert.equal(
      row.some((v) => v !== 0),
      won.has(r),
      `row ${r}`,
    );
  }
});

test("maxOfProducts gradient check", () => {
  const a = input([6, 3], 23, 0.2);
  const b = input([4, 3], 24, 0.2);
  assertGradients(() => maxOfProducts(a, b, 3), { a, b });
  assertGradients(() => maxOfProducts(a, b), { a, b });
});

test("maxOfProducts rejects unequal widths and rows that do not split into the groups", () => {
  assert.throws(
    () => maxOfProducts(Tensor.zeros([4, 3]), Tensor.zeros([2, 2])),
    /maxOfProducts: shapes \[4,3\] and \[2,2\] do not multiply/,
  );
  assert.throws(
    () => maxOfProducts(Tensor.zeros([5, 2]), Tensor.zeros([2, 2]), 2),
    /maxOfProducts: \[5,2\] does not split into 2 non-empty groups/,
  );
});
