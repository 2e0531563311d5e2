import { iou } from "../vision/boxes.js";
import type { Region } from "../vision/image.js";
import { PERSON_LABEL } from "../vision/regions.js";
import { isPersonRegion } from "./people-group.js";
import { phraseClassGiven, type WordClassAssociation } from "./word-class-association.js";

/**
 * "A man and [a woman]", "a woman holds [a baby]", "a boy jumps while [a girl] watches": a person
 * phrase after another person phrase of its sentence with another head word is another person.
 * The learned chooser's terms are the same for both (the association gives every person word the
 * person detections, and the alignment model does not tell a woman's box from a man's), so both
 * land on the most confident person; the later one goes to the best person detection no earlier
 * person phrase took, when that one scores within OTHER_PERSON_MARGIN of it (phrase-grounding.ts,
 * groundSpans). Whether a word names a person is learned: the detector finds a person in nearly
 * every train image whose caption says it (the association's "given").
 */

/** A word names a person when P(a person is detected | the word is said) is at least this. */
export const PERSON_WORD_GIVEN = 0.9;

/**
 * The most s_i a person detection no earlier phrase took may trail the chosen one by and still
 * take the phrase; with PERSON_WORD_GIVEN chosen on Flickr30k Entities val (0.3 to 1 and 0.7 to
 * 0.95 tried; docs/phrase-alignment.md).
 */
export const OTHER_PERSON_MARGIN = 0.5;

/** Person boxes overlapping this much (IoU) are one person: YOLOX gives near-copies. */
const SAME_PERSON_IOU = 0.5;

/** A person phrase of a sentence: its head word and the region it was grounded to. */
export interface PersonMention {
  readonly head: string;
  readonly region: number;
}

/** Whether the phrase's last word names a person (PERSON_WORD_GIVEN). */
export function namesPerson(association: WordClassAssociation, words: readonly string[]): boolean {
  const given = phraseClassGiven(association, words.slice(-1), [PERSON_LABEL], 0);
  return given.get(PERSON_LABEL)! >= PERSON_WORD_GIVEN;
}

/**
 * The region of a person phrase headed by `head` whose best region by the chooser's scores `s`
 * is `best`: when `best` is a person an earlier mention with another head took (or a near-copy of
 * it), the highest-scoring person detection that is none of the earlier mentions' people, if it
 * trails `best` by less than OTHER_PERSON_MARGIN; else `best`.
 */
export function otherPersonRegion(
  regions: readonly Region[],
  s: Float64Array,
  best: number,
  head: string,
  earlier: readonly PersonMention[],
): number {
  const samePerson = (a: number, b: number) =>
    iou(regions[a].box, regions[b].box) > SAME_PERSON_IOU;
  if (!earlier.some((m) => m.head !== head && samePerson(m.region, best))) return best;
  let other = -1;
  regions.forEach((r, i) => {
    if (!isPersonRegion(r) || earlier.some((m) => samePerson(m.region, i))) return;
    if (other < 0 || s[i] > s[other]) other = i;
  });
  return other >= 0 && s[best] - s[other] < OTHER_PERSON_MARGIN ? other : best;
}
