import assert from "node:assert/strict";
import { test } from "node:test";
import { determinerRates } from "../../src/mrf/noun-phrases.js";
import { severalShares } from "../../src/mrf/people-group.js";
import { groundPhrases, groundSpans } from "../../src/mrf/phrase-grounding.js";
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
  const grounded = groundPhrases(
    tokens,
    regions,
    scores,
    {
      association: assoc,
      rates,
      worn: new Map(),
      several: new Map(),
      place: new Map(),
    },
    null,
  );
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

test("a phrase naming several people goes on their group, one naming one person on a person", () => {
  const regions: Region[] = [
    { box: box(0, 0, 100, 100), source: "whole" },
    { box: box(10, 10, 40, 90), source: "detection", label: "person", score: 0.9 },
    { box: box(50, 10, 80, 90), source: "detection", label: "person", score: 0.8 },
    // The union of the two people (the region selection's group box).
    { box: box(10, 10, 80, 90), source: "fallback" },
  ];
  const entry = { naming: 1, lift: 2, given: 0.95 };
  const association: WordClassAssociation = {
    classes: ["person"],
    words: new Map([
      ["girl", new Map([["person", entry]])],
      ["girls", new Map([["person", entry]])],
    ]),
  };
  const captions = [
    ...Array.from({ length: 30 }, () => "two girls running".split(" ")),
    ...Array.from({ length: 30 }, () => "a girl running".split(" ")),
  ];
  const rates = determinerRates(captions);
  const several = severalShares(captions, rates);
  assert.equal(several.get("girls"), 1);
  assert.equal(several.has("girl"), false);
  const scores = { matrix: { scores: new Float32Array(0), regions: 4, words: 0 }, positions: [] };
  const ground = (
    sentence: string,
    knowledge = { association, worn: new Map(), several, place: new Map() },
  ) => {
    const tokens = sentence.split(" ");
    return groundSpans(
      tokens,
      regions,
      scores,
      [{ start: 0, end: tokens.length }],
      knowledge,
      null,
    )[0].region;
  };
  assert.equal(ground("a girl"), 1);
  assert.equal(ground("the girls"), 3);
  // A number word alone says several; without the shares "the girls" is one more person.
  assert.equal(
    ground("three girl", { association, worn: new Map(), several: new Map(), place: new Map() }),
    3,
  );
  assert.equal(
    ground("the girls", { association, worn: new Map(), several: new Map(), place: new Map() }),
    1,
  );
});
