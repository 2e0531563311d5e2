import type { Dataset, ImageEntry, Split } from "../data/dataset.js";
import { InputError } from "../errors.js";
import type { FeatureStore } from "../vision/feature-store.js";

/** The images of one split with their regions' CNN codes stacked in one matrix. */
export interface SplitFeatures {
  readonly images: readonly ImageEntry[];
  /** Regions per image kept (the first `regions` of each stored image: region 0 is the whole image). */
  readonly regions: number;
  readonly dim: number;
  /** images x regions x dim, row-major. */
  readonly features: Float32Array;
  /** Images of the split that the store lacks (left out of `images`). */
  readonly missing: readonly string[];
}

/**
 * Reads the CNN codes of the images of `splits` from a feature store in one pass over its shards
 * (reading image by image would decode a shard per image). Only the first `regions` regions of
 * each image are kept, so `regions` = 1 gives the whole-image-only model its input.
 */
export function loadSplitFeatures(
  store: FeatureStore,
  dataset: Dataset,
  splits: readonly Split[],
  regions: number,
): Map<Split, SplitFeatures> {
  const { dim, regionsPerImage } = store.meta;
  if (regions > regionsPerImage) {
    throw new InputError(
      `${store.dir}: holds ${regionsPerImage} regions per image, ${regions} were asked for`,
    );
  }
  const wanted = new Map<string, { split: Split; slot: number }>();
  const bySplit = new Map<Split, ImageEntry[]>();
  for (const split of splits) bySplit.set(split, []);
  for (const image of dataset.images) {
    const list = bySplit.get(image.split);
    if (list === undefined) continue;
    wanted.set(image.filename, { split: image.split, slot: list.length });
    list.push(image);
  }
  const buffers = new Map<Split, Float32Array>();
  const found = new Map<Split, Uint8Array>();
  for (const [split, list] of bySplit) {
    buffers.set(split, new Float32Array(list.length * regions * dim));
    found.set(split, new Uint8Array(list.length));
  }
  for (const stored of store.entries()) {
    const want = wanted.get(stored.filename);
    if (want === undefined) continue;
    if (stored.regions.length < regions) {
      throw new InputError(
        `${store.dir}: ${stored.filename} has ${stored.regions.length} regions, ${regions} are needed`,
      );
    }
    const size = regions * dim;
    buffers.get(want.split)!.set(stored.features.subarray(0, size), want.slot * size);
    found.get(want.split)!.fill(1, want.slot, want.slot + 1);
  }
  const out = new Map<Split, SplitFeatures>();
  for (const [split, list] of bySplit) {
    const have = found.get(split)!;
    const all = buffers.get(split)!;
    const missing = list.filter((_, i) => have[i] === 0).map((im) => im.filename);
    if (missing.length === 0) {
      out.set(split, { images: list, regions, dim, features: all, missing });
      continue;
    }
    const size = regions * dim;
    const kept = list.filter((_, i) => have[i] === 1);
    const features = new Float32Array(kept.length * size);
    let at = 0;
    list.forEach((_, i) => {
      if (have[i] === 1) features.set(all.subarray(i * size, (i + 1) * size), at++ * size);
    });
    out.set(split, { images: kept, regions, dim, features, missing });
  }
  return out;
}
