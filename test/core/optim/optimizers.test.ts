import assert from "node:assert/strict";
import { test } from "node:test";
import { Adam } from "../../../src/core/optim/adam.js";
import type { Optimizer } from "../../../src/core/optim/optimizer.js";
import { Rmsprop } from "../../../src/core/optim/rmsprop.js";
import { Sgd } from "../../../src/core/optim/sgd.js";
import { Params } from "../../../src/core/params.js";
import { Tensor } from "../../../src/core/tensor.js";

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-6) {
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

/** A weight W [1, 2] (decayed) and a bias b [2] (not decayed), with gradients set. */
function model(w: number[], b: number[]) {
  const params = new Params();
  const W = params.add("W", Tensor.from([w]));
  const B = params.add("b", Tensor.from(b));
  const setGrads = (gw: number[], gb: number[]) => {
    W.gradBuffer().set(gw);
    B.gradBuffer().set(gb);
  };
  return { params, W, B, setGrads };
}

test("SGD with momentum and L2 weight decay, two hand-computed steps", () => {
  const { params, W, B, setGrads } = model([1, -2], [1, -2]);
  const opt = new Sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
  setGrads([0.5, 0.5], [0.5, 0.5]);
  opt.step(params);
  // W: g' = g + 0.01 w = [0.51, 0.48]; v = g'; w -= 0.1 v. b: no decay.
  close(W.data, [0.949, -2.048]);
  close(B.data, [0.95, -2.05]);
  opt.step(params);
  // W: g' = [0.50949, 0.47952]; v = 0.9 [0.51, 0.48] + g' = [0.96849, 0.91152].
  close(W.data, [0.852151, -2.139152]);
  // b: v = 0.9 * 0.5 + 0.5 = 0.95.
  close(B.data, [0.855, -2.145]);
});

test("RMSprop's bias-corrected first step is lr * sign(g), not ~30x lr", () => {
  const { params, W, setGrads } = model([0, 0], [0, 0]);
  const opt = new Rmsprop({ lr: 0.01, decay: 0.999 });
  setGrads([0.02, -3], [1, 1]);
  opt.step(params);
  close(W.data, [-0.01, 0.01], 1e-8);
  // Second step by the formula: c = 0.999 c + 0.001 g^2, c^ = c / (1 - 0.999^2).
  setGrads([0.04, 1], [1, 1]);
  opt.step(params);
  const expected = [0.02, -3].map((g1, i) => {
    const g2 = [0.04, 1][i];
    const c = 0.999 * 0.001 * g1 * g1 + 0.001 * g2 * g2;
    return -0.01 * Math.sign(g1) - (0.01 * g2) / (Math.sqrt(c / (1 - 0.999 ** 2)) + 1e-8);
  });
  close(W.data, expected, 1e-7);
});

test("RMSprop with clip bounds each gradient entry before the update and the cache", () => {
  const { params, W, B, setGrads } = model([1, 0], [0, 0]);
  const opt = new Rmsprop({ lr: 0.1, decay: 0.5, weightDecay: 0.5, clip: 2 });
  setGrads([7, -1], [-9, 0.5]);
  opt.step(params);
  // First step is lr * sign(g'): W g' = [2 + 0.5, -1], b (no decay) g' = [-2, 0.5].
  close(W.data, [0.9, 0.1], 1e-7);
  close(B.data, [0.1, -0.1], 1e-7);
  setGrads([-30, 0], [0, 0]);
  opt.step(params);
  // W[0]: g' = -2 + 0.5 * 0.9 = -1.55; c = 0.5 * 0.5 * 2.5^2 + 0.5 * 1.55^2; c^ = c / (1 - 0.25).
  const c = 0.25 * 2.5 ** 2 + 0.5 * 1.55 ** 2;
  close([W.data[0]], [0.9 + (0.1 * 1.55) / (Math.sqrt(c / 0.75) + 1e-8)], 1e-6);
  assert.throws(() => new Rmsprop({ lr: 0.1, clip: 0 }), /clip must be > 0/);
});

test("Adam's first step is lr * sign(g); the second follows the bias-corrected moments", () => {
  const { params, W, setGrads } = model([0, 0], [0, 0]);
  const opt = new Adam({ lr: 0.001 });
  setGrads([0.5, -2], [0, 0]);
  opt.step(params);
  close(W.data, [-0.001, 0.001], 1e-9);
  setGrads([-1, -2], [0, 0]);
  opt.step(params);
  const expected = [0.5, -2].map((g1, i) => {
    const g2 = [-1, -2][i];
    const m = (0.9 * 0.1 * g1 + 0.1 * g2) / (1 - 0.9 ** 2);
    const v = (0.999 * 0.001 * g1 * g1 + 0.001 * g2 * g2) / (1 - 0.999 ** 2);
    return -0.001 * Math.sign(g1) - (0.001 * m) / (Math.sqrt(v) + 1e-8);
  });
  close(W.data, expected, 1e-8);
});

test("frozen parameters and parameters without gradients are not updated", () => {
  const params = new Params();
  const frozen = params.add("E", Tensor.from([[1, 2]]), { trainable: false });
  const unused = params.add("U", Tensor.from([[3, 4]]));
  frozen.gradBuffer().fill(1);
  new Sgd({ lr: 1 }).step(params);
  assert.deepEqual(Array.from(frozen.data), [1, 2]);
  assert.deepEqual(Array.from(unused.data), [3, 4]);
});

for (const make of [
  () => new Sgd({ lr: 0.1, weightDecay: 0.01 }),
  () => new Rmsprop({ lr: 0.01, weightDecay: 0.01 }),
  () => new Adam({ lr: 0.01 }),
]) {
  test(`${make().kind}: exported state resumes bit-identically`, () => {
    const grads = [
      [0.3, -0.2, 1, 2],
      [0.1, 0.4, -1, 0.5],
      [-0.7, 0.2, 0.3, -0.1],
      [0.2, 0.2, 0.2, 0.2],
    ];
    const run = (opt: Optimizer, m: ReturnType<typeof model>, from: number, to: number) => {
      for (let s = from; s < to; s++) {
        m.setGrads(grads[s].slice(0, 2), grads[s].slice(2));
        opt.step(m.params);
      }
    };
    const straight = model([1, 2], [3, 4]);
    const a = make();
    run(a, straight, 0, 4);

    const first = model([1, 2], [3, 4]);
    const b = make();
    run(b, first, 0, 2);
    const resumed = model(Array.from(first.W.data), Array.from(first.B.data));
    const c = make();
    c.lr = 123;
    c.importState(b.exportState(), resumed.params);
    assert.equal(c.steps, 2);
    assert.equal(c.lr, b.lr);
    run(c, resumed, 2, 4);
    assert.deepEqual(resumed.W.data, straight.W.data);
    assert.deepEqual(resumed.B.data, straight.B.data);
  });
}

test("importState rejects another optimiser's state or buffers of the wrong size", () => {
  const { params, setGrads } = model([1, 2], [3, 4]);
  const sgd = new Sgd({ lr: 0.1 });
  setGrads([1, 1], [1, 1]);
  sgd.step(params);
  assert.throws(
    () => new Adam({ lr: 0.1 }).importState(sgd.exportState(), params, "run.ckpt"),
    /run.ckpt: holds a sgd optimiser, this run uses adam/,
  );
  const other = new Params();
  other.add("W", Tensor.zeros([1, 3]));
  other.add("b", Tensor.zeros([2]));
  assert.throws(
    () => new Sgd({ lr: 0.1 }).importState(sgd.exportState(), other),
    /optimiser buffer velocity\/W has 2 values, parameter W has 3/,
  );
});

test("SGD with clip bounds each gradient entry before the momentum and the update", () => {
  const { params, W, B, setGrads } = model([1, 0], [0, 0]);
  const opt = new Sgd({ lr: 0.1, momentum: 0.5, weightDecay: 0.5, clip: 2 });
  setGrads([7, -1], [-9, 0.5]);
  opt.step(params);
  // W: v = clamp(g) + 0.5 w = [2 + 0.5, -1]; b (no decay): v = [-2, 0.5]; w -= 0.1 v.
  close(W.data, [0.75, 0.1], 1e-7);
  close(B.data, [0.2, -0.05], 1e-7);
  setGrads([-30, 0], [0, 0]);
  opt.step(params);
  // W[0]: v = 0.5 * 2.5 + (-2 + 0.5 * 0.75) = -0.375; w = 0.75 + 0.0375.
  close([W.data[0]], [0.7875], 1e-7);
  assert.throws(() => new Sgd({ lr: 0.1, clip: 0 }), /clip must be > 0/);
});
