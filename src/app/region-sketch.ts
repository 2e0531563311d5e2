import { kernels, PrincipalProjection } from "../core/index.js";
import { NO_RECORD } from "./record-file.js";
import type { MemberQuery } from "./region-vectors.js";

/** Per member: its query rows projected (rows x dims) and their offsets. */
export type SketchQuery = readonly {
  readonly rows: number;
  readonly z: Float32Array;
  readonly offsets: Float32Array;
}[];

/**
 * Each search model's region vectors in a small space of its own (its top principal directions,
 * a PrincipalProjection per model: a word's best regions there are, up to what the projection
 * leaves out, its best regions in the full space; the exact S_kl of the candidates is computed
 * afterwards from the full vectors, so the sketch decides only which images are looked at), int8 with a scale per row, with each row's full length: what the
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

  constructor(
    readonly projections: readonly PrincipalProjection[],
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
      return PrincipalProjection.fit(sample, finite.length, e, Math.min(dims, e));
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
   * Member `member`'s sketch rows of each image, their first `dims` values, scaled back from int8
   * (records x regions x dims; a hole's are zeros): the region vectors in the member's space, up
   * to the projection's centre and what the int8 values round away.
   */
  leadingRows(bytes: Uint8Array, records: number, member: number, dims: number): Float32Array {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const q = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const R = this.regions[member];
    const d = this.projections[member].dims;
    const take = Math.min(dims, d);
    const out = new Float32Array(records * R * dims);
    for (let k = 0; k < records; k++) {
      const rec = k * this.recordBytes;
      if (view.getInt32(rec, true) === NO_RECORD) continue;
      for (let r = 0; r < R; r++) {
        const f = view.getFloat32(rec + 4 + 4 * (this.firstRow[member] + r), true);
        const at = rec + this.valuesAt[member] + r * d;
        const to = (k * R + r) * dims;
        for (let j = 0; j < take; j++) out[to + j] = f * q[at + j];
      }
    }
    return out;
  }

  /**
   * Member `member`'s int8 sketch rows of each image as floats, not scaled (into `values`, records
   * x regions x dims, where given), with each row's scale (records x regions): `leadingRows` of
   * all the values, scaled by the caller (the exact stage scales a product, not each value).
   */
  unscaledRows(
    bytes: Uint8Array,
    records: number,
    member: number,
    values?: Float32Array,
  ): { values: Float32Array; scales: Float32Array } {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const q = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const R = this.regions[member];
    const length = R * this.projections[member].dims;
    const out = values ?? new Float32Array(records * length);
    const scales = new Float32Array(records * R);
    for (let k = 0; k < records; k++) {
      const rec = k * this.recordBytes;
      // The typed-array copy converts int8 to float natively.
      out.set(
        q.subarray(rec + this.valuesAt[member], rec + this.valuesAt[member] + length),
        k * length,
      );
      for (let r = 0; r < R; r++)
        scales[k * R + r] = view.getFloat32(rec + 4 + 4 * (this.firstRow[member] + r), true);
    }
    return { values: out, scales };
  }

  /**
   * Member `member`'s region vectors as each image's sketch rows stand for them in the full space,
   * mean_m + P_m z_i (records x regions x embed; a hole's are the mean): what the sketch keeps of
   * them, the rest being what "int8-residual" vectors store.
   */
  restore(bytes: Uint8Array, records: number, member: number): Float32Array {
    const p = this.projections[member];
    const R = this.regions[member];
    return p.restore(this.leadingRows(bytes, records, member, p.dims), records * R);
  }

  /**
   * The mean over each image's regions of `leadingRows` (records x dims; a hole's is zeros): the
   * mean region vector in the member's space. ImageSummary's values.
   */
  meanRows(bytes: Uint8Array, records: number, member: number, dims: number): Float32Array {
    const R = this.regions[member];
    const rows = this.leadingRows(bytes, records, member, dims);
    const out = new Float32Array(records * dims);
    for (let k = 0; k < records; k++)
      for (let r = 0; r < R; r++)
        for (let j = 0; j < dims; j++) out[k * dims + j] += rows[(k * R + r) * dims + j] / R;
    return out;
  }

  /**
   * A query's rows in each member's space, once per query rather than per block of records:
   * z = P_m^T s_t and the offsets mean_m . s_t.
   */
  prepare(queries: readonly MemberQuery[]): SketchQuery {
    return this.projections.map((p, i) => {
      const T = queries[i].rows;
      const z = p.apply(queries[i].vectors, T, false);
      const offsets = new Float32Array(T);
      for (let t = 0; t < T; t++) {
        let s = 0;
        for (let j = 0; j < p.full; j++) s += p.mean[j] * queries[i].vectors[t * p.full + j];
        offsets[t] = s;
      }
      return { rows: T, z, offsets };
    });
  }

  /**
   * The approximate fused score of each image of `records` records (RecordFile bytes) against a
   * prepared query: sum_m w_m sum_t max_i (mean_m . s_t + z_i . P_m^T s_t), each region's score
   * divided by its full length when `unit` (the exact stage's cosines). Holes are left out.
   */
  score(
    bytes: Uint8Array,
    records: number,
    query: SketchQuery,
    weights: readonly number[],
    unit: boolean,
  ): { ids: Int32Array; scores: Float32Array } {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const S = new Float32Array(records);
    query.forEach((q, i) => {
      if (q.rows === 0) return;
      kernels().int8MaxDotSum(
        {
          bytes,
          groups: records,
          groupBytes: this.recordBytes,
          per: this.regions[i],
          width: this.projections[i].dims,
          valuesAt: this.valuesAt[i],
          valueStride: this.projections[i].dims,
          scalesAt: 4 + 4 * this.firstRow[i],
          scaleStride: 4,
          lengthsAt: 4 + 4 * (this.rows + this.firstRow[i]),
          lengthStride: 4,
        },
        q.z,
        q.rows,
        q.offsets,
        unit,
        weights[i],
        S,
      );
    });
    const keep: number[] = [];
    for (let k = 0; k < records; k++)
      if (view.getInt32(k * this.recordBytes, true) !== NO_RECORD) keep.push(k);
    return {
      ids: Int32Array.from(keep, (k) => view.getInt32(k * this.recordBytes, true)),
      scores: Float32Array.from(keep, (k) => S[k]),
    };
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
    const projections: PrincipalProjection[] = [];
    let at = 4 * (1 + members);
    for (let i = 0; i < members; i++) {
      const f = new Float32Array(copy.buffer, at, 2);
      const size = 4 * (2 + f[0] + f[0] * f[1]);
      if (!(f[0] > 0 && f[1] > 0) || at + size > copy.length)
        throw new RangeError(`${where}: member ${i}'s projection is cut short`);
      projections.push(PrincipalProjection.fromBytes(copy.subarray(at, at + size), where));
      at += size;
    }
    if (at !== copy.length) throw new RangeError(`${where}: ${copy.length - at} bytes too many`);
    return new RegionSketch(projections, regions);
  }
}
