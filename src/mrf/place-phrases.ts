import { type DeterminerRates, type HeadShares, headShare, headShares } from "./noun-phrases.js";

/**
 * "On [the grass]", "through [the water]": a noun phrase after a locative preposition usually
 * names a place, and places are the whole image or the ground (the learned chooser's place terms,
 * phrase-grounding.ts). So do "the water" in "out of the water" and "snow" in "snow covers the
 * hill": a word the training captions mostly use after such a preposition names a place wherever
 * it stands. Which words do is learned from the train captions' word order alone (placeShares,
 * headShares in noun-phrases.ts: "field" 0.98, "grass" 0.97, "snow" 0.91, "water" 0.81; "man"
 * 0.03, "dog" 0.03).
 */

/**
 * Words after which a noun phrase usually names a place: a property of English word order, not of
 * any annotation.
 */
export const LOCATIVE_PREPOSITIONS: ReadonlySet<string> = new Set(
  "in on through at across near along by into over under down up around onto past from inside beside behind".split(
    " ",
  ),
);

/** A phrase opened by one of these is something someone has, not a place ("in [his mouth]"). */
export const POSSESSIVES: ReadonlySet<string> = new Set(["his", "her", "its", "their"]);

/**
 * A phrase whose last word has at least this share of placeShares names a place wherever it
 * stands; chosen on Flickr30k Entities val (0.3 to 0.9 tried; docs/phrase-alignment.md).
 */
export const PLACE_SHARE = 0.5;

/**
 * A phrase whose last word has at least this share of the worn shares (wornShares in
 * worn-phrases.ts: "in [pink]", "in [a red shirt]") names what someone wears, not a place, even
 * after a locative preposition; chosen on Flickr30k Entities val (0.01 to 0.5 tried; 0.03 and
 * 0.05 best, docs/phrase-alignment.md).
 */
export const WORN_NOT_PLACE_SHARE = 0.05;

/** The share of each word's noun phrases right after a locative preposition, over `captions`. */
export function placeShares(
  captions: Iterable<readonly string[]>,
  rates: DeterminerRates,
): Map<string, number> {
  return headShares(captions, rates, (tokens, { start }) =>
    LOCATIVE_PREPOSITIONS.has(tokens[start - 1]),
  );
}

/** The head shares namesPlace reads: of places (placeShares) and of what is worn (wornShares). */
export interface PlaceAndWornShares {
  readonly place: HeadShares;
  readonly worn: HeadShares;
}

/**
 * Whether a phrase after the word `previous` (undefined at the start of a sentence) names a
 * place: it does not open with a possessive, its last word has less than WORN_NOT_PLACE_SHARE of
 * `worn`, and it follows a locative preposition or, not opening the sentence, its last word has
 * PLACE_SHARE or more of `place`.
 */
export function namesPlace(
  { place, worn }: PlaceAndWornShares,
  words: readonly string[],
  previous: string | undefined,
): boolean {
  if (previous === undefined || POSSESSIVES.has(words[0])) return false;
  if (headShare(worn, words) >= WORN_NOT_PLACE_SHARE) return false;
  return LOCATIVE_PREPOSITIONS.has(previous) || headShare(place, words) >= PLACE_SHARE;
}
