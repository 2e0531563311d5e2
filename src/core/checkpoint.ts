import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { crc32 } from "node:zlib";
import { CorruptFileError, InputError } from "../errors.js";
import { JsonFields, parseJson } from "../json-fields.js";
import { writeFileAtomic } from "./atomic-file.js";
import { describeNonFinite, nonFiniteIn } from "./divergence.js";
import { fromFloat16, toFloat16 } from "./float16.js";
import { kernels } from "./kernels/index.js";
import type { Optimizer, OptimizerState } from "./optim/optimizer.js";
import type { Params } from "./params.js";
import type { Rng } from "./rng.js";
import { sameShape, shapeSize } from "./tensor.js";

/**
 * One file holds everything needed to use a model or resume training it:
 *
 *   "IMSCKPT\n"  magic (8 bytes)
 *   u32 LE       format version (2)
 *   u32 LE       header length in bytes
 *   u32 LE       CRC-32 of the version and length fields and of every byte after this one
 *   header       UTF-8 JSON: step, config, vocabulary, meta, RNG state, optimiser scalars, and
 *                for each tensor its name, shape, dtype and byte range in the payload, plus the
 *                payload's length and CRC-32
 *   padding      zeros up to a multiple of 8 bytes
 *   payload      the tensors' values, little-endian, each starting on a multiple of 8 bytes
 *
 * Version 1 files (still read) lack the file CRC: their header starts at byte 16 and only the
 * payload is checked, so a flipped bit in a vocabulary went unnoticed. Weights may be stored as
 * float16 to halve a shipped model; optimiser buffers are always float32. Weights and buffers
 * must be finite: a diverged model is refused on save and on load. Files are written atomically,
 * so a run killed while saving leaves the previous checkpoint whole.
 */

const MAGIC = "IMSCKPT\n";
const MAGIC_BYTES = Buffer.from(MAGIC, "latin1");
const VERSION = 2;
/** Where the header starts in each version. */
const HEADER_START: Record<number, number> = { 1: 16, 2: 20 };

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

/** Writes a checkpoint to `path` atomically; refuses weights that are not finite. */
export function saveCheckpoint(path: string, c: CheckpointContents, opts: SaveOptions = {}): void {
  writeFileAtomic(path, encode(c, opts, path));
}

/** The bytes of a checkpoint file; refuses weights that are not finite. */
export function encodeCheckpoint(c: CheckpointContents, opts: SaveOptions = {}): Uint8Array {
  return encode(c, opts, "checkpoint");
}

function encode(c: CheckpointContents, opts: SaveOptions, target: string): Uint8Array {
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
    refuseNonFinite(target, kind, name, data, dt);
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
  const headerStart = HEADER_START[VERSION];
  const start = align8(headerStart + json.length);
  const out = new Uint8Array(start + payload.length);
  out.set(MAGIC_BYTES, 0);
  const head = new DataView(out.buffer);
  head.setUint32(8, VERSION, true);
  head.setUint32(12, json.length, true);
  out.set(json, headerStart);
  out.set(payload, start);
  head.setUint32(16, fileCrc(out), true);
  return out;
}

/** The version 2 file CRC: over bytes 8-15 (version, header length) and 20 to the end. */
function fileCrc(bytes: Uint8Array): number {
  return crc32(bytes.subarray(20), crc32(bytes.subarray(8, 16)));
}

/** Throws when `data` holds a value that is not finite, or would not be once stored as `dtype`. */
function refuseNonFinite(
  target: string,
  kind: TensorEntry["kind"],
  name: string,
  data: Float32Array,
  dtype: StorageDtype,
): void {
  const what = kind === "param" ? "parameter" : "optimiser buffer";
  const bad = nonFiniteIn(name, data);
  if (bad) {
    throw new InputError(
      `${target}: not saved: ${describeNonFinite(what, bad)}; the training that made it diverged`,
    );
  }
  if (dtype === "f16") {
    const big = data.findIndex((x) => !Number.isFinite(fromFloat16(toFloat16(x))));
    if (big >= 0) {
      throw new InputError(
        `${target}: not saved: ${what} ${name} holds ${data[big]}, beyond float16's range (65504)`,
      );
    }
  }
}

/**
 * The memory checkpoint files are read into, kept from one load to the next: decoding copies
 * everything out of it, and fresh memory costs a page fault per 4 KB, which made the file
 * buffers of a search's three models ~10% of a cold start.
 */
let readBuffer = new Uint8Array(0);

/** Reads a checkpoint; errors name the file and what is wrong with it. */
export function loadCheckpoint(path: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    const fd = openSync(path, "r");
    try {
      const size = fstatSync(fd).size;
      if (readBuffer.length < size) readBuffer = new Uint8Array(size);
      let got = 0;
      for (let n = 1; got < size && n > 0; got += n) {
        n = readSync(fd, readBuffer, got, size - got, got);
      }
      bytes = readBuffer.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new InputError(`${path}: cannot read checkpoint (${(err as Error).message})`);
  }
  return decodeCheckpoint(bytes, path);
}

/**
 * Parses checkpoint bytes; `source` names them in errors. A file that does not read back as
 * written (truncated, a flipped bit anywhere) is a CorruptFileError; one that is not a
 * checkpoint at all, or holds weights that are not finite, an InputError.
 */
export function decodeCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  const corrupt = (why: string) => new CorruptFileError(`${source}: ${why}`);
  const magic = Buffer.from(bytes.subarray(0, MAGIC_BYTES.length));
  if (bytes.length < MAGIC_BYTES.length && magic.equals(MAGIC_BYTES.subarray(0, bytes.length))) {
    throw corrupt(`truncated: ${bytes.length} bytes, not even the magic bytes of a checkpoint`);
  }
  if (!magic.equals(MAGIC_BYTES)) {
    throw new InputError(`${source}: not an imagesent checkpoint (bad magic bytes)`);
  }
  if (bytes.length < 16) throw corrupt(`truncated: ${bytes.length} bytes, the preamble is 16`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  const headerStart = HEADER_START[version];
  if (headerStart === undefined) {
    throw new InputError(
      `${source}: checkpoint format version ${version}, this build reads 1 and ${VERSION} ` +
        "(a newer imagesent's file, or a corrupt one)",
    );
  }
  if (bytes.length < headerStart) {
    throw corrupt(`truncated: ${bytes.length} bytes, the preamble is ${headerStart}`);
  }
  const intact = version === 1 || dv.getUint32(16, true) === fileCrc(bytes);
  // A damaged file still goes through the layout checks, which say how it is damaged. The
  // payload's own CRC is checked where the file CRC does not already cover it (version 1) or
  // failed (to tell a damaged payload from a damaged header).
  const checkPayload = version === 1 || !intact;
  const { header, payload } = readLayout(bytes, dv, headerStart, source, checkPayload);
  if (!intact) throw corrupt("corrupt header (CRC-32 mismatch)");

  const pv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const params = new Map<string, StoredTensor>();
  const buffers: Record<string, Float32Array> = {};
  // The float16 tensors decode into one allocation (huge pages where the kernels have them),
  // each at a multiple of 16 floats.
  const place = (n: number) => Math.ceil(n / 16) * 16;
  const halves = header.tensors.filter((e) => e.dtype === "f16");
  const arena = kernels().allocateFloats(
    halves.reduce((sum, e) => sum + place(shapeSize(e.shape)), 0),
  );
  let arenaAt = 0;
  for (const e of header.tensors) {
    const n = shapeSize(e.shape);
    let half: { data: Float32Array; finite: boolean } | undefined;
    if (e.dtype === "f16") {
      half = decodeHalves(payload, pv, e.offset, arena.subarray(arenaAt, arenaAt + n));
      arenaAt += place(n);
    }
    const data = half ? half.data : decodeFloats(payload, pv, e.offset, n);
    const bad = half?.finite ? null : nonFiniteIn(e.name, data);
    if (bad) {
      const what = e.kind === "param" ? "parameter" : "optimiser buffer";
      throw new InputError(
        `${source}: ${describeNonFinite(what, bad)}; the training that wrote it diverged`,
      );
    }
    if (e.kind === "optimizer") buffers[e.name] = data;
    else params.set(e.name, { shape: e.shape, dtype: e.dtype, data });
  }
  const optimizer = header.optimizer ? { ...header.optimizer, buffers } : null;
  return new Checkpoint(source, header, params, optimizer);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * `out.length` float16 values from `payload` at `offset` into `out` (the active kernels convert
 * them: F16C in the native ones), and whether all are finite. On a little-endian machine, where
 * the stored bytes are aligned, the kernels read them in place; otherwise they are first read
 * through the DataView.
 */
function decodeHalves(
  payload: Uint8Array,
  pv: DataView,
  offset: number,
  out: Float32Array,
): { data: Float32Array; finite: boolean } {
  const n = out.length;
  const at = payload.byteOffset + offset;
  const bits =
    LITTLE_ENDIAN && at % 2 === 0
      ? new Uint16Array(payload.buffer, at, n)
      : Uint16Array.from({ length: n }, (_, i) => pv.getUint16(offset + 2 * i, true));
  return { data: out, finite: kernels().halvesToFloats(bits, out) === 0 };
}

/** `n` float32 values from `payload` at `offset`, copied at once where the bytes allow it. */
function decodeFloats(payload: Uint8Array, pv: DataView, offset: number, n: number): Float32Array {
  const at = payload.byteOffset + offset;
  if (LITTLE_ENDIAN && at % 4 === 0) return new Float32Array(payload.buffer.slice(at, at + 4 * n));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = pv.getFloat32(offset + 4 * i, true);
  return out;
}

/** The header and payload of a checkpoint whose header starts at `headerStart`, checked. */
function readLayout(
  bytes: Uint8Array,
  dv: DataView,
  headerStart: number,
  source: string,
  checkPayload: boolean,
): { header: CheckpointHeader; payload: Uint8Array } {
  const corrupt = (why: string) => new CorruptFileError(`${source}: ${why}`);
  const jsonLength = dv.getUint32(12, true);
  if (headerStart + jsonLength > bytes.length) {
    throw corrupt(
      `truncated: header needs ${headerStart + jsonLength} bytes, file has ${bytes.length}`,
    );
  }
  const where = `${source}: corrupt header`;
  const text = Buffer.from(bytes.subarray(headerStart, headerStart + jsonLength)).toString("utf8");
  const header = checkHeader(parseJson(text, where, CorruptFileError), where);
  const start = align8(headerStart + jsonLength);
  const end = start + header.payloadBytes;
  if (end > bytes.length)
    throw corrupt(`truncated: expected ${end} bytes, file has ${bytes.length}`);
  if (end < bytes.length) throw corrupt(`${bytes.length - end} unexpected bytes after the payload`);
  const payload = bytes.subarray(start, end);
  if (checkPayload && crc32(payload) !== header.crc32) {
    throw corrupt("corrupt payload (CRC-32 mismatch)");
  }
  for (const e of header.tensors) {
    if (e.offset + e.bytes > payload.length) {
      throw corrupt(`corrupt tensor entry ${e.name} [${e.shape}] ${e.dtype}`);
    }
  }
  return { header, payload };
}

/** A parsed header, checked field by field so that decoding can trust it. */
function checkHeader(json: unknown, where: string): CheckpointHeader {
  const r = JsonFields.of(json, where, { error: CorruptFileError });
  const count = { integer: true, min: 0 };
  r.number("payloadBytes", count);
  r.number("crc32", count);
  r.number("step");
  r.child("meta");
  if (r.get("rng") !== null) r.numbers("rng");
  if (r.get("optimizer") !== null) r.child("optimizer");
  for (const t of r.objects("tensors")) {
    t.string("name", { empty: true });
    t.oneOf("kind", ["param", "optimizer"]);
    const dtype = t.oneOf("dtype", ["f32", "f16"]);
    const size = shapeSize(t.numbers("shape", count)) * (dtype === "f16" ? 2 : 4);
    t.number("offset", count);
    if (t.number("bytes", count) !== size) t.fail("bytes", `${size} (its shape in ${dtype})`);
  }
  return json as CheckpointHeader;
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
    for (const p of params.all()) {
      const stored = this.tensors.get(p.name)!.data;
      // A model built on this checkpoint's arrays (AlignmentModel.load) already holds them.
      if (p.tensor.data !== stored) p.tensor.data.set(stored);
    }
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
