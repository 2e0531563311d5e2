import { result } from "../autodiff.js";
import { shapeSize, type Tensor } from "../tensor.js";
import { matrix } from "./shape.js";

/** The same values under another shape with as many elements ([n] to [n, 1], say). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  if (shapeSize(shape) !== x.size) {
    throw new RangeError(`reshape: cannot view ${x.describe()} as [${shape}]`);
  }
  return result(x.data.slice(), shape, [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < gx.length; i++) gx[i] += g[i];
  });
}

/** The diagonal of a square matrix, as [n] (the matching pairs' scores S_kk of a batch). */
export function diag(x: Tensor): Tensor {
  const [rows, cols] = matrix("diag", "x", x);
  if (rows !== cols) throw new RangeError(`diag: ${x.describe()} is not square`);
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) out[i] = x.data[i * cols + i];
  return result(out, [rows], [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < rows; i++) gx[i * cols + i] += g[i];
  });
}

/** x^T for a matrix. */
export function transpose(x: Tensor): Tensor {
  const [rows, cols] = matrix("transpose", "x", x);
  const xd = x.data;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = xd[r * cols + c];
  return result(out, [cols, rows], [x], (g) => {
    const gx = x.gradBuffer();
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) gx[r * cols + c] += g[c * rows + r];
  });
}
