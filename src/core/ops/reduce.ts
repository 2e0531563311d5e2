import { result } from "../autodiff.js";
import type { Tensor } from "../tensor.js";
import { matrix } from "./shape.js";

/** Reductions. Sums accumulate in float64, so a large sum loses no more than one rounding. */

/** The sum of all values, a scalar. */
export function sum(x: Tensor): Tensor {
  const xd = x.data;
  let s = 0;
  for (let i = 0; i < xd.length; i++) s += xd[i];
  return result(Float32Array.of(s), [], [x], (g) => {
    const gx = x.gradBuffer();
    const g0 = g[0];
    for (let i = 0; i < gx.length; i++) gx[i] += g0;
  });
}

/** The mean of all values, a scalar. */
export function mean(x: Tensor): Tensor {
  if (x.size === 0) throw new RangeError(`mean: ${x.describe()} is empty`);
  const xd = x.data;
  const n = xd.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += xd[i];
  return result(Float32Array.of(s / n), [], [x], (g) => {
    const gx = x.gradBuffer();
    const g0 = g[0] / n;
    for (let i = 0; i < gx.length; i++) gx[i] += g0;
  });
}

/**
 * Sums of consecutive column segments: out[r, s] = sum of x[r, c] over the columns of segment s,
 * whose widths are `lengths` (summing to x's columns). With the words of several sentences laid
 * side by side this gives the paper's S_kl = sum_t max_i v_i^T s_t for every image k and
 * sentence l at once.
 */
export function sumSegments(x: Tensor, lengths: readonly number[]): Tensor {
  const [rows, cols] = matrix("sumSegments", "x", x);
  let total = 0;
  for (const n of lengths) {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`sumSegments: segment lengths must be integers >= 0, got ${n}`);
    }
    total += n;
  }
  if (total !== cols) {
    throw new RangeError(
      `sumSegments: segment lengths sum to ${total}, but ${x.describe()} has ${cols} columns`,
    );
  }
  const segs = lengths.length;
  const xd = x.data;
  const out = new Float32Array(rows * segs);
  for (let r = 0; r < rows; r++) {
    let c = r * cols;
    for (let s = 0; s < segs; s++) {
      let acc = 0;
      for (let k = 0; k < lengths[s]; k++) acc += xd[c++];
      out[r * segs + s] = acc;
    }
  }
  return result(out, [rows, segs], [x], (g) => {
    const gx = x.gradBuffer();
    for (let r = 0; r < rows; r++) {
      let c = r * cols;
      for (let s = 0; s < segs; s++) {
        const gs = g[r * segs + s];
        for (let k = 0; k < lengths[s]; k++) gx[c++] += gs;
      }
    }
  });
}
