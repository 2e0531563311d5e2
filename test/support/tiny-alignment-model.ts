import { AlignmentModel } from "../../src/align/model.js";
import { Vocabulary } from "../../src/data/vocabulary.js";
import { FeatureNormalizer } from "../../src/vision/feature-normalizer.js";

/** The tiny vocabulary of `tinyAlignmentModel`. */
export const TINY_WORDS = ["a", "dog", "runs", "on", "the", "beach", "red", "ball"];

/**
 * An untrained alignment model small enough for gradient checks: h 5, hidden 4, 3-d words.
 * Its feature normaliser maps +-1 codes to +-1 (the identity) unless `shift` moves the mean the
 * codes are centred on, which makes normalisation visible in scores.
 */
export function tinyAlignmentModel(
  seed: number,
  options: { featureDim?: number; regions?: number; shift?: number } = {},
): AlignmentModel {
  const { featureDim = 6, regions = 3, shift = 0 } = options;
  const vocabulary = Vocabulary.fromSentences([TINY_WORDS], { minCount: 1 });
  const normalizer = FeatureNormalizer.fit(
    [new Float32Array(featureDim).fill(1 + shift), new Float32Array(featureDim).fill(-1 + shift)],
    featureDim,
  );
  const config = {
    featureDim,
    regions,
    embed: 5,
    hidden: 4,
    wordDim: 3,
    vocabSize: vocabulary.size,
    trainWordVectors: true,
  };
  return new AlignmentModel(config, vocabulary, normalizer, seed);
}
