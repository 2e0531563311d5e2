/** imagesent/app: the parts Describer and Searcher are built from (vision setup, region features, the image index). */

export {
  DEFAULT_REGION_BEAM,
  type DescribeOptions,
  Describer,
  type DescriberParts,
  type ImageDescription,
  type LoadOptions,
  type RegionDescription,
} from "./describer.js";
export { type DescribedImage, descriptionPage } from "./description-page.js";
export { ImageIndex, INDEX_FORMAT, INDEX_VERSION } from "./image-index.js";
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
} from "./model-bundle.js";
export { type ImageInput, type RegionFeatures, regionFeatures } from "./region-features.js";
export {
  type ImageHit,
  type IndexInput,
  type IndexResult,
  type PhraseRegion,
  Searcher,
  type SearchOptions,
  type SentenceHit,
} from "./searcher.js";
export {
  type OpenVisionOptions,
  openVisionModels,
  PIXEL_STATS_SETUP,
  type PixelStatsSpec,
  parseVisionSetup,
  type VisionModels,
  type VisionSetup,
} from "./vision-setup.js";
