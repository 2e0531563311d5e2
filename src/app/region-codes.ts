import { float16Values, toFloat16 } from "../core/float16.js";
/**
 * Compressed region vectors as the image index stores them: rows of `dim` floats, each row kept
 * either as float16 (2 bytes a value) or as int8 with its own scale (1 byte a value plus 4 a
 * row: x ~ scale * q, q in -127..127, scale = max |x| / 127). "int8-residual" rows are int8 rows
 * of what a region's fine sketch leaves over (residual-rows.ts), encoded here as int8's.
 * bench/search.ts measures what each costs in recall@10 against float32 S_kl (docs/search.md).
 */
export type RegionCodec = "int8" | "fp16" | "int8-residual";
export const REGION_CODECS: readonly RegionCodec[] = ["int8", "fp16", "int8-residual"];

/** Bytes one row of `dim` values takes. */
export function rowBytes(codec: RegionCodec, dim: number): number {
  return codec === "fp16" ? 2 * dim : 4 + dim;
}

/** Encodes `rows` rows of `dim` values (row-major) into one byte array. */
export function encodeRows(
  values: Float32Array,
  rows: number,
  dim: number,
  codec: RegionCodec,
): Uint8Array {
  if (values.length !== rows * dim) {
    throw new RangeError(`encodeRows: ${values.length} values for ${rows} x ${dim}`);
  }
  const bytes = new Uint8Array(rows * rowBytes(codec, dim));
  const view = new DataView(bytes.buffer);
  if (codec === "fp16") {
    for (let i = 0; i < values.length; i++) view.setUint16(2 * i, toFloat16(values[i]), true);
    return bytes;
  }
  const stride = rowBytes(codec, dim);
  const q = new Int8Array(bytes.buffer);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let j = 0; j < dim; j++) max = Math.max(max, Math.abs(values[r * dim + j]));
    // A NaN in the row makes max (and so every decoded value) NaN: a broken vector stays broken.
    const scale = max > 0 || Number.isNaN(max) ? max / 127 : 1;
    view.setFloat32(r * stride, scale, true);
    const at = r * stride + 4;
    for (let j = 0; j < dim; j++) q[at + j] = Math.round(values[r * dim + j] / scale);
  }
  return bytes;
}

/**
 * Decodes what encodeRows wrote into `out` at `offset` (rows x dim floats). With `scales`, int8
 * rows are left unscaled in `out` and each row's scale goes to `scales` at `scaleOffset` (1 for
 * float16), so that a dot product is scaled once rather than each value: the exact stage's way.
 */
export function decodeRows(
  bytes: Uint8Array,
  rows: number,
  dim: number,
  codec: RegionCodec,
  out: Float32Array,
  offset = 0,
  scales?: Float32Array,
  scaleOffset = 0,
): void {
  if (bytes.length !== rows * rowBytes(codec, dim)) {
    throw new RangeError(`decodeRows: ${bytes.length} bytes for ${rows} x ${dim} ${codec}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (codec === "fp16") {
    const table = float16Values();
    for (let i = 0; i < rows * dim; i++) out[offset + i] = table[view.getUint16(2 * i, true)];
    scales?.fill(1, scaleOffset, scaleOffset + rows);
    return;
  }
  const stride = rowBytes(codec, dim);
  const q = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let r = 0; r < rows; r++) {
    const scale = view.getFloat32(r * stride, true);
    const to = offset + r * dim;
    // The typed-array copy converts int8 to float natively; only the scaling is a loop.
    out.set(q.subarray(r * stride + 4, r * stride + 4 + dim), to);
    if (scales) scales[scaleOffset + r] = scale;
    else for (let j = to; j < to + dim; j++) out[j] *= scale;
  }
}
