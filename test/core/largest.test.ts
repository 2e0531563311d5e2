import assert from "node:assert/strict";
import { test } from "node:test";
import { largest } from "../../src/core/largest.js";

test("largest gives the positions of the n largest scores in ascending order", () => {
  const scores = Float32Array.from([0.5, 3, -1, 2, 7, 0]);
  assert.deepEqual(largest(scores, 3), [1, 3, 4]);
  assert.deepEqual(largest(scores, 1), [4]);
  assert.deepEqual(largest(scores, 0), []);
});

test("largest keeps the lower positions among ties at the cut", () => {
  const scores = Float32Array.from([1, 2, 2, 5, 2]);
  assert.deepEqual(largest(scores, 2), [1, 3]);
  assert.deepEqual(largest(scores, 3), [1, 2, 3]);
});

test("largest never picks NaN, and asking for more than there are gives every number", () => {
  const scores = Float32Array.from([Number.NaN, 1, Number.NaN, -2]);
  assert.deepEqual(largest(scores, 1), [1]);
  assert.deepEqual(largest(scores, 2), [1, 3]);
  assert.deepEqual(largest(scores, 10), [1, 3]);
});

/** The n largest by sorting every position: by score, then lower positions first. */
function bySorting(scores: Float32Array, n: number): number[] {
  const numbers = [...scores.keys()].filter((k) => !Number.isNaN(scores[k]));
  numbers.sort((a, b) => scores[b] - scores[a] || a - b);
  return numbers.slice(0, Math.max(0, n)).sort((a, b) => a - b);
}

test("largest matches sorting everything on long lists: ties, NaN, runs, a misleading sample", () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const lists: Float32Array[] = [
    Float32Array.from({ length: 50_000 }, () => random() * 2 - 1),
    Float32Array.from({ length: 30_000 }, () => Math.floor(random() * 20)),
    Float32Array.from({ length: 20_000 }, (_, k) => k),
    Float32Array.from({ length: 20_000 }, (_, k) => -k),
    Float32Array.from({ length: 9_000 }, (_, k) => (k % 3 === 0 ? Number.NaN : random())),
    Float32Array.from({ length: 12_000 }, (_, k) => (k < 11_000 ? Number.NaN : random())),
    // Every 4th is large, so an evenly spaced sample sees only those: its floor must be lowered.
    Float32Array.from({ length: 20_000 }, (_, k) => (k % 4 === 0 ? 1 + random() : random() / 2)),
  ];
  for (const scores of lists)
    for (const n of [1, 17, 1_000, 2_500, scores.length - 1, scores.length])
      assert.deepEqual(largest(scores, n), bySorting(scores, n), `n = ${n} of ${scores.length}`);
});
