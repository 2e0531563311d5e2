import { mean } from "./mean.js";
import type { MetricScore, TokenizedImage } from "./types.js";

/** coco-caption's beta (pycocoevalcap/rouge/rouge.py), weighting recall over precision. */
const BETA = 1.2;

/**
 * ROUGE-L as pycocoevalcap/rouge/rouge.py computes it. Per image, with LCS the longest common
 * subsequence of candidate and reference:
 *   P = max_refs LCS/|cand|,  R = max_refs LCS/|ref|   (maxima taken separately)
 *   ROUGE-L = (1 + β²)·P·R / (R + β²·P), or 0 when P or R is 0.
 * The corpus score is the mean over images.
 */
export function rougeL(images: readonly TokenizedImage[]): MetricScore {
  const perImage = images.map(({ candidate, references }) => {
    const cand = asSplit(candidate);
    let precision = 0;
    let recall = 0;
    for (const reference of references) {
      const ref = asSplit(reference);
      const lcs = lcsLength(ref, cand);
      precision = Math.max(precision, lcs / cand.length);
      recall = Math.max(recall, lcs / ref.length);
    }
    if (precision === 0 || recall === 0) return 0;
    return ((1 + BETA ** 2) * precision * recall) / (recall + BETA ** 2 * precision);
  });
  return { score: mean(perImage), perImage };
}

/** Python's `"".split(" ")` is `[""]`: coco-caption scores an empty caption as one empty token. */
function asSplit(tokens: readonly string[]): readonly string[] {
  return tokens.length === 0 ? [""] : tokens;
}

/** Length of the longest common subsequence, by dynamic programming over one rolling row. */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = a[i - 1] === b[j - 1] ? diagonal + 1 : Math.max(row[j], row[j - 1]);
      diagonal = above;
    }
  }
  return row[b.length];
}
