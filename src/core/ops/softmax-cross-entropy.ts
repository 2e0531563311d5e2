import { result } from "../autodiff.js";
import { take } from "../buffer-pool.js";
import { kernels } from "../kernels/index.js";
import type { Tensor } from "../tensor.js";
import { matrix } from "./shape.js";

export interface CrossEntropyOptions {
  /**
   * "mean" (default): average over the rows with a target, the per-word loss whose exp is the
   * perplexity. "sum": the total, for accumulating over batches.
   */
  reduction?: "mean" | "sum";
}

/**
 * The softmax cross-entropy -log softmax(logits[r])[targets[r]] of each row, reduced to a scalar.
 * A negative target marks a padding row: it adds nothing to the loss or the count. The gradient
 * of a row is softmax(logits[r]) - onehot(target), scaled by the reduction.
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  targets: Int32Array,
  opts: CrossEntropyOptions = {},
): Tensor {
  const [rows, cols] = matrix("softmaxCrossEntropy", "logits", logits);
  if (targets.length !== rows) {
    throw new RangeError(
      `softmaxCrossEntropy: logits ${logits.describe()} has ${rows} rows, targets has ${targets.length}`,
    );
  }
  let count = 0;
  for (let r = 0; r < rows; r++) {
    if (targets[r] >= cols) {
      throw new RangeError(
        `softmaxCrossEntropy: target ${targets[r]} at row ${r} is outside the ${cols} classes of ${logits.describe()}`,
      );
    }
    if (targets[r] >= 0) count++;
  }
  const probs = take(rows * cols);
  const losses = new Float32Array(rows);
  kernels().softmaxCrossEntropy(logits.data, rows, cols, targets, probs, losses);
  let total = 0;
  for (let r = 0; r < rows; r++) total += losses[r];
  const mean = (opts.reduction ?? "mean") === "mean";
  const norm = mean ? (count > 0 ? 1 / count : 0) : 1;
  return result(
    Float32Array.of(total * norm),
    [],
    [logits],
    (g) => {
      const gl = logits.gradBuffer();
      const s = g[0] * norm;
      for (let r = 0; r < rows; r++) {
        const t = targets[r];
        if (t < 0) continue;
        const off = r * cols;
        for (let j = 0; j < cols; j++) gl[off + j] += s * probs[off + j];
        gl[off + t] -= s;
      }
    },
    [probs],
  );
}
