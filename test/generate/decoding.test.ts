import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/core/rng.js";
import type { Stepper } from "../../src/generate/caption-model.js";
import {
  beamSearch,
  DEFAULT_LENGTH_NORMALIZATION,
  greedy,
  sample,
} from "../../src/generate/decoding.js";

/**
 * A hand-built language model over words END=0, A..H=1..8, as a tree of next-word
 * distributions keyed by the prefix. The state is the prefix's id in `PREFIXES`.
 *
 *   root: A .55, B .45
 *   A:  C .4, D .3, END .3        AC: END 1     AD: END 1
 *   B:  END .6, G .4              BG: H 1       BGH: END 1
 *
 * Greedy takes A then C: "A C" (p .22). The most likely caption is "B" (p .27), which beam search
 * finds. Normalised by length (logProb / tokens), "B G H" (p .18 over 4 tokens) beats both.
 */
const [END, A, B, C, D, G, H] = [0, 1, 2, 3, 4, 7, 8];
const V = 9;
const TREE: Record<string, Record<number, number>> = {
  "": { [A]: 0.55, [B]: 0.45 },
  A: { [C]: 0.4, [D]: 0.3, [END]: 0.3 },
  AC: { [END]: 1 },
  AD: { [END]: 1 },
  B: { [END]: 0.6, [G]: 0.4 },
  BG: { [H]: 1 },
  BGH: { [END]: 1 },
};
const PREFIXES = Object.keys(TREE);
const LETTERS = "_ABCDEFGH";

function treeStepper(): Stepper & { calls: number } {
  const stepper = {
    vocabSize: V,
    stateSize: 1,
    calls: 0,
    step(prev: Float32Array | null, tokens: Int32Array) {
      stepper.calls++;
      const n = tokens.length;
      const logProbs = new Float32Array(n * V).fill(Math.log(1e-9));
      const next = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const prefix = prev === null ? "" : PREFIXES[prev[i]] + LETTERS[tokens[i]];
        const dist = TREE[prefix];
        assert.ok(dist, `asked to continue "${prefix}", which has no continuation`);
        for (const [w, p] of Object.entries(dist)) logProbs[i * V + Number(w)] = Math.log(p);
        next[i] = PREFIXES.indexOf(prefix);
      }
      return { logProbs, next };
    },
  };
  return stepper;
}

const words = (ws: number[]) => ws.map((w) => LETTERS[w]).join(" ");

test("greedy, beam search and length-normalised beam search give their known, different answers", () => {
  const g = greedy(treeStepper());
  assert.equal(words(g.words), "A C");
  assert.ok(Math.abs(g.logProb - Math.log(0.55 * 0.4)) < 1e-5);
  assert.ok(g.finished);

  const [best, second] = beamSearch(treeStepper(), { beam: 3, lengthNormalization: 0 });
  assert.equal(words(best.words), "B");
  assert.ok(Math.abs(best.logProb - Math.log(0.45 * 0.6)) < 1e-5);
  assert.equal(words(second.words), "A C");

  const [normalised] = beamSearch(treeStepper(), { beam: 3, lengthNormalization: 1 });
  assert.equal(words(normalised.words), "B G H");
});

test("beamSearch's default length normalisation is describe's, DEFAULT_LENGTH_NORMALIZATION", () => {
  // At 0.7 "B G H" (-1.71 / 4^0.7 = -0.65) beats "A C" (-0.70) and "B" (-0.81); at 0 "B" wins.
  assert.equal(DEFAULT_LENGTH_NORMALIZATION, 0.7);
  const [byDefault] = beamSearch(treeStepper(), { beam: 3 });
  const [explicit] = beamSearch(treeStepper(), {
    beam: 3,
    lengthNormalization: DEFAULT_LENGTH_NORMALIZATION,
  });
  assert.equal(words(byDefault.words), "B G H");
  assert.deepEqual(byDefault, explicit);
});

test("beam 1 is greedy decoding", () => {
  const [b1] = beamSearch(treeStepper(), { beam: 1 });
  const g = greedy(treeStepper());
  assert.deepEqual(b1.words, g.words);
  assert.equal(b1.logProb, g.logProb);
});

test("a model that never predicts END is cut at maxLength and marked unfinished", () => {
  const loop: Stepper = {
    vocabSize: 3,
    stateSize: 1,
    step: (_prev, tokens) => ({
      logProbs: Float32Array.from({ length: tokens.length * 3 }, (_, i) =>
        Math.log([0.1, 0.6, 0.3][i % 3]),
      ),
      next: new Float32Array(tokens.length),
    }),
  };
  const g = greedy(loop, { maxLength: 5 });
  assert.deepEqual(g.words, [1, 1, 1, 1, 1]);
  assert.equal(g.finished, false);
  const beams = beamSearch(loop, { beam: 4, maxLength: 5 });
  assert.equal(beams.length, 4);
  assert.ok(beams.every((b) => b.words.length <= 5));
});

test("sampling: low temperature follows the mode, temperature 1 matches the distribution", () => {
  const cold = sample(treeStepper(), { rng: new Rng(1), temperature: 0.01 });
  assert.equal(words(cold.words), "A C");
  const rng = new Rng(2);
  let b = 0;
  const n = 2000;
  for (let i = 0; i < n; i++) if (sample(treeStepper(), { rng }).words[0] === B) b++;
  assert.ok(Math.abs(b / n - 0.45) < 0.04, `B first in ${b} of ${n} samples`);
  assert.throws(() => sample(treeStepper(), { rng, temperature: 0 }), /temperature/);
});
