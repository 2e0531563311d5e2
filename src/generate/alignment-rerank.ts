import { loadSplitFeatures } from "../align/image-features.js";
import type { AlignmentFusion } from "../align/score-fusion.js";
import type { Dataset, Split } from "../data/dataset.js";
import type { Vocabulary } from "../data/vocabulary.js";
import { InputError } from "../errors.js";
import type { FeatureStore } from "../vision/feature-store.js";
import type { CaptionTarget } from "./caption-data.js";
import { type Caption, rankScore } from "./decoding.js";
import type { SplitRerank } from "./evaluate.js";

/**
 * Reranking a beam with the alignment model of section 3.1. The generator sees one whole-image
 * code and proposes; the alignment model sees the image's regions and judges how well each
 * proposal matches them. A beam's finished captions are reordered by
 *
 *   logProb / length^alpha + weight * S(image, caption)
 *
 * with S the image-sentence score S_kl = sum_t max_i v_i . s_t of the alignment model, or of a
 * fusion of several (fuse-align). S sums over the caption's words, so besides preferring captions
 * that match the image it rewards saying more about it. The weight is in the units of S, which the
 * ranking loss's margin of 1 sets for any trained model; it is tuned on val (docs/generator.md).
 */

/** The weight chosen on Flickr8k val for the fused alignment models (docs/generator.md). */
export const DEFAULT_RERANK_WEIGHT = 0.25;
/** The beam reranking is tuned at: a wider beam gives the alignment model more to choose from. */
export const DEFAULT_RERANK_BEAM = 15;

/** The alignment scorer and how much its score counts against the generator's. */
export interface AlignmentRerank {
  readonly scorer: AlignmentFusion;
  readonly weight: number;
}

/**
 * Captions ordered by rankScore(caption, alpha) + weight x imageScores[i], best first (a stable
 * order: ties keep the beam's order). S sums over words, so a caption that says the same thing
 * twice ("a man wearing a black hat and a black hat") is credited twice: captions that repeat a
 * word pair come after all the others.
 */
export function rerankCaptions(
  captions: readonly Caption[],
  imageScores: ArrayLike<number>,
  weight: number,
  alpha: number,
): Caption[] {
  if (imageScores.length !== captions.length) {
    throw new RangeError(
      `rerankCaptions: ${imageScores.length} image scores for ${captions.length} captions`,
    );
  }
  return captions
    .map((caption, i) => ({
      caption,
      repeats: repeatsWordPair(caption.words),
      score: rankScore(caption, alpha) + weight * imageScores[i],
    }))
    .sort((a, b) => Number(a.repeats) - Number(b.repeats) || b.score - a.score)
    .map((x) => x.caption);
}

/** Whether two neighbouring words occur together twice in `words`. */
export function repeatsWordPair(words: readonly number[]): boolean {
  const seen = new Set<string>();
  for (let i = 0; i + 1 < words.length; i++) {
    const pair = `${words[i]} ${words[i + 1]}`;
    if (seen.has(pair)) return true;
    seen.add(pair);
  }
  return false;
}

/**
 * One image's beam reranked: `features` are the image's raw CNN codes, regions x featureDim with
 * the whole image first (as a feature store or describe holds them), `vocabulary` the
 * generator's, which turns the captions back into words for the alignment models' own
 * vocabularies. Weight 0 is no reranking: the beam comes back in its own order.
 */
export function rerankWithAlignment(
  captions: readonly Caption[],
  vocabulary: Vocabulary,
  features: Float32Array,
  rerank: AlignmentRerank,
  alpha: number,
): Caption[] {
  if (captions.length < 2 || rerank.weight === 0) return [...captions];
  const { scorer } = rerank;
  const dim = scorer.members[0].model.config.featureDim;
  if (features.length === 0 || features.length % dim !== 0) {
    throw new InputError(
      `rerank: ${features.length} feature values are not whole ${dim}-d regions (the alignment model's)`,
    );
  }
  const regions = features.length / dim;
  const vs = scorer.embedImages(features, 1, regions);
  const scores = scorer.scoreEmbedded(
    vs,
    1,
    captions.map((c) => vocabulary.decode(c.words)),
  );
  return rerankCaptions(captions, scores, rerank.weight, alpha);
}

/**
 * The raw region codes a scorer needs for each full-frame target of a split, in target order,
 * read from the feature store the targets came from.
 */
export function loadSplitRerank(
  scorer: AlignmentFusion,
  store: FeatureStore,
  dataset: Dataset,
  split: Split,
  targets: readonly CaptionTarget[],
): SplitRerank {
  const dim = scorer.members[0].model.config.featureDim;
  if (store.meta.dim !== dim) {
    throw new InputError(
      `${store.dir}: ${store.meta.dim}-d features, the alignment model ${scorer.members[0].checkpoint} takes ${dim}-d`,
    );
  }
  const { regions } = scorer;
  const stored = loadSplitFeatures(store, dataset, [split], regions).get(split)!;
  const row = new Map(stored.images.map((image, k) => [image.filename, k]));
  const size = regions * dim;
  const features = new Float32Array(targets.length * size);
  targets.forEach((t, i) => {
    const k = row.get(t.filename);
    if (k === undefined || t.region !== 0) {
      throw new InputError(`rerank: ${t.key} is not a whole image of ${store.dir}`);
    }
    features.set(stored.features.subarray(k * size, (k + 1) * size), i * size);
  });
  return { scorer, features, regions };
}
