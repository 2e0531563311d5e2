import assert from "node:assert/strict";
import { test } from "node:test";
import {
  add,
  affine,
  concatCols,
  concatRows,
  diag,
  gather,
  hinge,
  matmul,
  maxOverRows,
  mul,
  relu,
  reshape,
  sigmoid,
  sliceCols,
  softmaxCrossEntropy,
  sub,
  sum,
  sumSegments,
  tanh,
} from "../../../src/core/ops/index.js";
import type { Tensor } from "../../../src/core/tensor.js";
import { assertGradients, input } from "./support.js";

/**
 * The paper's models written with the ops, gradient-checked end to end: the ops compose, and the
 * model code stays as short as its equations.
 */

test("alignment score S_kl = sum_t max_i v_i . s_t and the bidirectional ranking loss", () => {
  const [images, regions, cnnDim, h] = [3, 4, 5, 6];
  const lengths = [2, 3, 2];
  const cnn = input([images * regions, cnnDim], 1);
  cnn.requiresGrad = false;
  const Wm = input([cnnDim, h], 2);
  const bm = input([h], 3);
  const words = input([7, h], 4); // stands in for the BRNN's s_t of all sentences
  const rankingLoss = () => {
    const v = affine(cnn, Wm, bm); // v = Wm CNN(I_b) + bm
    const best = maxOverRows(matmul(v, words, { transB: true }), images); // max_i v_i . s_t
    const S = sumSegments(best, lengths); // S_kl, images x sentences
    const d = diag(S); // S_kk
    // sum_k [ sum_l max(0, S_kl - S_kk + 1) + sum_l max(0, S_lk - S_kk + 1) ]
    return add(sum(hinge(sub(S, reshape(d, [images, 1])), 1)), sum(hinge(sub(S, d), 1)));
  };
  assert.ok(rankingLoss().item() > 0);
  assertGradients(rankingLoss, { Wm, bm, words });
});

test("multimodal RNN over a padded batch: h_t = relu(Whx x_t + Whh h_t-1 + bh (+ bv at t=1))", () => {
  const [vocab, emb, hidden, batch, steps] = [6, 4, 5, 2, 3];
  const We = input([vocab, emb], 1);
  const Whx = input([emb, hidden], 2);
  const Whh = input([hidden, hidden], 3);
  const bh = input([hidden], 4);
  const bv = input([batch, hidden], 5); // Whi CNN(I), precomputed
  const Woh = input([hidden, vocab], 6);
  const bo = input([vocab], 7);
  const inputsAt = [Int32Array.of(0, 0), Int32Array.of(3, 2), Int32Array.of(5, 1)];
  const targets = Int32Array.of(3, 2, 5, 1, 1, -1); // step-major; the second sentence ends early
  const loss = () => {
    const hs: Tensor[] = [];
    for (let t = 0; t < steps; t++) {
      const a = affine(gather(We, inputsAt[t]), Whx, bh);
      // h_0 = 0, so the first step has the image term in place of the recurrent one.
      hs.push(relu(t === 0 ? add(a, bv) : add(a, matmul(hs[t - 1], Whh))));
    }
    return softmaxCrossEntropy(affine(concatRows(hs), Woh, bo), targets);
  };
  assertGradients(loss, { We, Whx, Whh, bh, bv, Woh, bo }, { maxPerParam: 12 });
});

test("an LSTM step from one fused product, gates cut by column", () => {
  const hidden = 3;
  const x = input([2, 4], 1);
  const hPrev = input([2, hidden], 2);
  const cPrev = input([2, hidden], 3);
  const W = input([4 + hidden, 4 * hidden], 4);
  const b = input([4 * hidden], 5);
  const step = () => {
    const z = affine(concatCols([x, hPrev]), W, b);
    const gate = (k: number) => sliceCols(z, k * hidden, (k + 1) * hidden);
    const c = add(mul(sigmoid(gate(1)), cPrev), mul(sigmoid(gate(0)), tanh(gate(3))));
    return mul(sigmoid(gate(2)), tanh(c));
  };
  assertGradients(step, { x, hPrev, cPrev, W, b });
});
