/** imagesent/align: the alignment model of section 3.1 (BRNN, region embedding, S_kl, ranking loss), its training, retrieval and score fusion. */

export { imageSentenceScores, wordRegionScores } from "./alignment-score.js";
export { epochBatches, type Pair } from "./batches.js";
export { type BrnnWeights, brnn, type DropoutSetting } from "./brnn.js";
export {
  type AlignmentConfig,
  DEFAULT_ALIGNMENT_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  RANKING_LOSS_KINDS,
  type RankingLossKind,
  type TrainConfig,
} from "./config.js";
export { loadSplitFeatures, type SplitFeatures } from "./image-features.js";
export { AlignmentModel, type WordRegionScores } from "./model.js";
export { rankingLoss } from "./ranking-loss.js";
export { embedRegions } from "./region-embedding.js";
export {
  evaluateRetrieval,
  type RetrievalMetrics,
  type RetrievalResult,
  recallSum,
  retrievalMetrics,
  scoreEmbedded,
  scoreSplit,
  splitSentences,
} from "./retrieval.js";
export { PAPER_FLICKR8K, retrievalMarkdown } from "./retrieval-report.js";
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
} from "./score-fusion.js";
export {
  type AlignmentProgress,
  type EpochRecord,
  type TrainAlignmentOptions,
  type TrainAlignmentResult,
  trainAlignment,
} from "./train.js";
export {
  type GroundTruthImage,
  type WordGroundingResult,
  wordGrounding,
} from "./word-grounding.js";
