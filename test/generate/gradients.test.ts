import assert from "node:assert/strict";
import { test } from "node:test";
import { backward } from "../../src/core/autodiff.js";
import { formatGradcheck, gradcheck } from "../../src/core/gradcheck.js";
import { affine, softmaxCrossEntropy } from "../../src/core/ops/index.js";
import { Rng } from "../../src/core/rng.js";
import { Tensor } from "../../src/core/tensor.js";
import { packSentences } from "../../src/generate/batch.js";
import type { CaptionModel, CellKind } from "../../src/generate/caption-model.js";
import { createCaptionModel } from "../../src/generate/create-model.js";
import { softmaxLoss } from "../../src/generate/softmax-loss.js";

/** A tiny model, a batch of sentences of different lengths (so the packed batch shrinks). */
function tiny(cell: CellKind, dropout = 0) {
  const rng = new Rng(3);
  const model = createCaptionModel(
    { cell, featureDim: 5, vocabSize: 7, hidden: 6, embed: 4, dropout },
    rng,
  );
  const sentences = [
    Int32Array.of(3, 1, 4),
    Int32Array.of(5),
    Int32Array.of(2, 6, 1, 1, 3),
    Int32Array.of(),
  ];
  const features = new Float32Array(sentences.length * 5);
  for (let i = 0; i < features.length; i++) features[i] = rng.normal();
  return { model, batch: packSentences(sentences), features };
}

/**
 * Keeps every ReLU pre-activation far from 0, so a finite-difference step never crosses the kink:
 * biases of +-1.5 (half the units alive, half dead, both paths checked) dominate small inputs.
 */
function awayFromKinks(model: CaptionModel, features: Float32Array) {
  model.params.get("bh").data.forEach((_, i, b) => {
    b[i] = i % 2 === 0 ? 1.5 : -1.5;
  });
  for (const name of ["Whh", "Whi", "Whx"]) {
    const w = model.params.get(name).data;
    for (let i = 0; i < w.length; i++) w[i] *= 0.2;
  }
  for (let i = 0; i < features.length; i++) features[i] *= 0.5;
}

function check(model: CaptionModel, f: () => ReturnType<CaptionModel["loss"]>) {
  const res = gradcheck(f, model.params, { maxPerParam: 24 });
  assert.ok(res.checked > 0);
  assert.ok(res.ok, formatGradcheck(res));
}

test("multimodal RNN: backprop through the packed ReLU recurrence matches finite differences", () => {
  const { model, batch, features } = tiny("rnn");
  awayFromKinks(model, features);
  check(model, () => model.loss(features, batch, { training: false }));
});

test("LSTM: backprop through the gates and cell matches finite differences", () => {
  const { model, batch, features } = tiny("lstm");
  check(model, () => model.loss(features, batch, { training: false }));
});

test("with dropout, gradients match for a fixed mask", () => {
  for (const cell of ["rnn", "lstm"] as const) {
    const { model, batch, features } = tiny(cell, 0.3);
    if (cell === "rnn") awayFromKinks(model, features);
    check(model, () => model.loss(features, batch, { training: true, rng: new Rng(9) }));
  }
});

test("the fused output layer equals affine + softmaxCrossEntropy, padding rows included", () => {
  const rng = new Rng(4);
  const make = (r: number, c: number) =>
    new Tensor(
      Float32Array.from({ length: r * c }, () => rng.normal()),
      [r, c],
      {
        requiresGrad: true,
      },
    );
  const h = make(4, 3);
  const W = make(3, 5);
  const b = make(1, 5);
  const targets = Int32Array.of(2, -1, 0, 4);
  const grads = (f: () => Tensor) => {
    for (const t of [h, W, b]) t.grad = null;
    const loss = f();
    backward(loss);
    return [loss.item(), ...[h, W, b].map((t) => Array.from(t.grad!))];
  };
  const fused = grads(() => softmaxLoss(h, W, b, targets));
  const plain = grads(() => softmaxCrossEntropy(affine(h, W, b), targets));
  assert.ok(Math.abs((fused[0] as number) - (plain[0] as number)) < 1e-5);
  for (let k = 1; k < 4; k++) {
    (fused[k] as number[]).forEach((x, i) => {
      assert.ok(Math.abs(x - (plain[k] as number[])[i]) < 1e-5, `gradient ${k}[${i}]`);
    });
  }
  const res = gradcheck(() => softmaxLoss(h, W, b, targets), { h, W, b });
  assert.ok(res.ok, formatGradcheck(res));
});
