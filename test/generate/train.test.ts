import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { TrainingDivergedError } from "../../src/core/divergence.js";
import { buildVocabulary } from "../../src/data/vocabulary.js";
import { loadCaptionData, normalizeCaptionData } from "../../src/generate/caption-data.js";
import { beamSearch, greedy } from "../../src/generate/decoding.js";
import { evaluateGenerator } from "../../src/generate/evaluate.js";
import { loadGenerator } from "../../src/generate/load-generator.js";
import { trainGenerator } from "../../src/generate/train.js";
import { SUBJECTS, tinyWorld } from "./fixtures.js";

const QUICK = {
  batchSize: 8,
  lr: 1e-2,
  warmup: 5,
  lrDecay: 1,
  weightDecay: 0,
  epochs: 40,
  evalEvery: 40,
} as const;

function setup() {
  const world = tinyWorld();
  const vocabulary = buildVocabulary(world.dataset, { minCount: 1 });
  const { data, normalizer } = normalizeCaptionData(
    loadCaptionData(world.dataset, world.store, vocabulary, { mode: "fullframe" }),
  );
  return { world, vocabulary, data, normalizer };
}

for (const cell of ["rnn", "lstm"] as const) {
  test(`a tiny ${cell} overfits four captions, each for its own image`, () => {
    const { vocabulary, data, normalizer } = setup();
    const out = mkdtempSync(join(tmpdir(), "imagesent-gen-train-"));
    after(() => rmSync(out, { recursive: true, force: true }));
    const result = trainGenerator({
      data,
      mode: "fullframe",
      vocabulary,
      normalizer,
      model: { cell, hidden: 32, embed: 16, dropout: 0 },
      training: QUICK,
      out,
    });
    const val = data.splits.val;
    for (let i = 0; i < val.targets.length; i++) {
      const stepper = result.model.stepper(val.features.subarray(i * data.dim, (i + 1) * data.dim));
      const caption = vocabulary.decode(greedy(stepper).words).join(" ");
      assert.equal(caption, val.targets[i].references[0].join(" "));
      assert.equal(vocabulary.decode(beamSearch(stepper)[0].words).join(" "), caption);
    }
    assert.ok(result.best !== null && result.best.cider > 5, `val CIDEr-D ${result.best?.cider}`);
    assert.ok(result.best.perplexity < 1.5, `val perplexity ${result.best.perplexity}`);
    assert.deepEqual(readdirSync(out).sort(), ["best.ckpt", "last.ckpt"]);
  });
}

test("a diverging run stops with a TrainingDivergedError and saves nothing as best", () => {
  const { vocabulary, data, normalizer } = setup();
  const out = mkdtempSync(join(tmpdir(), "imagesent-gen-diverge-"));
  after(() => rmSync(out, { recursive: true, force: true }));
  assert.throws(
    () =>
      trainGenerator({
        data,
        mode: "fullframe",
        vocabulary,
        normalizer,
        model: { cell: "rnn", hidden: 32, embed: 16, dropout: 0 },
        training: { ...QUICK, lr: 1e10, warmup: 1, epochs: 2 },
        out,
      }),
    (err: Error) =>
      err instanceof TrainingDivergedError &&
      /^training diverged at epoch 1, iteration \d+: .*; lower --lr \(it is 10000000000\)$/.test(
        err.message,
      ),
  );
  assert.deepEqual(readdirSync(out), []);
});

test("a resumed run ends where an uninterrupted one does, and the checkpoint captions alike", () => {
  const { vocabulary, data, normalizer } = setup();
  const run = (out: string, epochs: number) =>
    trainGenerator({
      data,
      mode: "fullframe",
      vocabulary,
      normalizer,
      model: { hidden: 16, embed: 8, dropout: 0.3 },
      training: { ...QUICK, epochs, evalEvery: 5 },
      out,
    });
  const first = mkdtempSync(join(tmpdir(), "imagesent-gen-a-"));
  after(() => rmSync(first, { recursive: true, force: true }));
  const whole = run(first, 6);
  const split = mkdtempSync(join(tmpdir(), "imagesent-gen-b-"));
  after(() => rmSync(split, { recursive: true, force: true }));
  run(split, 3);
  const resumed = run(split, 6);
  for (const p of whole.model.params.all()) {
    assert.deepEqual(resumed.model.params.get(p.name).data, p.tensor.data, p.name);
  }
  assert.equal(resumed.history.length, whole.history.length);

  const loaded = loadGenerator(join(split, "last.ckpt"));
  const feature = data.splits.test.features.subarray(0, data.dim);
  assert.deepEqual(
    beamSearch(loaded.model.stepper(feature))[0].words,
    beamSearch(resumed.model.stepper(feature))[0].words,
  );
  assert.equal(loaded.speed?.sentences, resumed.speed.sentences);
});

test("evaluation scores the model and the nearest-neighbour baseline on the same targets", () => {
  const { vocabulary, data, normalizer } = setup();
  const out = mkdtempSync(join(tmpdir(), "imagesent-gen-eval-"));
  after(() => rmSync(out, { recursive: true, force: true }));
  const result = trainGenerator({
    data,
    mode: "fullframe",
    vocabulary,
    normalizer,
    model: { hidden: 32, embed: 16, dropout: 0 },
    training: QUICK,
    out,
  });
  const ev = evaluateGenerator({
    model: result.model,
    vocabulary,
    data,
    split: "test",
    settings: [
      { beam: 1, lengthNormalization: 0, maxLength: 20 },
      { beam: 7, lengthNormalization: 0, maxLength: 20 },
    ],
    // The model with itself: the same distribution at every step, so the same captions.
    ensemble: [result.model],
  });
  assert.deepEqual(
    ev.rows.map((r) => r.name),
    [
      "RNN, beam 1",
      "RNN, beam 7",
      "RNN, ensemble of 2, beam 1",
      "RNN, ensemble of 2, beam 7",
      "nearest neighbour",
    ],
  );
  assert.deepEqual(ev.rows[2].metrics, ev.rows[0].metrics);
  // Every test caption is a training sentence here, for the model and for its nearest neighbour.
  for (const d of ev.decoding) assert.equal(d.verbatimShare, 1);
  assert.equal(ev.nearestNeighbourVerbatim, 1);
  for (const r of ev.rows) assert.ok(r.metrics.bleu4 > 0.99, `${r.name}: ${r.metrics.bleu4}`);
  assert.ok(ev.samples.length > 0 && SUBJECTS.includes(ev.samples[0].reference));
});
