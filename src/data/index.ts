/** imagesent/data: datasets (Karpathy JSON, Flickr8k), the tokenizer and the vocabulary. */

export {
  type Dataset,
  type ImageEntry,
  type Sentence,
  SPLITS,
  type Split,
} from "./dataset.js";
export {
  FLICKR8K_CAPTIONS,
  FLICKR8K_SPLIT_FILES,
  isFlickr8kDir,
  readFlickr8k,
} from "./flickr8k.js";
export {
  parseKarpathyDataset,
  readKarpathyDataset,
  writeKarpathyDataset,
} from "./karpathy.js";
export { type DatasetSource, describeSource, loadDataset, locateDataset } from "./load.js";
export {
  computeDatasetStats,
  type DatasetStats,
  type DatasetStatsOptions,
  formatDatasetStats,
  type SplitStats,
} from "./stats.js";
export { tokenize } from "./tokenizer.js";
export {
  BOUNDARY,
  BOUNDARY_TOKEN,
  type BuildVocabularyOptions,
  buildVocabulary,
  DEFAULT_MIN_COUNT,
  UNKNOWN_POLICIES,
  UNKNOWN_TOKEN,
  type UnknownPolicy,
  Vocabulary,
  type VocabularyJSON,
  type VocabularyOptions,
} from "./vocabulary.js";
