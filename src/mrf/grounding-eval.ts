import type { Rng } from "../core/rng.js";
import {
  type EntityAnnotation,
  type EntityPhrase,
  NOT_VISUAL_CHAIN,
  scaleEntityBox,
} from "../data/flickr30k-entities.js";
import { boxArea, iou } from "../vision/boxes.js";
import type { Box, Region } from "../vision/image.js";
import { IOU_THRESHOLD, type Tally } from "./phrase-accuracy.js";
import { alignScored, type SentenceScores } from "./phrase-alignment.js";
import { classOfPhrase, labelFitsTypes } from "./phrase-classes.js";
import { phraseClassScores, type WordClassAssociation } from "./word-class-association.js";

/**
 * Phrase grounding accuracy on Flickr30k Entities, by the standard protocol (Plummer et al.
 * 2015): every marked phrase whose chain has a box is grounded to one of the image's regions,
 * and is right when that region's box has IoU >= 0.5 with the union of the chain's boxes.
 * Notvisual phrases (chain 0) and phrases whose chain has no box are left out.
 *
 * Several rules choose the region, so the learned alignment is read beside what simple rules and
 * the proposals themselves allow (CHOOSERS). Ties go to the lowest region index throughout, so a
 * phrase none of whose words the model knows gets region 0 (the whole image) from `best`, and
 * the whole image from `mrf`.
 */

/** The smallest box holding all of `boxes` (at least one). */
export function unionBox(boxes: readonly Box[]): Box {
  if (boxes.length === 0) throw new RangeError("unionBox: no boxes");
  return {
    x1: Math.min(...boxes.map((b) => b.x1)),
    y1: Math.min(...boxes.map((b) => b.y1)),
    x2: Math.max(...boxes.map((b) => b.x2)),
    y2: Math.max(...boxes.map((b) => b.y2)),
  };
}

/** A phrase the protocol evaluates: tokens [start, end) of its sentence and its true box. */
export interface GroundingPhrase {
  readonly start: number;
  readonly end: number;
  readonly types: readonly string[];
  /** The union of its chain's boxes, in the stored image's pixels. */
  readonly truth: Box;
}

/** Phrases the protocol leaves out, by reason. */
export interface LeftOut {
  notVisual: number;
  noBox: number;
}

/**
 * The phrases of one sentence the protocol evaluates, their boxes scaled from the annotated image
 * to the stored width x height; counts the others into `leftOut`.
 */
export function groundablePhrases(
  phrases: readonly EntityPhrase[],
  annotation: EntityAnnotation,
  width: number,
  height: number,
  leftOut: LeftOut,
): GroundingPhrase[] {
  const out: GroundingPhrase[] = [];
  for (const p of phrases) {
    if (p.chain === NOT_VISUAL_CHAIN) {
      leftOut.notVisual++;
      continue;
    }
    const boxes = annotation.boxes.get(p.chain);
    if (!boxes) {
      leftOut.noBox++;
      continue;
    }
    const scaled = boxes.map((b) => scaleEntityBox(b, annotation, width, height));
    out.push({ start: p.start, end: p.end, types: p.types, truth: unionBox(scaled) });
  }
  return out;
}

/** The rules that choose a phrase's region, in the order reports list them. */
export const CHOOSERS = [
  "best",
  "mrf",
  "random",
  "whole",
  "largest",
  "typeRule",
  "wordLabel",
  "learned",
  "upperBound",
] as const;
export type Chooser = (typeof CHOOSERS)[number];

/** One image to ground: its candidate regions and its sentences with their word-region scores. */
export interface GroundingImage {
  /** The regions the model scores, boxes in the stored image's pixels. */
  readonly regions: readonly Region[];
  readonly sentences: readonly {
    /** v_i·s_t of the sentence's tokens against `regions` (scoreSentence). */
    readonly scores: SentenceScores;
    readonly tokens: readonly string[];
    readonly phrases: readonly GroundingPhrase[];
  }[];
}

export interface ChooserCounts {
  readonly overall: Tally;
  /** By phrase type; a phrase of several types (people/other) counts under each. */
  readonly byType: Record<string, Tally>;
}

export interface GroundingCounts {
  readonly beta: number;
  images: number;
  sentences: number;
  /** Most regions any image had. */
  regions: number;
  readonly leftOut: LeftOut;
  readonly choosers: Record<Chooser, ChooserCounts>;
  /** Evaluated phrases whose known words are exactly the words of one MRF segment. */
  readonly oneSegment: Tally;
  /** Regions that are detections, of all regions of the images. */
  readonly detectorRegions: Tally;
}

export function emptyGroundingCounts(beta: number): GroundingCounts {
  const choosers = Object.fromEntries(
    CHOOSERS.map((c) => [c, { overall: { correct: 0, total: 0 }, byType: {} }]),
  ) as Record<Chooser, ChooserCounts>;
  return {
    beta,
    images: 0,
    sentences: 0,
    regions: 0,
    leftOut: { notVisual: 0, noBox: 0 },
    choosers,
    oneSegment: { correct: 0, total: 0 },
    detectorRegions: { correct: 0, total: 0 },
  };
}

/**
 * Grounds every evaluated phrase of one image by each chooser and counts the outcomes into
 * `into`. `rng` draws the random chooser's regions, one per phrase in order.
 */
export function countGrounding(
  image: GroundingImage,
  rng: Rng,
  into: GroundingCounts,
  association?: WordClassAssociation,
): void {
  const { regions } = image;
  into.images++;
  into.regions = Math.max(into.regions, regions.length);
  into.detectorRegions.total += regions.length;
  into.detectorRegions.correct += regions.filter((r) => r.source === "detection").length;
  const whole = wholeImageRegion(regions);
  const largest = largestRegion(regions, (r) => r.source !== "whole") ?? whole;
  for (const sentence of image.sentences) {
    into.sentences++;
    const { matrix, positions } = sentence.scores;
    if (matrix.regions !== regions.length) {
      throw new RangeError(
        `countGrounding: scores for ${matrix.regions} regions, the image has ${regions.length}`,
      );
    }
    const segments = matrix.words > 0 ? alignScored(sentence.scores, into.beta) : [];
    for (const phrase of sentence.phrases) {
      // The matrix columns of the phrase's words the model knows.
      const columns: number[] = [];
      positions.forEach((p, t) => {
        if (p >= phrase.start && p < phrase.end) columns.push(t);
      });
      const known = columns.map((t) => positions[t]);
      const last = known[known.length - 1];
      const segment = segments.find((s) => s.start <= last && last < s.end);
      into.oneSegment.total++;
      if (segment && segment.start === known[0] && segment.end === last + 1) {
        into.oneSegment.correct++;
      }
      const right = (r: number) => iou(regions[r].box, phrase.truth) >= IOU_THRESHOLD;
      const largestOf = (fits: (label: string) => boolean) =>
        largestRegion(regions, (r) => r.source === "detection" && fits(r.label ?? "")) ?? largest;
      const wordClass = classOfPhrase(sentence.tokens.slice(phrase.start, phrase.end));
      const words = sentence.tokens.slice(phrase.start, phrase.end);
      const chosen: Record<Exclude<Chooser, "upperBound">, number> = {
        best: bestRegion(matrix.scores, matrix.regions, matrix.words, columns),
        mrf: segment?.region ?? whole,
        random: Math.floor(rng.uniform() * regions.length),
        whole,
        largest,
        typeRule: largestOf((label) => labelFitsTypes(label, phrase.types)),
        wordLabel: wordClass === undefined ? largest : largestOf((label) => label === wordClass),
        learned: association
          ? learnedRegion(
              regions,
              columnSums(matrix.scores, matrix.regions, matrix.words, columns),
              words,
              association,
            )
          : -1,
      };
      for (const c of CHOOSERS) {
        if (c === "learned" && !association) continue;
        const hit = c === "upperBound" ? regions.some((_, r) => right(r)) : right(chosen[c]);
        const counts = into.choosers[c];
        add(counts.overall, hit);
        for (const t of phrase.types) {
          counts.byType[t] ??= { correct: 0, total: 0 };
          add(counts.byType[t], hit);
        }
      }
    }
  }
}

function add(t: Tally, hit: boolean): void {
  t.total++;
  if (hit) t.correct++;
}

/**
 * The region with the highest summed score over `columns` of a regions x words matrix: a
 * phrase's words voting with v_i·s_t. With no columns every sum is 0 and region 0 wins.
 */
export function bestRegion(
  scores: Float32Array,
  regions: number,
  words: number,
  columns: readonly number[],
): number {
  let best = 0;
  let bestSum = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < regions; i++) {
    let sum = 0;
    for (const t of columns) sum += scores[i * words + t];
    if (sum > bestSum) {
      best = i;
      bestSum = sum;
    }
  }
  return best;
}

/** Σ over `columns` of each region's row of a regions x words matrix, or null with no columns. */
function columnSums(
  scores: Float32Array,
  regions: number,
  words: number,
  columns: readonly number[],
): Float64Array | null {
  if (columns.length === 0) return null;
  const sums = new Float64Array(regions);
  for (let i = 0; i < regions; i++) for (const t of columns) sums[i] += scores[i * words + t];
  return sums;
}

/**
 * The weights of the learned chooser, chosen by a grid on Flickr30k Entities val (the association
 * itself is fitted on train): λ for the words before the head, τ the association a detection must
 * exceed to beat a fallback box, and the weights of the alignment z-score, the log-area prior and
 * the whole-image bonus. See docs/phrase-alignment.md for the grid.
 */
export interface LearnedWeights {
  readonly decay: number;
  readonly threshold: number;
  readonly alignment: number;
  readonly logArea: number;
  readonly whole: number;
}

export const LEARNED_WEIGHTS: LearnedWeights = {
  decay: 0.3,
  threshold: 0.2,
  alignment: 0.1,
  logArea: 0.3,
  whole: 0.5,
};

/**
 * The learned chooser: each region i scores
 *   s_i = [i is a detection] (A(label_i) - τ) + w_a z_i + w_s log(area_i / image) + w_w [i is whole]
 * with A the phrase's word-class association (phraseClassScores, fitted on train captions and the
 * detector's labels; no box or type annotation) and z_i the alignment model's Σ_t v_i·s_t over the
 * phrase's words, z-scored over the image's regions (0 when the model knows none of its words).
 * The highest score wins, the lowest index on a tie.
 */
export function learnedRegion(
  regions: readonly Region[],
  alignment: Float64Array | null,
  words: readonly string[],
  association: WordClassAssociation,
  weights: LearnedWeights = LEARNED_WEIGHTS,
): number {
  const present = [
    ...new Set(regions.flatMap((r) => (r.source === "detection" && r.label ? [r.label] : []))),
  ];
  const assoc = phraseClassScores(association, words, present, weights.decay);
  let mean = 0;
  let sd = 0;
  if (alignment) {
    for (const v of alignment) mean += v / alignment.length;
    for (const v of alignment) sd += (v - mean) ** 2 / alignment.length;
    sd = Math.sqrt(sd);
  }
  const whole = regions.reduce((a, r) => Math.max(a, boxArea(r.box)), 1);
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  regions.forEach((r, i) => {
    let s = weights.logArea * Math.log(Math.max(boxArea(r.box), 1) / whole);
    if (r.source === "detection" && r.label) s += assoc.get(r.label)! - weights.threshold;
    if (r.source === "whole") s += weights.whole;
    if (alignment) s += (weights.alignment * (alignment[i] - mean)) / (sd + 1e-6);
    if (s > bestScore) {
      best = i;
      bestScore = s;
    }
  });
  return best;
}

/** The region marked as the whole image, else the largest region. */
function wholeImageRegion(regions: readonly Region[]): number {
  const i = regions.findIndex((r) => r.source === "whole");
  return i >= 0 ? i : (largestRegion(regions, () => true) ?? 0);
}

/** The largest-area region passing `keep` (the first on a tie), or undefined when none does. */
export function largestRegion(
  regions: readonly Region[],
  keep: (r: Region) => boolean,
): number | undefined {
  let best: number | undefined;
  regions.forEach((r, i) => {
    if (keep(r) && (best === undefined || boxArea(r.box) > boxArea(regions[best].box))) best = i;
  });
  return best;
}
