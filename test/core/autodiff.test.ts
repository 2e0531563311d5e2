import assert from "node:assert/strict";
import { test } from "node:test";
import { backward, clearTape, noGrad, result, tapeLength } from "../../src/core/autodiff.js";
import { normal } from "../../src/core/init.js";
import {
  add,
  dropout,
  matmul,
  mul,
  relu,
  softmaxCrossEntropy,
  sum,
  tanh,
} from "../../src/core/ops/index.js";
import { Rng } from "../../src/core/rng.js";
import { Tensor } from "../../src/core/tensor.js";

test("backward accumulates through a tensor used twice", () => {
  const x = Tensor.from([2, 3], undefined, { requiresGrad: true });
  // y = sum(x * x + x): dy/dx = 2x + 1
  backward(sum(add(mul(x, x), x)));
  assert.deepEqual(Array.from(x.grad!), [5, 7]);
});

test("leaf gradients accumulate across backward calls until zeroed", () => {
  const x = Tensor.from([1, -1], undefined, { requiresGrad: true });
  backward(sum(x));
  backward(sum(x));
  assert.deepEqual(Array.from(x.grad!), [2, 2]);
  x.zeroGrad();
  assert.deepEqual(Array.from(x.grad!), [0, 0]);
});

test("backward clears the tape and drops op outputs' gradients", () => {
  const x = Tensor.from([[1, 2]], undefined, { requiresGrad: true });
  const h = relu(x);
  backward(sum(h));
  assert.equal(tapeLength(), 0);
  assert.equal(h.grad, null);
  assert.notEqual(x.grad, null);
});

test("noGrad records nothing and its outputs require no gradients", () => {
  clearTape();
  const w = Tensor.from([[1, 2]], undefined, { requiresGrad: true });
  const y = noGrad(() => matmul(w, w, { transB: true }));
  assert.equal(tapeLength(), 0);
  assert.equal(y.requiresGrad, false);
  assert.throws(() => backward(y), /backward: loss \[1,1\] does not depend on any tensor/);
});

test("ops on tensors that require no gradients are not recorded", () => {
  clearTape();
  const y = relu(Tensor.from([[1, -1]]));
  assert.equal(tapeLength(), 0);
  assert.equal(y.requiresGrad, false);
});

test("outputs the loss does not depend on are skipped by backward", () => {
  const w = Tensor.from([1, 2], undefined, { requiresGrad: true });
  let called = false;
  result(new Float32Array(2), [2], [w], () => {
    called = true;
  });
  backward(sum(w));
  assert.equal(called, false);
  assert.deepEqual(Array.from(w.grad!), [1, 1]);
});

test("backward needs a scalar loss or a seed of the loss's size", () => {
  const w = Tensor.from([1, 2], undefined, { requiresGrad: true });
  assert.throws(() => backward(relu(w)), /backward: loss \[2\] is not a scalar; pass a seed/);
  assert.throws(
    () => backward(relu(w), new Float32Array(3)),
    /seed has 3 values, loss \[2\] has 2/,
  );
  clearTape();
  backward(relu(w), Float32Array.of(3, 4));
  assert.deepEqual(Array.from(w.grad!), [3, 4]);
});

test("recycled gradient and scratch buffers do not leak values into the next step", () => {
  const rng = new Rng(1);
  const w = normal([64, 40], rng, 0.1);
  w.requiresGrad = true;
  const x = normal([50, 64], rng, 1);
  const targets = Int32Array.from({ length: 50 }, (_, i) => i % 40);
  const grads: Float32Array[] = [];
  for (let step = 0; step < 3; step++) {
    w.zeroGrad();
    const h = dropout(tanh(matmul(x, w)), 0.2, new Rng(5), true);
    backward(softmaxCrossEntropy(h, targets));
    grads.push(w.grad!.slice());
  }
  assert.deepEqual(grads[1], grads[0]);
  assert.deepEqual(grads[2], grads[0]);
});
