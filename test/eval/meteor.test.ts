import assert from "node:assert/strict";
import { test } from "node:test";
import {
  addStats,
  emptyStats,
  METEOR_NAME,
  meteor,
  meteorFromStats,
  meteorStats,
} from "../../src/eval/meteor/meteor.js";
import { meteorNormalize } from "../../src/eval/meteor/normalize.js";
import { englishSynonyms } from "../../src/eval/meteor/wordnet.js";

const words = (s: string) => (s === "" ? [] : s.split(" "));
const image = (candidate: string, ...references: string[]) => ({
  candidate: words(candidate),
  references: references.map(words),
});
const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);
const score = (test: string, ref: string) => meteorFromStats(meteorStats(words(test), words(ref)));

// Parameters: alpha 0.85, beta 0.2, gamma 0.6, delta 0.75; weights exact 1, stem 0.6, synonym 0.8.
// Function words ("a", "the", "on") count 1 − δ = 0.25, content words δ = 0.75.

test("the name says which modules are in", () => {
  assert.equal(METEOR_NAME, "METEOR (exact+stem+synonym)");
});

test("identical sentences score 1 (one chunk, nothing unmatched: no penalty)", () => {
  close(score("the cat sat on the mat", "the cat sat on the mat"), 1);
});

test("one-word candidate: recall and fragmentation penalties", () => {
  // "dog" vs "a dog": P = 0.75/0.75 = 1, R = 0.75/(0.75 + 0.25) = 0.75.
  // Fmean = 1/(0.15/1 + 0.85/0.75) = 0.7792208. frag = 1 chunk / ((1+1)/2) = 1 → penalty 0.6.
  // score = 0.7792208 · 0.4 = 0.3116883.
  close(score("dog", "a dog"), (1 / (0.15 + 0.85 / 0.75)) * 0.4);
});

test("stem match (Porter) weighs 0.6", () => {
  // "the dogs" vs "the dog": "the" exact (function), "dogs"~"dog" by stem (content).
  // Weighted matches 0.25·1 + 0.75·0.6 = 0.7 over weighted length 1 → P = R = Fmean = 0.7;
  // everything matched in one chunk → no penalty.
  close(score("the dogs", "the dog"), 0.7);
});

test("WordNet synonym match weighs 0.8", () => {
  // "couch"~"sofa" share a synset: matches 0.25 + 0.75·0.8 = 0.85 → score 0.85.
  close(score("the couch", "the sofa"), 0.85);
  // "puppy" and "cat" share no synset: only "the" matches, P = R = 0.25/1 = Fmean; one match in
  // one chunk → frag 1 → 0.25 · 0.4 = 0.1.
  close(score("the puppy", "the cat"), 0.1);
});

test("word order: more chunks, more penalty", () => {
  // "mat the on" vs "on the mat": 3 exact matches in 3 chunks → frag = 3/3 = 1 → penalty 0.6;
  // P = R = 1 → score 0.4.
  close(score("mat the on", "on the mat"), 0.4);
});

test("per image the best reference wins; the corpus score comes from summed statistics", () => {
  const { score: corpus, perImage } = meteor([
    image("dog", "the cat", "a dog"),
    image("the cat sat on the mat", "the cat sat on the mat"),
  ]);
  close(perImage[0], (1 / (0.15 + 0.85 / 0.75)) * 0.4);
  close(perImage[1], 1);
  // Summed: test 7 words (3 function), ref 8 words (4 function), 7 matches each side (3
  // function), 2 chunks. P = 3.75/3.75 = 1, R = 3.75/4 = 0.9375, Fmean = 1/(0.15 + 0.85/0.9375).
  // frag = 2 / ((7 + 7)/2) = 2/7 → score = Fmean · (1 − 0.6 · (2/7)^0.2) = 0.5043956.
  close(corpus, (1 / (0.15 + 0.85 / 0.9375)) * (1 - 0.6 * (2 / 7) ** 0.2));
});

test("empty candidate and empty reference score 0", () => {
  assert.equal(score("", "a dog"), 0);
  assert.equal(score("a dog", ""), 0);
  assert.equal(meteor([image("", "a dog")]).score, 0);
});

test("statistics add up", () => {
  const total = emptyStats();
  addStats(total, meteorStats(words("dog"), words("a dog")));
  addStats(total, meteorStats(words("dog"), words("a dog")));
  assert.equal(total.testLength, 2);
  assert.equal(total.referenceFunctionWords, 2);
  assert.deepEqual(total.testContentMatches, [2, 0, 0]);
  assert.equal(total.chunks, 2);
});

test("-norm splits symbols, hyphenated words and apostrophes, and undots abbreviations", () => {
  assert.deepEqual(
    meteorNormalize(["10:30", "1,000", "u.s.", "a&w", "3.5", "black-and-white", "dog", "'s"]),
    [
      "10",
      ":",
      "30",
      "1,000",
      "us",
      "a",
      "&",
      "w",
      "3.5",
      "black",
      "and",
      "white",
      "dog",
      "'",
      "s",
    ],
  );
  assert.deepEqual(meteorNormalize(["does", "n't", "-lrb-", "etc."]), [
    "does",
    "n",
    "'t",
    "-lrb-",
    "etc",
    ".",
  ]);
  assert.deepEqual(meteorNormalize(["mr.", "smith", "日本"]), ["mr.", "smith", "日", "本"]);
});

test("WordNet morphology finds base forms the way METEOR's morph does", () => {
  const wn = englishSynonyms();
  assert.equal(wn.baseForm("boats"), "boat");
  assert.equal(wn.baseForm("men"), "man");
  assert.equal(wn.baseForm("walking"), "walk");
  assert.equal(wn.baseForm("glass"), "glass"); // -ss words are left alone
  assert.equal(wn.baseForm("xyzzyqs"), "");
  assert.ok(wn.synsets("couch").some((s) => wn.synsets("sofa").includes(s)));
});
