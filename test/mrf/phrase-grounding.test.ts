import assert from "node:assert/strict";
import { test } from "node:test";
import { determinerRates } from "../../src/mrf/noun-phrases.js";
import { groundPhrases } from "../../src/mrf/phrase-grounding.js";
import type { WordClassAssociation } from "../../src/mrf/word-class-association.js";
import type { Region } from "../../src/vision/image.js";

const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });

test("groundPhrases puts each noun phrase of a caption on its region, with a confidence", () => {
  const regions: Region[] = [
    { box: box(0, 0, 100, 100), source: "whole" },
    { box: box(10, 10, 40, 90), source: "detection", label: "person", score: 0.9 },
    { box: box(60, 60, 90, 95), source: "detection", label: "dog", score: 0.8 },
  ];
  const assoc: WordClassAssociation = {
    classes: ["dog", "person"],
    words: new Map([
      ["man", new Map([["person", { naming: 1, lift: 2, given: 0.95 }]])],
      ["dog", new Map([["dog", { naming: 0.9, lift: 2, given: 0.9 }]])],
    ]),
  };
  const tokens = "a man throws a stick to a dog on the grass".split(" ");
  const rates = determinerRates(Array.from({ length: 30 }, () => tokens));
  // No word is known to the alignment model: every column sum is absent.
  const scores = {
    matrix: { scores: new Float32Array(0), regions: 3, words: 0 },
    positions: [],
  };
  const grounded = groundPhrases(tokens, regions, scores, assoc, rates);
  assert.deepEqual(
    grounded.map((g) => [tokens.slice(g.start, g.end).join(" "), g.region]),
    [
      ["a man", 1],
      ["a stick", grounded[1].region],
      ["a dog", 2],
      ["the grass", 0],
    ],
  );
  // The named phrases are clearer than the unnamed stick.
  assert.ok(grounded[0].confidence > grounded[1].confidence);
  assert.ok(grounded[2].confidence > grounded[1].confidence);
  assert.ok(grounded.every((g) => Number.isFinite(g.confidence) && g.confidence >= 0));
});
