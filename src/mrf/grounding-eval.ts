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
import { groundSpans, type SpanKnowledge, spanColumns } from "./phrase-grounding.js";
import type { Segment } from "./segments.js";

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
  /** Their CNN codes (regions x dim) for the word probe; null for none. */
  readonly codes: Float32Array | null;
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
  knowledge?: SpanKnowledge,
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
    const learned = knowledge
      ? groundSpans(
          sentence.tokens,
          regions,
          sentence.scores,
          sentence.phrases,
          knowledge,
          image.codes,
        )
      : undefined;
    sentence.phrases.forEach((phrase, k) => {
      const columns = spanColumns(positions, phrase.start, phrase.end);
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
      const chosen: Record<Exclude<Chooser, "upperBound">, number> = {
        best: bestRegion(matrix.scores, matrix.regions, matrix.words, columns),
        mrf: mrfSpanRegion(segments, positions, regions, phrase.start, phrase.end),
        random: Math.floor(rng.uniform() * regions.length),
        whole,
        largest,
        typeRule: largestOf((label) => labelFitsTypes(label, phrase.types)),
        wordLabel: wordClass === undefined ? largest : largestOf((label) => label === wordClass),
        learned: learned ? learned[k].region : -1,
      };
      for (const c of CHOOSERS) {
        if (c === "learned" && !learned) continue;
        const hit = c === "upperBound" ? regions.some((_, r) => right(r)) : right(chosen[c]);
        const counts = into.choosers[c];
        add(counts.overall, hit);
        for (const t of phrase.types) {
          counts.byType[t] ??= { correct: 0, total: 0 };
          add(counts.byType[t], hit);
        }
      }
    });
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

/**
 * The chain MRF's region for tokens [start, end), as eval-grounding's "mrf" row reads it: the
 * region of the segment holding the span's last word the model knows; the whole image when it
 * knows none of them.
 */
export function mrfSpanRegion(
  segments: readonly Segment[],
  positions: readonly number[],
  regions: readonly Region[],
  start: number,
  end: number,
): number {
  const known = spanColumns(positions, start, end).map((t) => positions[t]);
  const last = known[known.length - 1];
  const segment =
    last === undefined ? undefined : segments.find((s) => s.start <= last && last < s.end);
  return segment ? segment.region : wholeImageRegion(regions);
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
