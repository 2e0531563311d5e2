import assert from "node:assert/strict";
import { test } from "node:test";
import { LEARNED_WEIGHTS, learnedRegion } from "../../src/mrf/phrase-grounding.js";
import {
  fitWordClassAssociation,
  NAME_MATCH,
  phraseClassGiven,
  phraseClassScores,
  type WordClassAssociation,
} from "../../src/mrf/word-class-association.js";
import type { Region } from "../../src/vision/image.js";

const TINY = [
  { labels: ["person"], captions: [["man"]] },
  { labels: ["dog"], captions: [["dog"]] },
  { labels: [], captions: [["a"]] },
];

test("the association of a tiny training set, by hand", () => {
  const assoc = fitWordClassAssociation(TINY, { iterations: 1, minCount: 1 });
  assert.deepEqual(assoc.classes, ["dog", "person"]);
  // lift(man, person) = log(((1 + 1) / (1 + 2)) / ((0 + 1) / (3 - 1 + 2))) = log(8 / 3).
  const man = assoc.words.get("man")!.get("person")!;
  assert.ok(Math.abs(man.lift - Math.log(8 / 3)) < 1e-12);
  // One EM step from t = 1/2: person is said half by the null word, half by "man", so
  // t(person | man) = (0.5 + 0.01) / (0.5 + 0.01 + 0.01).
  assert.ok(Math.abs(man.naming - 0.51 / 0.52) < 1e-12);
  // given(man, person) = 1 caption with both / (1 caption with "man" + GIVEN_PRIOR 5).
  assert.ok(Math.abs(man.given - 1 / 6) < 1e-12);
  // lift(man, dog) = log((1/3) / (2/4)) < 0: left out; "a" comes with no class.
  assert.equal(assoc.words.get("man")!.has("dog"), false);
  assert.equal(assoc.words.has("a"), false);
});

test("phrase scores read the words from the head back, and a class's own name scores", () => {
  const assoc: WordClassAssociation = {
    classes: ["dog", "person"],
    words: new Map([
      ["man", new Map([["person", { naming: 0.9, lift: 2, given: 0.9 }]])],
      ["grass", new Map([["dog", { naming: 0.1, lift: 1, given: 0.2 }]])],
    ]),
  };
  const s = phraseClassScores(assoc, ["man", "grass"], ["person", "dog"], 0.5);
  // grass (k = 0): dog 1 * 0.1/0.1 = 1; man (k = 1, weight 0.5): person 0.5 * 2 * 0.9/0.9 = 1.
  assert.equal(s.get("dog"), 1);
  assert.equal(s.get("person"), 1);
  assert.equal(phraseClassScores(assoc, ["dogs"], ["dog"], 0.3).get("dog"), NAME_MATCH);
  // given is the best word's, weighted λ^k from the end: man (k = 1) 0.5 * 0.9, grass 0.2.
  const g = phraseClassGiven(assoc, ["man", "grass"], ["person", "dog"], 0.5);
  assert.equal(g.get("person"), 0.45);
  assert.equal(g.get("dog"), 0.2);
});

test("the learned chooser puts a named phrase on its detection, a place on the image", () => {
  const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });
  const regions: Region[] = [
    { box: box(0, 0, 100, 100), source: "whole" },
    { box: box(10, 10, 40, 90), source: "detection", label: "person", score: 0.9 },
    { box: box(0, 0, 90, 90), source: "fallback" },
  ];
  const assoc: WordClassAssociation = {
    classes: ["person"],
    words: new Map([["man", new Map([["person", { naming: 1, lift: 2, given: 0.95 }]])]]),
  };
  assert.equal(learnedRegion(regions, null, null, ["a", "man"], false, assoc), 1);
  // "on the grass": a place, so the whole image; the same words as a subject are not.
  assert.equal(learnedRegion(regions, null, null, ["the", "grass"], true, assoc), 0);
  assert.notEqual(learnedRegion(regions, null, null, ["the", "grass"], false, assoc), 0);
  // A strong alignment score can move an unnamed phrase to another box.
  const weights = { ...LEARNED_WEIGHTS, alignment: 20 };
  assert.equal(
    learnedRegion(regions, new Float64Array([0, 0, 5]), null, ["grass"], false, assoc, weights),
    2,
  );
});

test("given: a word that reliably comes with a class outweighs one that names another", () => {
  const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });
  const regions: Region[] = [
    { box: box(0, 0, 100, 100), source: "whole" },
    { box: box(30, 10, 50, 90), source: "detection", label: "person", score: 0.8 },
    { box: box(30, 80, 60, 95), source: "detection", label: "skis", score: 0.8 },
  ];
  // "skier" names the skis a little more than the person (naming), but nearly always comes with
  // a person (given).
  const assoc: WordClassAssociation = {
    classes: ["person", "skis"],
    words: new Map([
      [
        "skier",
        new Map([
          ["person", { naming: 0.45, lift: 1, given: 0.95 }],
          ["skis", { naming: 0.55, lift: 1, given: 0.3 }],
        ]),
      ],
    ]),
  };
  const noArea = { ...LEARNED_WEIGHTS, logArea: 0, centre: 0 };
  assert.equal(learnedRegion(regions, null, null, ["a", "skier"], false, assoc, noArea), 1);
  assert.equal(
    learnedRegion(regions, null, null, ["a", "skier"], false, assoc, { ...noArea, given: 0 }),
    2,
  );
});
