import assert from "node:assert/strict";
import { test } from "node:test";
import { CorruptFileError } from "../../src/errors.js";
import { parseModelConfig } from "../../src/generate/caption-model.js";

const good = { cell: "lstm", featureDim: 1280, vocabSize: 30, hidden: 8, embed: 8, dropout: 0.5 };

test("a saved generator config reads back", () => {
  assert.deepEqual(parseModelConfig(good, "best.ckpt"), good);
});

test("a bad generator config is one line naming the checkpoint and the field", () => {
  const refused = (patch: Record<string, unknown>, message: string) =>
    assert.throws(
      () =>
        parseModelConfig({ ...good, ...patch }, "best.ckpt", {
          path: "config.model",
          error: CorruptFileError,
        }),
      (e: unknown) => e instanceof CorruptFileError && e.message === message,
      message,
    );
  refused(
    { cell: "gru" },
    'best.ckpt: config.model.cell: expected one of "rnn", "lstm", got "gru"',
  );
  refused({ hidden: 0 }, "best.ckpt: config.model.hidden: expected a positive integer, got 0");
  refused(
    { vocabSize: undefined },
    "best.ckpt: config.model.vocabSize: expected a positive integer, missing",
  );
  refused(
    { dropout: 1 },
    "best.ckpt: config.model.dropout: expected a number from 0 to below 1, got 1",
  );
  refused(
    { dropout: -0.1 },
    "best.ckpt: config.model.dropout: expected a number from 0 to below 1, got -0.1",
  );
  assert.throws(
    () => parseModelConfig(null, "best.ckpt", { path: "config.model" }),
    /^InputError: best\.ckpt: config\.model: expected a JSON object, got null$/,
  );
});
