import assert from "node:assert/strict";
import { test } from "node:test";
import { determinerRates } from "../../src/mrf/noun-phrases.js";
import { groundSpans } from "../../src/mrf/phrase-grounding.js";
import {
  namesPlace,
  PLACE_SHARE,
  placeShares,
  WORN_NOT_PLACE_SHARE,
} from "../../src/mrf/place-phrases.js";
import type { WordClassAssociation } from "../../src/mrf/word-class-association.js";
import type { Region } from "../../src/vision/image.js";

const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });

test("placeShares: the share of a word's noun phrases right after a locative preposition", () => {
  const captions = [
    ...Array.from({ length: 30 }, () => "a dog runs on the grass".split(" ")),
    ...Array.from({ length: 10 }, () => "the grass is green".split(" ")),
    ...Array.from({ length: 5 }, () => "a boy in the snow".split(" ")),
  ];
  const place = placeShares(captions, determinerRates(captions));
  const shares = { place, worn: new Map([["pink", 0.4]]) };
  // "grass" heads 40 phrases, 30 after "on"; "dog" heads 30, none after a preposition.
  assert.equal(place.get("grass"), 30 / 40);
  assert.equal(place.has("dog"), false);
  // "snow" heads only 5: too few to judge.
  assert.equal(place.has("snow"), false);
  assert.ok(PLACE_SHARE < 0.75);
  // A place word names a place wherever it stands but at the start of a sentence ...
  assert.equal(namesPlace(shares, ["the", "grass"], "of"), true);
  assert.equal(namesPlace(shares, ["the", "grass"], undefined), false);
  // ... and any phrase after a locative preposition does, unless a possessive opens it.
  assert.equal(namesPlace(shares, ["a", "dog"], "on"), true);
  assert.equal(namesPlace(shares, ["a", "dog"], "and"), false);
  assert.equal(namesPlace(shares, ["his", "grass"], "on"), false);
  // What is worn is not a place, whatever comes before it ("a girl in [pink]").
  assert.ok(WORN_NOT_PLACE_SHARE <= 0.4);
  assert.equal(namesPlace(shares, ["pink"], "in"), false);
});

test("groundSpans puts a place word the captions use after prepositions on the ground box", () => {
  const regions: Region[] = [
    { box: box(0, 0, 300, 300), source: "whole" },
    { box: box(100, 0, 200, 60), source: "fallback" },
    // The ground box: the bottom two thirds (GROUND_FRACTION).
    { box: box(0, 99, 300, 300), source: "fallback" },
  ];
  const association: WordClassAssociation = { classes: [], words: new Map() };
  const scores = { matrix: { scores: new Float32Array(0), regions: 3, words: 0 }, positions: [] };
  const tokens = "a dog out of the water".split(" ");
  const spans = [{ start: 4, end: 6 }];
  const none = new Map<string, number>();
  const knowledge = { association, worn: none, several: none };
  const plain = groundSpans(tokens, regions, scores, spans, { ...knowledge, place: none }, null);
  const place = new Map([["water", 0.8]]);
  const placed = groundSpans(tokens, regions, scores, spans, { ...knowledge, place }, null);
  assert.notEqual(plain[0].region, 2);
  assert.equal(placed[0].region, 2);
});
