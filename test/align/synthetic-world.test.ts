import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loadSplitFeatures, type SplitFeatures } from "../../src/align/image-features.js";
import { AlignmentModel } from "../../src/align/model.js";
import { evaluateRetrieval } from "../../src/align/retrieval.js";
import { trainAlignment } from "../../src/align/train.js";
import { wordGrounding } from "../../src/align/word-grounding.js";
import { encodeWorldFeatures } from "../../src/cli/demo-stages/features.js";
import type { Dataset, Split } from "../../src/data/dataset.js";
import { type GeneratedWorld, generateWorld } from "../../src/world/generate.js";
import { COLOURS, SHAPES } from "../../src/world/scene.js";
import { worldToDataset } from "../../src/world/world-file.js";

/**
 * The alignment model on a small synthetic world (320 train, 40 val, 40 test images), where the
 * true box of every object word is known. Training is brief: a small model, a few epochs.
 */
const SMALL = {
  model: { embed: 100, hidden: 50, wordDim: 50 },
  train: { epochs: 14, batchSize: 25, lr: 3e-4, dropout: 0 },
} as const;

let dir: string;
let world: GeneratedWorld;
let dataset: Dataset;
let splits: Map<Split, SplitFeatures>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-align-"));
  world = await generateWorld(join(dir, "world"), { images: 400, seed: 1 });
  const store = await encodeWorldFeatures(world, join(dir, "features"));
  dataset = worldToDataset(world.world);
  splits = loadSplitFeatures(store, dataset, ["train", "val", "test"], 20);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("after brief training, retrieval is far above chance and object words find their boxes", () => {
  const result = trainAlignment(dataset, splits.get("train")!, splits.get("val")!, {
    out: join(dir, "run"),
    ...SMALL,
  });
  assert.equal(result.history.length, 14);
  assert.ok(result.sentencesPerSecond > 0);
  const model = AlignmentModel.load(result.bestPath).model;
  const test = splits.get("test")!;
  const r = evaluateRetrieval(model, test.images, model.normalize(test.features));
  assert.equal(r.images, 40);
  assert.equal(r.sentences, 200);
  // Chance: R@1 2.5% and median rank about 20 for search; R@1 about 12% for annotation.
  assert.ok(r.search.r1 > 20, `search R@1 ${r.search.r1}`);
  assert.ok(r.search.medianRank <= 5, `search median rank ${r.search.medianRank}`);
  assert.ok(r.annotation.r5 > 50, `annotation R@5 ${r.annotation.r5}`);

  const byName = new Map(world.world.images.map((im) => [im.filename, im]));
  const size = test.regions * test.dim;
  const g = wordGrounding(
    model,
    test.images.map((im) => byName.get(im.filename)!),
    (k) => test.features.subarray(k * size, (k + 1) * size),
  );
  assert.ok(g.words > 300);
  assert.ok(g.accuracy > 0.5, `object words on their box: ${g.hits}/${g.words}`);
  // Colour and shape words name what a region shows; size words (big, small) are relative to
  // the other objects and land less often.
  let hits = 0;
  let words = 0;
  for (const [word, c] of g.byWord) {
    if (
      (COLOURS as readonly string[]).includes(word) ||
      (SHAPES as readonly string[]).includes(word)
    ) {
      hits += c.hits;
      words += c.words;
    }
  }
  assert.ok(hits / words > 0.75, `colour and shape words on their box: ${hits}/${words}`);
});

test("a run stopped after an epoch and restarted ends with the same weights as one run", () => {
  const quick = { ...SMALL, train: { ...SMALL.train, checkpointEvery: 5 } };
  const whole = trainAlignment(dataset, splits.get("train")!, splits.get("val")!, {
    ...quick,
    out: join(dir, "whole"),
    train: { ...quick.train, epochs: 2 },
  });
  const out = join(dir, "resumed");
  trainAlignment(dataset, splits.get("train")!, splits.get("val")!, {
    ...quick,
    out,
    train: { ...quick.train, epochs: 1 },
  });
  const resumed = trainAlignment(dataset, splits.get("train")!, splits.get("val")!, {
    ...quick,
    out,
    train: { ...quick.train, epochs: 2 },
  });
  assert.equal(resumed.history.length, 2);
  for (const p of whole.model.params.all()) {
    assert.deepEqual(resumed.model.params.get(p.name).data, p.tensor.data, p.name);
  }
});

test("--init starts from a trained model: its vocabulary and weights, a fresh run", () => {
  const first = trainAlignment(dataset, splits.get("train")!, splits.get("val")!, {
    ...SMALL,
    out: join(dir, "init-from"),
    train: { ...SMALL.train, epochs: 1 },
  });
  const tuned = trainAlignment(dataset, splits.get("train")!, splits.get("val")!, {
    ...SMALL,
    out: join(dir, "init-tuned"),
    init: first.bestPath,
    model: { embed: 7, hidden: 5, wordDim: 3 },
    train: { ...SMALL.train, epochs: 1, lr: 1e-9, warmup: 0, loss: "hardest" },
  });
  assert.equal(tuned.history.length, 1, "a fresh run, not a resumed one");
  assert.equal(tuned.model.config.embed, SMALL.model.embed, "the shape comes from --init");
  assert.deepEqual(tuned.model.vocabulary.toJSON(), first.model.vocabulary.toJSON());
  // With a vanishing learning rate the weights stay those of the model it started from.
  for (const p of first.model.params.all()) {
    const after = tuned.model.params.get(p.name).data;
    const drift = after.reduce((m, v, i) => Math.max(m, Math.abs(v - p.tensor.data[i])), 0);
    assert.ok(drift < 1e-4, `${p.name} moved by ${drift}`);
  }
});
