import {
  add,
  affineRelu,
  dropout,
  gather,
  type Rng,
  reluRecurrence,
  Tensor,
} from "../core/index.js";

/** The BRNN's weights (section 3.1.2); names as in the paper. */
export interface BrnnWeights {
  /** Word vectors, one row per vocabulary index: x_t = Ww[word t]. */
  readonly Ww: Tensor;
  readonly We: Tensor;
  readonly be: Tensor;
  readonly Wf: Tensor;
  readonly bf: Tensor;
  readonly Wb: Tensor;
  readonly bb: Tensor;
  readonly Wd: Tensor;
  readonly bd: Tensor;
}

/** Dropout while training (with its own generator, saved in checkpoints); none at inference. */
export type DropoutSetting = { readonly p: number; readonly rng: Rng } | null;

/** Dropout on a layer's input, or the input itself at inference. */
export function dropIn(x: Tensor, drop: DropoutSetting): Tensor {
  return drop === null ? x : dropout(x, drop.p, drop.rng, true);
}

/**
 * The bidirectional RNN that turns each sentence into one h-dimensional vector per word, with
 * f = ReLU:
 *
 *   x_t    = Ww 1_t                               (word vector of word t)
 *   e_t    = f(We x_t + be)
 *   h_f(t) = f(e_t + Wf h_f(t-1) + bf)            (forward stream, h_f(0) = 0)
 *   h_b(t) = f(e_t + Wb h_b(t+1) + bb)            (backward stream, h_b(N+1) = 0)
 *   s_t    = f(Wd (h_f(t) + h_b(t)) + bd)
 *
 * Dropout acts on the inputs of the non-recurrent layers (x_t, and h_f + h_b before Wd), never
 * on the recurrent connections. All sentences of a batch run together: at step t the sentences
 * still running are stacked, longest first, so each stream is one op (`reluRecurrence`) with
 * one matrix product per step.
 * Returns s_t for every word, sentence after sentence ([total words, h]).
 */
export function brnn(
  w: BrnnWeights,
  sentences: readonly Int32Array[],
  drop: DropoutSetting,
): Tensor {
  const lengths = sentences.map((s) => s.length);
  const total = lengths.reduce((a, b) => a + b, 0);
  if (total === 0) return Tensor.zeros([0, w.Wd.cols]);

  // Step-major rows: at step t the sentences still running, longest first, so those at step t
  // are a prefix of those at t - 1 (what reluRecurrence expects).
  const order = sentences.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const steps = lengths[order[0]];
  const sizes = new Int32Array(steps);
  for (let t = 0; t < steps; t++) {
    while (sizes[t] < order.length && lengths[order[sizes[t]]] > t) sizes[t]++;
  }
  const words = new Int32Array(total);
  const start: number[] = [];
  let at = 0;
  for (const s of sentences) {
    start.push(at);
    at += s.length;
  }
  // back[word's place in sentence order] = its row in step-major order.
  const back = new Int32Array(total);
  at = 0;
  for (let t = 0; t < steps; t++) {
    for (let j = 0; j < sizes[t]; j++, at++) {
      words[at] = sentences[order[j]][t];
      back[start[order[j]] + t] = at;
    }
  }
  const x = dropIn(gather(w.Ww, words), drop);
  const e = affineRelu(x, w.We, w.be);
  const hf = reluRecurrence(e, w.Wf, sizes, { bias: w.bf });
  const hb = reluRecurrence(e, w.Wb, sizes, { bias: w.bb, reverse: true });
  // Back from step-major rows to sentence order.
  const h = dropIn(gather(add(hf, hb), back), drop);
  return affineRelu(h, w.Wd, w.bd);
}
