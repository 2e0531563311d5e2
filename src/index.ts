/**
 * imagesent's library API: describe and search images with a model bundle, read datasets and
 * score captions. The research internals each have their own entry point, listed in README's
 * "Library API": imagesent/core, /data, /vision, /align, /mrf, /generate, /eval, /app, /world.
 */

export {
  DEFAULT_REGION_BEAM,
  type DescribeOptions,
  Describer,
  type ImageDescription,
  type LoadOptions,
  type RegionDescription,
  type RegionPhrase,
} from "./app/describer.js";
export { type DescribedImage, descriptionPage } from "./app/description-page.js";
export {
  BUNDLE_FILE,
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  BundleCache,
  type BundleManifest,
  bundleCacheDir,
  type CaptionRerankSetting,
  loadBundle,
  type ModelBundle,
  parseBundleManifest,
  readBundleManifest,
  type WriteBundleOptions,
  writeBundle,
} from "./app/model-bundle.js";
export type { ImageInput } from "./app/region-features.js";
export type { RegionPhraseSetting } from "./app/region-phrase-filter.js";
export {
  DEFAULT_RANKING,
  type ImageHit,
  type ImageSearch,
  type IndexInput,
  type IndexResult,
  type PhraseRegion,
  type RankingOptions,
  Searcher,
  type SearcherOptions,
  type SearchOptions,
  type SentenceHit,
} from "./app/searcher.js";
export {
  PIXEL_STATS_SETUP,
  type PixelStatsSpec,
  parseVisionSetup,
  type VisionSetup,
} from "./app/vision-setup.js";
export {
  type Dataset,
  type ImageEntry,
  type Sentence,
  SPLITS,
  type Split,
} from "./data/dataset.js";
export {
  FLICKR8K_CAPTIONS,
  FLICKR8K_SPLIT_FILES,
  isFlickr8kDir,
  readFlickr8k,
} from "./data/flickr8k.js";
export {
  parseKarpathyDataset,
  readKarpathyDataset,
  writeKarpathyDataset,
} from "./data/karpathy.js";
export { type DatasetSource, describeSource, loadDataset, locateDataset } from "./data/load.js";
export {
  computeDatasetStats,
  type DatasetStats,
  type DatasetStatsOptions,
  formatDatasetStats,
  type SplitStats,
} from "./data/stats.js";
export { tokenize } from "./data/tokenizer.js";
export { InputError } from "./errors.js";
export * from "./eval/index.js";
export {
  DEFAULT_BEAM,
  DEFAULT_LENGTH_NORMALIZATION,
  DEFAULT_MAX_LENGTH,
} from "./generate/decoding.js";
export type { Box, Region, RegionSource } from "./vision/image.js";
