import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAlignmentConfig } from "../../src/align/config.js";
import { InputError } from "../../src/errors.js";

const good = {
  featureDim: 1280,
  regions: 20,
  embed: 16,
  hidden: 16,
  wordDim: 8,
  vocabSize: 40,
  trainWordVectors: true,
};

test("a saved alignment config reads back", () => {
  assert.deepEqual(parseAlignmentConfig(good, "best.ckpt"), good);
});

test("a bad alignment config is one line naming the checkpoint and the field", () => {
  const refused = (value: unknown, message: string) =>
    assert.throws(
      () => parseAlignmentConfig(value, "best.ckpt", { path: "config.model" }),
      (e: unknown) => e instanceof InputError && e.message === message,
      message,
    );
  refused(
    { ...good, regions: 2.5 },
    "best.ckpt: config.model.regions: expected a positive integer, got 2.5",
  );
  refused(
    { ...good, trainWordVectors: "yes" },
    'best.ckpt: config.model.trainWordVectors: expected true or false, got "yes"',
  );
  refused([1], "best.ckpt: config.model: expected a JSON object, got [1]");
});
