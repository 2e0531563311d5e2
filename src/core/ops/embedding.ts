import { result } from "../autodiff.js";
import type { Tensor } from "../tensor.js";
import { matrix } from "./shape.js";

/**
 * Rows of `table` picked by `indices`: out[i, :] = table[indices[i], :] (a word-embedding lookup,
 * or selecting rows of any matrix). The backward scatter-adds, so a row picked twice receives
 * both gradients.
 */
export function gather(table: Tensor, indices: Int32Array): Tensor {
  const [rows, cols] = matrix("gather", "table", table);
  for (let i = 0; i < indices.length; i++) {
    const ix = indices[i];
    if (ix < 0 || ix >= rows) {
      throw new RangeError(
        `gather: index ${ix} at position ${i} is outside table ${table.describe()} (rows 0..${rows - 1})`,
      );
    }
  }
  const src = table.data;
  const out = new Float32Array(indices.length * cols);
  for (let i = 0; i < indices.length; i++) {
    out.set(src.subarray(indices[i] * cols, (indices[i] + 1) * cols), i * cols);
  }
  return result(out, [indices.length, cols], [table], (g) => {
    const gt = table.gradBuffer();
    for (let i = 0; i < indices.length; i++) {
      const dst = indices[i] * cols;
      const from = i * cols;
      for (let j = 0; j < cols; j++) gt[dst + j] += g[from + j];
    }
  });
}
