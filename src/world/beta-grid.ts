import type { Split } from "../data/dataset.js";
import { InputError } from "../errors.js";
import {
  type BetaResult,
  betaGrid,
  type GroundedImage,
  phraseUpperBound,
} from "../mrf/beta-grid.js";
import type { Tally } from "../mrf/phrase-accuracy.js";
import type { WordRegionScorer } from "../mrf/phrase-alignment.js";
import type { FeatureStore } from "../vision/feature-store.js";
import type { World } from "./world-file.js";

export interface SplitGrid {
  readonly split: Split;
  readonly images: number;
  readonly results: readonly BetaResult[];
  /** phraseUpperBound of the split. */
  readonly bound: Tally;
}

/**
 * The beta grid over one split of a world, with the region features and boxes of `store`.
 * Throws an InputError when the split is empty or the store lacks some of its images.
 */
export function worldBetaGrid(
  scorer: WordRegionScorer,
  world: World,
  store: FeatureStore,
  split: Split,
  betas: readonly number[],
  onImage: () => void = () => {},
): SplitGrid {
  const images = world.images.filter((im) => im.split === split);
  if (images.length === 0) throw new InputError(`the world has no ${split} images`);
  const missing = images.filter((im) => !store.has(im.filename));
  if (missing.length > 0) {
    throw new InputError(
      `${store.dir}: lacks ${missing.length} of the world's ${images.length} ${split} images (e.g. ${missing[0].filename})`,
    );
  }
  const grounded = function* (): Generator<GroundedImage> {
    for (const image of images) {
      const stored = store.get(image.filename)!;
      yield { image, features: stored.features, regionBoxes: stored.regions.map((r) => r.box) };
    }
  };
  return {
    split,
    images: images.length,
    results: betaGrid(scorer, grounded(), betas, onImage),
    bound: phraseUpperBound(grounded()),
  };
}
