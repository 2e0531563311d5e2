import { result } from "../autodiff.js";
import { give, take } from "../buffer-pool.js";
import { kernels } from "../kernels/index.js";
import type { Tensor } from "../tensor.js";
import { matrix, shapeMismatch } from "./shape.js";

export interface MatmulOptions {
  /** Use a^T in place of a. */
  transA?: boolean;
  /** Use b^T in place of b. */
  transB?: boolean;
}

/**
 * C = op(A) op(B), op(X) = X or X^T. With C = A B the gradients are dA = dC B^T and
 * dB = A^T dC; the transposed cases follow by transposing those, and every product runs on
 * sgemm with beta = 1 so it accumulates straight into the gradient buffers.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const tA = opts.transA ?? false;
  const tB = opts.transB ?? false;
  const [ar, ac] = matrix("matmul", "a", a);
  const [br, bc] = matrix("matmul", "b", b);
  const m = tA ? ac : ar;
  const k = tA ? ar : ac;
  const n = tB ? br : bc;
  if ((tB ? bc : br) !== k) {
    throw shapeMismatch(
      "matmul",
      a,
      b,
      `do not multiply (transA=${tA}, transB=${tB}: inner sizes ${k} and ${tB ? bc : br})`,
    );
  }
  const out = new Float32Array(m * n);
  kernels().sgemm(tA, tB, m, n, k, 1, a.data, ac, b.data, bc, 0, out, n);
  return result(out, [m, n], [a, b], (dC) => {
    const K = kernels();
    if (a.requiresGrad) {
      const dA = a.gradBuffer();
      if (tA) K.sgemm(tB, true, k, m, n, 1, b.data, bc, dC, n, 1, dA, m);
      else K.sgemm(false, !tB, m, k, n, 1, dC, n, b.data, bc, 1, dA, k);
    }
    if (b.requiresGrad) {
      const dB = b.gradBuffer();
      if (tB) K.sgemm(true, tA, n, k, m, 1, dC, n, a.data, ac, 1, dB, k);
      else K.sgemm(!tA, false, k, n, m, 1, a.data, ac, dC, n, 1, dB, n);
    }
  });
}

/**
 * y = x W + b for a batch of rows x (rows x in), W (in x out), b (out): the fully connected layer,
 * fused so the bias is written first and sgemm adds the product onto it.
 */
export function affine(x: Tensor, w: Tensor, b: Tensor): Tensor {
  const { out, rows, inDim, outDim } = affineForward("affine", x, w, b);
  return result(out, [rows, outDim], [x, w, b], (dY) =>
    affineBackward(x, w, b, dY, rows, inDim, outDim),
  );
}

/**
 * y = relu(x W + b): the fully connected layer and its ReLU in one op, so the layer's output is
 * neither stored twice nor given a gradient buffer of its own.
 */
export function affineRelu(x: Tensor, w: Tensor, b: Tensor): Tensor {
  const { out, rows, inDim, outDim } = affineForward("affineRelu", x, w, b);
  for (let i = 0; i < out.length; i++) if (!(out[i] > 0)) out[i] = 0;
  return result(out, [rows, outDim], [x, w, b], (dY) => {
    // dY is this op's own gradient buffer, free to overwrite: through the ReLU it becomes dZ.
    for (let i = 0; i < dY.length; i++) if (out[i] <= 0) dY[i] = 0;
    affineBackward(x, w, b, dY, rows, inDim, outDim);
  });
}

/** x W + b with shapes checked. */
function affineForward(op: string, x: Tensor, w: Tensor, b: Tensor) {
  const [rows, inDim] = matrix(op, "x", x);
  const [wr, outDim] = matrix(op, "W", w);
  if (wr !== inDim) throw shapeMismatch(op, x, w, "do not multiply (x cols != W rows)");
  if (b.size !== outDim || b.rows !== 1) {
    throw shapeMismatch(op, w, b, `do not fit: bias must be [${outDim}] or [1, ${outDim}]`);
  }
  const out = new Float32Array(rows * outDim);
  for (let r = 0; r < rows; r++) out.set(b.data, r * outDim);
  kernels().sgemm(
    false,
    false,
    rows,
    outDim,
    inDim,
    1,
    x.data,
    inDim,
    w.data,
    outDim,
    1,
    out,
    outDim,
  );
  return { out, rows, inDim, outDim };
}

/** Accumulates the gradients of x W + b given dY, the gradient of its result. */
function affineBackward(
  x: Tensor,
  w: Tensor,
  b: Tensor,
  dY: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
): void {
  const K = kernels();
  if (x.requiresGrad) {
    K.sgemm(
      false,
      true,
      rows,
      inDim,
      outDim,
      1,
      dY,
      outDim,
      w.data,
      outDim,
      1,
      x.gradBuffer(),
      inDim,
    );
  }
  if (w.requiresGrad) {
    K.sgemm(
      true,
      false,
      inDim,
      outDim,
      rows,
      1,
      x.data,
      inDim,
      dY,
      outDim,
      1,
      w.gradBuffer(),
      outDim,
    );
  }
  if (b.requiresGrad) addColumnSums(dY, rows, outDim, b.gradBuffer());
}

/**
 * acc[j] += scale * sum over rows of g[r, j]: the gradient of a bias broadcast over rows, as a
 * product with a row of ones (one native pass instead of a TypeScript loop).
 */
export function addColumnSums(
  g: Float32Array,
  rows: number,
  cols: number,
  acc: Float32Array,
  scale = 1,
): void {
  if (rows === 0) return;
  const ones = take(rows).fill(1);
  kernels().sgemm(false, false, 1, cols, rows, scale, ones, rows, g, cols, 1, acc, cols);
  give(ones);
}
