import assert from "node:assert/strict";
import test from "node:test";
import { classOfPhrase, classOfWord, labelFitsTypes } from "../../src/mrf/phrase-classes.js";

test("words name COCO classes, as written or as regular and listed plurals", () => {
  assert.equal(classOfWord("man"), "person");
  assert.equal(classOfWord("men"), "person");
  assert.equal(classOfWord("children"), "person");
  assert.equal(classOfWord("puppies"), "dog");
  assert.equal(classOfWord("dogs"), "dog");
  assert.equal(classOfWord("buses"), "bus");
  assert.equal(classOfWord("bike"), "bicycle");
  assert.equal(classOfWord("ball"), "sports ball");
  // The colour, a drinking glass or spectacles, and words that name nothing.
  for (const w of ["orange", "glasses", "shirt", "grass", "is", "as"]) {
    assert.equal(classOfWord(w), undefined, w);
  }
});

test("a phrase's class is its last word that names one", () => {
  assert.equal(classOfPhrase(["a", "baseball", "player"]), "person");
  assert.equal(classOfPhrase(["the", "soccer", "ball"]), "sports ball");
  assert.equal(classOfPhrase(["a", "dog", "s", "mouth"]), "dog");
  assert.equal(classOfPhrase(["the", "grass"]), undefined);
  assert.equal(classOfPhrase([]), undefined);
});

test("detector labels fit phrase types by group; other takes what no group does", () => {
  assert.equal(labelFitsTypes("person", ["people"]), true);
  assert.equal(labelFitsTypes("dog", ["people"]), false);
  assert.equal(labelFitsTypes("dog", ["animals"]), true);
  assert.equal(labelFitsTypes("truck", ["vehicles"]), true);
  assert.equal(labelFitsTypes("tie", ["clothing"]), true);
  assert.equal(labelFitsTypes("frisbee", ["other"]), true);
  assert.equal(labelFitsTypes("dog", ["other"]), false);
  assert.equal(labelFitsTypes("person", ["bodyparts", "scene", "instruments"]), false);
  assert.equal(labelFitsTypes("dog", ["bodyparts", "animals"]), true);
});
