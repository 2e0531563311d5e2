import type { MetricScore, TokenizedImage } from "../types.js";
import { align, MODULES } from "./aligner.js";
import { FUNCTION_WORDS } from "./function-words.js";
import { meteorNormalize } from "./normalize.js";
import { englishSynonyms, type SynonymDictionary } from "./wordnet.js";

/** What the metric is, said wherever it is reported: METEOR 1.5 lacking its paraphrase module. */
export const METEOR_NAME = "METEOR (exact+stem+synonym)";

/** METEOR 1.5's English "rank" task parameters and module weights (exact, stem, synonym). */
export interface MeteorParameters {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
  readonly delta: number;
  readonly weights: readonly [number, number, number];
}

export const METEOR_EN: MeteorParameters = {
  alpha: 0.85,
  beta: 0.2,
  gamma: 0.6,
  delta: 0.75,
  weights: [1.0, 0.6, 0.8],
};

/** METEOR's sufficient statistics for one test/reference pair, or summed over a corpus. */
export interface MeteorStats {
  testLength: number;
  referenceLength: number;
  testFunctionWords: number;
  referenceFunctionWords: number;
  /** Per module: matched test / reference words that are content or function words. */
  testContentMatches: number[];
  referenceContentMatches: number[];
  testFunctionMatches: number[];
  referenceFunctionMatches: number[];
  chunks: number;
}

export function emptyStats(): MeteorStats {
  const zeros = () => MODULES.map(() => 0);
  return {
    testLength: 0,
    referenceLength: 0,
    testFunctionWords: 0,
    referenceFunctionWords: 0,
    testContentMatches: zeros(),
    referenceContentMatches: zeros(),
    testFunctionMatches: zeros(),
    referenceFunctionMatches: zeros(),
    chunks: 0,
  };
}

/** Adds `b` into `a` (METEOR's MeteorStats.addStats, used for corpus scores). */
export function addStats(a: MeteorStats, b: MeteorStats): void {
  a.testLength += b.testLength;
  a.referenceLength += b.referenceLength;
  a.testFunctionWords += b.testFunctionWords;
  a.referenceFunctionWords += b.referenceFunctionWords;
  a.chunks += b.chunks;
  for (let m = 0; m < MODULES.length; m++) {
    a.testContentMatches[m] += b.testContentMatches[m];
    a.referenceContentMatches[m] += b.referenceContentMatches[m];
    a.testFunctionMatches[m] += b.testFunctionMatches[m];
    a.referenceFunctionMatches[m] += b.referenceFunctionMatches[m];
  }
}

/** Aligns one test sentence to one reference and counts METEOR's statistics. */
export function meteorStats(
  test: readonly string[],
  reference: readonly string[],
  synonyms: SynonymDictionary = englishSynonyms(),
): MeteorStats {
  const { matches, chunks } = align(test, reference, synonyms);
  const stats = emptyStats();
  const isFunction1 = test.map((w) => FUNCTION_WORDS.has(w));
  const isFunction2 = reference.map((w) => FUNCTION_WORDS.has(w));
  stats.testLength = test.length;
  stats.referenceLength = reference.length;
  stats.testFunctionWords = isFunction1.filter(Boolean).length;
  stats.referenceFunctionWords = isFunction2.filter(Boolean).length;
  stats.chunks = chunks;
  for (const m of matches) {
    if (!m) continue;
    if (isFunction1[m.matchStart]) stats.testFunctionMatches[m.module]++;
    else stats.testContentMatches[m.module]++;
    if (isFunction2[m.start]) stats.referenceFunctionMatches[m.module]++;
    else stats.referenceContentMatches[m.module]++;
  }
  return stats;
}

/**
 * MeteorScorer.computeMetrics. With content words weighted δ and function words 1 − δ, and each
 * match weighted by its module's weight w_m:
 *   P = weighted test matches / weighted test length,  R = the same for the reference
 *   Fmean = 1 / ((1 − α)/P + α/R)
 *   frag = chunks / mean(matched test words, matched reference words), 0 for a perfect match
 *   score = Fmean · (1 − γ·frag^β), and 0 where that is undefined (nothing to match).
 */
export function meteorFromStats(s: MeteorStats, p: MeteorParameters = METEOR_EN): number {
  const weighted = (content: number[], fn: number[]): number => {
    let total = 0;
    for (let m = 0; m < MODULES.length; m++) {
      total += p.weights[m] * (p.delta * content[m] + (1 - p.delta) * fn[m]);
    }
    return total;
  };
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const testLen =
    p.delta * (s.testLength - s.testFunctionWords) + (1 - p.delta) * s.testFunctionWords;
  const refLen =
    p.delta * (s.referenceLength - s.referenceFunctionWords) +
    (1 - p.delta) * s.referenceFunctionWords;
  const precision = weighted(s.testContentMatches, s.testFunctionMatches) / testLen;
  const recall = weighted(s.referenceContentMatches, s.referenceFunctionMatches) / refLen;
  const fMean = 1 / ((1 - p.alpha) / precision + p.alpha / recall);
  const testMatches = sum(s.testContentMatches) + sum(s.testFunctionMatches);
  const refMatches = sum(s.referenceContentMatches) + sum(s.referenceFunctionMatches);
  const perfect =
    testMatches === s.testLength && refMatches === s.referenceLength && s.chunks === 1;
  const frag = perfect ? 0 : s.chunks / ((testMatches + refMatches) / 2);
  const score = fMean * (1 - p.gamma * frag ** p.beta);
  return Number.isNaN(score) ? 0 : Math.max(score, 0);
}

/**
 * METEOR as coco-caption runs it (`-l en -norm`, one `SCORE` line per image, then `EVAL`): each
 * image keeps the statistics of its best-scoring reference (the first on ties); the corpus score
 * comes from those statistics summed over images, not from the mean of image scores.
 */
export function meteor(
  images: readonly TokenizedImage[],
  synonyms: SynonymDictionary = englishSynonyms(),
): MetricScore {
  const total = emptyStats();
  const perImage = images.map(({ candidate, references }) => {
    const test = meteorNormalize(candidate);
    let best = emptyStats();
    let bestScore = -1;
    for (const reference of references) {
      const stats = meteorStats(test, meteorNormalize(reference), synonyms);
      const score = meteorFromStats(stats);
      if (score > bestScore) {
        best = stats;
        bestScore = score;
      }
    }
    addStats(total, best);
    return Math.max(bestScore, 0);
  });
  return { score: meteorFromStats(total), perImage };
}
