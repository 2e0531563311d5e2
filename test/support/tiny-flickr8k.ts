import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../../src/core/rng.js";
import { FeatureStore } from "../../src/vision/feature-store.js";
import type { Region } from "../../src/vision/image.js";

/**
 * A Flickr8k folder in `dir`: the token file with one caption for every image of the splits,
 * and the three split files. Returns `dir`.
 */
export function writeFlickr8kFolder(
  dir: string,
  splits: { readonly train?: readonly string[]; readonly val?: readonly string[] },
  caption: string,
): string {
  mkdirSync(dir, { recursive: true });
  const train = splits.train ?? [];
  const val = splits.val ?? [];
  const lines = (files: readonly string[]) => files.map((f) => `${f}\n`).join("");
  writeFileSync(
    join(dir, "Flickr8k.token.txt"),
    lines([...train, ...val].map((f) => `${f}#0\t${caption}`)),
  );
  writeFileSync(join(dir, "Flickr_8k.trainImages.txt"), lines(train));
  writeFileSync(join(dir, "Flickr_8k.devImages.txt"), lines(val));
  writeFileSync(join(dir, "Flickr_8k.testImages.txt"), "");
  return dir;
}

/**
 * A feature store in `dir` of `filenames` (ids in that order), each 100 x 50 with `regions`
 * (the whole image first) and normal random codes of `dim` values a region. Returns `dir`.
 */
export function writeRandomStore(
  dir: string,
  filenames: readonly string[],
  dim: number,
  regions: readonly Region[],
  seed: number,
): string {
  const store = FeatureStore.openForWriting(dir, {
    encoder: "test",
    dim,
    regionsPerImage: regions.length,
    detector: null,
  });
  const rng = new Rng(seed);
  store.append(
    filenames.map((filename, id) => ({
      filename,
      id,
      width: 100,
      height: 50,
      regions: [...regions],
      features: Float32Array.from({ length: regions.length * dim }, () => rng.normal()),
    })),
  );
  store.close();
  return dir;
}
