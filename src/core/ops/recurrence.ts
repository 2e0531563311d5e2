import { result } from "../autodiff.js";
import { kernels } from "../kernels/index.js";
import type { Tensor } from "../tensor.js";
import { addColumnSums } from "./matmul.js";
import { shapeMismatch } from "./shape.js";

export interface RecurrenceOptions {
  /** Added at every step, [H]: a bias inside the recurrence. */
  readonly bias?: Tensor;
  /**
   * Added at the first step run in place of the recurrent term (h_0 Whh), one row per sequence
   * alive at that step: the multimodal RNN's image input.
   */
  readonly start?: Tensor;
  /** Run from the last step to the first: the backward stream of a bidirectional RNN. */
  readonly reverse?: boolean;
}

/**
 * A ReLU recurrence over a packed batch of sequences, every step in one op (forward and backward
 * side by side), so a pass costs one sgemm per step and no per-step tensors:
 *
 *   h_t = relu(a_t + h_prev Whh + bias),   h_prev = h_t-1 (h_t+1 with `reverse`), zero at the start
 *
 * `a` holds a_t for every (step, row), steps concatenated, `sizes[t]` rows at step t. Sequences
 * are stacked longest first, so the rows alive at a step are a prefix of those at the step
 * before: running forwards, step t's rows continue the first sizes[t] rows of h_t-1; running
 * backwards, the first sizes[t+1] rows of step t continue h_t+1 and the others (sequences whose
 * last word this is) start from a zero state. Returns every h_t, laid out like `a`.
 *
 * Backward through time, with dp_t = dh_t [h_t > 0] and c the rows carried over:
 *   dh_prev[:c] += dp_t[:c] Whh^T,  dWhh += h_prev[:c]^T dp_t[:c],  da_t = dp_t,
 *   dbias = sum of every dp_t,  dstart = dp at the first step run.
 */
export function reluRecurrence(
  a: Tensor,
  Whh: Tensor,
  sizes: Int32Array,
  opts: RecurrenceOptions = {},
): Tensor {
  const H = Whh.cols;
  const { bias, start, reverse = false } = opts;
  const steps = sizes.length;
  const offsets = new Int32Array(steps + 1);
  for (let t = 0; t < steps; t++) offsets[t + 1] = offsets[t] + sizes[t];
  const first = reverse ? steps - 1 : 0;
  if (offsets[steps] * H !== a.size || Whh.rows !== H) {
    throw new RangeError(
      `reluRecurrence: a ${a.describe()} and Whh ${Whh.describe()} do not fit steps of [${sizes}]`,
    );
  }
  if (bias !== undefined && bias.size !== H) {
    throw shapeMismatch("reluRecurrence", Whh, bias, `do not fit: bias must have ${H} values`);
  }
  if (start !== undefined && (steps === 0 || start.rows !== sizes[first] || start.cols !== H)) {
    throw new RangeError(
      `reluRecurrence: start ${start.describe()} does not fit the ${sizes[first] ?? 0} rows of the first step`,
    );
  }
  /** The step before t in running order, and how many of t's rows continue it. */
  const previous = (t: number) => (reverse ? t + 1 : t - 1);
  const carried = (t: number) => Math.min(sizes[t], sizes[previous(t)]);
  const rowsOf = (x: Float32Array, t: number, rows = sizes[t]) =>
    x.subarray(offsets[t] * H, (offsets[t] + rows) * H);

  const K = kernels();
  const h = new Float32Array(a.size);
  const ad = a.data;
  const bd = bias?.data ?? new Float32Array(H);
  for (let i = 0; i < steps; i++) {
    const t = reverse ? steps - 1 - i : i;
    const ht = rowsOf(h, t);
    if (t === first) {
      if (start !== undefined) ht.set(start.data);
    } else {
      const c = carried(t);
      K.sgemm(false, false, c, H, H, 1, rowsOf(h, previous(t), c), H, Whh.data, H, 0, ht, H);
    }
    const from = offsets[t] * H;
    for (let r = 0; r < sizes[t]; r++) {
      for (let j = 0; j < H; j++) {
        const k = r * H + j;
        const v = ht[k] + ad[from + k] + bd[j];
        ht[k] = v > 0 ? v : 0;
      }
    }
  }
  const inputs = [
    a,
    Whh,
    ...(bias === undefined ? [] : [bias]),
    ...(start === undefined ? [] : [start]),
  ];
  return result(h, a.shape, inputs, (dh) => {
    // dh is this op's own gradient buffer, free to overwrite: it becomes dp step by step.
    for (let i = steps - 1; i >= 0; i--) {
      const t = reverse ? steps - 1 - i : i;
      const dp = rowsOf(dh, t);
      const ht = rowsOf(h, t);
      for (let k = 0; k < dp.length; k++) if (ht[k] <= 0) dp[k] = 0;
      if (t === first) {
        if (start?.requiresGrad) {
          const gs = start.gradBuffer();
          for (let k = 0; k < dp.length; k++) gs[k] += dp[k];
        }
        continue;
      }
      const c = carried(t);
      const p = previous(t);
      K.sgemm(false, true, c, H, H, 1, dp, H, Whh.data, H, 1, rowsOf(dh, p, c), H);
      if (Whh.requiresGrad) {
        K.sgemm(true, false, H, H, c, 1, rowsOf(h, p, c), H, dp, H, 1, Whh.gradBuffer(), H);
      }
    }
    if (bias?.requiresGrad) addColumnSums(dh, offsets[steps], H, bias.gradBuffer());
    if (a.requiresGrad) {
      const ga = a.gradBuffer();
      for (let i = 0; i < dh.length; i++) ga[i] += dh[i];
    }
  });
}
