import { sliceRows } from "../core/ops/index.js";
import type { Tensor } from "../core/tensor.js";
import { BOUNDARY } from "../data/vocabulary.js";

/**
 * A batch of sentences laid out step-major and packed, as both cells consume it. Sentences are
 * sorted longest first, so at step t the sentences still running are rows 0..sizes[t]-1 and each
 * step is one product over exactly those rows: no padding is computed.
 *
 * A sentence of n words takes n + 1 steps: START then its words are fed, its words then END are
 * predicted (the paper's x_1 = START, y_T = END).
 */
export interface PackedBatch {
  /** Sentences in the batch. */
  readonly count: number;
  /** order[r] = index (in the caller's list) of the sentence on row r. */
  readonly order: Int32Array;
  /** Rows alive at each step, non-increasing. */
  readonly sizes: Int32Array;
  /** Input word of each (step, row), steps concatenated: sum(sizes) entries. */
  readonly inputs: Int32Array;
  /** Target word of each (step, row), aligned with `inputs`. */
  readonly targets: Int32Array;
  /** sum(sizes): the predicted tokens, END included. */
  readonly tokens: number;
}

/** Packs sentences (word indices without boundary tokens). */
export function packSentences(sentences: readonly ArrayLike<number>[]): PackedBatch {
  const count = sentences.length;
  const order = Int32Array.from(
    Array.from({ length: count }, (_, i) => i).sort(
      (a, b) => sentences[b].length - sentences[a].length || a - b,
    ),
  );
  const steps = count > 0 ? sentences[order[0]].length + 1 : 0;
  const sizes = new Int32Array(steps);
  for (const s of sentences) for (let t = 0; t <= s.length; t++) sizes[t]++;
  let tokens = 0;
  for (const n of sizes) tokens += n;
  const inputs = new Int32Array(tokens);
  const targets = new Int32Array(tokens);
  let k = 0;
  for (let t = 0; t < steps; t++) {
    for (let r = 0; r < sizes[t]; r++, k++) {
      const s = sentences[order[r]];
      inputs[k] = t === 0 ? BOUNDARY : s[t - 1];
      targets[k] = t < s.length ? s[t] : BOUNDARY;
    }
  }
  return { count, order, sizes, inputs, targets, tokens };
}

/** Rows order[0..] of a rows x dim matrix, in that order: the features matching a packed batch. */
export function permuteRows(m: Float32Array, dim: number, order: Int32Array): Float32Array {
  const out = new Float32Array(order.length * dim);
  for (let r = 0; r < order.length; r++) {
    out.set(m.subarray(order[r] * dim, (order[r] + 1) * dim), r * dim);
  }
  return out;
}

/** The first n rows of a step's output: the sentences still running at the next step. */
export function firstRows(x: Tensor, n: number): Tensor {
  return n === x.rows ? x : sliceRows(x, 0, n);
}
