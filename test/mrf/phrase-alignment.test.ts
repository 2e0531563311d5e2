import assert from "node:assert/strict";
import { test } from "node:test";
import { type BetaResult, betaGrid, chooseBeta } from "../../src/mrf/beta-grid.js";
import { emptyCounts } from "../../src/mrf/phrase-accuracy.js";
import { alignSentence, type WordRegionScorer } from "../../src/mrf/phrase-alignment.js";
import type { WorldImage } from "../../src/world/world-file.js";

/** Scores each known word on the region given by `prefers`, 1 there and 0 elsewhere. */
function fakeScorer(prefers: Record<string, number>, regions: number): WordRegionScorer {
  return {
    wordRegionScores(_features, tokens) {
      const positions = tokens.flatMap((t, i) => (t in prefers ? [i] : []));
      const scores = new Float32Array(regions * positions.length);
      positions.forEach((p, j) => {
        scores[prefers[tokens[p]] * positions.length + j] = 1;
      });
      return { regions, positions, scores };
    },
  };
}

test("segments come back in token positions; unknown words inside a segment join it", () => {
  const scorer = fakeScorer({ red: 1, circle: 1, blue: 2, square: 2 }, 3);
  const tokens = ["red", "zzz", "circle", "qqq", "blue", "square"];
  assert.deepEqual(alignSentence(scorer, new Float32Array(0), tokens, 0.5), [
    { start: 0, end: 3, region: 1, score: 1 },
    { start: 4, end: 6, region: 2, score: 1 },
  ]);
  assert.deepEqual(alignSentence(scorer, new Float32Array(0), ["zzz"], 0.5), []);
});

test("the grid scores each beta on the true boxes and the best phrase accuracy is chosen", () => {
  const box = (x1: number, y1: number) => ({ x1, y1, x2: x1 + 40, y2: y1 + 40 });
  const image = {
    objects: [{ box: box(0, 0) }, { box: box(100, 100) }],
    sentences: [
      { id: 0, raw: "", tokens: ["red", "circle", "blue", "square"], refs: [0, 0, 1, 1] },
    ],
  } as unknown as WorldImage;
  // "circle" alone prefers a distractor (region 0); "red" pulls it back when beta > 0.
  const scorer: WordRegionScorer = {
    wordRegionScores: () => ({
      regions: 3,
      positions: [0, 1, 2, 3],
      scores: Float32Array.from([0, 1, 0, 0, 2, 0.9, 0, 0, 0, 0, 2, 2]),
    }),
  };
  const regionBoxes = [box(60, 60), box(0, 0), box(100, 100)];
  const results = betaGrid(
    scorer,
    [{ image, features: new Float32Array(0), regionBoxes }],
    [0, 0.5, 10],
  );
  assert.deepEqual(
    results.map((r) => [r.beta, r.counts.phrases.correct, r.segments]),
    [
      [0, 1, 3],
      [0.5, 2, 2],
      [10, 1, 1],
    ],
  );
  assert.equal(chooseBeta(results), 0.5);
  const tie: BetaResult[] = [2, 1].map((beta) => ({
    beta,
    counts: emptyCounts(),
    sentences: 0,
    segments: 0,
  }));
  assert.equal(chooseBeta(tie), 2);
});
