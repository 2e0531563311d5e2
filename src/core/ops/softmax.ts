import { result } from "../autodiff.js";
import { kernels } from "../kernels/index.js";
import type { Tensor } from "../tensor.js";
import { matrix } from "./shape.js";

/**
 * y[r, :] = softmax(x[r, :]) (word probabilities when decoding). For each row,
 * dx = y * (dy - sum_j dy_j y_j).
 */
export function softmax(x: Tensor): Tensor {
  const [rows, cols] = matrix("softmax", "x", x);
  const y = new Float32Array(rows * cols);
  kernels().softmaxRows(x.data, rows, cols, y);
  return result(y, [rows, cols], [x], (g) => {
    const gx = x.gradBuffer();
    for (let r = 0; r < rows; r++) {
      const off = r * cols;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += g[off + j] * y[off + j];
      for (let j = 0; j < cols; j++) gx[off + j] += y[off + j] * (g[off + j] - dot);
    }
  });
}
