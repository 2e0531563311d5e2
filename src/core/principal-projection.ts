import { kernels } from "./kernels/index.js";
import { Rng } from "./rng.js";

/**
 * A projection onto the top principal directions P of a sample of vectors (centred on its mean):
 * z = P^T (v - mean). For any s and v, s . v = s . mean + (P^T s) . z + the part outside P, so
 * dot products and nearest neighbours in the small space approximate those in the full one. The
 * image index's candidate stage (app/region-sketch.ts) and the region phrases' snippet consensus
 * (generate/snippet-consensus.ts) search in such spaces.
 */
export class PrincipalProjection {
  constructor(
    /** Length of the full vectors. */
    readonly full: number,
    /** Length of the projected ones. */
    readonly dims: number,
    readonly mean: Float32Array,
    /** full x dims, row-major: column j is the j-th principal direction. */
    readonly basis: Float32Array,
  ) {
    if (mean.length !== full || basis.length !== full * dims) {
      throw new RangeError(
        `PrincipalProjection: mean ${mean.length}, basis ${basis.length} for ${full} x ${dims}`,
      );
    }
  }

  /**
   * Fits the projection to `rows` sample vectors (row-major, rows x full) by a randomised range
   * finder with one power iteration (Halko, Martinsson & Tropp 2011): cost a few rows x full x dims
   * products, where a full eigendecomposition of the full x full covariance would be far slower.
   */
  static fit(
    sample: Float32Array,
    rows: number,
    full: number,
    dims: number,
    seed = 1,
  ): PrincipalProjection {
    if (sample.length !== rows * full)
      throw new RangeError(
        `PrincipalProjection.fit: ${sample.length} values for ${rows} x ${full}`,
      );
    const mean = new Float32Array(full);
    for (let r = 0; r < rows; r++) for (let j = 0; j < full; j++) mean[j] += sample[r * full + j];
    for (let j = 0; j < full; j++) mean[j] /= Math.max(rows, 1);
    const X = new Float32Array(sample.length);
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < full; j++) X[r * full + j] = sample[r * full + j] - mean[j];
    const wide = Math.min(dims + 8, full, Math.max(rows, 1));
    const rng = new Rng(seed);
    const omega = Float32Array.from({ length: full * wide }, () => rng.normal());
    // Q^T (wide x rows): an orthonormal basis of the range of X omega, refined once through X X^T.
    let Qt = gemm(omega, X, wide, rows, full, true, true);
    orthonormalizeRows(Qt, wide, rows);
    const Z = gemm(Qt, X, wide, full, rows, false, false); // (X^T Q)^T
    Qt = gemm(Z, X, wide, rows, full, false, true);
    orthonormalizeRows(Qt, wide, rows);
    const B = gemm(Qt, X, wide, full, rows, false, false); // Q^T X, wide x full
    const BBt = gemm(B, B, wide, wide, full, false, true);
    const { values, vectors } = symmetricEigen(BBt, wide);
    const order = Array.from(values.keys()).sort((a, b) => values[b] - values[a]);
    const take = Math.min(dims, wide);
    const basis = new Float32Array(full * dims);
    for (let c = 0; c < take; c++) {
      const i = order[c];
      const norm = Math.sqrt(Math.max(values[i], 0));
      if (norm === 0) continue;
      // Right singular vector: B^T u / sigma.
      for (let j = 0; j < full; j++) {
        let s = 0;
        for (let a = 0; a < wide; a++) s += B[a * full + j] * vectors[a * wide + i];
        basis[j * dims + c] = s / norm;
      }
    }
    return new PrincipalProjection(full, dims, mean, basis);
  }

  /** Projects rows x full vectors, centred (stored regions) or not (queries). */
  apply(vectors: Float32Array, rows: number, centre: boolean): Float32Array {
    let x = vectors;
    if (centre) {
      x = new Float32Array(vectors.length);
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < this.full; j++)
          x[r * this.full + j] = vectors[r * this.full + j] - this.mean[j];
    }
    return gemm(x, this.basis, rows, this.dims, this.full, false, false);
  }

  /**
   * The full vectors that `z` (rows x dims, projected centred) stands for: mean + basis z, the
   * nearest point of the projection's space to each projected vector.
   */
  restore(z: Float32Array, rows: number): Float32Array {
    if (z.length !== rows * this.dims)
      throw new RangeError(
        `PrincipalProjection.restore: ${z.length} values for ${rows} x ${this.dims}`,
      );
    const out = gemm(z, this.basis, rows, this.full, this.dims, false, true);
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < this.full; j++) out[r * this.full + j] += this.mean[j];
    return out;
  }

  toBytes(): Uint8Array {
    const out = new Float32Array(2 + this.mean.length + this.basis.length);
    out[0] = this.full;
    out[1] = this.dims;
    out.set(this.mean, 2);
    out.set(this.basis, 2 + this.full);
    return new Uint8Array(out.buffer);
  }

  static fromBytes(bytes: Uint8Array, where: string): PrincipalProjection {
    const f = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    const full = f[0];
    const dims = f[1];
    if (!(full > 0 && dims > 0) || f.length !== 2 + full + full * dims)
      throw new RangeError(`${where}: not a projection of the stated size`);
    return new PrincipalProjection(full, dims, f.slice(2, 2 + full), f.slice(2 + full));
  }
}

/** op(A) (m x k) times op(B) (k x n), a new m x n array. */
function gemm(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): Float32Array {
  const c = new Float32Array(m * n);
  kernels().sgemm(transA, transB, m, n, k, 1, a, transA ? m : k, b, transB ? k : n, 0, c, n);
  return c;
}

/** Gram-Schmidt (twice, for stability) over the rows of a rows x cols matrix; zero rows stay 0. */
function orthonormalizeRows(x: Float32Array, rows: number, cols: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < rows; i++) {
      const xi = x.subarray(i * cols, (i + 1) * cols);
      for (let j = 0; j < i; j++) {
        const xj = x.subarray(j * cols, (j + 1) * cols);
        let d = 0;
        for (let c = 0; c < cols; c++) d += xi[c] * xj[c];
        for (let c = 0; c < cols; c++) xi[c] -= d * xj[c];
      }
      let n = 0;
      for (let c = 0; c < cols; c++) n += xi[c] * xi[c];
      n = Math.sqrt(n);
      for (let c = 0; c < cols; c++) xi[c] = n > 1e-12 ? xi[c] / n : 0;
    }
  }
}

/** Eigenvalues and eigenvectors (columns of `vectors`, n x n row-major) of a symmetric matrix, by cyclic Jacobi. */
function symmetricEigen(
  m: Float32Array,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 30; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-18) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-30) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i]), vectors: v };
}
