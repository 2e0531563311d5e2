import assert from "node:assert/strict";
import { test } from "node:test";
import { namesPerson, otherPersonRegion } from "../../src/mrf/other-person.js";
import { groundSpans } from "../../src/mrf/phrase-grounding.js";
import type { WordClassAssociation } from "../../src/mrf/word-class-association.js";
import type { Region } from "../../src/vision/image.js";

const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });

const regions: Region[] = [
  { box: box(0, 0, 100, 100), source: "whole" },
  { box: box(10, 10, 50, 90), source: "detection", label: "person", score: 0.9 },
  // A near-copy of person 1.
  { box: box(12, 10, 52, 92), source: "detection", label: "person", score: 0.6 },
  { box: box(55, 10, 95, 90), source: "detection", label: "person", score: 0.85 },
];

const person = (given: number) => new Map([["person", { naming: 1, lift: 2, given }]]);
const association: WordClassAssociation = {
  classes: ["person"],
  words: new Map([
    ["man", person(0.95)],
    ["woman", person(0.95)],
    ["skateboard", person(0.6)],
  ]),
};

test("namesPerson: a word with which a person is detected at least PERSON_WORD_GIVEN of the time", () => {
  assert.equal(namesPerson(association, ["a", "woman"]), true);
  assert.equal(namesPerson(association, ["a", "skateboard"]), false);
  assert.equal(namesPerson(association, ["a", "unseen"]), false);
});

test("otherPersonRegion: a later person with another head word goes to a person not yet taken", () => {
  const s = new Float64Array([0, 3, 2.9, 2.7]);
  // The man took person 1; the woman's best is person 1 too: she goes to person 3, not its copy.
  assert.equal(otherPersonRegion(regions, s, 1, "woman", [{ head: "man", region: 1 }]), 3);
  // "The man" again is the same man.
  assert.equal(otherPersonRegion(regions, s, 1, "man", [{ head: "man", region: 1 }]), 1);
  // No earlier person, or the other person trails by the margin or more: the best stays.
  assert.equal(otherPersonRegion(regions, s, 1, "woman", []), 1);
  const far = new Float64Array([0, 3, 2.9, 2.4]);
  assert.equal(otherPersonRegion(regions, far, 1, "woman", [{ head: "man", region: 1 }]), 1);
  // Every person taken: the best stays.
  const taken = [
    { head: "man", region: 1 },
    { head: "boy", region: 3 },
  ];
  assert.equal(otherPersonRegion(regions, s, 1, "woman", taken), 1);
});

test("groundSpans: in 'a man and a woman' the two go to two people", () => {
  const tokens = "a man and a woman".split(" ");
  const scores = { matrix: { scores: new Float32Array(0), regions: 4, words: 0 }, positions: [] };
  const none = new Map<string, number>();
  const spans = [
    { start: 0, end: 2 },
    { start: 3, end: 5 },
  ];
  const knowledge = { association, worn: none, several: none, place: none };
  const [man, woman] = groundSpans(tokens, regions, scores, spans, knowledge, null);
  assert.equal(man.region, 1);
  assert.equal(woman.region, 3);
  const alone = groundSpans(tokens, regions, scores, [spans[1]], knowledge, null);
  assert.equal(alone[0].region, 1);
});
