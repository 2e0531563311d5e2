import { result } from "../core/autodiff.js";
import { kernels } from "../core/kernels/index.js";
import type { Tensor } from "../core/tensor.js";

/**
 * The multimodal RNN's recurrence over a packed batch as one op (forward and backward side by
 * side), so a training step costs one sgemm per time step and no per-step tensors:
 *
 *   h_1 = relu(a_1 + bv),   h_t = relu(a_t + h_t-1 Whh)   (t > 1; h_0 = 0)
 *
 * `a` holds a_t = Whx x_t + bh for every (step, row), steps concatenated; `sizes[t]` rows are alive
 * at step t, and they are the first rows of step t-1 (packSentences' order), so h_t-1's first
 * sizes[t] rows feed step t. Returns every h_t, laid out like `a`.
 *
 * Backward through time, with dp_t = dh_t [h_t > 0]:
 *   dh_t-1[rows of step t] += dp_t Whh^T,  dWhh += h_t-1^T dp_t,  da_t = dp_t,  dbv = dp_1.
 */
export function reluRecurrence(a: Tensor, bv: Tensor, Whh: Tensor, sizes: Int32Array): Tensor {
  const H = Whh.cols;
  const K = kernels();
  const h = new Float32Array(a.size);
  const offsets = new Int32Array(sizes.length + 1);
  for (let t = 0; t < sizes.length; t++) offsets[t + 1] = offsets[t] + sizes[t];
  if (offsets[sizes.length] * H !== a.size || bv.rows !== sizes[0] || bv.cols !== H) {
    throw new RangeError(
      `reluRecurrence: a ${a.describe()}, bv ${bv.describe()} and Whh ${Whh.describe()} do not fit steps of [${sizes}]`,
    );
  }
  const ad = a.data;
  for (let t = 0; t < sizes.length; t++) {
    const from = offsets[t] * H;
    const len = sizes[t] * H;
    const ht = h.subarray(from, from + len);
    if (t === 0) {
      ht.set(bv.data);
    } else {
      const prevFrom = offsets[t - 1] * H;
      const prev = h.subarray(prevFrom, prevFrom + len);
      K.sgemm(false, false, sizes[t], H, H, 1, prev, H, Whh.data, H, 0, ht, H);
    }
    for (let i = 0; i < len; i++) {
      const v = ht[i] + ad[from + i];
      ht[i] = v > 0 ? v : 0;
    }
  }
  return result(h, a.shape, [a, bv, Whh], (dh) => {
    // dh is this op's own gradient buffer, free to overwrite: it becomes dp step by step.
    for (let t = sizes.length - 1; t >= 0; t--) {
      const from = offsets[t] * H;
      const len = sizes[t] * H;
      const dp = dh.subarray(from, from + len);
      for (let i = 0; i < len; i++) if (h[from + i] <= 0) dp[i] = 0;
      if (t > 0) {
        const prevFrom = offsets[t - 1] * H;
        const dPrev = dh.subarray(prevFrom, prevFrom + len);
        K.sgemm(false, true, sizes[t], H, H, 1, dp, H, Whh.data, H, 1, dPrev, H);
        if (Whh.requiresGrad) {
          K.sgemm(
            true,
            false,
            H,
            H,
            sizes[t],
            1,
            h.subarray(prevFrom, prevFrom + len),
            H,
            dp,
            H,
            1,
            Whh.gradBuffer(),
            H,
          );
        }
      } else if (bv.requiresGrad) {
        const gb = bv.gradBuffer();
        for (let i = 0; i < len; i++) gb[i] += dp[i];
      }
    }
    if (a.requiresGrad) {
      const ga = a.gradBuffer();
      for (let i = 0; i < dh.length; i++) ga[i] += dh[i];
    }
  });
}
