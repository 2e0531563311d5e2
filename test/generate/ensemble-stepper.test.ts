import assert from "node:assert/strict";
import { test } from "node:test";
import type { Stepper } from "../../src/generate/caption-model.js";
import { beamSearch, greedy } from "../../src/generate/decoding.js";
import { ensembleStepper } from "../../src/generate/ensemble-stepper.js";

const [END, A] = [0, 1];

/**
 * A stepper over END, A, B that always predicts `probs`, with a state of `size` numbers that
 * records what it was given: slot 0 counts its steps, slot 1 (when there) sums the tokens.
 * `seen` logs every prev it was handed, so the test can check which state reached which member.
 */
function fixedStepper(probs: number[], size: number): Stepper & { seen: number[][] } {
  const seen: number[][] = [];
  return {
    vocabSize: probs.length,
    stateSize: size,
    seen,
    step(prev, tokens) {
      const rows = tokens.length;
      if (prev !== null) seen.push(Array.from(prev));
      const logProbs = new Float32Array(rows * probs.length);
      const next = new Float32Array(rows * size);
      for (let r = 0; r < rows; r++) {
        probs.forEach((p, j) => {
          logProbs[r * probs.length + j] = Math.log(p);
        });
        next[r * size] = (prev === null ? 0 : prev[r * size]) + 1;
        if (size > 1) next[r * size + 1] = (prev === null ? 0 : prev[r * size + 1]) + tokens[r];
      }
      return { logProbs, next };
    },
  };
}

test("an ensemble predicts the mean of its members' probabilities, each fed its own state", () => {
  const p = fixedStepper([0.5, 0.4, 0.1], 1);
  const q = fixedStepper([0.1, 0.8, 0.1], 2);
  const e = ensembleStepper([p, q]);
  assert.equal(e.stateSize, 3);
  const first = e.step(null, Int32Array.of(END));
  // Mean: END .3, A .6, B .1.
  const expected = [0.3, 0.6, 0.1].map(Math.log);
  first.logProbs.forEach((lp, j) => {
    assert.ok(Math.abs(lp - expected[j]) < 1e-6, `word ${j}: ${lp}`);
  });
  assert.deepEqual(Array.from(first.next), [1, 1, 0]);
  // Two rows continuing from different states: each member gets its own slice of each row.
  const prev = Float32Array.of(1, 1, 0, 5, 7, 9);
  const second = e.step(prev, Int32Array.of(A, 2));
  assert.deepEqual(p.seen.at(-1), [1, 5]);
  assert.deepEqual(q.seen.at(-1), [1, 0, 7, 9]);
  assert.deepEqual(Array.from(second.next), [2, 2, 1, 6, 8, 11]);
  assert.equal(second.logProbs.length, 2 * 3);
});

test("decoders run on an ensemble unchanged; a one-member ensemble is the member", () => {
  const p = fixedStepper([0.5, 0.4, 0.1], 1);
  const q = fixedStepper([0.1, 0.8, 0.1], 2);
  // p alone stops at once (END .5); with q the mean prefers A (.6) at every step.
  assert.deepEqual(greedy(p, { maxLength: 3 }).words, []);
  const both = greedy(ensembleStepper([p, q]), { maxLength: 3 });
  assert.deepEqual(both.words, [A, A, A]);
  assert.ok(Math.abs(both.logProb - 3 * Math.log(0.6)) < 1e-5);
  // Beam search ranks whole captions: stopping at once (.3) beats "A" then END (.6 x .3).
  const [best] = beamSearch(ensembleStepper([p, q]), {
    beam: 3,
    lengthNormalization: 0,
    maxLength: 3,
  });
  assert.deepEqual(best.words, []);
  assert.ok(Math.abs(best.logProb - Math.log(0.3)) < 1e-6);
  assert.equal(ensembleStepper([p]), p);
  assert.throws(
    () => ensembleStepper([p, fixedStepper([0.5, 0.5], 1)]),
    /members predict 2 and 3 words; they need one vocabulary/,
  );
});
