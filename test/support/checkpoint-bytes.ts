import { crc32 } from "node:zlib";
import { toFloat16 } from "../../src/core/float16.js";

/** A checkpoint file taken apart: its JSON header and payload (see src/core/checkpoint.ts). */
export interface CheckpointParts {
  header: {
    tensors: { name: string; kind: string; offset: number; dtype: string; bytes: number }[];
    payloadBytes: number;
    crc32: number;
    [key: string]: unknown;
  };
  payload: Uint8Array;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** The header and payload of checkpoint bytes of either format version. */
export function splitCheckpoint(bytes: Uint8Array): CheckpointParts {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerStart = dv.getUint32(8, true) === 1 ? 16 : 20;
  const length = dv.getUint32(12, true);
  const header = JSON.parse(
    Buffer.from(bytes.subarray(headerStart, headerStart + length)).toString("utf8"),
  );
  const start = align8(headerStart + length);
  // A copy (a Buffer's slice would share the file's memory).
  return { header, payload: Uint8Array.from(bytes.subarray(start, start + header.payloadBytes)) };
}

/**
 * Checkpoint bytes of format `version` from parts, every checksum made to match: what a writer
 * that did not check its values (or an older imagesent, for version 1) would have written.
 */
export function joinCheckpoint(parts: CheckpointParts, version: 1 | 2 = 2): Uint8Array {
  const header = { ...parts.header, crc32: crc32(parts.payload) };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const headerStart = version === 1 ? 16 : 20;
  const start = align8(headerStart + json.length);
  const out = new Uint8Array(start + parts.payload.length);
  out.set(Buffer.from("IMSCKPT\n", "latin1"), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, version, true);
  dv.setUint32(12, json.length, true);
  out.set(json, headerStart);
  out.set(parts.payload, start);
  if (version === 2) dv.setUint32(16, crc32(out.subarray(20), crc32(out.subarray(8, 16))), true);
  return out;
}

/**
 * The bytes with element `index` of tensor `name` (float32 or float16) set to `value`, checksums
 * fixed.
 */
export function withTensorValue(
  bytes: Uint8Array,
  name: string,
  index: number,
  value: number,
): Uint8Array {
  const parts = splitCheckpoint(bytes);
  const entry = parts.header.tensors.find((t) => t.name === name);
  if (!entry) throw new Error(`no tensor ${name}`);
  const view = new DataView(parts.payload.buffer);
  if (entry.dtype === "f32") view.setFloat32(entry.offset + 4 * index, value, true);
  else view.setUint16(entry.offset + 2 * index, toFloat16(value), true);
  return joinCheckpoint(parts);
}

/** The bytes with bit `bit` of byte `at` flipped. */
export function flipBit(bytes: Uint8Array, at: number, bit = 0): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[at] ^= 1 << bit;
  return out;
}
