/** imagesent/eval: caption metrics (BLEU, METEOR, ROUGE-L, CIDEr-D), PTB tokenization and COCO-format files. */

export { type BleuScore, bleu } from "./bleu.js";
export { type CiderOptions, ciderD } from "./cider.js";
export { type ImageId, readCocoReferences, readCocoResults } from "./coco-format.js";
export {
  METEOR_EN,
  METEOR_NAME,
  type MeteorParameters,
  type MeteorStats,
  meteor,
  meteorFromStats,
  meteorStats,
} from "./meteor/meteor.js";
export { PTB_PUNCTUATION, ptbTokenize } from "./ptb-tokenizer.js";
export { rougeL } from "./rouge.js";
export {
  type CaptionMetrics,
  type CaptionScores,
  scoreCaptions,
  scoreTokenized,
} from "./score.js";
export type { MetricScore, TokenizedImage } from "./types.js";
