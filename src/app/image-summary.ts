import { kernels, largest } from "../core/index.js";
import { NO_RECORD } from "./record-file.js";
import type { RegionSketch, SketchQuery } from "./region-sketch.js";

/**
 * One short vector per image, what the first candidate stage of a large index scores
 * (docs/search.md): each search model's sketch rows (RegionSketch) averaged over the image's
 * regions, their leading `dims` values (all of a shorter sketch's), weighted by the model's fusion
 * weight and joined,
 *
 *   u_k = [w_1 mean_i z^1_i[:d], ..., w_M mean_i z^M_i[:d]],
 *
 * against a query's word vectors summed per model and projected the same way,
 * q = [P_1^T sum_t s^1_t, ..., P_M^T sum_t s^M_t][:d]. Since sum_t mean_i v_i . s_t =
 * (mean_i v_i) . (sum_t s_t), u_k . q is S_kl with each word's max over the regions replaced by
 * their mean (up to a term that is the same for every image and what the leading values leave
 * out): one dot product per image whatever the query's length, so a million images are scored in
 * milliseconds and the best few thousand go on to their sketches. One record per image
 * (RecordFile):
 *
 *   id int32 | scale f32 | the members' values, int8 (u_k / scale), padded to 4 bytes
 */
export class ImageSummary {
  readonly recordBytes: number;
  readonly width: number;
  /** Values of each member: min(dims, its sketch's length). */
  private readonly kept: readonly number[];
  /** Where each member's values start among a record's. */
  private readonly startsAt: readonly number[];
  /** best's scores, reused. */
  private scratch = new Float32Array(0);

  constructor(
    readonly sketch: RegionSketch,
    /** Leading sketch values kept per member. */
    readonly dims: number,
  ) {
    if (!(Number.isInteger(dims) && dims > 0))
      throw new RangeError(`ImageSummary: ${dims} values per member`);
    this.kept = sketch.projections.map((p) => Math.min(dims, p.dims));
    this.startsAt = this.kept.map((_, i) => this.kept.slice(0, i).reduce((a, b) => a + b, 0));
    this.width = this.kept.reduce((a, b) => a + b, 0);
    this.recordBytes = Math.ceil((8 + this.width) / 4) * 4;
  }

  /**
   * The summaries of `records` sketch records (RegionSketch bytes), with the members' fusion
   * weights; holes stay holes.
   */
  encode(sketchBytes: Uint8Array, records: number, weights: readonly number[]): Uint8Array {
    if (weights.length !== this.sketch.regions.length)
      throw new RangeError(
        `ImageSummary: ${weights.length} weights, ${this.sketch.regions.length} members`,
      );
    const means = weights.map((_, i) =>
      this.sketch.meanRows(sketchBytes, records, i, this.kept[i]),
    );
    const from = new DataView(sketchBytes.buffer, sketchBytes.byteOffset, sketchBytes.byteLength);
    const out = new Uint8Array(records * this.recordBytes);
    const view = new DataView(out.buffer);
    const q = new Int8Array(out.buffer);
    const u = new Float32Array(this.width);
    for (let k = 0; k < records; k++) {
      const rec = k * this.recordBytes;
      view.setInt32(rec, from.getInt32(k * this.sketch.recordBytes, true), true);
      let max = 0;
      weights.forEach((w, i) => {
        const d = this.kept[i];
        for (let j = 0; j < d; j++) u[this.startsAt[i] + j] = w * means[i][k * d + j];
      });
      for (const x of u) max = Math.max(max, Math.abs(x));
      // A summary that is not finite scores 0: the image is still found through its sketch and
      // exact score wherever the shortlist reaches it, and those rank a NaN last.
      const scale = Number.isFinite(max) && max > 0 ? max / 127 : 0;
      view.setFloat32(rec + 4, scale, true);
      if (scale > 0) for (let j = 0; j < this.width; j++) q[rec + 8 + j] = Math.round(u[j] / scale);
    }
    return out;
  }

  /** The query vector q of a prepared sketch query: each member's rows summed, leading values. */
  query(sketchQuery: SketchQuery): Float32Array {
    const q = new Float32Array(this.width);
    sketchQuery.forEach((m, i) => {
      const full = this.sketch.projections[i].dims;
      const at = this.startsAt[i];
      for (let t = 0; t < m.rows; t++)
        for (let j = 0; j < this.kept[i]; j++) q[at + j] += m.z[t * full + j];
    });
    return q;
  }

  /**
   * u_k . q of each of `records` summary records (a hole's is its old image's, or 0), into `out`
   * where given (at least `records` long).
   */
  scores(
    bytes: Uint8Array,
    records: number,
    q: Float32Array,
    out = new Float32Array(records),
  ): Float32Array {
    kernels().int8Dot(
      {
        bytes,
        rows: records,
        recordBytes: this.recordBytes,
        width: this.width,
        valuesAt: 8,
        scaleAt: 4,
      },
      q,
      out.subarray(0, records),
    );
    return out;
  }

  /**
   * The ids of the `count` images of `records` summary records with the largest u_k . q, in
   * ascending id order (the order their sketches are read in); holes are left out, and so is a
   * summary that scores NaN.
   */
  best(bytes: Uint8Array, records: number, q: Float32Array, count: number): number[] {
    if (count <= 0 || records === 0) return [];
    // The scores go in memory kept from query to query: 4 MB of fresh memory at 10^6 images
    // would cost a page fault per 4 KB.
    if (this.scratch.length < records) this.scratch = new Float32Array(records);
    const scores = this.scores(bytes, records, q, this.scratch);
    const ids = new Int32Array(bytes.buffer, bytes.byteOffset, (records * this.recordBytes) / 4);
    const stride = this.recordBytes / 4;
    // Holes are looked for among those picked, not in every record: reading each record's id
    // touches a cache line in each of 10^6 records (the whole of best took 43 ms that way, 35
    // this way, on a busy machine); picking again is needed only when a hole is picked.
    const all = scores.subarray(0, records);
    for (;;) {
      const picked = largest(all, count);
      const holes = picked.filter((k) => ids[k * stride] === NO_RECORD);
      if (holes.length === 0) return picked.map((k) => ids[k * stride]);
      for (const k of holes) all[k] = Number.NaN;
    }
  }
}
