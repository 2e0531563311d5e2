import { noGrad, sliceRows, Tensor } from "../core/index.js";
import type { ImageEntry } from "../data/dataset.js";
import { imageSentenceScores } from "./alignment-score.js";
import type { AlignmentModel } from "./model.js";

/** Recall at 1, 5 and 10 (percent) and the median rank (1-based) of one retrieval direction. */
export interface RetrievalMetrics {
  readonly r1: number;
  readonly r5: number;
  readonly r10: number;
  readonly medianRank: number;
}

/** Both directions of Table 1: image annotation (image -> sentences) and image search. */
export interface RetrievalResult {
  readonly images: number;
  readonly sentences: number;
  readonly annotation: RetrievalMetrics;
  readonly search: RetrievalMetrics;
}

/**
 * A score as ranking reads it: NaN (a diverged model, a broken feature) ranks below every
 * number, so it is never a hit and never pushes a real score down.
 */
export function rankable(score: number): number {
  return Number.isNaN(score) ? Number.NEGATIVE_INFINITY : score;
}

/** Compares scores for sorting best first, NaN after every number. */
export function byScoreDescending(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
  return a === b ? 0 : a > b ? -1 : 1;
}

/**
 * Table 1's protocol on a score matrix S (images x sentences, row-major) where sentence l
 * belongs to image `imageOf[l]`. Image annotation ranks every sentence for each image and counts
 * the best-ranked true one; image search ranks every image for each sentence. Ties count
 * against the model (an image scoring every sentence alike ranks them all last), so a constant
 * model gets chance-level numbers, not perfect ones. A NaN score ranks below every number, and
 * a truth whose score is NaN is never found: its rank is infinite, a miss at every K.
 */
export function retrievalMetrics(
  S: Float32Array,
  images: number,
  imageOf: Int32Array,
): RetrievalResult {
  const sentences = imageOf.length;
  if (S.length !== images * sentences) {
    throw new RangeError(`retrievalMetrics: ${S.length} scores for ${images} x ${sentences}`);
  }
  const annotation: number[] = [];
  for (let k = 0; k < images; k++) {
    const row = S.subarray(k * sentences, (k + 1) * sentences);
    let best = Number.NaN;
    let has = false;
    for (let l = 0; l < sentences; l++) {
      if (imageOf[l] === k) {
        has = true;
        if (Number.isNaN(best) || row[l] > best) best = row[l];
      }
    }
    if (!has) continue;
    let rank = Number.isNaN(best) ? Number.POSITIVE_INFINITY : 1;
    for (let l = 0; l < sentences; l++) if (imageOf[l] !== k && rankable(row[l]) >= best) rank++;
    annotation.push(rank);
  }
  const search: number[] = [];
  for (let l = 0; l < sentences; l++) {
    const truth = S[imageOf[l] * sentences + l];
    let rank = Number.isNaN(truth) ? Number.POSITIVE_INFINITY : 1;
    for (let k = 0; k < images; k++) {
      if (k !== imageOf[l] && rankable(S[k * sentences + l]) >= truth) rank++;
    }
    search.push(rank);
  }
  return { images, sentences, annotation: summarise(annotation), search: summarise(search) };
}

/** R@K and median rank of a list of 1-based ranks. */
export function summarise(ranks: readonly number[]): RetrievalMetrics {
  const n = ranks.length;
  const recall = (k: number) => (n === 0 ? 0 : (100 * ranks.filter((r) => r <= k).length) / n);
  const sorted = [...ranks].sort((a, b) => a - b);
  const medianRank =
    n === 0
      ? Number.NaN
      : n % 2 === 1
        ? sorted[(n - 1) / 2]
        : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { r1: recall(1), r5: recall(5), r10: recall(10), medianRank };
}

/** R@1 + R@5 + R@10 of both directions: the one number validation picks the best model by. */
export function recallSum(r: RetrievalResult): number {
  const m = [r.annotation, r.search];
  return m.reduce((s, x) => s + x.r1 + x.r5 + x.r10, 0);
}

/**
 * S_kl for every image and sentence of a split, without gradients. `features` are normalised CNN
 * codes (images x regions x dim).
 */
export function scoreSplit(
  model: AlignmentModel,
  features: Float32Array,
  images: number,
  sentences: readonly Int32Array[],
): Float32Array {
  const { regions, featureDim } = model.config;
  const v = noGrad(() => model.embedRegions(new Tensor(features, [images * regions, featureDim])));
  return scoreEmbedded(model, v, images, sentences);
}

/**
 * S_kl of images whose region vectors v are computed (images x regions rows, image after image)
 * against encoded sentences, without gradients. Sentences are scored a chunk at a time so the
 * regions x words product stays a few tens of megabytes.
 */
export function scoreEmbedded(
  model: AlignmentModel,
  v: Tensor,
  images: number,
  sentences: readonly Int32Array[],
  wordsPerChunk = 2048,
): Float32Array {
  const S = new Float32Array(images * sentences.length);
  noGrad(() => {
    const s = model.embedWords(sentences);
    let first = 0;
    let firstWord = 0;
    while (first < sentences.length) {
      let last = first;
      let words = 0;
      while (
        last < sentences.length &&
        (last === first || words + sentences[last].length <= wordsPerChunk)
      ) {
        words += sentences[last].length;
        last++;
      }
      const lengths = sentences.slice(first, last).map((x) => x.length);
      const chunk = imageSentenceScores(
        v,
        sliceRows(s, firstWord, firstWord + words),
        images,
        lengths,
      );
      const n = last - first;
      for (let k = 0; k < images; k++) {
        S.set(chunk.data.subarray(k * n, (k + 1) * n), k * sentences.length + first);
      }
      first = last;
      firstWord += words;
    }
  });
  return S;
}

/**
 * Every sentence of `images`, image after image, as tokens, and the image each belongs to (the
 * `imageOf` of retrievalMetrics).
 */
export function splitSentences(images: readonly ImageEntry[]): {
  sentences: (readonly string[])[];
  imageOf: Int32Array;
} {
  return {
    sentences: images.flatMap((im) => im.sentences.map((s) => s.tokens)),
    imageOf: Int32Array.from(images.flatMap((im, k) => im.sentences.map(() => k))),
  };
}

/**
 * Table 1 for a split: every sentence of `images` against every image, by the model. `features`
 * are the images' normalised CNN codes (images x regions x dim). Returns the score matrix too.
 */
export function evaluateRetrieval(
  model: AlignmentModel,
  images: readonly ImageEntry[],
  features: Float32Array,
): RetrievalResult & { scores: Float32Array } {
  const { sentences, imageOf } = splitSentences(images);
  const encoded = sentences.map((tokens) => model.encode(tokens));
  const scores = scoreSplit(model, features, images.length, encoded);
  return { ...retrievalMetrics(scores, images.length, imageOf), scores };
}
