import assert from "node:assert/strict";
import { test } from "node:test";
import { lcsLength, rougeL } from "../../src/eval/rouge.js";

const words = (s: string) => (s === "" ? [] : s.split(" "));
const image = (candidate: string, ...references: string[]) => ({
  candidate: words(candidate),
  references: references.map(words),
});
const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

test("LCS length", () => {
  assert.equal(lcsLength(words("a dog is running on the grass"), words("a dog runs on grass")), 4);
  assert.equal(lcsLength([], words("a b")), 0);
});

test("one reference: F with beta = 1.2", () => {
  // LCS("a dog runs on grass", "a dog is running on the grass") = 4 → P = 4/5, R = 4/7.
  // F = 2.44 · 0.8 · 4/7 / (4/7 + 1.44 · 0.8) = 1.1154286 / 1.7234286 = 0.6472148.
  const { score } = rougeL([image("a dog runs on grass", "a dog is running on the grass")]);
  close(score, (2.44 * 0.8 * (4 / 7)) / (4 / 7 + 1.44 * 0.8));
});

test("precision and recall maxima are taken over references separately", () => {
  // ref 1 "a dog": LCS 2 → P = 2/5, R = 1. ref 2 (8 words): LCS 4 → P = 4/5, R = 1/2.
  // P = 0.8 (ref 2), R = 1 (ref 1): F = 2.44 · 0.8 / (1 + 1.152) = 1.952 / 2.152 = 0.9070632.
  const { score } = rougeL([image("a dog runs on grass", "a dog", "dog runs on grass x y z w")]);
  close(score, 1.952 / 2.152);
});

test("corpus score is the mean; identical is 1, empty and disjoint are 0", () => {
  const { score, perImage } = rougeL([
    image("the cat sat", "the cat sat"),
    image("", "a dog"),
    image("x y", "a dog"),
  ]);
  assert.deepEqual(perImage, [1, 0, 0]);
  close(score, 1 / 3);
});
