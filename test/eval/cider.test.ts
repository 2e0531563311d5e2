import assert from "node:assert/strict";
import { test } from "node:test";
import { ciderD, ciderDAgainst, documentFrequencies } from "../../src/eval/cider.js";

const words = (s: string) => (s === "" ? [] : s.split(" "));
const image = (candidate: string, ...references: string[]) => ({
  candidate: words(candidate),
  references: references.map(words),
});
const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

// In every case below N = 2 images and each n-gram is in at most one image's references, so
// every idf is log(2) − log(max(1, df)) = log 2 and cancels in the cosines.

test("exact match and partial match, averaged over n = 1..4 and times 10", () => {
  // Image 1 "a b" vs "a b": cos = 1 for n = 1, 2; no 3- or 4-grams → 0. 10 · (1+1+0+0)/4 = 5.
  // Image 2 "c d" vs "c e": n = 1 shares "c" → 1/(√2·√2) = 0.5; n = 2: 0. 10 · 0.5/4 = 1.25.
  const { score, perImage } = ciderD([image("a b", "a b"), image("c d", "c e")]);
  close(perImage[0], 5);
  close(perImage[1], 1.25);
  close(score, 3.125);
});

test("Gaussian length penalty on the bigram-count difference", () => {
  // "a b c" vs "a b": n=1 cos = 2/(√3·√2); n=2 cos = 1/(√2·1); n=3: the reference has no
  // trigram (norm 0) → 0. Bigram counts 2 vs 1: penalty exp(−1/72) = 0.9862071.
  // 10 · (0.8164966 + 0.7071068)/4 · 0.9862071 = 3.7564651.
  const { perImage } = ciderD([image("a b c", "a b"), image("x", "y")]);
  close(perImage[0], (10 * (2 / Math.sqrt(6) + 1 / Math.SQRT2) * Math.exp(-1 / 72)) / 4);
  assert.equal(perImage[1], 0);
});

test("clips candidate weights by the reference's", () => {
  // "a a" vs "a b": h("a") = 2·log2, r("a") = log2; min(h, r)·r = log2², norms 2·log2 and √2·log2
  // → cos = 1/(2√2) = 0.3535534 (0.7071 without clipping). 10 · 0.3535534/4 = 0.8838835.
  const { perImage } = ciderD([image("a a", "a b"), image("x", "y")]);
  close(perImage[0], 10 / (2 * Math.SQRT2) / 4);
});

test("sums over references, then divides by their number", () => {
  // Image 1 refs "a b" (cos 1, 1) and "z" (0): (10 · 2/4) / 2 = 2.5.
  const { perImage } = ciderD([image("a b", "a b", "z"), image("x", "y")]);
  close(perImage[0], 2.5);
});

test("a single image has log(1) = 0 idf everywhere, so it scores 0; so does an empty caption", () => {
  assert.equal(ciderD([image("a b", "a b")]).score, 0);
  assert.equal(ciderD([image("", "a b"), image("x", "y")]).perImage[0], 0);
});

test("document frequencies from a fixed corpus: idf from its counts, not the scored images'", () => {
  // Corpus of 4 documents: "a" is in 2, "b" in 1, "a b" (key "a\0b") in 1. Candidate "a" vs
  // reference "a b": idf(a) = log 4 − log 2 = log 2, idf(b) = log 4, so
  // cos_1 = log2·log2 / (log2 · √(log2² + log4²)) = 1/√5; no bigram; penalty exp(−1/72).
  const corpus = documentFrequencies([[words("a b")], [words("a c")], [words("d")], [words("e")]]);
  assert.equal(corpus.documents, 4);
  assert.equal(corpus.counts.get("a"), 2);
  assert.equal(corpus.counts.get("a\u0000b"), 1);
  const { perImage } = ciderD([image("a", "a b")], { documentFrequency: corpus });
  close(perImage[0], ((10 * (1 / Math.sqrt(5))) / 4) * Math.exp(-1 / 72));
  // Scored alone without the corpus, N = 1 makes every idf 0.
  assert.equal(ciderD([image("a", "a b")]).perImage[0], 0);
});

test("documentFrequencies of the scored images' references is what ciderD counts by default", () => {
  const images = [image("a b", "a b", "a c"), image("c d", "c e"), image("x", "a")];
  const corpus = documentFrequencies(images.map((i) => i.references));
  assert.deepEqual(ciderD(images, { documentFrequency: corpus }).perImage, ciderD(images).perImage);
});

test("ciderDAgainst scores each candidate as ciderD would, beside the same references", () => {
  const corpus = documentFrequencies([[words("a b")], [words("a c")], [words("d")], [words("e")]]);
  const refs = [words("a b"), words("a c d")];
  const candidates = ["a", "a b", "e e", ""].map(words);
  const alone = candidates.map(
    (c) => ciderD([{ candidate: c, references: refs }], { documentFrequency: corpus }).perImage[0],
  );
  assert.deepEqual(ciderDAgainst(candidates, refs, corpus), alone);
  // "a" vs "a b": cos_1 = 1/√5, penalty exp(−1/72) (as above). vs "a c d": idf a = log 2, c = d =
  // log 4, so cos_1 = log2² / (log2 · 3 log2) = 1/3, bigram counts 0 vs 2: penalty exp(−4/72).
  close(alone[0], (10 * (Math.exp(-1 / 72) / Math.sqrt(5) + Math.exp(-4 / 72) / 3)) / 4 / 2);
  assert.equal(alone[3], 0);
  assert.deepEqual(ciderDAgainst(candidates, [], corpus), [0, 0, 0, 0]);
});
