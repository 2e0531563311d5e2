import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { learnedRegion } from "../../src/mrf/grounding-eval.js";
import {
  fitWordClassAssociation,
  loadWordClassAssociation,
  NAME_MATCH,
  phraseClassScores,
  saveWordClassAssociation,
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
  // lift(man, dog) = log((1/3) / (2/4)) < 0: left out; "a" comes with no class.
  assert.equal(assoc.words.get("man")!.has("dog"), false);
  assert.equal(assoc.words.has("a"), false);
});

test("phrase scores read the words from the head back, and a class's own name scores", () => {
  const assoc: WordClassAssociation = {
    classes: ["dog", "person"],
    words: new Map([
      ["man", new Map([["person", { naming: 0.9, lift: 2 }]])],
      ["grass", new Map([["dog", { naming: 0.1, lift: 1 }]])],
    ]),
  };
  const s = phraseClassScores(assoc, ["man", "grass"], ["person", "dog"], 0.5);
  // grass (k = 0): dog 1 * 0.1/0.1 = 1; man (k = 1, weight 0.5): person 0.5 * 2 * 0.9/0.9 = 1.
  assert.equal(s.get("dog"), 1);
  assert.equal(s.get("person"), 1);
  assert.equal(phraseClassScores(assoc, ["dogs"], ["dog"], 0.3).get("dog"), NAME_MATCH);
});

test("the learned chooser puts a named phrase on its detection, else on the whole image", () => {
  const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });
  const regions: Region[] = [
    { box: box(0, 0, 100, 100), source: "whole" },
    { box: box(10, 10, 40, 90), source: "detection", label: "person", score: 0.9 },
    { box: box(0, 0, 90, 90), source: "fallback" },
  ];
  const assoc: WordClassAssociation = {
    classes: ["person"],
    words: new Map([["man", new Map([["person", { naming: 1, lift: 2 }]])]]),
  };
  assert.equal(learnedRegion(regions, null, ["a", "man"], assoc), 1);
  assert.equal(learnedRegion(regions, null, ["the", "grass"], assoc), 0);
  // A strong alignment score can move an unnamed phrase off the whole image.
  const weights = { decay: 0.3, threshold: 0.2, alignment: 2, logArea: 0.3, whole: 0.5 };
  assert.equal(learnedRegion(regions, new Float64Array([0, 0, 5]), ["grass"], assoc, weights), 2);
});

test("the table survives a save and a load", () => {
  const assoc = fitWordClassAssociation(TINY, { iterations: 3, minCount: 1 });
  const dir = mkdtempSync(join(tmpdir(), "imagesent-assoc-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "assoc.json");
  saveWordClassAssociation(path, assoc);
  const back = loadWordClassAssociation(path);
  assert.deepEqual(back.classes, assoc.classes);
  const a = assoc.words.get("man")!.get("person")!;
  const b = back.words.get("man")!.get("person")!;
  assert.ok(Math.abs(a.lift - b.lift) < 1e-5 && Math.abs(a.naming - b.naming) < 1e-5);
});
