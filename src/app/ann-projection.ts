import { kernels, Rng } from "../core/index.js";
import { NO_RECORD } from "./record-file.js";

/**
 * The low-dimensional space the image index's nearest-neighbour search runs in: the top principal
 * directions of the stored region vectors (centred). For a word vector s and a region vector v,
 * s . v = s . mean + (P^T s) . (P^T (v - mean)) + the part outside P, and the first term is the
 * same for every region, so a word's best regions in the small space are, up to what P leaves
 * out, its best regions in the full one. The exact S_kl of the candidates is computed afterwards
 * from the full vectors, so the projection decides only which images are looked at.
 */
export class AnnProjection {
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
        `AnnProjection: mean ${mean.length}, basis ${basis.length} for ${full} x ${dims}`,
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
  ): AnnProjection {
    if (sample.length !== rows * full)
      throw new RangeError(`AnnProjection.fit: ${sample.length} values for ${rows} x ${full}`);
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
    return new AnnProjection(full, dims, mean, basis);
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

  toBytes(): Uint8Array {
    const out = new Float32Array(2 + this.mean.length + this.basis.length);
    out[0] = this.full;
    out[1] = this.dims;
    out.set(this.mean, 2);
    out.set(this.basis, 2 + this.full);
    return new Uint8Array(out.buffer);
  }

  static fromBytes(bytes: Uint8Array, where: string): AnnProjection {
    const f = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    const full = f[0];
    const dims = f[1];
    if (!(full > 0 && dims > 0) || f.length !== 2 + full + full * dims)
      throw new RangeError(`${where}: not a projection of the stated size`);
    return new AnnProjection(full, dims, f.slice(2, 2 + full), f.slice(2 + full));
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

/**
 * Each search model's region vectors in a small space of its own (its top principal directions,
 * an AnnProjection per model), int8 with a scale per row, with each row's full length: what the
 * candidate stage scores images with, sum_m w_m sum_t max_i (v^m_i . s^m_t, approximated), a
 * model at a time as S_kl is (docs/search.md). One record per image (RecordFile):
 *
 *   id int32 | scale f32 per row | full length f32 per row | member 0's rows x dims_0 int8 | ...
 *
 * (rows: each member's regions, member after member), padded to a multiple of 4 bytes.
 */
export class RegionSketch {
  /** Rows of a record: the members' regions summed. */
  readonly rows: number;
  readonly recordBytes: number;
  /** Where each member's first row is among a record's rows. */
  private readonly firstRow: number[];
  /** Where each member's int8 values start in a record. */
  private readonly valuesAt: number[];
  /** Buffers score() reuses from call to call (a chunk's values as floats, and their dots). */
  private scratch = { values: new Float32Array(0), dots: new Float32Array(0) };

  constructor(
    readonly projections: readonly AnnProjection[],
    /** Each member's regions per image. */
    readonly regions: readonly number[],
  ) {
    if (projections.length !== regions.length)
      throw new RangeError(
        `RegionSketch: ${projections.length} projections, ${regions.length} members`,
      );
    this.firstRow = [];
    let rows = 0;
    for (const r of regions) {
      this.firstRow.push(rows);
      rows += r;
    }
    this.rows = rows;
    this.valuesAt = [];
    let at = 4 + 8 * rows;
    projections.forEach((p, i) => {
      this.valuesAt.push(at);
      at += regions[i] * p.dims;
    });
    this.recordBytes = Math.ceil(at / 4) * 4;
  }

  /**
   * Fits each member's projection to `images` images' member vectors (each images x regions x
   * embed); rows that are not finite (a broken feature) are left out of the fit.
   */
  static fit(
    vs: readonly Float32Array[],
    images: number,
    members: readonly { readonly regions: number; readonly embed: number }[],
    dims: number,
  ): RegionSketch {
    const projections = members.map((m, i) => {
      const e = m.embed;
      const finite: number[] = [];
      for (let r = 0; r < images * m.regions; r++)
        if (vs[i].subarray(r * e, (r + 1) * e).every(Number.isFinite)) finite.push(r);
      const sample = new Float32Array(finite.length * e);
      for (const [j, r] of finite.entries()) sample.set(vs[i].subarray(r * e, (r + 1) * e), j * e);
      return AnnProjection.fit(sample, finite.length, e, Math.min(dims, e));
    });
    return new RegionSketch(
      projections,
      members.map((m) => m.regions),
    );
  }

  /** The records of `ids.length` images with member vectors `vs` (each images x regions x embed). */
  encode(vs: readonly Float32Array[], ids: Int32Array): Uint8Array {
    const n = ids.length;
    const out = new Uint8Array(n * this.recordBytes);
    const view = new DataView(out.buffer);
    const q = new Int8Array(out.buffer);
    for (let k = 0; k < n; k++) view.setInt32(k * this.recordBytes, ids[k], true);
    this.projections.forEach((p, i) => {
      const R = this.regions[i];
      const e = p.full;
      const d = p.dims;
      const z = p.apply(vs[i], n * R, true);
      for (let k = 0; k < n; k++) {
        const rec = k * this.recordBytes;
        for (let r = 0; r < R; r++) {
          const row = this.firstRow[i] + r;
          const v = vs[i].subarray((k * R + r) * e, (k * R + r + 1) * e);
          const zr = z.subarray((k * R + r) * d, (k * R + r + 1) * d);
          let length = 0;
          for (let j = 0; j < e; j++) length += v[j] * v[j];
          let max = 0;
          for (let j = 0; j < d; j++) max = Math.max(max, Math.abs(zr[j]));
          // A row that is not finite is kept as zeros of length 0: found by no query; the exact
          // stage's NaN ranks its image last wherever it is found.
          const ok = Number.isFinite(length) && Number.isFinite(max);
          const scale = ok && max > 0 ? max / 127 : 0;
          view.setFloat32(rec + 4 + 4 * row, scale, true);
          view.setFloat32(rec + 4 + 4 * (this.rows + row), ok ? Math.sqrt(length) : 0, true);
          const at = rec + this.valuesAt[i] + r * d;
          if (scale > 0) for (let j = 0; j < d; j++) q[at + j] = Math.round(zr[j] / scale);
        }
      }
    });
    return out;
  }

  /**
   * The approximate fused score of each image of `records` records (RecordFile bytes) against a
   * query: sum_m w_m sum_t max_i (mean_m . s_t + z_i . P_m^T s_t), each region's score divided by
   * its full length when `unit` (the exact stage's cosines). Holes are left out.
   */
  score(
    bytes: Uint8Array,
    records: number,
    queries: readonly { readonly rows: number; readonly vectors: Float32Array }[],
    weights: readonly number[],
    unit: boolean,
  ): { ids: Int32Array; scores: Float32Array } {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const q8 = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const S = new Float32Array(records);
    this.projections.forEach((p, i) => {
      const T = queries[i].rows;
      if (T === 0) return;
      const R = this.regions[i];
      const d = p.dims;
      const zq = p.apply(queries[i].vectors, T, false);
      const offset = new Float32Array(T);
      for (let t = 0; t < T; t++) {
        let s = 0;
        for (let j = 0; j < p.full; j++) s += p.mean[j] * queries[i].vectors[t * p.full + j];
        offset[t] = s;
      }
      const F = this.buffer("values", records * R * d);
      for (let k = 0; k < records; k++) {
        const at = k * this.recordBytes + this.valuesAt[i];
        F.set(q8.subarray(at, at + R * d), k * R * d);
      }
      // Words x rows rather than rows x words: the native sgemm is faster with the long side last.
      const n = records * R;
      const dots = this.buffer("dots", n * T);
      kernels().sgemm(false, true, T, n, d, 1, zq, d, F, d, 0, dots, n);
      const best = new Float32Array(T);
      for (let k = 0; k < records; k++) {
        const rec = k * this.recordBytes;
        best.fill(Number.NEGATIVE_INFINITY);
        for (let r = 0; r < R; r++) {
          const row = this.firstRow[i] + r;
          const scale = view.getFloat32(rec + 4 + 4 * row, true);
          const length = view.getFloat32(rec + 4 + 4 * (this.rows + row), true);
          const div = unit ? (length > 0 ? 1 / length : 0) : 1;
          for (let t = 0; t < T; t++) {
            const x = (offset[t] + scale * dots[t * n + k * R + r]) * div;
            if (x > best[t]) best[t] = x;
          }
        }
        let sum = 0;
        for (let t = 0; t < T; t++) sum += best[t];
        S[k] += weights[i] * sum;
      }
    });
    const keep: number[] = [];
    for (let k = 0; k < records; k++)
      if (view.getInt32(k * this.recordBytes, true) !== NO_RECORD) keep.push(k);
    return {
      ids: Int32Array.from(keep, (k) => view.getInt32(k * this.recordBytes, true)),
      scores: Float32Array.from(keep, (k) => S[k]),
    };
  }

  /** The first `length` values of a scratch buffer, grown when too short. */
  private buffer(which: "values" | "dots", length: number): Float32Array {
    if (this.scratch[which].length < length) this.scratch[which] = new Float32Array(length);
    return this.scratch[which].subarray(0, length);
  }

  toBytes(): Uint8Array {
    const parts = this.projections.map((p) => p.toBytes());
    const head = new Uint32Array([this.regions.length, ...this.regions]);
    const out = new Uint8Array(head.byteLength + parts.reduce((s, p) => s + p.length, 0));
    out.set(new Uint8Array(head.buffer), 0);
    let at = head.byteLength;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  static fromBytes(bytes: Uint8Array, where: string): RegionSketch {
    const copy = new Uint8Array(bytes);
    const u = new Uint32Array(copy.buffer, 0, Math.floor(copy.length / 4));
    const members = u[0];
    if (!(members > 0) || u.length < 1 + members)
      throw new RangeError(`${where}: not a region sketch`);
    const regions = Array.from(u.subarray(1, 1 + members));
    const projections: AnnProjection[] = [];
    let at = 4 * (1 + members);
    for (let i = 0; i < members; i++) {
      const f = new Float32Array(copy.buffer, at, 2);
      const size = 4 * (2 + f[0] + f[0] * f[1]);
      if (!(f[0] > 0 && f[1] > 0) || at + size > copy.length)
        throw new RangeError(`${where}: member ${i}'s projection is cut short`);
      projections.push(AnnProjection.fromBytes(copy.subarray(at, at + size), where));
      at += size;
    }
    if (at !== copy.length) throw new RangeError(`${where}: ${copy.length - at} bytes too many`);
    return new RegionSketch(projections, regions);
  }
}
