import assert from "node:assert/strict";
import { test } from "node:test";
import { packSentences, permuteRows } from "../../src/generate/batch.js";

test("sentences pack longest first, step-major, START in and END out, no padding", () => {
  const b = packSentences([Int32Array.of(5), Int32Array.of(3, 4, 6), Int32Array.of()]);
  assert.deepEqual([...b.order], [1, 0, 2]);
  assert.deepEqual([...b.sizes], [3, 2, 1, 1]);
  assert.equal(b.tokens, 7);
  // step 0: START for all three; then the surviving rows' previous words.
  assert.deepEqual([...b.inputs], [0, 0, 0, 3, 5, 4, 6]);
  assert.deepEqual([...b.targets], [3, 5, 0, 4, 0, 6, 0]);
  assert.deepEqual(
    [...permuteRows(Float32Array.of(0, 0, 1, 1, 2, 2), 2, b.order)],
    [1, 1, 0, 0, 2, 2],
  );
});
