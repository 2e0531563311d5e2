/** imagesent/generate: the caption generators of section 3.2 (multimodal RNN, LSTM), decoding, training and evaluation. */

export {
  type AlignmentRerank,
  DEFAULT_RERANK_BEAM,
  DEFAULT_RERANK_WEIGHT,
  rerankCaptions,
  rerankWithAlignment,
} from "./alignment-rerank.js";
export {
  type PackedBatch,
  packSentences,
} from "./batch.js";
export {
  CAPTION_MODES,
  type CaptionData,
  type CaptionMode,
  type CaptionSplit,
  type CaptionTarget,
  loadCaptionData,
  normalizeCaptionData,
} from "./caption-data.js";
export {
  type CaptionModel,
  type CaptionModelConfig,
  CELL_KINDS,
  type CellKind,
  DEFAULT_MODEL,
  type Stepper,
} from "./caption-model.js";
export { createCaptionModel } from "./create-model.js";
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
} from "./decoding.js";
export {
  type DecodeSettings,
  type Evaluation,
  evaluateGenerator,
} from "./evaluate.js";
export { type LoadedGenerator, loadGenerator } from "./load-generator.js";
export { Lstm } from "./lstm.js";
export { MultimodalRnn } from "./multimodal-rnn.js";
export { nearestNeighbourCaptions } from "./nearest-neighbour.js";
export {
  DEFAULT_REGION_LENGTH_NORMALIZATION,
  DEFAULT_REGION_RERANK,
  type DecodedPhrase,
  decodeRegionPhrases,
  FUNCTION_WORDS,
  nonFinalWords,
  phraseConfidence,
  type RegionPhraseDecoding,
} from "./region-phrases.js";
export {
  DEFAULT_TRAINING,
  type GeneratorConfig,
  type TrainingOptions,
  trainGenerator,
} from "./train.js";
