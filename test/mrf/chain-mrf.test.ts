import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/core/rng.js";
import { InputError } from "../../src/errors.js";
import {
  alignChain,
  alignChainBruteForce,
  chainEnergy,
  type ScoreMatrix,
  wordArgmax,
} from "../../src/mrf/chain-mrf.js";
import { segmentsOf } from "../../src/mrf/segments.js";

function randomMatrix(rng: Rng, regions: number, words: number): ScoreMatrix {
  const scores = new Float32Array(regions * words);
  for (let i = 0; i < scores.length; i++) scores[i] = rng.normal();
  return { scores, regions, words };
}

/** regions x words from rows given per region. */
function matrix(rows: number[][]): ScoreMatrix {
  return { scores: Float32Array.from(rows.flat()), regions: rows.length, words: rows[0].length };
}

test("dynamic programming finds the brute-force optimum on random small chains", () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 300; trial++) {
    const regions = 1 + rng.int(4);
    const words = rng.int(7);
    const m = randomMatrix(rng, regions, words);
    const beta = [0, 0.3, 1, 3, -0.5][trial % 5] * (0.5 + rng.uniform());
    const dp = alignChain(m, beta);
    const brute = alignChainBruteForce(m, beta);
    assert.ok(Math.abs(dp.energy - brute.energy) < 1e-9, `trial ${trial}`);
    assert.ok(Math.abs(chainEnergy(m, dp.assignment, beta) - dp.energy) < 1e-9, `trial ${trial}`);
    assert.equal(dp.assignment.length, words);
  }
});

test("beta = 0 reproduces each word's argmax, ties going to the first region", () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 50; trial++) {
    const m = randomMatrix(rng, 20, 1 + rng.int(15));
    assert.deepEqual(alignChain(m, 0).assignment, wordArgmax(m));
  }
  const tied = matrix([
    [1, 0, 2],
    [1, 5, 2],
    [0, 5, 2],
  ]);
  assert.deepEqual([...alignChain(tied, 0).assignment], [0, 1, 0]);
  assert.deepEqual([...wordArgmax(tied)], [0, 1, 0]);
});

test("a large beta puts the whole sentence on the region with the best total score", () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 20; trial++) {
    const m = randomMatrix(rng, 20, 2 + rng.int(12));
    const { assignment } = alignChain(m, 1000);
    const totals = Array.from({ length: m.regions }, (_, r) =>
      m.scores.subarray(r * m.words, (r + 1) * m.words).reduce((a, b) => a + b, 0),
    );
    const best = totals.indexOf(Math.max(...totals));
    assert.ok(assignment.every((r) => r === best));
  }
});

test("a moderate beta merges a weakly held word into its neighbours' region", () => {
  // Word 1 prefers region 1 by 0.5; its neighbours are firmly on region 0.
  const m = matrix([
    [3, 1, 3],
    [0, 1.5, 0],
  ]);
  assert.deepEqual([...alignChain(m, 0).assignment], [0, 1, 0]);
  assert.deepEqual([...alignChain(m, 0.3).assignment], [0, 0, 0]);
  assert.equal(alignChain(m, 0.3).energy, 7 + 0.6);
});

test("segments are the maximal runs of one region, scored by their mean word score", () => {
  const m = matrix([
    [1, 2, 0, 0, 4],
    [0, 0, 3, 5, 0],
  ]);
  assert.deepEqual(segmentsOf([0, 0, 1, 1, 0], m), [
    { start: 0, end: 2, region: 0, score: 1.5 },
    { start: 2, end: 4, region: 1, score: 4 },
    { start: 4, end: 5, region: 0, score: 4 },
  ]);
  assert.deepEqual(segmentsOf([], { scores: new Float32Array(0), regions: 2, words: 0 }), []);
});

test("an empty sentence aligns to nothing; malformed matrices and beta are rejected", () => {
  const empty = alignChain({ scores: new Float32Array(0), regions: 3, words: 0 }, 1);
  assert.equal(empty.assignment.length, 0);
  assert.equal(empty.energy, 0);
  assert.throws(
    () => alignChain({ scores: new Float32Array(5), regions: 2, words: 3 }, 0),
    (e: unknown) => e instanceof InputError && /5 scores for 2 regions x 3 words/.test(e.message),
  );
  assert.throws(
    () => alignChain({ scores: new Float32Array(0), regions: 0, words: 0 }, 0),
    InputError,
  );
  assert.throws(() => alignChain(matrix([[1]]), Number.NaN), /beta/);
});
