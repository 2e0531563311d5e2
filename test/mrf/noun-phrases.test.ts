import assert from "node:assert/strict";
import { test } from "node:test";
import { determinerRates, nounPhrases } from "../../src/mrf/noun-phrases.js";

// Training captions where "jumps" and "runs" never follow a determiner and "building" does.
const TRAIN = [
  ...Array.from({ length: 30 }, () => "a dog jumps over a log".split(" ")),
  ...Array.from({ length: 30 }, () => "a man runs past a building".split(" ")),
];
const rates = determinerRates(TRAIN);
const phrases = (s: string) =>
  nounPhrases(s.split(" "), rates).map((p) => s.split(" ").slice(p.start, p.end).join(" "));

test("determinerRates counts each word's uses right after a determiner", () => {
  assert.deepEqual(rates.get("jumps"), { uses: 30, rate: 0 });
  assert.deepEqual(rates.get("building"), { uses: 30, rate: 1 });
  assert.deepEqual(rates.get("dog"), { uses: 30, rate: 1 });
});

test("noun phrases open at a determiner and close before a preposition or a verb", () => {
  assert.deepEqual(phrases("a little girl in a red shirt jumps over a log"), [
    "a little girl",
    "a red shirt",
    "a log",
  ]);
  // "building" follows determiners in training, so it is a noun, not a verb in -ing.
  assert.deepEqual(phrases("a man runs past a tall building"), ["a man", "a tall building"]);
});

test("of and a describing and stay inside; a phrase may open without a determiner", () => {
  assert.deepEqual(phrases("a group of people on the grass"), ["a group of people", "the grass"]);
  assert.deepEqual(phrases("a black and white dog jumps"), ["a black and white dog"]);
  assert.deepEqual(phrases("people in red shirts"), ["people", "red shirts"]);
  // "and" before a determiner separates two phrases.
  assert.deepEqual(phrases("a man and a woman"), ["a man", "a woman"]);
});

test("a lone determiner is no phrase", () => {
  assert.deepEqual(phrases("the dog jumps at the"), ["the dog"]);
  assert.deepEqual(nounPhrases([], rates), []);
});
