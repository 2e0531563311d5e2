import { result } from "../core/autodiff.js";
import { give, take } from "../core/buffer-pool.js";
import { kernels } from "../core/kernels/index.js";
import { addColumnSums } from "../core/ops/matmul.js";
import type { Tensor } from "../core/tensor.js";

/**
 * The generator's output layer and loss as one op, y_t = softmax(Woh h_t + bo) scored against the
 * next word, mean over the rows with a target (a negative target is padding):
 *
 *   L = -(1/N) sum_r log softmax(h_r Woh + bo)[target_r]
 *
 * Fused because it is the largest tensor of a training step (tokens x vocabulary): the logits live
 * in a pooled buffer only until the probabilities are computed, and the backward turns the
 * probabilities into p - onehot in place instead of allocating a gradient, and the 1/N goes into
 * the products' alpha. Then dh = dlogits Woh^T, dWoh = h^T dlogits, dbo = column sums of dlogits.
 */
export function softmaxLoss(h: Tensor, Woh: Tensor, bo: Tensor, targets: Int32Array): Tensor {
  const rows = h.rows;
  const H = h.cols;
  const V = Woh.cols;
  if (Woh.rows !== H || bo.size !== V || targets.length !== rows) {
    throw new RangeError(
      `softmaxLoss: h ${h.describe()}, Woh ${Woh.describe()}, bo ${bo.describe()} and ${targets.length} targets do not fit`,
    );
  }
  const K = kernels();
  const logits = take(rows * V);
  for (let r = 0; r < rows; r++) logits.set(bo.data, r * V);
  K.sgemm(false, false, rows, V, H, 1, h.data, H, Woh.data, V, 1, logits, V);
  const probs = take(rows * V);
  const losses = new Float32Array(rows);
  K.softmaxCrossEntropy(logits, rows, V, targets, probs, losses);
  give(logits);
  let count = 0;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    if (targets[r] >= 0) {
      count++;
      total += losses[r];
    }
  }
  const norm = count > 0 ? 1 / count : 0;
  return result(
    Float32Array.of(total * norm),
    [],
    [h, Woh, bo],
    (g) => {
      // dL/dlogits = s (p - onehot): the one-hot subtracted in place, s folded into the products.
      const s = g[0] * norm;
      const d = probs;
      for (let r = 0; r < rows; r++) {
        const t = targets[r];
        if (t < 0) d.fill(0, r * V, (r + 1) * V);
        else d[r * V + t] -= 1;
      }
      if (h.requiresGrad)
        K.sgemm(false, true, rows, H, V, s, d, V, Woh.data, V, 1, h.gradBuffer(), H);
      if (Woh.requiresGrad)
        K.sgemm(true, false, H, V, rows, s, h.data, H, d, V, 1, Woh.gradBuffer(), V);
      if (bo.requiresGrad) addColumnSums(d, rows, V, bo.gradBuffer(), s);
    },
    [probs],
  );
}
