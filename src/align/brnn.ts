import {
  add,
  affine,
  concatRows,
  dropout,
  gather,
  type Rng,
  relu,
  sliceRows,
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
 * still running are stacked, longest first, so each step is one matrix product per stream.
 * Returns s_t for every word, sentence after sentence ([total words, h]).
 */
export function brnn(
  w: BrnnWeights,
  sentences: readonly Int32Array[],
  drop: DropoutSetting,
): Tensor {
  const lengths = sentences.map((s) => s.length);
  const total = lengths.reduce((a, b) => a + b, 0);
  const hidden = w.We.cols;
  if (total === 0) return Tensor.zeros([0, w.Wd.cols]);

  const words = new Int32Array(total);
  const start: number[] = [];
  let at = 0;
  for (const s of sentences) {
    start.push(at);
    words.set(s, at);
    at += s.length;
  }
  const x = dropIn(gather(w.Ww, words), drop);
  const e = relu(affine(x, w.We, w.be));

  // Longest first, so the sentences still running at step t are a prefix of those at t - 1.
  const order = sentences.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const steps = lengths[order[0]];
  const running: number[] = [];
  const eAt: Tensor[] = [];
  for (let t = 0; t < steps; t++) {
    let n = 0;
    while (n < order.length && lengths[order[n]] > t) n++;
    running.push(n);
    eAt.push(
      gather(
        e,
        Int32Array.from({ length: n }, (_, j) => start[order[j]] + t),
      ),
    );
  }

  const hf: Tensor[] = [];
  for (let t = 0; t < steps; t++) {
    const recur = t === 0 ? null : affine(sliceRows(hf[t - 1], 0, running[t]), w.Wf, w.bf);
    hf.push(relu(recur === null ? add(eAt[t], w.bf) : add(eAt[t], recur)));
  }
  const hb: Tensor[] = new Array(steps);
  for (let t = steps - 1; t >= 0; t--) {
    // Sentences that end at t have h_b(t+1) = 0: pad the next step's rows with zeros.
    const next = t === steps - 1 ? null : hb[t + 1];
    const padded =
      next === null || next.rows === running[t]
        ? next
        : concatRows([next, Tensor.zeros([running[t] - next.rows, hidden])]);
    hb[t] = relu(padded === null ? add(eAt[t], w.bb) : add(eAt[t], affine(padded, w.Wb, w.bb)));
  }

  // Back from step-major rows to sentence order.
  const stepStart: number[] = [];
  at = 0;
  for (const n of running) {
    stepStart.push(at);
    at += n;
  }
  const rank = new Int32Array(sentences.length);
  order.forEach((s, j) => {
    rank[s] = j;
  });
  const back = new Int32Array(total);
  sentences.forEach((s, i) => {
    for (let t = 0; t < s.length; t++) back[start[i] + t] = stepStart[t] + rank[i];
  });
  const both = add(concatRows(hf), concatRows(hb));
  const h = dropIn(gather(both, back), drop);
  return relu(affine(h, w.Wd, w.bd));
}
