import assert from "node:assert/strict";
import { test } from "node:test";
import { relu } from "../../../src/core/ops/activations.js";
import { affine, affineRelu, matmul } from "../../../src/core/ops/matmul.js";
import { Tensor } from "../../../src/core/tensor.js";
import { assertClose, assertGradients, input } from "./support.js";

function naive(a: number[][], b: number[][]): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b[0].length; j++) {
      let s = 0;
      for (let p = 0; p < b.length; p++) s += a[i][p] * b[p][j];
      out.push(s);
    }
  }
  return out;
}

function t(m: number[][]): number[][] {
  return m[0].map((_, j) => m.map((row) => row[j]));
}

for (const transA of [false, true]) {
  for (const transB of [false, true]) {
    test(`matmul transA=${transA} transB=${transB}: values and gradients`, () => {
      const [m, k, n] = [3, 4, 5];
      const a = input(transA ? [k, m] : [m, k], 1);
      const b = input(transB ? [n, k] : [k, n], 2);
      const c = matmul(a, b, { transA, transB });
      assert.deepEqual(c.shape, [m, n]);
      const A = transA ? t(a.toArray()) : a.toArray();
      const B = transB ? t(b.toArray()) : b.toArray();
      assertClose(c.data, naive(A, B));
      assertGradients(() => matmul(a, b, { transA, transB }), { a, b });
    });
  }
}

test("matmul edge shapes: 1x1, K=1, M=1", () => {
  for (const [m, k, n] of [
    [1, 1, 1],
    [3, 1, 4],
    [1, 5, 3],
  ]) {
    const a = input([m, k], 3);
    const b = input([k, n], 4);
    assertClose(matmul(a, b).data, naive(a.toArray(), b.toArray()));
    assertGradients(() => matmul(a, b), { a, b });
  }
});

test("matmul rejects mismatched shapes, naming the op and both shapes", () => {
  const a = Tensor.zeros([2, 3]);
  const b = Tensor.zeros([4, 5]);
  assert.throws(() => matmul(a, b), /matmul: shapes \[2,3\] and \[4,5\]/);
  assert.throws(() => matmul(Tensor.zeros([3]), b), /matmul: a must be 2-D, got \[3\]/);
  assert.doesNotThrow(() => matmul(a, Tensor.zeros([5, 3]), { transB: true }));
});

test("affine is x W + b with gradients for all three", () => {
  const x = input([4, 3], 5);
  const w = input([3, 2], 6);
  const b = input([2], 7);
  const y = affine(x, w, b);
  const expected = naive(x.toArray(), w.toArray()).map((v, i) => v + b.data[i % 2]);
  assertClose(y.data, expected);
  assertGradients(() => affine(x, w, b), { x, w, b });
});

test("affineRelu is relu(x W + b) with gradients for all three", () => {
  const x = input([5, 3], 8, 0.1);
  const w = input([3, 4], 9, 0.1);
  const b = input([4], 10, 0.1);
  const y = affineRelu(x, w, b);
  assertClose(y.data, relu(affine(x, w, b)).data);
  assert.ok(y.data.some((v) => v === 0) && y.data.some((v) => v > 0), "both sides of the kink");
  assertGradients(() => affineRelu(x, w, b), { x, w, b });
});

test("affine rejects a bias of the wrong size", () => {
  assert.throws(
    () => affine(Tensor.zeros([4, 3]), Tensor.zeros([3, 2]), Tensor.zeros([3])),
    /affine: shapes \[3,2\] and \[3\]/,
  );
});
