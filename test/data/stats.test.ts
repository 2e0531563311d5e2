import assert from "node:assert/strict";
import { join } from "node:path";
import test from "node:test";
import type { Dataset } from "../../src/data/dataset.js";
import { loadDataset } from "../../src/data/load.js";
import { computeDatasetStats, formatDatasetStats } from "../../src/data/stats.js";
import { sharedDir, skipUnlessShared } from "../support/shared.js";

function sentence(id: number, text: string) {
  return { id, raw: text, tokens: text.split(" ") };
}

const tiny: Dataset = {
  name: "tiny",
  images: [
    {
      id: 0,
      filename: "0.jpg",
      split: "train",
      sentences: [sentence(0, "a dog runs"), sentence(1, "a dog")],
    },
    { id: 1, filename: "1.jpg", split: "train", sentences: [sentence(2, "a cat runs fast")] },
    {
      id: 2,
      filename: "2.jpg",
      split: "test",
      sentences: [sentence(3, "a bird"), sentence(4, "dog")],
    },
  ],
};

test("stats of a tiny dataset, computed by hand", () => {
  const s = computeDatasetStats(tiny, { minCount: 2 });
  assert.equal(s.name, "tiny");
  assert.equal(s.images, 3);
  assert.equal(s.sentences, 5);
  assert.equal(s.tokens, 12);
  // train: 9 tokens in 3 sentences; "a" x3, "dog" x2, "runs" x2 are kept, "cat" and "fast" are not.
  assert.deepEqual(s.splits.train, {
    images: 2,
    sentences: 3,
    tokens: 9,
    meanSentenceLength: 3,
    unknownRate: 2 / 9,
  });
  // test: "bird" is unknown.
  assert.deepEqual(s.splits.test, {
    images: 1,
    sentences: 2,
    tokens: 3,
    meanSentenceLength: 1.5,
    unknownRate: 1 / 3,
  });
  assert.deepEqual(s.splits.val, {
    images: 0,
    sentences: 0,
    tokens: 0,
    meanSentenceLength: 0,
    unknownRate: 0,
  });
  assert.deepEqual(s.sentencesPerImage, { min: 1, max: 2 });
  assert.deepEqual(s.sentenceLength, { mean: 12 / 5, min: 1, max: 4 });
  assert.deepEqual(s.vocabulary, { minCount: 2, words: 3, distinctTrainWords: 5 });
  assert.equal(computeDatasetStats(tiny).vocabulary.words, 0, "default threshold 5");
});

test("the table lists non-empty splits, a total and the vocabulary", () => {
  const text = formatDatasetStats(computeDatasetStats(tiny, { minCount: 2 }));
  const lines = text.split("\n");
  assert.equal(lines[0], "tiny: 3 images, 5 sentences (1-2 per image)");
  assert.match(text, /^train +2 +3 +9 +3\.00 +22\.22%$/m);
  assert.match(text, /^test +1 +2 +3 +1\.50 +33\.33%$/m);
  assert.match(text, /^all +3 +5 +12 +2\.40 +25\.00%$/m);
  assert.doesNotMatch(text, /^val/m);
  assert.match(text, /vocabulary: 3 words seen >= 2 times in train, of 5 distinct/);
  assert.match(text, /sentence length: mean 2\.40, min 1, max 4 tokens/);
});

test("stats of an empty dataset are zeros, not NaN", () => {
  const s = computeDatasetStats({ name: "empty", images: [] });
  assert.equal(s.sentenceLength.mean, 0);
  assert.deepEqual(s.sentencesPerImage, { min: 0, max: 0 });
  assert.match(formatDatasetStats(s), /^empty: 0 images, 0 sentences \(0 per image\)/);
});

test("Flickr8k: 6000/1000/1000 images and 2535 words seen >= 5 times in train (paper: 2538)", {
  skip: skipUnlessShared("data/flickr8k/dataset_flickr8k.json"),
}, () => {
  const s = computeDatasetStats(loadDataset(join(sharedDir()!, "data/flickr8k")));
  assert.deepEqual(
    [s.splits.train.images, s.splits.val.images, s.splits.test.images],
    [6000, 1000, 1000],
  );
  assert.equal(s.sentences, 40000);
  assert.equal(s.vocabulary.words, 2535);
  assert.equal(s.vocabulary.distinctTrainWords, 7370);
  assert.equal(s.tokens, 433436);
});
