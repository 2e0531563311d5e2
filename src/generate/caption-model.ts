import type { Params } from "../core/params.js";
import type { Rng } from "../core/rng.js";
import type { Tensor } from "../core/tensor.js";
import { type ErrorClass, inRange, JsonFields } from "../json-fields.js";
import type { PackedBatch } from "./batch.js";

/** The recurrent cell: the paper's ReLU RNN, or the LSTM neuraltalk also offered. */
export type CellKind = "rnn" | "lstm";
export const CELL_KINDS: readonly CellKind[] = ["rnn", "lstm"];

/** Everything that fixes a generator's shapes; saved in its checkpoints. */
export interface CaptionModelConfig {
  readonly cell: CellKind;
  /** Size of the CNN code fed at the first step (1280 for MobileNetV2). */
  readonly featureDim: number;
  /** Softmax outputs: the vocabulary size, boundary token included. */
  readonly vocabSize: number;
  /** Hidden units (the paper: 512). */
  readonly hidden: number;
  /** Word-vector size. */
  readonly embed: number;
  /** Dropout on the image code, the word vectors and the hidden layer below the softmax. */
  readonly dropout: number;
}

export const DEFAULT_MODEL = { cell: "rnn", hidden: 512, embed: 512, dropout: 0.5 } as const;

export interface LossOptions {
  readonly training: boolean;
  /** Draws the dropout masks; needed when training with dropout > 0. */
  readonly rng?: Rng;
}

/**
 * One decoding step for n hypotheses at once, the only thing the decoders know of a model. Row i
 * of `prev` is hypothesis i's state and tokens[i] its last word; prev = null is the first step,
 * where the image enters and every token is START. Returns log-probabilities of the next word
 * (n x vocabSize) and the new states (n x stateSize).
 */
export interface Stepper {
  readonly vocabSize: number;
  readonly stateSize: number;
  step(
    prev: Float32Array | null,
    tokens: Int32Array,
  ): { logProbs: Float32Array; next: Float32Array };
}

/** A caption generator: a per-word loss for training and a stepper for decoding. */
export interface CaptionModel {
  readonly config: CaptionModelConfig;
  readonly params: Params;
  /**
   * Mean cross-entropy per predicted word (END included) of a packed batch; features holds one
   * normalised CNN code per sentence, in the caller's order (count x featureDim).
   */
  loss(features: Float32Array, batch: PackedBatch, opts: LossOptions): Tensor;
  /** Decoding for one image (its normalised CNN code). Records nothing on the autodiff tape. */
  stepper(feature: Float32Array): Stepper;
}

/** Reads a saved config; errors name `where` (the file) and the field's path in it. */
export function parseModelConfig(
  value: unknown,
  where: string,
  options: { path?: string; error?: ErrorClass } = {},
): CaptionModelConfig {
  const r = JsonFields.of(value, where, options);
  const size = (key: string) => r.number(key, { integer: true, min: 1 });
  const cell = r.oneOf("cell", CELL_KINDS);
  const dropout = r.get("dropout");
  if (!inRange(dropout, { min: 0, max: 1 }) || dropout === 1) {
    return r.fail("dropout", "a number from 0 to below 1");
  }
  return {
    cell,
    featureDim: size("featureDim"),
    vocabSize: size("vocabSize"),
    hidden: size("hidden"),
    embed: size("embed"),
    dropout,
  };
}

/** Row-wise log-softmax of a rows x cols matrix, in place; returns it. */
export function logSoftmaxRows(x: Float32Array, rows: number, cols: number): Float32Array {
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < cols; j++) if (x[off + j] > max) max = x[off + j];
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[off + j] - max);
    const shift = max + Math.log(sum);
    for (let j = 0; j < cols; j++) x[off + j] -= shift;
  }
  return x;
}
