import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AlignmentModel } from "../../src/align/model.js";
import { rankingLoss } from "../../src/align/ranking-loss.js";
import { formatGradcheck, gradcheck, noGrad, Rng, Tensor } from "../../src/core/index.js";
import { tinyAlignmentModel } from "../support/tiny-alignment-model.js";

const tinyModel = (seed: number, featureDim = 6, regions = 3) =>
  tinyAlignmentModel(seed, { featureDim, regions });

function randomFeatures(rows: number, dim: number, seed: number, rng = new Rng(seed)): Tensor {
  return new Tensor(
    Float32Array.from({ length: rows * dim }, () => rng.normal()),
    [rows, dim],
  );
}

/**
 * The tiny model with biases moved to 0.3-0.6: zero biases put dead units' ReLU inputs exactly on
 * the kink, where finite differences see half a slope. The seed is one where no ReLU input or
 * region maximum lies within the finite-difference step of a kink (others fail on one entry).
 */
function checkableModel(seed = 3): { model: AlignmentModel; cnn: Tensor } {
  const model = tinyModel(seed);
  const rng = new Rng(seed + 100);
  for (const p of model.params.all()) {
    if (p.tensor.shape.length === 1) {
      for (let i = 0; i < p.tensor.size; i++) p.tensor.data[i] = 0.3 + 0.3 * rng.uniform();
    }
  }
  return { model, cnn: randomFeatures(3 * 3, 6, seed + 200, rng) };
}

// Sentences of different lengths, so the BRNN's stacking of running sentences is exercised.
const sentences = [
  [1, 2, 3, 4, 5, 6],
  [7, 8],
  [2, 4, 6, 1],
].map((s) => Int32Array.from(s));

test("the full model (region embedding, BRNN, S_kl, ranking loss) passes a gradient check", () => {
  const { model, cnn } = checkableModel();
  // A margin of 10 keeps every hinge active, away from its kink.
  const loss = () => rankingLoss(model.scores(cnn, 3, sentences), 10);
  const res = gradcheck(loss, model.params, { maxPerParam: 1000 });
  assert.ok(res.ok, formatGradcheck(res));
  assert.equal(res.checked, model.params.count());
});

test("the scores S_kl pass a gradient check with dropout on (the same masks each time)", () => {
  // Seed 10: masks with no unit of the tiny model within the step of a ReLU kink (others fail on
  // an entry or two, and at smaller steps those entries agree).
  const { model, cnn } = checkableModel(10);
  const scores = () => model.scores(cnn, 3, sentences, { p: 0.3, rng: new Rng(9) });
  const res = gradcheck(scores, model.params, { maxPerParam: 1000 });
  assert.ok(res.ok, formatGradcheck(res));
});

test("the hardest-negative loss passes a gradient check on its scores", () => {
  const S = new Tensor(Float32Array.from([2, 3, 0.5, 0, 6, 1.5, 0.25, 4, 3]), [3, 3], {
    requiresGrad: true,
  });
  for (const kind of ["sum", "hardest"] as const) {
    const res = gradcheck(() => rankingLoss(S, 1, kind), { S });
    assert.ok(res.ok, `${kind}: ${formatGradcheck(res)}`);
  }
});

test("rankingLoss is zero when every matching pair wins by the margin, and counts violations", () => {
  const S = new Tensor(Float32Array.from([5, 1, 0, 2, 6, 1, 0, 0, 3]), [3, 3]);
  assert.equal(rankingLoss(S, 1).item(), 0);
  // Only image 0 against sentence 1 violates: 3 - 2 + 1 = 2, over 3 pairs. Sentence 2 against
  // image 1 (1 - 3 + 1 < 0) stays inside the margin.
  const T = new Tensor(Float32Array.from([2, 3, 0, 0, 6, 1, 0, 0, 3]), [3, 3]);
  assert.ok(Math.abs(rankingLoss(T, 1).item() - 2 / 3) < 1e-6);
  // The hardest negative keeps one term per row and column: the same here.
  assert.ok(Math.abs(rankingLoss(T, 1, "hardest").item() - 2 / 3) < 1e-6);
});

test("wordRegionScores gives regions x known words and records nothing", () => {
  const model = tinyModel(1);
  const features = randomFeatures(3, 6, 7).data;
  const out = model.wordRegionScores(features, ["a", "zebra", "dog", "runs"]);
  assert.equal(out.regions, 3);
  assert.deepEqual(out.words, ["a", "dog", "runs"]);
  assert.deepEqual(out.positions, [0, 2, 3]);
  assert.equal(out.scores.length, 9);
  // The same numbers as the batch path's per-word scores.
  const S = noGrad(() =>
    model.scores(new Tensor(features, [3, 6]), 1, [model.encode(["a", "dog", "runs"])]),
  );
  let expected = 0;
  for (let t = 0; t < 3; t++) {
    let best = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < 3; i++) best = Math.max(best, out.scores[i * 3 + t]);
    expected += best;
  }
  assert.ok(Math.abs(S.item() - expected) < 1e-4);
});

test("a loaded model holds the saved weights, not fresh random ones, and scores the same", () => {
  const dir = mkdtempSync(join(tmpdir(), "imagesent-align-model-"));
  try {
    const saved = tinyModel(4);
    const path = join(dir, "m.ckpt");
    saved.save(path);
    const { model } = AlignmentModel.load(path);
    for (const p of saved.params.all()) {
      assert.deepEqual(model.params.get(p.name).data, p.tensor.data, p.name);
    }
    const features = randomFeatures(3, 6, 9).data;
    const tokens = ["a", "dog", "runs"];
    assert.deepEqual(
      model.wordRegionScores(features, tokens).scores,
      saved.wordRegionScores(features, tokens).scores,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a model built with the same seed draws the same weights", () => {
  const ref = tinyModel(2);
  const again = new AlignmentModel(ref.config, ref.vocabulary, ref.normalizer, 2);
  for (const p of ref.params.all()) {
    assert.deepEqual(again.params.get(p.name).data, p.tensor.data, p.name);
  }
  assert.ok(ref.params.get("Wf").data.some((v) => v !== 0));
  const other = new AlignmentModel(ref.config, ref.vocabulary, ref.normalizer, 3);
  assert.notDeepEqual(other.params.get("Wf").data, ref.params.get("Wf").data);
});
