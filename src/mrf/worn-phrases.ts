import { iou } from "../vision/boxes.js";
import type { Region } from "../vision/image.js";
import { PERSON_PARTS, partBox } from "../vision/regions.js";
import { type DeterminerRates, type HeadShares, headShare, headShares } from "./noun-phrases.js";

/**
 * "A man in [a red shirt]", "a girl wearing [a pink hat]": a garment is on the person who wears
 * it, and its box is that person's, or the upper or lower part of it. Co-occurrence cannot tell a
 * shirt from its wearer (both come with every person the detector finds), but the captions' word
 * order can: which words name what is worn is learned from the training captions alone, as the
 * share of a word's uses as the last word of a noun phrase right after a verb of wearing
 * (wornShares, headShares in noun-phrases.ts). A phrase headed by such a word goes on the person
 * an earlier phrase of its sentence was grounded to (wearerRegion; phrase-grounding.ts,
 * groundSpans).
 */

/** Verbs after which a noun phrase names what someone wears: English word order, not an annotation. */
export const WEAR_VERBS: ReadonlySet<string> = new Set([
  "wearing",
  "wears",
  "wear",
  "wore",
  "dressed",
]);

/**
 * A phrase whose last word has at least this share of wornShares names what is worn; chosen on
 * Flickr30k Entities val (0.1, 0.15, 0.2 and 0.3 tried; docs/phrase-alignment.md).
 */
export const WORN_SHARE = 0.1;

/**
 * The share of each word's noun phrases right after a verb of wearing, or after "in" that
 * follows one ("dressed in [white]"), over `captions` (headShares).
 */
export function wornShares(
  captions: Iterable<readonly string[]>,
  rates: DeterminerRates,
): Map<string, number> {
  return headShares(captions, rates, (tokens, { start }) => {
    const before = tokens[start - 1];
    return WEAR_VERBS.has(before) || (before === "in" && WEAR_VERBS.has(tokens[start - 2]));
  });
}

/** Whether a phrase names what someone wears: its last word's worn share is WORN_SHARE or more. */
export function namesWorn(worn: HeadShares, words: readonly string[]): boolean {
  return headShare(worn, words) >= WORN_SHARE;
}

/** The parts of a person box that garments cover. */
const GARMENT_PARTS = PERSON_PARTS.filter((p) => p.name !== "head");

/**
 * The region of a garment worn by the person of region `wearer`: among the wearer's box and the
 * regions closest (IoU) to its upper and lower body boxes (PERSON_PARTS, partBox), the one whose
 * summed alignment score over the phrase's words (`alignment`, one per region) is highest; the
 * wearer's box when the model knows none of the words.
 */
export function wearerRegion(
  regions: readonly Region[],
  wearer: number,
  alignment: Float64Array | null,
): number {
  if (!alignment) return wearer;
  const width = Math.max(...regions.map((r) => r.box.x2));
  const height = Math.max(...regions.map((r) => r.box.y2));
  let best = wearer;
  for (const part of GARMENT_PARTS) {
    const target = partBox(regions[wearer].box, part.box, width, height);
    let closest = 0;
    regions.forEach((r, i) => {
      if (iou(r.box, target) > iou(regions[closest].box, target)) closest = i;
    });
    if (alignment[closest] > alignment[best]) best = closest;
  }
  return best;
}
