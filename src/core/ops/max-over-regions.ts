import { result } from "../autodiff.js";
import { kernels } from "../kernels/index.js";
import type { Tensor } from "../tensor.js";
import { matrix } from "./shape.js";

/**
 * Max over rows within each of `groups` equal blocks of rows. For a regions x words score matrix
 * (v_i . s_t) this is the paper's max_i v_i^T s_t, each word's best region; with the regions of
 * several images stacked (groups = images, each with the same region count) it scores every word
 * against every image in one call. x is [groups * R, C]; the result is [groups, C]. The gradient
 * goes only to the row that won (the argmax, first one on ties).
 */
export function maxOverRows(x: Tensor, groups = 1): Tensor {
  const [rows, cols] = matrix("maxOverRows", "x", x);
  if (!Number.isInteger(groups) || groups < 1 || rows % groups !== 0 || rows === 0) {
    throw new RangeError(
      `maxOverRows: ${x.describe()} does not split into ${groups} non-empty groups of equal rows`,
    );
  }
  const per = rows / groups;
  const out = new Float32Array(groups * cols);
  const arg = new Int32Array(groups * cols);
  const K = kernels();
  for (let gi = 0; gi < groups; gi++) {
    K.maxOverRows(
      x.data.subarray(gi * per * cols, (gi + 1) * per * cols),
      per,
      cols,
      out.subarray(gi * cols, (gi + 1) * cols),
      arg.subarray(gi * cols, (gi + 1) * cols),
    );
  }
  return result(out, [groups, cols], [x], (g) => {
    const gx = x.gradBuffer();
    for (let gi = 0; gi < groups; gi++) {
      for (let c = 0; c < cols; c++) {
        const o = gi * cols + c;
        gx[(gi * per + arg[o]) * cols + c] += g[o];
      }
    }
  });
}
