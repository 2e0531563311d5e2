import { type ErrorClass, JsonFields } from "../json-fields.js";

/** The alignment model's shape (section 3.1); saved in checkpoints, so a model rebuilds itself. */
export interface AlignmentConfig {
  /** Length of the CNN codes the regions come as (1280 for MobileNetV2, 4096 for VGG fc7). */
  readonly featureDim: number;
  /** Regions per image the model reads: 20 (whole image + 19 detections) or 1 (whole image). */
  readonly regions: number;
  /** h, the multimodal embedding size shared by regions and words (paper: 1000-1600). */
  readonly embed: number;
  /** The BRNN's hidden size (paper: 300-600). */
  readonly hidden: number;
  /** Length of the word vectors x_t (paper: 300-d word2vec). */
  readonly wordDim: number;
  /** Rows of the word-vector table, the vocabulary's size. */
  readonly vocabSize: number;
  /** Whether the word vectors are trained (the paper keeps word2vec fixed; we start from random). */
  readonly trainWordVectors: boolean;
}

export const DEFAULT_ALIGNMENT_CONFIG = {
  regions: 20,
  embed: 1000,
  hidden: 500,
  wordDim: 300,
  trainWordVectors: true,
} as const satisfies Partial<AlignmentConfig>;

/**
 * How the batch loss treats negatives: "sum" is the paper's hinge summed over every mismatched
 * pair in the batch; "hardest" keeps only the most violating one per row and column (VSE++).
 */
export type RankingLossKind = "sum" | "hardest";
export const RANKING_LOSS_KINDS: readonly RankingLossKind[] = ["sum", "hardest"];

/** How a model is trained; saved beside the model config so a resumed run keeps to it. */
export interface TrainConfig {
  readonly epochs: number;
  /** Image-sentence pairs per batch (paper: 100). */
  readonly batchSize: number;
  /**
   * 1e-4 by default: on Flickr8k 5e-4 collapsed every s_t to 0 (dead ReLUs) within 75 updates and
   * 2e-4 within an epoch.
   */
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  /**
   * Dropout on the non-recurrent layers' inputs: CNN codes, word vectors, BRNN output. Off by
   * default: in short Flickr8k runs on val, 0.2 slowed learning (R@10 25 -> 14-21 after one
   * epoch on 1,500 images) and 0.5 barely learned within the 25-minute budget.
   */
  readonly dropout: number;
  /** Elementwise gradient clip (paper: 5). */
  readonly clip: number;
  readonly margin: number;
  readonly loss: RankingLossKind;
  /**
   * Iterations over which the learning rate rises linearly from 0: the first updates, while the
   * random model's scores are large, are the ones that can kill every ReLU of s_t.
   */
  readonly warmup: number;
  /** Multiply the learning rate by this after every epoch. */
  readonly lrDecay: number;
  /** Save the resumable checkpoint every this many iterations. */
  readonly checkpointEvery: number;
  readonly seed: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  epochs: 10,
  batchSize: 100,
  lr: 1e-4,
  momentum: 0.9,
  weightDecay: 1e-4,
  dropout: 0,
  clip: 5,
  margin: 1,
  loss: "sum",
  lrDecay: 0.9,
  warmup: 100,
  checkpointEvery: 50,
  seed: 1,
};

/** Reads a saved AlignmentConfig back; errors name `where` (the file) and the field's path. */
export function parseAlignmentConfig(
  value: unknown,
  where: string,
  options: { path?: string; error?: ErrorClass } = {},
): AlignmentConfig {
  const r = JsonFields.of(value, where, options);
  const size = (key: keyof AlignmentConfig) => r.number(key, { integer: true, min: 1 });
  return {
    featureDim: size("featureDim"),
    regions: size("regions"),
    embed: size("embed"),
    hidden: size("hidden"),
    wordDim: size("wordDim"),
    vocabSize: size("vocabSize"),
    trainWordVectors: r.boolean("trainWordVectors"),
  };
}
