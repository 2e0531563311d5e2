import assert from "node:assert/strict";
import test from "node:test";
import type { Dataset } from "../../src/data/dataset.js";
import {
  BOUNDARY,
  BOUNDARY_TOKEN,
  buildVocabulary,
  UNKNOWN_TOKEN,
  Vocabulary,
} from "../../src/data/vocabulary.js";
import { InputError } from "../../src/errors.js";

const sentences = [
  ["a", "dog", "runs"],
  ["a", "dog", "jumps"],
  ["a", "cat", "runs"],
  ["the", "dog"],
];

test("keeps words seen at least minCount times, most frequent first, ties alphabetical", () => {
  const v = Vocabulary.fromSentences(sentences, { minCount: 2 });
  assert.deepEqual(v.words, [BOUNDARY_TOKEN, "a", "dog", "runs"]);
  assert.deepEqual(v.counts, [4, 3, 3, 2]);
  assert.equal(v.size, 4);
  assert.equal(v.wordCount, 3);
  assert.equal(v.start, BOUNDARY);
  assert.equal(v.end, BOUNDARY);
  assert.equal(v.unk, undefined);
  assert.deepEqual(Vocabulary.fromSentences(sentences, { minCount: 1 }).wordCount, 6);
  assert.deepEqual(Vocabulary.fromSentences(sentences, { minCount: 4 }).words, [BOUNDARY_TOKEN]);
});

test("the default threshold is 5", () => {
  const many = [...Array(5).fill(["x", "y"]), ["y"]] as string[][];
  const v = Vocabulary.fromSentences([...many, ["z", "z", "z", "z"]]);
  assert.equal(v.minCount, 5);
  assert.deepEqual(v.words, [BOUNDARY_TOKEN, "y", "x"]);
});

test("the drop policy skips unknown words; unk maps them to <unk> and counts them", () => {
  const drop = Vocabulary.fromSentences(sentences, { minCount: 2 });
  assert.deepEqual(drop.encode(["a", "cat", "runs"]), [1, 3]);
  const unk = Vocabulary.fromSentences(sentences, { minCount: 2, unknown: "unk" });
  assert.deepEqual(unk.words, [BOUNDARY_TOKEN, UNKNOWN_TOKEN, "a", "dog", "runs"]);
  assert.equal(unk.counts[1], 3, "cat, jumps and the occur once each");
  assert.equal(unk.unk, 1);
  assert.equal(unk.wordCount, 3);
  assert.deepEqual(unk.encode(["a", "cat", "runs"]), [2, 1, 4]);
  assert.deepEqual(unk.decode(unk.encode(["a", "cat"])), ["a", UNKNOWN_TOKEN]);
});

test("encode never emits the boundary; decode leaves it out", () => {
  const v = Vocabulary.fromSentences(sentences, { minCount: 2 });
  assert.deepEqual(v.encode([BOUNDARY_TOKEN, "dog"]), [2]);
  assert.deepEqual(v.decode([BOUNDARY, 2, 1, BOUNDARY]), ["dog", "a"]);
  assert.throws(() => v.decode([4]), /word index 4 outside 0\.\.3/);
  assert.equal(v.indexOf("runs"), 3);
  assert.equal(v.indexOf("cat"), undefined);
  assert.equal(v.has("a"), true);
  assert.equal(v.wordAt(1), "a");
});

test("logFrequencies are log(count / total), with zero counts taken as 1", () => {
  const v = Vocabulary.fromSentences(sentences, { minCount: 2 });
  const f = v.logFrequencies();
  const expected = [4, 3, 3, 2].map((c) => Math.log(c / 12));
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(f[i]! - expected[i]!) < 1e-6);
  const noRare = Vocabulary.fromSentences([["a"]], { minCount: 1, unknown: "unk" });
  assert.deepEqual(noRare.counts, [1, 0, 1]);
  assert.ok(noRare.logFrequencies().every(Number.isFinite));
});

test("rejects a threshold below 1", () => {
  assert.throws(() => Vocabulary.fromSentences(sentences, { minCount: 0 }), RangeError);
});

test("buildVocabulary counts only the train split by default", () => {
  const dataset: Dataset = {
    name: "tiny",
    images: [
      {
        id: 0,
        filename: "a.jpg",
        split: "train",
        sentences: [{ id: 0, raw: "", tokens: ["dog"] }],
      },
      { id: 1, filename: "b.jpg", split: "val", sentences: [{ id: 1, raw: "", tokens: ["cat"] }] },
    ],
  };
  assert.deepEqual(buildVocabulary(dataset, { minCount: 1 }).words, [BOUNDARY_TOKEN, "dog"]);
  assert.deepEqual(buildVocabulary(dataset, { minCount: 1, splits: ["train", "val"] }).words, [
    BOUNDARY_TOKEN,
    "cat",
    "dog",
  ]);
});

test("toJSON / fromJSON round-trips through JSON text", () => {
  for (const unknown of ["drop", "unk"] as const) {
    const v = Vocabulary.fromSentences(sentences, { minCount: 2, unknown });
    const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(v)));
    assert.deepEqual(back.toJSON(), v.toJSON());
    assert.deepEqual(back.encode(["a", "cat", "dog"]), v.encode(["a", "cat", "dog"]));
    assert.equal(back.unk, v.unk);
  }
});

test("fromJSON names the field at fault", () => {
  const good = Vocabulary.fromSentences(sentences, { minCount: 2 }).toJSON();
  const cases: [unknown, RegExp][] = [
    [null, /^ckpt: vocabulary: expected a JSON object, got null$/],
    [{ ...good, format: "x" }, /vocabulary\.format: expected "imagesent-vocabulary", got "x"$/],
    [{ ...good, version: 2 }, /vocabulary\.version: expected 1, got 2$/],
    [{ ...good, minCount: 0 }, /vocabulary\.minCount: expected a positive integer, got 0$/],
    [
      { ...good, unknown: "keep" },
      /vocabulary\.unknown: expected one of "drop", "unk", got "keep"$/,
    ],
    [{ ...good, words: "a" }, /vocabulary\.words: expected a non-empty list of non-empty strings/],
    [
      { ...good, counts: [1] },
      /vocabulary\.counts: expected a list of 4 counts \(one per word\), got \[1\]$/,
    ],
    [
      { ...good, words: ["a", "dog", "b", "c"] },
      /vocabulary\.words\[0\]: expected "<s>".*, got "a"$/,
    ],
    [
      { ...good, words: ["<s>", "dog", 3, "c"] },
      /vocabulary\.words\[2\]: expected a non-empty string/,
    ],
    [
      { ...good, words: ["<s>", "dog", "dog", "c"] },
      /vocabulary\.words\[2\]: duplicate word "dog"/,
    ],
    [
      { ...good, words: ["<s>", "<unk>", "a", "c"] },
      /vocabulary\.words\[1\]: special token "<unk>"/,
    ],
    [
      { ...good, counts: [1, 2, -1, 3] },
      /vocabulary\.counts\[2\]: expected an integer >= 0, got -1$/,
    ],
    [
      { ...good, unknown: "unk" },
      /vocabulary\.words\[1\]: expected "<unk>" under the "unk" policy/,
    ],
    [
      { ...good, words: [], counts: [] },
      /vocabulary\.words: expected a non-empty list of .*, got \[\]$/,
    ],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => Vocabulary.fromJSON(value, "ckpt", { path: "vocabulary" }),
      (err: unknown) => err instanceof InputError && message.test(err.message),
      `expected ${message}`,
    );
  }
});
