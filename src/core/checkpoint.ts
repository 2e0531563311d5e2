import { readFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { InputError } from "../errors.js";
import { writeFileAtomic } from "./atomic-file.js";
import type { Optimizer, OptimizerState } from "./optim/optimizer.js";
import type { Params } from "./params.js";
import type { Rng } from "./rng.js";
import { sameShape, shapeSize } from "./tensor.js";

/**
 * One file holds everything needed to use a model or resume training it:
 *
 *   "IMSCKPT\n"  magic (8 bytes)
 *   u32 LE       format version (1)
 *   u32 LE       header length in bytes
 *   header       UTF-8 JSON: step, config, vocabulary, meta, RNG state, optimiser scalars, and
 *                for each tensor its name, shape, dtype and byte range in the payload, plus the
 *                payload's length and CRC-32
 *   padding      zeros up to a multiple of 8 bytes
 *   payload      the tensors' values, little-endian, each starting on a multiple of 8 bytes
 *
 * Weights may be stored as float16 to halve a shipped model; optimiser buffers are always float32.
 * Files are written atomically, so a run killed while saving leaves the previous checkpoint whole.
 */

const MAGIC = "IMSCKPT\n";
const VERSION = 1;

export type StorageDtype = "f32" | "f16";

export interface CheckpointContents {
  params: Params;
  optimizer?: Optimizer;
  rng?: Rng;
  /** Training steps taken. */
  step?: number;
  /** The model/training configuration (any JSON value). */
  config?: unknown;
  /** The vocabulary (any JSON value). */
  vocabulary?: unknown;
  /** Anything else worth keeping: validation scores, epoch, ... (JSON). */
  meta?: Record<string, unknown>;
}

export interface SaveOptions {
  /** Storage type of the weights. Default "f32" (bit-exact). */
  dtype?: StorageDtype;
}

export interface StoredTensor {
  shape: number[];
  dtype: StorageDtype;
  data: Float32Array;
}

interface TensorEntry {
  name: string;
  /** "param" for weights, "optimizer" for optimiser buffers. */
  kind: "param" | "optimizer";
  shape: number[];
  dtype: StorageDtype;
  offset: number;
  bytes: number;
}

/** The JSON header of a checkpoint file. */
export interface CheckpointHeader {
  step: number;
  config: unknown;
  vocabulary: unknown;
  meta: Record<string, unknown>;
  rng: number[] | null;
  optimizer: Omit<OptimizerState, "buffers"> | null;
  tensors: TensorEntry[];
  payloadBytes: number;
  crc32: number;
}

/** Writes a checkpoint to `path` atomically. */
export function saveCheckpoint(path: string, c: CheckpointContents, opts: SaveOptions = {}): void {
  writeFileAtomic(path, encodeCheckpoint(c, opts));
}

/** The bytes of a checkpoint file. */
export function encodeCheckpoint(c: CheckpointContents, opts: SaveOptions = {}): Uint8Array {
  const dtype = opts.dtype ?? "f32";
  const blobs: { entry: TensorEntry; data: Float32Array }[] = [];
  let offset = 0;
  const push = (
    name: string,
    kind: TensorEntry["kind"],
    shape: readonly number[],
    data: Float32Array,
    dt: StorageDtype,
  ) => {
    const bytes = data.length * (dt === "f16" ? 2 : 4);
    blobs.push({ entry: { name, kind, shape: [...shape], dtype: dt, offset, bytes }, data });
    offset += align8(bytes);
  };
  for (const p of c.params.all()) push(p.name, "param", p.tensor.shape, p.tensor.data, dtype);
  let optimizer: CheckpointHeader["optimizer"] = null;
  if (c.optimizer) {
    const { buffers, ...scalars } = c.optimizer.exportState();
    optimizer = scalars;
    for (const [key, buf] of Object.entries(buffers))
      push(key, "optimizer", [buf.length], buf, "f32");
  }
  const payload = new Uint8Array(offset);
  const view = new DataView(payload.buffer);
  for (const { entry, data } of blobs) {
    if (entry.dtype === "f16") {
      for (let i = 0; i < data.length; i++)
        view.setUint16(entry.offset + 2 * i, toFloat16(data[i]), true);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(entry.offset + 4 * i, data[i], true);
    }
  }
  const header: CheckpointHeader = {
    step: c.step ?? 0,
    config: c.config ?? null,
    vocabulary: c.vocabulary ?? null,
    meta: c.meta ?? {},
    rng: c.rng ? c.rng.state() : null,
    optimizer,
    tensors: blobs.map((b) => b.entry),
    payloadBytes: payload.length,
    crc32: crc32(payload),
  };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const start = align8(16 + json.length);
  const out = new Uint8Array(start + payload.length);
  out.set(Buffer.from(MAGIC, "latin1"), 0);
  const head = new DataView(out.buffer);
  head.setUint32(8, VERSION, true);
  head.setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(payload, start);
  return out;
}

/** Reads a checkpoint; errors name the file and what is wrong with it. */
export function loadCheckpoint(path: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read checkpoint (${(err as Error).message})`);
  }
  return decodeCheckpoint(bytes, path);
}

/** Parses checkpoint bytes; `source` names them in errors. */
export function decodeCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  const fail = (why: string) => new InputError(`${source}: ${why}`);
  if (bytes.length < 16 || Buffer.from(bytes.subarray(0, 8)).toString("latin1") !== MAGIC) {
    throw fail("not an imagesent checkpoint (bad magic bytes)");
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== VERSION)
    throw fail(`checkpoint format version ${version}, this build reads ${VERSION}`);
  const jsonLength = dv.getUint32(12, true);
  if (16 + jsonLength > bytes.length) {
    throw fail(`truncated: header needs ${16 + jsonLength} bytes, file has ${bytes.length}`);
  }
  let header: CheckpointHeader;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(16, 16 + jsonLength)).toString("utf8"));
  } catch (err) {
    throw fail(`corrupt header (${(err as Error).message})`);
  }
  if (typeof header !== "object" || header === null || !Array.isArray(header.tensors)) {
    throw fail("corrupt header (no tensor list)");
  }
  const start = align8(16 + jsonLength);
  const end = start + header.payloadBytes;
  if (end > bytes.length) throw fail(`truncated: expected ${end} bytes, file has ${bytes.length}`);
  if (end < bytes.length) throw fail(`${bytes.length - end} unexpected bytes after the payload`);
  const payload = bytes.subarray(start, end);
  if (crc32(payload) !== header.crc32) throw fail("corrupt payload (CRC-32 mismatch)");

  const pv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const params = new Map<string, StoredTensor>();
  const buffers: Record<string, Float32Array> = {};
  for (const e of header.tensors) {
    const n = shapeSize(e.shape);
    const width = e.dtype === "f16" ? 2 : 4;
    if (n * width !== e.bytes || e.offset + e.bytes > payload.length) {
      throw fail(`corrupt tensor entry ${e.name} [${e.shape}] ${e.dtype}`);
    }
    const data = new Float32Array(n);
    if (e.dtype === "f16") {
      for (let i = 0; i < n; i++) data[i] = fromFloat16(pv.getUint16(e.offset + 2 * i, true));
    } else {
      for (let i = 0; i < n; i++) data[i] = pv.getFloat32(e.offset + 4 * i, true);
    }
    if (e.kind === "optimizer") buffers[e.name] = data;
    else params.set(e.name, { shape: e.shape, dtype: e.dtype, data });
  }
  const optimizer = header.optimizer ? { ...header.optimizer, buffers } : null;
  return new Checkpoint(source, header, params, optimizer);
}

/** A loaded checkpoint: read the config first to build the model, then `restore` into it. */
export class Checkpoint {
  readonly step: number;
  readonly config: unknown;
  readonly vocabulary: unknown;
  readonly meta: Record<string, unknown>;
  readonly rngState: number[] | null;

  constructor(
    readonly path: string,
    header: CheckpointHeader,
    /** The weights by parameter name. */
    readonly tensors: ReadonlyMap<string, StoredTensor>,
    readonly optimizerState: OptimizerState | null,
  ) {
    this.step = header.step;
    this.config = header.config;
    this.vocabulary = header.vocabulary;
    this.meta = header.meta;
    this.rngState = header.rng;
  }

  /**
   * Copies the weights into `params`. The names must match exactly and every shape must agree;
   * otherwise nothing is changed and the error names the parameter and both shapes.
   */
  restoreParams(params: Params): void {
    const missing = params.names().filter((n) => !this.tensors.has(n));
    if (missing.length > 0) {
      throw new InputError(`${this.path}: checkpoint lacks parameters ${missing.join(", ")}`);
    }
    const extra = [...this.tensors.keys()].filter((n) => !params.has(n));
    if (extra.length > 0) {
      throw new InputError(
        `${this.path}: checkpoint has parameters the model lacks: ${extra.join(", ")}`,
      );
    }
    for (const p of params.all()) {
      const stored = this.tensors.get(p.name)!;
      if (!sameShape(stored.shape, p.tensor.shape)) {
        throw new InputError(
          `${this.path}: parameter ${p.name} has shape [${stored.shape}] in the checkpoint ` +
            `but [${p.tensor.shape}] in the model`,
        );
      }
    }
    for (const p of params.all()) p.tensor.data.set(this.tensors.get(p.name)!.data);
  }

  /** Restores weights, then (where given and saved) optimiser state and RNG state. */
  restore(into: { params: Params; optimizer?: Optimizer; rng?: Rng }): void {
    this.restoreParams(into.params);
    if (into.optimizer) {
      if (!this.optimizerState)
        throw new InputError(`${this.path}: checkpoint holds no optimiser state`);
      into.optimizer.importState(this.optimizerState, into.params, this.path);
    }
    if (into.rng) {
      if (!this.rngState) throw new InputError(`${this.path}: checkpoint holds no RNG state`);
      into.rng.setState(this.rngState);
    }
  }
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE half-precision bits nearest to x (round half to even; overflow to infinity). */
export function toFloat16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal: the implicit leading bit becomes explicit and shifts down with the rest.
    return sign | roundShift(mant | 0x800000, 14 - e);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return (sign | (e << 10)) + roundShift(mant, 13);
}

/** The value of IEEE half-precision bits. */
export function fromFloat16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

function roundShift(m: number, s: number): number {
  const q = m >>> s;
  const rem = m & ((1 << s) - 1);
  const half = 1 << (s - 1);
  return rem > half || (rem === half && (q & 1) === 1) ? q + 1 : q;
}
