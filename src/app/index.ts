/** imagesent/app: the parts Describer and Searcher are built from (vision setup, region features, the image index). */

export {
  DEFAULT_REGION_BEAM,
  type DescribeOptions,
  Describer,
  type DescriberParts,
  type ImageDescription,
  type LoadOptions,
  type RegionDescription,
  type RegionPhrase,
} from "./describer.js";
export { type DescribedImage, descriptionPage } from "./description-page.js";
export {
  ImageIndex,
  INDEX_FORMAT,
  INDEX_VERSION,
  type IndexedImage,
  type IndexManifest,
  type IndexSpec,
  type NewImage,
} from "./image-index.js";
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
export { REGION_CODECS, type RegionCodec } from "./region-codes.js";
export { type ImageInput, type RegionFeatures, regionFeatures } from "./region-features.js";
export {
  type LabelRequest,
  type PlacedLabel,
  placeLabels,
  regionColour,
  textColourOn,
} from "./region-labels.js";
export {
  contradictsLabel,
  DEFAULT_LABEL_SCORE,
  DEFAULT_MIN_CONFIDENCE,
  DEFAULT_REGION_PHRASES,
  type HiddenBecause,
  hiddenBecause,
  parseRegionPhrases,
  type RegionPhraseSetting,
} from "./region-phrase-filter.js";
export {
  chooseMinConfidence,
  type PhraseSample,
  phraseAgrees,
  phraseSamples,
  type ThresholdChoice,
} from "./region-phrase-threshold.js";
export { RegionEmbedder } from "./region-vectors.js";
export {
  CALIBRATION_FILE,
  calibrateSearch,
  type SearchCalibration,
} from "./search-calibration.js";
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
