import assert from "node:assert/strict";
import { test } from "node:test";
import { bleu } from "../../src/eval/bleu.js";

const words = (s: string) => (s === "" ? [] : s.split(" "));
const image = (candidate: string, ...references: string[]) => ({
  candidate: words(candidate),
  references: references.map(words),
});

const close = (actual: number, expected: number, tol = 1e-6) =>
  assert.ok(Math.abs(actual - expected) < tol, `${actual} != ${expected}`);

test("short candidate: brevity penalty and coco-caption's epsilons", () => {
  // "the cat sat" vs "the cat sat on mat": p1 = p2 = p3 = 1 (up to 1e-9), no 4-grams so
  // p4 = 1e-15 / 1e-9 = 1e-6. BP = exp(1 - 5/3) = exp(-2/3) = 0.5134171.
  const { scores } = bleu([image("the cat sat", "the cat sat on mat")]);
  const bp = Math.exp(1 - 5 / 3);
  close(scores[0], bp);
  close(scores[1], bp);
  close(scores[2], bp);
  close(scores[3], 1e-6 ** (1 / 4) * bp); // 0.0316228 * 0.5134171 = 0.0162353
});

test("clips each n-gram by its largest count in a single reference", () => {
  // "the" x4 vs refs "the cat" / "the the dog": max ref count of "the" is 2 → p1 = 2/4.
  // "the the" x3 in the candidate, at most 1 in a reference → p2 = 1/3.
  // Closest ref length to 4 is 3 → no brevity penalty.
  const { scores } = bleu([image("the the the the", "the cat", "the the dog")]);
  close(scores[0], 0.5);
  close(scores[1], Math.sqrt(0.5 / 3)); // 0.4082483
});

test("closest reference length ties go to the shorter reference", () => {
  // Candidate length 4, references of length 3 and 5 are equally close: r = 3, so no penalty
  // (taking 5 would give exp(1 - 5/4) = 0.7788). Every unigram is in some reference: p1 = 1.
  const { scores } = bleu([image("a b c d", "a b c", "a b c d e")]);
  close(scores[0], 1);
});

test("candidate longer than every reference has no brevity penalty", () => {
  // 6 words vs 5: p1 = 5/6; bigrams 4 of 5 match → BLEU-2 = sqrt(5/6 · 4/5) = sqrt(2/3).
  const { scores } = bleu([image("a cat on a mat today", "a cat on a mat")]);
  close(scores[0], 5 / 6);
  close(scores[1], Math.sqrt(2 / 3)); // 0.8164966
});

test("corpus BLEU sums counts over images; per-image scores are separate", () => {
  // Image A: "a b" vs "a c" → 1/2 unigrams. Image B: identical 4 words → 4/4.
  // Corpus p1 = (1 + 4) / (2 + 4) = 5/6 with c = r = 6; the mean of per-image scores would be 0.75.
  const { scores, perImage } = bleu([image("a b", "a c"), image("w x y z", "w x y z")]);
  close(scores[0], 5 / 6);
  close(perImage[0][0], 0.5);
  close(perImage[0][1], 1);
  close(perImage[3][1], 1);
});

test("identical candidate scores 1; empty candidate scores 0; one word gets BLEU-1 only", () => {
  const same = bleu([image("a dog on a sofa", "a dog on a sofa")]);
  for (const s of same.scores) close(s, 1);
  // Empty: ratio = 1e-15 / 5 → BP = exp(1 - 5e15) = 0.
  const empty = bleu([image("", "a dog on a sofa")]);
  for (const s of empty.scores) assert.equal(s, 0);
  // "dog" vs "a dog": p1 = 1, BP = exp(1 - 2/1) = e^-1; p2 = 1e-6 → BLEU-2 = 1e-3 · e^-1.
  const one = bleu([image("dog", "a dog")]);
  close(one.scores[0], Math.exp(-1));
  close(one.scores[1], 1e-3 * Math.exp(-1), 1e-9);
});
