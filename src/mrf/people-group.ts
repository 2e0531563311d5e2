import { boxArea, intersectionArea } from "../vision/boxes.js";
import type { Region } from "../vision/image.js";
import { PERSON_LABEL } from "../vision/regions.js";
import { type DeterminerRates, type HeadShares, headShare, headShares } from "./noun-phrases.js";

/**
 * "Two men", "a group of children", "people": a phrase about several people names their group,
 * which no detector class is. The region selection adds boxes around people
 * (src/vision/regions.ts); here the one that holds the most person detections (at least two,
 * each with HELD_SHARE of its area inside; the smallest such box on a tie) is given the pseudo
 * label PEOPLE_GROUP, so that the word-class association learns from captions which words name a
 * group, just as it learns "dog" from the dog detections. The association still gives a plural
 * "girls" the person detections (they come with it even more reliably than the group does), so a
 * phrase that names several (namesSeveral, from how the captions count the word) and was put on a
 * person goes on the group (phrase-grounding.ts, groundSpans).
 */
export const PEOPLE_GROUP = "people group";

const HELD_SHARE = 0.7;

/** Whether a region is a person detection. */
export function isPersonRegion(region: Region): boolean {
  return region.source === "detection" && region.label === PERSON_LABEL;
}

/** The index of the people-group region of `regions`, or undefined when none holds two people. */
export function peopleGroupRegion(regions: readonly Region[]): number | undefined {
  const people = regions.filter(isPersonRegion);
  if (people.length < 2) return undefined;
  let best: number | undefined;
  let bestHeld = 1;
  regions.forEach((r, i) => {
    if (r.source !== "fallback") return;
    const held = people.filter(
      (p) => intersectionArea(r.box, p.box) >= HELD_SHARE * Math.max(boxArea(p.box), 1),
    ).length;
    const smaller = best !== undefined && boxArea(r.box) < boxArea(regions[best].box);
    if (held > bestHeld || (held === bestHeld && held >= 2 && smaller)) {
      best = i;
      bestHeld = held;
    }
  });
  return best;
}

/**
 * Each region's label for the association: a detection's class, PEOPLE_GROUP for the group
 * region, else undefined.
 */
export function associationLabels(regions: readonly Region[]): (string | undefined)[] {
  const group = peopleGroupRegion(regions);
  return regions.map((r, i) =>
    i === group ? PEOPLE_GROUP : r.source === "detection" ? r.label : undefined,
  );
}

/** Number words: a noun phrase holding one names several of a kind ("two girls"). */
export const NUMBER_WORDS: ReadonlySet<string> = new Set(
  "two three four five six seven eight nine ten several many".split(" "),
);

/**
 * A phrase whose last word has at least this share of severalShares names several; chosen on
 * Flickr30k Entities val (0.05 to 0.3 tried: all within 0.01 points; docs/phrase-alignment.md).
 */
export const SEVERAL_SHARE = 0.1;

/**
 * The share of each word's noun phrases that hold a number word, over `captions` (headShares):
 * "girls" 0.80, "people" 0.46, "man" 0 in the Flickr8k train captions.
 */
export function severalShares(
  captions: Iterable<readonly string[]>,
  rates: DeterminerRates,
): Map<string, number> {
  return headShares(captions, rates, (tokens, { start, end }) =>
    tokens.slice(start, end).some((w) => NUMBER_WORDS.has(w)),
  );
}

/** Whether a phrase names several: it holds a number word, or its last word mostly comes with one. */
export function namesSeveral(several: HeadShares, words: readonly string[]): boolean {
  return headShare(several, words) >= SEVERAL_SHARE || words.some((w) => NUMBER_WORDS.has(w));
}
