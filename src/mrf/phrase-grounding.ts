import { boxArea, iou } from "../vision/boxes.js";
import { fractionBoxes, GROUND_FRACTION } from "../vision/fallback-boxes.js";
import type { Region } from "../vision/image.js";
import type { GroundingKnowledge } from "./grounding-knowledge.js";
import { nounPhrases } from "./noun-phrases.js";
import { namesPerson, otherPersonRegion, type PersonMention } from "./other-person.js";
import {
  associationLabels,
  isPersonRegion,
  namesSeveral,
  peopleGroupRegion,
} from "./people-group.js";
import { type SentenceScores, scoreSentence, type WordRegionScorer } from "./phrase-alignment.js";
import { namesPlace } from "./place-phrases.js";
import {
  phraseClassGiven,
  phraseClassScores,
  type WordClassAssociation,
} from "./word-class-association.js";
import { probeScores } from "./word-probe.js";
import { namesWorn, wearerRegion } from "./worn-phrases.js";

/**
 * Grounding a phrase learned without boxes: which of an image's regions a noun phrase names, from
 * the word-class association of the detector's labels and captions, the alignment model's
 * word-region scores, and where the box lies (learnedRegion); and the phrases of a whole caption
 * with their regions and confidence (groundPhrases), which describe, search and the region
 * snippets use.
 */

/** Σ over `columns` of each region's row of a regions x words matrix, or null with no columns. */
export function columnSums(
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
 * exceed to beat a box of no class, and the weights of the other terms of learnedRegion. See
 * docs/phrase-alignment.md for the grid.
 */
export interface LearnedWeights {
  readonly decay: number;
  readonly threshold: number;
  /** Of P(class | the phrase's words). */
  readonly given: number;
  /** Of the detector's score. */
  readonly score: number;
  readonly alignment: number;
  /** Of the word probe's z-score (word-probe.ts). */
  readonly probe: number;
  readonly logArea: number;
  /** Of the distance of the box's centre from the image's. */
  readonly centre: number;
  /** For a phrase that names a place (namesPlace): the whole image's bonus ... */
  readonly placeWhole: number;
  /** ... per unit of height of its centre, a large box of no class's ... */
  readonly placeLow: number;
  /** ... and the ground box's (GROUND_FRACTION, the bottom two thirds). */
  readonly placeGround: number;
}

export const LEARNED_WEIGHTS: LearnedWeights = {
  decay: 0.3,
  threshold: 0,
  given: 1,
  score: 2,
  alignment: 0.3,
  probe: 0.15,
  logArea: 0.3,
  centre: 2,
  placeWhole: 2.5,
  placeLow: 1.5,
  placeGround: 3,
};

/** A box of no class counts as a place when it covers at least this share of the image. */
const PLACE_AREA = 0.2;
/** A box is the ground box when its IoU with the image's GROUND_FRACTION is at least this. */
const GROUND_IOU = 0.9;

/**
 * The learned chooser: each region i scores
 *   s_i = w_s log(area_i / image) - w_c |centre_i - image centre| + w_a z_i + w_p p_i
 *       + [i has a label] (A(label_i) + w_g G(label_i) + w_d score_i - τ)
 *       + [the phrase names a place (`place`, namesPlace in place-phrases.ts)]
 *         (w_pw [i is whole] + w_pl y_i [i is a box of no class covering PLACE_AREA or more]
 *          + w_pg [i is the ground box])
 * with A and G the phrase's word-class association and reliability (phraseClassScores,
 * phraseClassGiven; fitted on train captions and the detector's labels, the people-group region
 * labelled PEOPLE_GROUP; no box or type annotation), z_i the alignment model's Σ_t v_i·s_t over the
 * phrase's words, z-scored over the image's regions (0 when the model knows none of its words),
 * p_i the word probe of the phrase's last word on region i's code (probeScores), z-scored the
 * same way (0 without a probe or when it has no such word),
 * y_i the height of the box's centre as a share of the image's (0 at the top), and the ground box
 * the bottom two thirds of the image (GROUND_FRACTION, where places lie). The highest
 * score wins, the lowest index on a tie.
 */
export function learnedRegion(
  regions: readonly Region[],
  alignment: Float64Array | null,
  probe: Float64Array | null,
  words: readonly string[],
  place: boolean,
  association: WordClassAssociation,
  weights: LearnedWeights = LEARNED_WEIGHTS,
): number {
  const scores = learnedScores(regions, alignment, probe, words, place, association, weights);
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}

/** s_i of learnedRegion for every region. */
export function learnedScores(
  regions: readonly Region[],
  alignment: Float64Array | null,
  probe: Float64Array | null,
  words: readonly string[],
  place: boolean,
  association: WordClassAssociation,
  weights: LearnedWeights = LEARNED_WEIGHTS,
): Float64Array {
  const labels = associationLabels(regions);
  const present = [...new Set(labels.flatMap((l) => (l ? [l] : [])))];
  const assoc = phraseClassScores(association, words, present, weights.decay);
  const given = phraseClassGiven(association, words, present, weights.decay);
  const aligned = alignment ? zScores(alignment) : null;
  const probed = probe ? zScores(probe) : null;
  const width = Math.max(1, ...regions.map((r) => r.box.x2));
  const height = Math.max(1, ...regions.map((r) => r.box.y2));
  const [ground] = fractionBoxes(width, height, [GROUND_FRACTION]);
  const scores = new Float64Array(regions.length);
  regions.forEach((r, i) => {
    const { box } = r;
    const area = Math.max(boxArea(box), 1) / (width * height);
    const cx = (box.x1 + box.x2) / 2 / width;
    const cy = (box.y1 + box.y2) / 2 / height;
    let s = weights.logArea * Math.log(area) - weights.centre * Math.hypot(cx - 0.5, cy - 0.5);
    const label = labels[i];
    if (label) {
      s += assoc.get(label)! + weights.given * given.get(label)! - weights.threshold;
      s += weights.score * (r.score ?? 0);
    }
    if (place && r.source === "whole") s += weights.placeWhole;
    if (place && !label && r.source === "fallback" && area >= PLACE_AREA)
      s += weights.placeLow * cy;
    if (place && !label && iou(box, ground) >= GROUND_IOU) s += weights.placeGround;
    if (aligned) s += weights.alignment * aligned[i];
    if (probed) s += weights.probe * probed[i];
    scores[i] = s;
  });
  return scores;
}

/** (x_i - mean) / (sd + 1e-6) over the values of x. */
function zScores(x: Float64Array): Float64Array {
  let mean = 0;
  let sd = 0;
  for (const v of x) mean += v / x.length;
  for (const v of x) sd += (v - mean) ** 2 / x.length;
  sd = Math.sqrt(sd);
  return x.map((v) => (v - mean) / (sd + 1e-6));
}

/**
 * A caption's grounded phrase counts as shown from this confidence on: on Flickr30k Entities val,
 * annotated phrases grounded about this clearly are right about half the time (those in the
 * least confident tenth a third of the time; docs/phrase-alignment.md).
 */
export const MIN_GROUNDING_CONFIDENCE = 0.85;

/** A caption's noun phrase on the region it names. */
export interface GroundedPhrase {
  /** Tokens [start, end) of the sentence. */
  readonly start: number;
  readonly end: number;
  readonly region: number;
  /**
   * s of the chosen region minus the runner-up's: how clearly the phrase names it. A phrase of
   * what is worn, put on its wearer, has the wearer's phrase's confidence.
   */
  readonly confidence: number;
}

/** What grounding a sentence's spans reads of a grounding file. */
export type SpanKnowledge = Pick<GroundingKnowledge, "association" | "worn" | "several" | "place"> &
  Partial<Pick<GroundingKnowledge, "probe">>;

/**
 * Every noun phrase of a sentence (nounPhrases) on its region, as groundSpans puts them. `scores`
 * are the alignment model's v_i·s_t for the sentence against `regions` (scoreSentence), `codes`
 * the regions' CNN codes (regions x dim) for the word probe, null for none.
 */
export function groundPhrases(
  tokens: readonly string[],
  regions: readonly Region[],
  scores: SentenceScores,
  knowledge: SpanKnowledge & Pick<GroundingKnowledge, "rates">,
  codes: Float32Array | null,
  weights: LearnedWeights = LEARNED_WEIGHTS,
): GroundedPhrase[] {
  const spans = nounPhrases(tokens, knowledge.rates);
  return groundSpans(tokens, regions, scores, spans, knowledge, codes, weights);
}

/**
 * groundPhrases for a sentence that `scorer` scores against an image's raw codes `features`, with
 * the knowledge of a grounding file; regions past those the scorer reads are left out.
 */
export function groundSentence(
  scorer: WordRegionScorer,
  knowledge: GroundingKnowledge,
  features: Float32Array,
  regions: readonly Region[],
  tokens: readonly string[],
): GroundedPhrase[] {
  const scores = scoreSentence(scorer, features, tokens);
  const scored = regions.slice(0, scores.matrix.regions);
  return groundPhrases(tokens, scored, scores, knowledge, features);
}

/**
 * The learned chooser on given spans of a sentence (annotated phrases, or its noun phrases), in
 * order: each span's region is learnedRegion's (the highest s_i, the lowest index on a tie), its
 * confidence s of that region minus the runner-up's; except that a span naming what is worn
 * (namesWorn) after a span put on a person detection goes on that person (wearerRegion), a span
 * naming a person (namesPerson) that learnedRegion puts on the person of an earlier span with
 * another head word may go on another person (otherPersonRegion), and a span naming several
 * (namesSeveral) that learnedRegion puts on a person detection goes on the people group when the
 * image has one (peopleGroupRegion). A span names a place as namesPlace says. The word probe
 * reads `codes`, the regions' CNN codes (regions x the probe's dim), when both are given.
 */
export function groundSpans(
  tokens: readonly string[],
  regions: readonly Region[],
  scores: SentenceScores,
  spans: readonly { readonly start: number; readonly end: number }[],
  knowledge: SpanKnowledge,
  codes: Float32Array | null,
  weights: LearnedWeights = LEARNED_WEIGHTS,
): GroundedPhrase[] {
  const { probe } = knowledge;
  if (probe && codes && codes.length < regions.length * probe.dim) {
    throw new RangeError(
      `groundSpans: ${codes.length} code values for ${regions.length} regions of ${probe.dim}`,
    );
  }
  const { matrix, positions } = scores;
  let wearer: GroundedPhrase | undefined;
  const people: PersonMention[] = [];
  const group = peopleGroupRegion(regions);
  return spans.map(({ start, end }) => {
    const words = tokens.slice(start, end);
    const alignment = columnSums(
      matrix.scores,
      matrix.regions,
      matrix.words,
      spanColumns(positions, start, end),
    );
    let grounded: GroundedPhrase;
    if (wearer && namesWorn(knowledge.worn, words)) {
      const region = wearerRegion(regions, wearer.region, alignment);
      grounded = { start, end, region, confidence: wearer.confidence };
    } else {
      const place = namesPlace(knowledge, words, tokens[start - 1]);
      const probed = probe && codes ? probeScores(probe, codes, regions.length, words) : null;
      const { association } = knowledge;
      const s = learnedScores(regions, alignment, probed, words, place, association, weights);
      let best = 0;
      for (let i = 1; i < s.length; i++) if (s[i] > s[best]) best = i;
      const head = words[words.length - 1];
      if (isPersonRegion(regions[best]) && namesPerson(association, words)) {
        best = otherPersonRegion(regions, s, best, head, people);
      }
      let second = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < s.length; i++) if (i !== best && s[i] > second) second = s[i];
      const confidence = Number.isFinite(second) ? s[best] - second : 0;
      const several =
        group !== undefined &&
        isPersonRegion(regions[best]) &&
        namesSeveral(knowledge.several, words);
      grounded = { start, end, region: several ? group : best, confidence };
      if (isPersonRegion(regions[grounded.region])) people.push({ head, region: grounded.region });
    }
    if (isPersonRegion(regions[grounded.region])) wearer = grounded;
    return grounded;
  });
}

/** The matrix columns of the span's words the model knows. */
export function spanColumns(positions: readonly number[], start: number, end: number): number[] {
  const columns: number[] = [];
  positions.forEach((p, t) => {
    if (p >= start && p < end) columns.push(t);
  });
  return columns;
}
