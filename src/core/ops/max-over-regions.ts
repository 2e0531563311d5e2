import { result } from "../autodiff.js";
import { give, take } from "../buffer-pool.js";
import { kernels } from "../kernels/index.js";
import type { Tensor } from "../tensor.js";
import { matrix, shapeMismatch } from "./shape.js";

/**
 * Max over rows within each of `groups` equal blocks of rows. For a regions x words score matrix
 * (v_i . s_t) this is the paper's max_i v_i^T s_t, each word's best region; with the regions of
 * several images stacked (groups = images, each with the same region count) it scores every word
 * against every image in one call. x is [groups * R, C]; the result is [groups, C]. The gradient
 * goes only to the row that won (the argmax, first one on ties).
 */
export function maxOverRows(x: Tensor, groups = 1): Tensor {
  const [rows, cols] = matrix("maxOverRows", "x", x);
  const per = rowsPerGroup("maxOverRows", x, rows, groups);
  const { out, arg } = groupMaxima(x.data, groups, per, cols);
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

/**
 * maxOverRows(matmul(a, b, { transB: true }), groups) in one op: for a regions x words product
 * (v_i . s_t) it gives each word's best region score per image without recording the full
 * product. The product is formed in scratch memory and dropped after the max; the backward pass
 * touches only the winning rows (`Kernels.maxProductBackward`), skips words whose gradient is 0
 * (pairs the ranking loss is already satisfied with) and needs neither of the two dense products
 * that the backward of the unfused pair costs. a is [groups * R, D], b is [C, D]; returns
 * [groups, C].
 */
export function maxOfProducts(a: Tensor, b: Tensor, groups = 1): Tensor {
  const [rows, width] = matrix("maxOfProducts", "a", a);
  const [cols, bWidth] = matrix("maxOfProducts", "b", b);
  if (bWidth !== width) {
    throw shapeMismatch("maxOfProducts", a, b, "do not multiply (a and b need equal widths)");
  }
  const per = rowsPerGroup("maxOfProducts", a, rows, groups);
  const product = take(rows * cols);
  kernels().sgemm(
    false,
    true,
    rows,
    cols,
    width,
    1,
    a.data,
    width,
    b.data,
    width,
    0,
    product,
    cols,
  );
  const { out, arg } = groupMaxima(product, groups, per, cols);
  give(product);
  return result(out, [groups, cols], [a, b], (g) => {
    kernels().maxProductBackward(
      arg,
      g,
      groups,
      cols,
      per,
      width,
      a.data,
      b.data,
      a.requiresGrad ? a.gradBuffer() : null,
      b.requiresGrad ? b.gradBuffer() : null,
    );
  });
}

/** Rows in each of `groups` equal, non-empty blocks of x's rows. */
function rowsPerGroup(op: string, x: Tensor, rows: number, groups: number): number {
  if (!Number.isInteger(groups) || groups < 1 || rows % groups !== 0 || rows === 0) {
    throw new RangeError(
      `${op}: ${x.describe()} does not split into ${groups} non-empty groups of equal rows`,
    );
  }
  return rows / groups;
}

/** Each column's max within each block of `per` rows of a row-major matrix, and its row. */
function groupMaxima(
  data: Float32Array,
  groups: number,
  per: number,
  cols: number,
): { out: Float32Array; arg: Int32Array } {
  const out = new Float32Array(groups * cols);
  const arg = new Int32Array(groups * cols);
  const K = kernels();
  for (let gi = 0; gi < groups; gi++) {
    K.maxOverRows(
      data.subarray(gi * per * cols, (gi + 1) * per * cols),
      per,
      cols,
      out.subarray(gi * cols, (gi + 1) * cols),
      arg.subarray(gi * cols, (gi + 1) * cols),
    );
  }
  return { out, arg };
}
