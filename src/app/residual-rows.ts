import { kernels } from "../core/index.js";
import type { RegionSketch } from "./region-sketch.js";
import type { MemberQuery } from "./region-vectors.js";

/**
 * The exact stage's rows of an index of codec "int8-residual": each region vector v^m_i stored as
 * what its fine sketch leaves over,
 *
 *   r^m_i = v^m_i - (mean_m + P_m z^m_i),
 *
 * z^m_i the region's fine sketch row (fine-sketch.bin) as int8 scaled back, so that v = mean +
 * P z + r exactly but for r's own int8 rounding. The fine sketch's 256 directions carry most of v,
 * so r's values are about a tenth of v's and int8 rounds them ten times finer: near copies whose
 * float32 scores differ by less than int8's rounding of v are ranked as float32 ranks them, at
 * int8's bytes (docs/search.md).
 */

/** Each member's residual rows r (images x regions x embed) of member vectors `vs`, given the images' fine sketch records. */
export function residualRows(
  vs: readonly Float32Array[],
  fine: RegionSketch,
  fineRecords: Uint8Array,
  images: number,
): Float32Array[] {
  return vs.map((v, i) => {
    const r = fine.restore(fineRecords, images, i);
    for (let j = 0; j < r.length; j++) r[j] = v[j] - r[j];
    return r;
  });
}

/** The member vectors v = mean + P z + r of the residual rows `rs` (scaled), in place. */
export function addRestored(
  rs: readonly Float32Array[],
  fine: RegionSketch,
  fineRecords: Uint8Array,
  images: number,
): void {
  rs.forEach((r, i) => {
    const restored = fine.restore(fineRecords, images, i);
    for (let j = 0; j < r.length; j++) r[j] += restored[j];
  });
}

/**
 * The fused exact S_kl of `images` images against a query from their fine sketch records and
 * their residual rows (each member's images x regions x embed, unscaled, with each row's scale):
 *
 *   S_k = sum_m w_m sum_t max_i (mean_m . s^m_t + z^m_i . P_m^T s^m_t + r^m_i . s^m_t),
 *
 * which is S_kl of the stored v. Two products a member (the fine rows against the projected
 * words, the residuals against the words); a max over values one of which is not a number is
 * NaN, so a broken row ranks its image last.
 */
export function residualScores(
  fine: RegionSketch,
  fineRecords: Uint8Array,
  rs: readonly Float32Array[],
  scales: readonly Float32Array[],
  images: number,
  queries: readonly MemberQuery[],
  weights: readonly number[],
  /** Memory for each member's fine rows as floats, kept by the caller from query to query. */
  fineRows: (member: number, length: number) => Float32Array = (_, n) => new Float32Array(n),
): Float32Array {
  const S = new Float32Array(images);
  const prepared = fine.prepare(queries);
  queries.forEach((q, i) => {
    const T = q.rows;
    if (T === 0 || images === 0) return;
    const R = fine.regions[i];
    const d = fine.projections[i].dims;
    const e = fine.projections[i].full;
    const rows = images * R;
    const z = fine.unscaledRows(fineRecords, images, i, fineRows(i, rows * d));
    // Word-major (T x rows): the few word rows are the products' left side, which the kernel
    // does three times as fast as the transposed form on these shapes.
    const near = new Float32Array(T * rows);
    kernels().sgemm(false, true, T, rows, d, 1, prepared[i].z, d, z.values, d, 0, near, rows);
    const left = new Float32Array(T * rows);
    kernels().sgemm(false, true, T, rows, e, 1, q.vectors, e, rs[i], e, 0, left, rows);
    const offsets = prepared[i].offsets;
    for (let k = 0; k < images; k++) {
      let sum = 0;
      for (let t = 0; t < T; t++) {
        let best = Number.NEGATIVE_INFINITY;
        for (let r = k * R; r < (k + 1) * R; r++) {
          const x = z.scales[r] * near[t * rows + r] + scales[i][r] * left[t * rows + r];
          if (x > best || Number.isNaN(x)) best = x;
          if (Number.isNaN(best)) break;
        }
        sum += offsets[t] + best;
      }
      S[k] += weights[i] * sum;
    }
  });
  return S;
}
