import { kernels } from "../core/index.js";
import type { RegionSketch, SketchQuery } from "./region-sketch.js";

/** Lloyd iterations of an image's k-means. */
const ITERATIONS = 6;

/**
 * A few rows per image and search model, what ranks the mean summary's shortlist before its
 * sketches are read (docs/search.md): the image's sketch rows (RegionSketch) of each model, their
 * leading `dims` values, grouped by k-means into `clusters` groups, and each group's mean c^m_j,
 * scored as S_kl is but over the means in place of the regions,
 *
 *   sum_m w_m sum_t max_j (mean_m . s^m_t + c^m_j . P_m^T s^m_t),
 *
 * a max per model and word where ImageSummary's one mean per model scores the summed query. A
 * member with no more regions than clusters keeps its rows as they are. One record per image
 * (RecordFile), laid out as a sketch's with these rows in place of the regions:
 *
 *   id int32 | scale f32 per row | member 0's rows x d_0 int8 | ...   (padded to 4 bytes)
 */
export class ClusterSummary {
  readonly recordBytes: number;
  /** Rows per member: min(clusters, its regions). */
  readonly rows: readonly number[];
  /** Values per row of each member: min(dims, its sketch's length). */
  readonly widths: readonly number[];
  private readonly firstRow: readonly number[];
  private readonly valuesAt: readonly number[];

  constructor(
    readonly sketch: RegionSketch,
    readonly dims: number,
    readonly clusters: number,
  ) {
    for (const [name, n] of [
      ["values per member", dims],
      ["clusters", clusters],
    ] as const) {
      if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`ClusterSummary: ${n} ${name}`);
    }
    this.rows = sketch.regions.map((r) => Math.min(clusters, r));
    this.widths = sketch.projections.map((p) => Math.min(dims, p.dims));
    this.firstRow = this.rows.map((_, i) => this.rows.slice(0, i).reduce((a, b) => a + b, 0));
    const allRows = this.rows.reduce((a, b) => a + b, 0);
    let at = 4 + 4 * allRows;
    this.valuesAt = this.rows.map((r, i) => {
      const here = at;
      at += r * this.widths[i];
      return here;
    });
    this.recordBytes = Math.ceil(at / 4) * 4;
  }

  /** The cluster summaries of `records` sketch records (RegionSketch bytes); holes stay holes. */
  encode(sketchBytes: Uint8Array, records: number): Uint8Array {
    const from = new DataView(sketchBytes.buffer, sketchBytes.byteOffset, sketchBytes.byteLength);
    const out = new Uint8Array(records * this.recordBytes);
    const view = new DataView(out.buffer);
    const q = new Int8Array(out.buffer);
    for (let k = 0; k < records; k++)
      view.setInt32(k * this.recordBytes, from.getInt32(k * this.sketch.recordBytes, true), true);
    this.rows.forEach((rows, i) => {
      const d = this.widths[i];
      const R = this.sketch.regions[i];
      const regionRows = this.sketch.leadingRows(sketchBytes, records, i, d);
      for (let k = 0; k < records; k++) {
        const means = kMeans(regionRows.subarray(k * R * d, (k + 1) * R * d), R, d, rows);
        const rec = k * this.recordBytes;
        for (let j = 0; j < rows; j++) {
          const c = means.subarray(j * d, (j + 1) * d);
          let max = 0;
          for (const x of c) max = Math.max(max, Math.abs(x));
          // A row that is not finite is kept as zeros: its image is still found through its
          // sketch and exact score wherever the shortlist reaches it.
          const scale = Number.isFinite(max) && max > 0 ? max / 127 : 0;
          view.setFloat32(rec + 4 + 4 * (this.firstRow[i] + j), scale, true);
          const at = rec + this.valuesAt[i] + j * d;
          if (scale > 0) for (let x = 0; x < d; x++) q[at + x] = Math.round(c[x] / scale);
        }
      }
    });
    return out;
  }

  /**
   * The score above of each of `records` records (holes included: a hole's is its old image's,
   * or 0) against a prepared sketch query.
   */
  score(
    bytes: Uint8Array,
    records: number,
    query: SketchQuery,
    weights: readonly number[],
  ): Float32Array {
    const S = new Float32Array(records);
    query.forEach((m, i) => {
      if (m.rows === 0) return;
      const d = this.widths[i];
      const full = this.sketch.projections[i].dims;
      const z = new Float32Array(m.rows * d);
      for (let t = 0; t < m.rows; t++) z.set(m.z.subarray(t * full, t * full + d), t * d);
      kernels().int8MaxDotSum(
        {
          bytes,
          groups: records,
          groupBytes: this.recordBytes,
          per: this.rows[i],
          width: d,
          valuesAt: this.valuesAt[i],
          valueStride: d,
          scalesAt: 4 + 4 * this.firstRow[i],
          scaleStride: 4,
          lengthsAt: 0,
          lengthStride: 0,
        },
        z,
        m.rows,
        m.offsets,
        false,
        weights[i],
        S,
      );
    });
    return S;
  }
}

/**
 * The means of `k` groups of `n` rows of `d` values (k x d; k <= n): farthest-point seeds from the
 * longest row, then ITERATIONS of Lloyd's (each row to its nearest mean, each mean to its rows';
 * a mean left without rows stays where it was). Rows that are not finite make means that are not.
 */
export function kMeans(rows: Float32Array, n: number, d: number, k: number): Float32Array {
  const means = new Float32Array(k * d);
  if (k >= n) {
    means.set(rows.subarray(0, k * d));
    return means;
  }
  let first = 0;
  let longest = -1;
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let x = 0; x < d; x++) s += rows[r * d + x] * rows[r * d + x];
    if (s > longest) {
      first = r;
      longest = s;
    }
  }
  means.set(rows.subarray(first * d, (first + 1) * d), 0);
  const nearest = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  for (let j = 1; j < k; j++) {
    let far = 0;
    for (let r = 0; r < n; r++) {
      nearest[r] = Math.min(nearest[r], squaredDistance(rows, r * d, means, (j - 1) * d, d));
      if (nearest[r] > nearest[far]) far = r;
    }
    means.set(rows.subarray(far * d, (far + 1) * d), j * d);
  }
  const owner = new Int32Array(n);
  const sums = new Float64Array(k * d);
  const counts = new Int32Array(k);
  for (let it = 0; it < ITERATIONS; it++) {
    for (let r = 0; r < n; r++) {
      let best = 0;
      let bestDistance = Number.POSITIVE_INFINITY;
      for (let j = 0; j < k; j++) {
        const dist = squaredDistance(rows, r * d, means, j * d, d);
        if (dist < bestDistance) {
          best = j;
          bestDistance = dist;
        }
      }
      owner[r] = best;
    }
    sums.fill(0);
    counts.fill(0);
    for (let r = 0; r < n; r++) {
      const j = owner[r];
      counts[j]++;
      for (let x = 0; x < d; x++) sums[j * d + x] += rows[r * d + x];
    }
    for (let j = 0; j < k; j++)
      if (counts[j] > 0) for (let x = 0; x < d; x++) means[j * d + x] = sums[j * d + x] / counts[j];
  }
  return means;
}

/** |a[i..i+d) - b[j..j+d)|^2. */
function squaredDistance(
  a: Float32Array,
  i: number,
  b: Float32Array,
  j: number,
  d: number,
): number {
  let s = 0;
  for (let x = 0; x < d; x++) {
    const e = a[i + x] - b[j + x];
    s += e * e;
  }
  return s;
}
