import assert from "node:assert/strict";
import { join } from "node:path";
import test from "node:test";
import { readKarpathyDataset } from "../../src/data/karpathy.js";
import { tokenize } from "../../src/data/tokenizer.js";
import { sharedDir, skipUnlessShared } from "../support/shared.js";

test("tokenize lowercases and keeps runs of letters and digits", () => {
  assert.deepEqual(tokenize("A black dog is running after a white dog in the snow ."), [
    "a",
    "black",
    "dog",
    "is",
    "running",
    "after",
    "a",
    "white",
    "dog",
    "in",
    "the",
    "snow",
  ]);
  assert.deepEqual(tokenize("The dog's ball, 2 feet-high!"), [
    "the",
    "dog",
    "s",
    "ball",
    "2",
    "feet",
    "high",
  ]);
  assert.deepEqual(tokenize("  T-shirt\tand\nJEANS  "), ["t", "shirt", "and", "jeans"]);
});

test("tokenize gives nothing for text without letters or digits", () => {
  assert.deepEqual(tokenize(""), []);
  assert.deepEqual(tokenize(" ... !? "), []);
});

test("tokenize keeps the base letter of accented characters", () => {
  assert.deepEqual(tokenize("Café naïve"), ["cafe", "naive"]);
});

const json = "data/flickr8k/dataset_flickr8k.json";
test("tokenize reproduces the tokens of every sentence in dataset_flickr8k.json", {
  skip: skipUnlessShared(json),
}, () => {
  const dataset = readKarpathyDataset(join(sharedDir()!, json));
  let checked = 0;
  for (const image of dataset.images) {
    for (const s of image.sentences) {
      assert.deepEqual(tokenize(s.raw), s.tokens, `sentence ${s.id}: ${s.raw}`);
      checked++;
    }
  }
  assert.equal(checked, 40000);
});
