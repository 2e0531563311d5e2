import { UNKNOWN_TOKEN, type Vocabulary } from "../data/vocabulary.js";
import { type AlignmentRerank, rerankCaptions } from "./alignment-rerank.js";
import { batchedBeamSearch, type Caption, DEFAULT_MAX_LENGTH } from "./decoding.js";
import type { LoadedGenerator } from "./load-generator.js";
import type { ConsensusRerank } from "./snippet-consensus.js";

/**
 * How region phrases are decoded: every region of an image in one batched beam search, with END
 * forbidden where it would leave an empty phrase or one that ends on a function word; each
 * region's beam then ranked by
 *
 *   logProb / length^alpha + w_S S(region, phrase) + w_C C(region, phrase)
 *
 * S the alignment model's score of the phrase on that region (generate/alignment-rerank.ts: the
 * region's crop is a one-region image to it) and C the phrase's consensus with the snippets of the
 * nearest train regions (generate/snippet-consensus.ts), each when given.
 */

/**
 * The length normalisation region phrases are ranked by (rankScore's alpha) unless told
 * otherwise; describe, region-threshold and eval-regions share it. Chosen on Flickr30k Entities
 * val (Table 3, eval-regions, bundles/flickr8k at beam 3): ranked by logProb (0) the beam prefers
 * the likeliest generic phrase, "a man" for 37% of the regions; 0.5 lets a longer, more specific
 * one win ("a group of people") and took CIDEr-D from 54.8 to 56.7, METEOR from 11.1 to 11.8,
 * BLEU-1 from 38.3 to 36.8. 0.7 gains no more that holds (57.0 here, 0.2 less than 0.5 on a
 * model trained on other snippets) and costs BLEU-1 more (36.1; 35.4 at beam 7).
 */
export const DEFAULT_REGION_LENGTH_NORMALIZATION = 0.5;

/**
 * The region rerank chosen on Flickr30k Entities val (Table 3, eval-regions, bundles/flickr8k;
 * docs/generator.md): a beam of 10 ranked by logProb / length^0.5 + 0.15 S, S the fused score of
 * the bundle's three search models for the phrase on the region, took CIDEr-D from 56.7 to 59.2
 * and METEOR from 11.8 to 12.5 (BLEU-1 36.8 to 36.5). The weight is in the units of S, so a
 * bundle of other alignment models needs its own (eval-regions --region-rerank on val).
 */
export const DEFAULT_REGION_RERANK = { weight: 0.15, beam: 10 } as const;

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
  /** Ranks the beam by logProb / length^alpha (default DEFAULT_REGION_LENGTH_NORMALIZATION). */
  readonly lengthNormalization?: number;
  /** Adds weight x S(region, phrase) of the alignment model(s) to that rank (default none). */
  readonly rerank?: AlignmentRerank;
  /** Adds weight x C(region, phrase), its snippet consensus, to that rank (default none). */
  readonly consensus?: ConsensusRerank;
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
  const alpha = decoding.lengthNormalization ?? DEFAULT_REGION_LENGTH_NORMALIZATION;
  const beams = batchedBeamSearch(steppers, {
    beam: decoding.beam,
    lengthNormalization: alpha,
    maxLength: decoding.maxLength ?? DEFAULT_MAX_LENGTH,
    nonFinal: nonFinalWords(generator.vocabulary),
  });
  const ranked =
    decoding.rerank || decoding.consensus
      ? rerankBeams(beams, generator.vocabulary, features, decoding, alpha)
      : beams;
  return ranked.map((captions) => {
    const best = captions[0];
    if (!best) return undefined;
    return { words: generator.vocabulary.decode(best.words), confidence: phraseConfidence(best) };
  });
}

/**
 * Each region's beam in rerankCaptions' order by w_S S + w_C C. S comes from one call of the
 * scorer: the regions (rows of raw `features`) embedded once as one-region images, each distinct
 * phrase of all the beams encoded once and scored against every region.
 */
function rerankBeams(
  beams: readonly Caption[][],
  vocabulary: Vocabulary,
  features: Float32Array,
  decoding: RegionPhraseDecoding,
  alpha: number,
): Caption[][] {
  const words = beams.map((beam) => beam.map((c) => vocabulary.decode(c.words)));
  const bonus = beams.map((beam) => new Float64Array(beam.length));
  const { rerank, consensus } = decoding;
  if (rerank && rerank.weight !== 0) {
    const index = new Map<string, number>();
    const phrases: string[][] = [];
    const columns = words.map((beam) =>
      beam.map((w) => {
        const key = w.join(" ");
        let j = index.get(key);
        if (j === undefined) {
          j = phrases.length;
          index.set(key, j);
          phrases.push(w);
        }
        return j;
      }),
    );
    if (phrases.length > 0) {
      const { scorer } = rerank;
      const S = scorer.scoreEmbedded(
        scorer.embedImages(features, beams.length, 1),
        beams.length,
        phrases,
      );
      columns.forEach((column, i) => {
        column.forEach((j, k) => {
          bonus[i][k] += rerank.weight * S[i * phrases.length + j];
        });
      });
    }
  }
  if (consensus && consensus.weight !== 0) {
    const C = consensus.consensus.scores(features, words, consensus.neighbours);
    C.forEach((row, i) => {
      row.forEach((c, k) => {
        bonus[i][k] += consensus.weight * c;
      });
    });
  }
  return beams.map((beam, i) => rerankCaptions(beam, bonus[i], 1, alpha));
}
