import { countNgrams, ngramOrder } from "./ngrams.js";
import type { TokenizedImage } from "./types.js";

/** BLEU-1..n for a corpus, and per image, as coco-caption's BleuScorer computes them. */
export interface BleuScore {
  /** scores[k] is corpus BLEU-(k+1). */
  readonly scores: readonly number[];
  /** perImage[k][i] is image i's BLEU-(k+1). */
  readonly perImage: readonly (readonly number[])[];
}

// coco-caption's epsilons: TINY keeps a zero count at zero after the n-th root, SMALL avoids 0/0.
const TINY = 1e-15;
const SMALL = 1e-9;

/**
 * BLEU as pycocoevalcap/bleu/bleu_scorer.py computes it with option "closest":
 *   p_k = (Σ_images clipped k-gram matches + TINY) / (Σ_images candidate k-grams + SMALL)
 *   BLEU-n = (Π_{k≤n} p_k)^(1/n) · BP,  BP = exp(1 − r/c) when c < r, else 1,
 * with c the total candidate length and r the sum over images of the reference length closest
 * to that image's candidate (ties go to the shorter). Clipping takes, per n-gram, the largest
 * count in any one reference. Per-image scores apply the same formula to one image's counts.
 */
export function bleu(images: readonly TokenizedImage[], maxN = 4): BleuScore {
  const totalCorrect = new Array<number>(maxN).fill(0);
  const totalGuess = new Array<number>(maxN).fill(0);
  let totalTest = 0;
  let totalRef = 0;
  const perImage: number[][] = Array.from({ length: maxN }, () => []);

  for (const { candidate, references } of images) {
    const testLen = candidate.length;
    const refLen = closestLength(
      references.map((r) => r.length),
      testLen,
    );
    const maxRefCounts = new Map<string, number>();
    for (const ref of references) {
      for (const [gram, count] of countNgrams(ref, maxN)) {
        maxRefCounts.set(gram, Math.max(maxRefCounts.get(gram) ?? 0, count));
      }
    }
    const correct = new Array<number>(maxN).fill(0);
    for (const [gram, count] of countNgrams(candidate, maxN)) {
      correct[ngramOrder(gram) - 1] += Math.min(maxRefCounts.get(gram) ?? 0, count);
    }
    const guess = Array.from({ length: maxN }, (_, k) => Math.max(0, testLen - k));

    totalTest += testLen;
    totalRef += refLen;
    for (let k = 0; k < maxN; k++) {
      totalCorrect[k] += correct[k];
      totalGuess[k] += guess[k];
    }
    const imageScores = bleuFromCounts(correct, guess, testLen, refLen);
    for (let k = 0; k < maxN; k++) perImage[k].push(imageScores[k]);
  }
  return { scores: bleuFromCounts(totalCorrect, totalGuess, totalTest, totalRef), perImage };
}

function bleuFromCounts(
  correct: readonly number[],
  guess: readonly number[],
  testLen: number,
  refLen: number,
): number[] {
  const scores: number[] = [];
  let product = 1;
  for (let k = 0; k < correct.length; k++) {
    product *= (correct[k] + TINY) / (guess[k] + SMALL);
    scores.push(product ** (1 / (k + 1)));
  }
  const ratio = (testLen + TINY) / (refLen + SMALL);
  if (ratio < 1) {
    const brevity = Math.exp(1 - 1 / ratio);
    for (let k = 0; k < scores.length; k++) scores[k] *= brevity;
  }
  return scores;
}

/** The reference length closest to `testLen`; ties go to the shorter one. */
function closestLength(refLens: readonly number[], testLen: number): number {
  let best = refLens[0] ?? 0;
  for (const len of refLens) {
    const d = Math.abs(len - testLen);
    const bestD = Math.abs(best - testLen);
    if (d < bestD || (d === bestD && len < best)) best = len;
  }
  return best;
}
