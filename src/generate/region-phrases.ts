import { UNKNOWN_TOKEN, type Vocabulary } from "../data/vocabulary.js";
import { batchedBeamSearch, type Caption, DEFAULT_MAX_LENGTH } from "./decoding.js";
import type { LoadedGenerator } from "./load-generator.js";

/**
 * How region phrases are decoded: every region of an image in one batched beam search ranked by
 * logProb (phrases are short; length normalisation would favour run-on sentence fragments), with
 * END forbidden where it would leave an empty phrase or one that ends on a function word.
 */

/**
 * Function words: the words a region phrase may not end on. An English noun phrase ends on its
 * head or a modifier after it ("a black dog", "a man in a red shirt"); one that ends on an
 * article, a preposition, a conjunction, an auxiliary or a possessive was cut mid-phrase ("a",
 * "a woman in a blue shirt is", "a group of", "in a"), and so was one that ends on a number or
 * on an adjective that in captions always comes before its noun ("two", "a large", "a little").
 * Particles that can end a phrase ("up", "down", "out", "off", "away", "back", "over") and
 * colours ("a man dressed in red") are not on the list.
 */
export const FUNCTION_WORDS: readonly string[] = [
  // articles, determiners, possessives
  "a",
  "an",
  "the",
  "this",
  "that",
  "these",
  "those",
  "some",
  "another",
  "each",
  "every",
  "his",
  "her",
  "its",
  "their",
  "my",
  "your",
  "our",
  // prepositions
  "in",
  "on",
  "of",
  "with",
  "at",
  "by",
  "for",
  "from",
  "to",
  "into",
  "onto",
  "through",
  "across",
  "along",
  "under",
  "near",
  "behind",
  "between",
  "beside",
  "toward",
  "towards",
  "against",
  "above",
  "below",
  "beneath",
  "inside",
  "outside",
  "while",
  "as",
  "like",
  "next",
  // conjunctions, relative pronouns
  "and",
  "or",
  "but",
  "who",
  "which",
  "whose",
  // auxiliaries
  "is",
  "are",
  "was",
  "were",
  "be",
  "being",
  "been",
  "has",
  "have",
  "does",
  // numbers and quantifiers
  "two",
  "three",
  "four",
  "five",
  "several",
  "many",
  "few",
  "both",
  "other",
  // adjectives that come before their noun
  "little",
  "young",
  "small",
  "large",
  "big",
  "tall",
  "older",
  "very",
];

/** The indices of FUNCTION_WORDS in `vocabulary`, and of `<unk>` when it has one: the decoders' `nonFinal`. */
export function nonFinalWords(vocabulary: Vocabulary): Set<number> {
  const ids = new Set<number>();
  for (const w of [...FUNCTION_WORDS, UNKNOWN_TOKEN]) {
    const i = vocabulary.indexOf(w);
    if (i !== undefined) ids.add(i);
  }
  return ids;
}

/**
 * How sure the generator is of a phrase: its log-probability per predicted token (its words, and
 * END when it finished), as a per-word perplexity's log, so that short and long phrases compare.
 * 0 is certain; Flickr8k's region phrases score about -1 to -3.
 */
export function phraseConfidence(caption: Caption): number {
  const tokens = caption.words.length + (caption.finished ? 1 : 0);
  return tokens === 0 ? Number.NEGATIVE_INFINITY : caption.logProb / tokens;
}

/** One region's phrase. */
export interface DecodedPhrase {
  /** Its words (at least one; the last not a function word unless the vocabulary has no other). */
  readonly words: readonly string[];
  /** phraseConfidence of the beam's best. */
  readonly confidence: number;
}

export interface RegionPhraseDecoding {
  /** Beam width per region. */
  readonly beam: number;
  /** Longest phrase in words (default DEFAULT_MAX_LENGTH). */
  readonly maxLength?: number;
}

/**
 * The phrase of each region, `features` being their raw CNN codes (regions x featureDim,
 * row-major), decoded together. A region whose beam found nothing allowed (a vocabulary of
 * function words only) gets undefined.
 */
export function decodeRegionPhrases(
  generator: LoadedGenerator,
  features: Float32Array,
  decoding: RegionPhraseDecoding,
): (DecodedPhrase | undefined)[] {
  const dim = generator.model.config.featureDim;
  const normalized = generator.normalizer.apply(features);
  const steppers = Array.from({ length: features.length / dim }, (_, i) =>
    generator.model.stepper(normalized.subarray(i * dim, (i + 1) * dim)),
  );
  const beams = batchedBeamSearch(steppers, {
    beam: decoding.beam,
    lengthNormalization: 0,
    maxLength: decoding.maxLength ?? DEFAULT_MAX_LENGTH,
    nonFinal: nonFinalWords(generator.vocabulary),
  });
  return beams.map((captions) => {
    const best = captions[0];
    if (!best) return undefined;
    return { words: generator.vocabulary.decode(best.words), confidence: phraseConfidence(best) };
  });
}
