import assert from "node:assert/strict";
import { test } from "node:test";
import { determinerRates } from "../../src/mrf/noun-phrases.js";
import { groundSpans, learnedRegion, learnedScores } from "../../src/mrf/phrase-grounding.js";
import type { WordClassAssociation } from "../../src/mrf/word-class-association.js";
import { namesWorn, wearerRegion, wornShares } from "../../src/mrf/worn-phrases.js";
import type { Region } from "../../src/vision/image.js";

const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });

test("wornShares: the share of a word's noun phrases right after a verb of wearing", () => {
  const captions = [
    ...Array.from({ length: 30 }, () => "a man wearing a red shirt".split(" ")),
    ...Array.from({ length: 10 }, () => "a red shirt on a line".split(" ")),
    ...Array.from({ length: 4 }, () => "a girl dressed in a pink hat".split(" ")),
    ...Array.from({ length: 20 }, () => "a dog runs on the grass".split(" ")),
  ];
  const shares = wornShares(captions, determinerRates(captions));
  // "shirt" heads 40 phrases, 30 after "wearing".
  assert.equal(shares.get("shirt"), 30 / 40);
  // "hat" heads only 4: too few to judge. "grass" and "dog" are never worn.
  assert.equal(shares.has("hat"), false);
  assert.equal(shares.has("grass"), false);
  assert.equal(shares.has("dog"), false);
  // "man" heads 30 phrases, none worn.
  assert.equal(shares.has("man"), false);
  assert.equal(namesWorn(shares, ["a", "red", "shirt"]), true);
  assert.equal(namesWorn(shares, ["the", "grass"]), false);
  assert.equal(namesWorn(shares, []), false);
});

const regions: Region[] = [
  { box: box(0, 0, 100, 100), source: "whole" },
  { box: box(10, 0, 50, 100), source: "detection", label: "person", score: 0.9 },
  { box: box(60, 20, 90, 100), source: "detection", label: "person", score: 0.5 },
  // The upper and lower body of person 1 (PERSON_PARTS), as the region selection makes them.
  { box: box(12, 12, 48, 58), source: "fallback" },
  { box: box(12, 50, 48, 100), source: "fallback" },
];

test("wearerRegion: the wearer's box or its upper or lower part, by the alignment score", () => {
  assert.equal(wearerRegion(regions, 1, null), 1);
  assert.equal(wearerRegion(regions, 1, Float64Array.of(0, 1, 5, 3, 2)), 3);
  assert.equal(wearerRegion(regions, 1, Float64Array.of(0, 1, 5, 2, 3)), 4);
  assert.equal(wearerRegion(regions, 1, Float64Array.of(9, 4, 5, 2, 3)), 1);
});

test("groundSpans puts what is worn on the person an earlier phrase went to", () => {
  const association: WordClassAssociation = {
    classes: ["person"],
    words: new Map([
      ["man", new Map([["person", { naming: 1, lift: 2, given: 0.95 }]])],
      ["shirt", new Map([["person", { naming: 0.5, lift: 1, given: 0.9 }]])],
    ]),
  };
  const tokens = "a man in a red shirt".split(" ");
  const scores = { matrix: { scores: new Float32Array(0), regions: 5, words: 0 }, positions: [] };
  const spans = [
    { start: 0, end: 2 },
    { start: 3, end: 6 },
  ];
  const plain = groundSpans(
    tokens,
    regions,
    scores,
    spans,
    {
      association,
      worn: new Map(),
      several: new Map(),
      place: new Map(),
    },
    null,
  );
  const worn = groundSpans(
    tokens,
    regions,
    scores,
    spans,
    {
      association,
      worn: new Map([["shirt", 0.3]]),
      several: new Map(),
      place: new Map(),
    },
    null,
  );
  assert.equal(plain[0].region, 1);
  assert.deepEqual(worn[0], plain[0]);
  // The shirt rides on the man's box with his phrase's confidence.
  assert.deepEqual(worn[1], { start: 3, end: 6, region: 1, confidence: plain[0].confidence });
  // Without an earlier person the worn phrase is grounded as any other, though not as a place:
  // it follows "in", but names what is worn.
  const alone = groundSpans(
    tokens,
    regions,
    scores,
    [spans[1]],
    {
      association,
      worn: new Map([["shirt", 0.3]]),
      several: new Map(),
      place: new Map(),
    },
    null,
  );
  assert.equal(
    alone[0].region,
    learnedRegion(regions, null, null, tokens.slice(3, 6), false, association),
  );
  const [first, second] = [
    ...learnedScores(regions, null, null, tokens.slice(3, 6), false, association),
  ].sort((a, b) => b - a);
  assert.equal(alone[0].confidence, first - second);
});
