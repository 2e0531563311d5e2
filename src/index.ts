/** imagesent's library API. */

export { imageSentenceScores, wordRegionScores } from "./align/alignment-score.js";
export { epochBatches, type Pair } from "./align/batches.js";
export { type BrnnWeights, brnn, type DropoutSetting } from "./align/brnn.js";
export {
  type AlignmentConfig,
  DEFAULT_ALIGNMENT_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  RANKING_LOSS_KINDS,
  type RankingLossKind,
  type TrainConfig,
} from "./align/config.js";
export { loadSplitFeatures, type SplitFeatures } from "./align/image-features.js";
export { AlignmentModel, type WordRegionScores } from "./align/model.js";
export { rankingLoss } from "./align/ranking-loss.js";
export { embedRegions } from "./align/region-embedding.js";
export {
  evaluateRetrieval,
  type RetrievalMetrics,
  type RetrievalResult,
  recallSum,
  retrievalMetrics,
  scoreEmbedded,
  scoreSplit,
  splitSentences,
} from "./align/retrieval.js";
export { PAPER_FLICKR8K, retrievalMarkdown } from "./align/retrieval-report.js";
export {
  ALIGNMENT_FUSION_FORMAT,
  AlignmentFusion,
  type FusionMember,
  type FusionTuning,
  firstRegions,
  isFusionPath,
  memberScores,
  scoreSpread,
  tuneFusionWeights,
} from "./align/score-fusion.js";
export {
  type EpochRecord,
  type TrainAlignmentOptions,
  type TrainAlignmentResult,
  trainAlignment,
} from "./align/train.js";
export { type WordGroundingResult, wordGrounding } from "./align/word-grounding.js";
export {
  DEFAULT_REGION_BEAM,
  type DescribeOptions,
  Describer,
  type DescriberParts,
  type ImageDescription,
  type LoadOptions,
  type RegionDescription,
} from "./app/describer.js";
export { type DescribedImage, descriptionPage } from "./app/description-page.js";
export { ImageIndex, INDEX_FORMAT, INDEX_VERSION } from "./app/image-index.js";
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
export { type ImageInput, type RegionFeatures, regionFeatures } from "./app/region-features.js";
export {
  type ImageHit,
  type IndexInput,
  type IndexResult,
  type PhraseRegion,
  Searcher,
  type SearchOptions,
  type SentenceHit,
} from "./app/searcher.js";
export {
  type OpenVisionOptions,
  openVisionModels,
  PIXEL_STATS_SETUP,
  type PixelStatsSpec,
  parseVisionSetup,
  type VisionModels,
  type VisionSetup,
} from "./app/vision-setup.js";
export * from "./core/index.js";
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
} from "./data/vocabulary.js";
export { InputError } from "./errors.js";
export { type BleuScore, bleu } from "./eval/bleu.js";
export { type CiderOptions, ciderD } from "./eval/cider.js";
export { type ImageId, readCocoReferences, readCocoResults } from "./eval/coco-format.js";
export {
  METEOR_EN,
  METEOR_NAME,
  type MeteorParameters,
  type MeteorStats,
  meteor,
  meteorFromStats,
  meteorStats,
} from "./eval/meteor/meteor.js";
export { PTB_PUNCTUATION, ptbTokenize } from "./eval/ptb-tokenizer.js";
export { rougeL } from "./eval/rouge.js";
export {
  type CaptionMetrics,
  type CaptionScores,
  scoreCaptions,
  scoreTokenized,
} from "./eval/score.js";
export type { MetricScore, TokenizedImage } from "./eval/types.js";
export {
  type AlignmentRerank,
  DEFAULT_RERANK_BEAM,
  DEFAULT_RERANK_WEIGHT,
  rerankCaptions,
  rerankWithAlignment,
} from "./generate/alignment-rerank.js";
export {
  type PackedBatch,
  packSentences,
} from "./generate/batch.js";
export {
  CAPTION_MODES,
  type CaptionData,
  type CaptionMode,
  type CaptionSplit,
  type CaptionTarget,
  loadCaptionData,
  normalizeCaptionData,
} from "./generate/caption-data.js";
export {
  type CaptionModel,
  type CaptionModelConfig,
  CELL_KINDS,
  type CellKind,
  DEFAULT_MODEL,
  type Stepper,
} from "./generate/caption-model.js";
export { createCaptionModel } from "./generate/create-model.js";
export {
  type BeamOptions,
  batchedBeamSearch,
  beamSearch,
  type Caption,
  DEFAULT_BEAM,
  DEFAULT_LENGTH_NORMALIZATION,
  DEFAULT_MAX_LENGTH,
  greedy,
  rankScore,
  sample,
} from "./generate/decoding.js";
export {
  type DecodeSettings,
  type Evaluation,
  evaluateGenerator,
} from "./generate/evaluate.js";
export { type LoadedGenerator, loadGenerator } from "./generate/load-generator.js";
export { Lstm } from "./generate/lstm.js";
export { MultimodalRnn } from "./generate/multimodal-rnn.js";
export { nearestNeighbourCaptions } from "./generate/nearest-neighbour.js";
export {
  DEFAULT_TRAINING,
  type GeneratorConfig,
  type TrainingOptions,
  trainGenerator,
} from "./generate/train.js";
export { alignToSnippets, type SplitAlignmentJob } from "./mrf/align-split.js";
export {
  type AlignmentView,
  alignmentFigure,
  alignmentPage,
  imageDataUri,
  type PageOptions,
} from "./mrf/alignment-page.js";
export {
  type BetaResult,
  betaGrid,
  chooseBeta,
  DEFAULT_BETAS,
  type GroundedImage,
  gridTable,
  phraseUpperBound,
  type SplitGrid,
  worldBetaGrid,
} from "./mrf/beta-grid.js";
export {
  alignChain,
  alignChainBruteForce,
  type ChainAlignment,
  chainEnergy,
  type ScoreMatrix,
  wordArgmax,
} from "./mrf/chain-mrf.js";
export { alignmentView, type FigureTruth } from "./mrf/gallery.js";
export {
  countPhrases,
  emptyCounts,
  type GroundedAlignment,
  IOU_THRESHOLD,
  type PhraseCounts,
  rate,
  type Tally,
} from "./mrf/phrase-accuracy.js";
export {
  alignScored,
  alignSentence,
  DEFAULT_BETA,
  type SentenceScores,
  scoreSentence,
  type WordRegionScorer,
} from "./mrf/phrase-alignment.js";
export { type Segment, segmentsOf } from "./mrf/segments.js";
export {
  formatSnippet,
  parseSnippetLine,
  parseSnippets,
  readSnippets,
  type Snippet,
  SnippetAppender,
  sentenceSnippets,
  writeSnippets,
} from "./mrf/snippets.js";
export { boxArea, clipBox, iou, wholeImageBox } from "./vision/boxes.js";
export { decodeImage } from "./vision/decode.js";
export { Detector } from "./vision/detector.js";
export {
  type ExtractOptions,
  type ExtractResult,
  extractFeatures,
  type ImageJob,
  imageRegions,
} from "./vision/extract.js";
export { FALLBACK_FRACTIONS, fallbackBoxes } from "./vision/fallback-boxes.js";
export {
  FeatureStore,
  STORE_FORMAT,
  STORE_VERSION,
  type StoredImage,
  type StoreMeta,
} from "./vision/feature-store.js";
export type { Box, Region, RegionSource, RgbImage } from "./vision/image.js";
export {
  DEFAULT_PREPROCESS,
  DETECTOR_PRESETS,
  type DetectorConfig,
  ENCODER_PRESETS,
  type EncoderConfig,
  loadModelConfig,
  type ModelConfig,
  type PreprocessConfig,
  parseModelConfig,
} from "./vision/model-config.js";
export { ModelRegistry, modelCacheDir } from "./vision/model-registry.js";
export { type Detection, nonMaxSuppression } from "./vision/nms.js";
export { OnnxEncoder } from "./vision/onnx-encoder.js";
export { addGraphOutputs, readOnnxGraph } from "./vision/onnx-proto.js";
export {
  DEFAULT_PIXEL_STATS_OPTIONS,
  PixelStatsEncoder,
  type PixelStatsOptions,
} from "./vision/pixel-stats-encoder.js";
export type { RegionEncoder } from "./vision/region-encoder.js";
export { type LabelledDetection, selectRegions } from "./vision/regions.js";
export { decodeYolox, type YoloxLayout } from "./vision/yolox.js";
export {
  BACKGROUND_KINDS,
  type Background,
  type BackgroundKind,
  TONES,
  type Tone,
} from "./world/background.js";
export {
  DEFAULT_WORLD_OPTIONS,
  type GeneratedWorld,
  generateWorld,
  sampleWorld,
  type WorldOptions,
} from "./world/generate.js";
export { proposeRegions, REGIONS_PER_IMAGE } from "./world/proposals.js";
export { renderScene } from "./world/render.js";
export {
  COLOURS,
  type ColourName,
  type Scene,
  SHAPES,
  type ShapeName,
  SIZES,
  type SizeName,
  sampleScene,
  type WorldObject,
} from "./world/scene.js";
export {
  describeScene,
  type GroundedSentence,
  type ReferringSpan,
  referringSpans,
  relation,
} from "./world/sentences.js";
export {
  formatWorld,
  parseWorld,
  readWorldFile,
  type World,
  type WorldImage,
  type WorldSentence,
  worldToDataset,
  writeWorldFile,
} from "./world/world-file.js";
