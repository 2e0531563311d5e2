import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/core/rng.js";
import type { CellKind } from "../../src/generate/caption-model.js";
import { createCaptionModel } from "../../src/generate/create-model.js";
import { batchedBeamSearch, beamSearch } from "../../src/generate/decoding.js";

/** A random model whose softmax biases make END likely enough that captions end at varied lengths. */
function randomModel(cell: CellKind) {
  const rng = new Rng(cell === "rnn" ? 3 : 4);
  const model = createCaptionModel(
    { cell, featureDim: 6, vocabSize: 9, hidden: 10, embed: 5, dropout: 0 },
    rng,
  );
  for (const p of model.params.all()) {
    for (let i = 0; i < p.tensor.size; i++) p.tensor.data[i] = rng.normal() * 0.8;
  }
  const features = Array.from({ length: 7 }, () =>
    Float32Array.from({ length: 6 }, () => rng.normal()),
  );
  return { model, features };
}

test("the batched search finds exactly what beamSearch finds for each image", () => {
  for (const cell of ["rnn", "lstm"] as const) {
    const { model, features } = randomModel(cell);
    const lengths = new Set<number>();
    for (const opts of [
      { beam: 1, maxLength: 6 },
      { beam: 3, maxLength: 6 },
      { beam: 4, maxLength: 9, lengthNormalization: 0.7 },
    ]) {
      const batched = batchedBeamSearch(
        features.map((f) => model.stepper(f)),
        opts,
      );
      assert.equal(batched.length, features.length);
      features.forEach((f, k) => {
        const single = beamSearch(model.stepper(f), opts);
        assert.deepEqual(
          batched[k].map((c) => [c.words, c.finished]),
          single.map((c) => [c.words, c.finished]),
          `${cell} ${JSON.stringify(opts)} image ${k}`,
        );
        batched[k].forEach((c, i) => {
          assert.ok(Math.abs(c.logProb - single[i].logProb) < 1e-4);
        });
        lengths.add(batched[k][0].words.length);
      });
    }
    // The images' searches end at different steps, which is what the batching must get right.
    assert.ok(lengths.size > 1, `${cell}: all captions had the same length`);
  }
});

test("no images give no captions, and a bad beam is refused", () => {
  assert.deepEqual(batchedBeamSearch([]), []);
  const { model, features } = randomModel("rnn");
  assert.throws(() => batchedBeamSearch([model.stepper(features[0])], { beam: 0 }), /beam/);
});
