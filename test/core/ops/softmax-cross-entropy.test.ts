import assert from "node:assert/strict";
import { test } from "node:test";
import { backward } from "../../../src/core/autodiff.js";
import { softmax } from "../../../src/core/ops/softmax.js";
import { softmaxCrossEntropy } from "../../../src/core/ops/softmax-cross-entropy.js";
import { Tensor } from "../../../src/core/tensor.js";
import { assertClose, assertGradients, input } from "./support.js";

function rowLoss(row: ArrayLike<number>, t: number): number {
  let lse = 0;
  for (let j = 0; j < row.length; j++) lse += Math.exp(row[j]);
  return Math.log(lse) - row[t];
}

test("softmaxCrossEntropy is the mean -log p[target] over non-padded rows", () => {
  const x = input([4, 5], 1);
  const targets = Int32Array.of(2, -1, 0, 4);
  const rows = x.toArray();
  const expected = (rowLoss(rows[0], 2) + rowLoss(rows[2], 0) + rowLoss(rows[3], 4)) / 3;
  assertClose([softmaxCrossEntropy(x, targets).item()], [expected]);
  assertClose([softmaxCrossEntropy(x, targets, { reduction: "sum" }).item()], [expected * 3]);
});

test("softmaxCrossEntropy gradient: p - onehot, padded rows get none", () => {
  const x = input([4, 5], 2);
  const targets = Int32Array.of(2, -1, 0, 4);
  backward(softmaxCrossEntropy(x, targets, { reduction: "sum" }));
  assert.deepEqual(Array.from(x.grad!.subarray(5, 10)), [0, 0, 0, 0, 0]);
  x.zeroGrad();
  assertGradients(() => softmaxCrossEntropy(x, targets), { x });
  assertGradients(() => softmaxCrossEntropy(x, targets, { reduction: "sum" }), { x });
});

test("softmaxCrossEntropy with every row padded is 0", () => {
  const x = input([2, 3], 3);
  assert.equal(softmaxCrossEntropy(x, Int32Array.of(-1, -1)).item(), 0);
});

test("softmaxCrossEntropy rejects wrong target count or class", () => {
  assert.throws(
    () => softmaxCrossEntropy(Tensor.zeros([3, 4]), Int32Array.of(0, 1)),
    /softmaxCrossEntropy: logits \[3,4\] has 3 rows, targets has 2/,
  );
  assert.throws(
    () => softmaxCrossEntropy(Tensor.zeros([2, 4]), Int32Array.of(0, 4)),
    /softmaxCrossEntropy: target 4 at row 1 is outside the 4 classes/,
  );
});

test("softmax rows sum to 1, with gradients", () => {
  const x = input([3, 4], 4);
  const y = softmax(x);
  for (const row of y.toArray()) assertClose([row.reduce((a, b) => a + b)], [1]);
  assertGradients(() => softmax(x), { x });
});
