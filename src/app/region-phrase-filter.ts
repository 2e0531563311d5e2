import { InputError } from "../errors.js";
import type { DecodedPhrase } from "../generate/region-phrases.js";
import { classOfWord, isNamedClass } from "../mrf/phrase-classes.js";

/**
 * Which region phrases describe shows. The region generator gives every region a phrase, but on
 * a real photo many are guesses: "a man" over plain sand, "a dog" on a horse the detector is sure
 * of. A phrase is shown only when the generator is confident of it and it does not name another
 * class than a confident detection's; the others are kept, with why, for whoever wants them.
 */

/** How describe filters a bundle's region phrases (bundle.json `regionPhrases`). */
export interface RegionPhraseSetting {
  /**
   * Phrases whose confidence (log-probability per token, generate/region-phrases.ts) is below
   * this are not shown; chosen on val with `imagesent region-threshold`.
   */
  readonly minConfidence: number;
  /**
   * A detection scored at least this is taken at its word: a phrase that names a COCO class
   * (mrf/phrase-classes.ts) but not the detection's is not shown.
   */
  readonly labelScore: number;
}

/**
 * The threshold of bundles that set none: none. A log-probability per token is a property of
 * one generator (the packaged Flickr8k bundle's was chosen at -1.283 on Flickr8k val,
 * docs/generator.md, "Region phrases in describe"); applied to another it would hide or show
 * phrases at random, so a bundle without its own shows every phrase that does not contradict
 * a detection.
 */
export const DEFAULT_MIN_CONFIDENCE = Number.NEGATIVE_INFINITY;

/** The detector score from which a label contradicts a phrase naming another class. */
export const DEFAULT_LABEL_SCORE = 0.5;

export const DEFAULT_REGION_PHRASES: RegionPhraseSetting = {
  minConfidence: DEFAULT_MIN_CONFIDENCE,
  labelScore: DEFAULT_LABEL_SCORE,
};

/** Validates a regionPhrases object (labelScore optional); errors name `where` and the field. */
export function parseRegionPhrases(value: unknown, where: string): RegionPhraseSetting {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InputError(`${where}: expected an object {"minConfidence": C, "labelScore": S}`);
  }
  const { minConfidence, labelScore } = value as Record<string, unknown>;
  if (typeof minConfidence !== "number" || !Number.isFinite(minConfidence)) {
    throw new InputError(
      `${where}.minConfidence: expected a finite number, got ${JSON.stringify(minConfidence)}`,
    );
  }
  if (
    labelScore !== undefined &&
    (typeof labelScore !== "number" || !(labelScore >= 0 && labelScore <= 1))
  ) {
    throw new InputError(
      `${where}.labelScore: expected a number from 0 to 1, got ${JSON.stringify(labelScore)}`,
    );
  }
  return { minConfidence, labelScore: labelScore ?? DEFAULT_LABEL_SCORE };
}

/** What a region is to the filter: the detector's label and score, for detections. */
export interface LabelledRegion {
  readonly label?: string;
  readonly score?: number;
}

/**
 * Whether `words` contradict the region's label: the detection scores at least `labelScore`, its
 * label is a class some word names, and the phrase names classes but not that one ("a dog" on a
 * horse; "a man riding a horse" on the horse names it and is kept).
 */
export function contradictsLabel(
  words: readonly string[],
  region: LabelledRegion,
  labelScore: number,
): boolean {
  const { label, score } = region;
  if (label === undefined || score === undefined || score < labelScore || !isNamedClass(label)) {
    return false;
  }
  const named = words.flatMap((w) => classOfWord(w) ?? []);
  return named.length > 0 && !named.includes(label);
}

/** Why a phrase is not shown. */
export type HiddenBecause = "low-confidence" | "contradicts-label";

/** Why describe does not show `phrase` on `region`, or undefined when it shows it. */
export function hiddenBecause(
  phrase: DecodedPhrase,
  region: LabelledRegion,
  setting: RegionPhraseSetting,
): HiddenBecause | undefined {
  if (contradictsLabel(phrase.words, region, setting.labelScore)) return "contradicts-label";
  if (!(phrase.confidence >= setting.minConfidence)) return "low-confidence";
  return undefined;
}
