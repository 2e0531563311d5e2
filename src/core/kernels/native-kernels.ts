import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { packageRoot } from "../../package-root.js";
import type {
  Int8Groups,
  Int8Rows,
  Kernels,
  RecordReads,
  RmspropHyper,
  SgdHyper,
} from "./kernels.js";
import {
  validateAllocateFloats,
  validateHalvesToFloats,
  validateInt8Dot,
  validateInt8MaxDotSum,
  validateMaxOverRows,
  validateMaxProductBackward,
  validateReadRecords,
  validateRmspropUpdate,
  validateSgdUpdate,
  validateSgemm,
  validateSoftmaxCrossEntropy,
  validateSoftmaxRows,
  validateThreads,
} from "./validate.js";

/** Arrays of at least a huge page (2 MiB) of floats go on huge pages (Kernels.allocateFloats). */
const HUGE_PAGE_FLOATS = (2 << 20) / 4;

/** The functions the addon (native/addon.cc) exports. */
interface Addon {
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  softmaxRows(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  softmaxCrossEntropy(
    logits: Float32Array,
    rows: number,
    cols: number,
    targets: Int32Array,
    probs: Float32Array,
    losses: Float32Array,
  ): void;
  maxOverRows(
    x: Float32Array,
    rows: number,
    cols: number,
    maxOut: Float32Array,
    argOut: Int32Array,
  ): void;
  maxProductBackward(
    arg: Int32Array,
    dOut: Float32Array,
    groups: number,
    cols: number,
    per: number,
    width: number,
    a: Float32Array,
    b: Float32Array,
    dA: Float32Array | null,
    dB: Float32Array | null,
  ): void;
  int8MaxDotSum(
    bytes: Uint8Array,
    groups: number,
    groupBytes: number,
    per: number,
    width: number,
    valuesAt: number,
    valueStride: number,
    scalesAt: number,
    scaleStride: number,
    lengthsAt: number,
    lengthStride: number,
    q: Float32Array,
    rows: number,
    offsets: Float32Array,
    unit: boolean,
    weight: number,
    out: Float32Array,
  ): void;
  sgdUpdate(
    w: Float32Array,
    g: Float32Array,
    velocity: Float32Array,
    lr: number,
    momentum: number,
    weightDecay: number,
    clip: number,
  ): void;
  int8Dot(
    bytes: Uint8Array,
    rows: number,
    recordBytes: number,
    width: number,
    valuesAt: number,
    scaleAt: number,
    q: Float32Array,
    out: Float32Array,
  ): void;
  allocateFloats(n: number): Float32Array | undefined;
  halvesToFloats(bits: Uint16Array, out: Float32Array): number;
  readRecords(
    fd: number,
    ids: Int32Array,
    recordBytes: number,
    slots: number,
    noRecord: number,
    out: Uint8Array,
  ): void;
  rmspropUpdate(
    w: Float32Array,
    g: Float32Array,
    cache: Float32Array,
    lr: number,
    decay: number,
    correction: number,
    eps: number,
    weightDecay: number,
    clip: number,
  ): void;
  threads(): number;
  setThreads(n: number): void;
  backend(): string;
  backends(): string[];
  setBackend(name: string): void;
}

/** SGEMM backends the addon may hold: OpenBLAS (when linked) and its own micro-kernels. */
export type NativeBackend = "openblas" | "avx512" | "avx2" | "scalar";

/**
 * The native addon's kernels. Beyond `Kernels` it can switch the SGEMM backend, which tests and
 * the benchmark use to cover every micro-kernel the CPU can run.
 */
export class NativeKernels implements Kernels {
  constructor(private readonly addon: Addon) {}

  get name(): string {
    return `native (${this.addon.backend()})`;
  }

  /** The SGEMM backends this build and CPU support, best first. */
  backends(): NativeBackend[] {
    return this.addon.backends() as NativeBackend[];
  }

  backend(): NativeBackend {
    return this.addon.backend() as NativeBackend;
  }

  useBackend(name: NativeBackend): void {
    if (!this.backends().includes(name)) {
      throw new RangeError(
        `native kernels: backend ${name} is not available (have ${this.backends().join(", ")})`,
      );
    }
    this.addon.setBackend(name);
  }

  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void {
    validateSgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
    this.addon.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }

  softmaxRows(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
    validateSoftmaxRows(x, rows, cols, out);
    this.addon.softmaxRows(x, rows, cols, out);
  }

  softmaxCrossEntropy(
    logits: Float32Array,
    rows: number,
    cols: number,
    targets: Int32Array,
    probs: Float32Array,
    losses: Float32Array,
  ): void {
    validateSoftmaxCrossEntropy(logits, rows, cols, targets, probs, losses);
    this.addon.softmaxCrossEntropy(logits, rows, cols, targets, probs, losses);
  }

  maxOverRows(
    x: Float32Array,
    rows: number,
    cols: number,
    maxOut: Float32Array,
    argOut: Int32Array,
  ): void {
    validateMaxOverRows(x, rows, cols, maxOut, argOut);
    this.addon.maxOverRows(x, rows, cols, maxOut, argOut);
  }

  maxProductBackward(
    arg: Int32Array,
    dOut: Float32Array,
    groups: number,
    cols: number,
    per: number,
    width: number,
    a: Float32Array,
    b: Float32Array,
    dA: Float32Array | null,
    dB: Float32Array | null,
  ): void {
    validateMaxProductBackward(arg, dOut, groups, cols, per, width, a, b, dA, dB);
    this.addon.maxProductBackward(arg, dOut, groups, cols, per, width, a, b, dA, dB);
  }

  int8MaxDotSum(
    data: Int8Groups,
    q: Float32Array,
    rows: number,
    offsets: Float32Array,
    unit: boolean,
    weight: number,
    out: Float32Array,
  ): void {
    validateInt8MaxDotSum(data, q, rows, offsets, unit, weight, out);
    const { bytes, groups, groupBytes, per, width } = data;
    const { valuesAt, valueStride, scalesAt, scaleStride, lengthsAt, lengthStride } = data;
    this.addon.int8MaxDotSum(
      bytes,
      groups,
      groupBytes,
      per,
      width,
      valuesAt,
      valueStride,
      scalesAt,
      scaleStride,
      lengthsAt,
      lengthStride,
      q,
      rows,
      offsets,
      unit,
      weight,
      out,
    );
  }

  int8Dot(data: Int8Rows, q: Float32Array, out: Float32Array): void {
    validateInt8Dot(data, q, out);
    const { bytes, rows, recordBytes, width, valuesAt, scaleAt } = data;
    this.addon.int8Dot(bytes, rows, recordBytes, width, valuesAt, scaleAt, q, out);
  }

  allocateFloats(n: number): Float32Array {
    validateAllocateFloats(n);
    return (
      (n >= HUGE_PAGE_FLOATS ? this.addon.allocateFloats(n) : undefined) ?? new Float32Array(n)
    );
  }

  halvesToFloats(bits: Uint16Array, out: Float32Array): number {
    validateHalvesToFloats(bits, out);
    return this.addon.halvesToFloats(bits, out);
  }

  readRecords(reads: RecordReads, out: Uint8Array): void {
    validateReadRecords(reads, out);
    const { fd, ids, recordBytes, slots, noRecord } = reads;
    this.addon.readRecords(fd, ids, recordBytes, slots, noRecord, out);
  }

  sgdUpdate(w: Float32Array, g: Float32Array, velocity: Float32Array, h: SgdHyper): void {
    validateSgdUpdate(w, g, velocity, h);
    this.addon.sgdUpdate(w, g, velocity, h.lr, h.momentum, h.weightDecay, h.clip);
  }

  rmspropUpdate(w: Float32Array, g: Float32Array, cache: Float32Array, h: RmspropHyper): void {
    validateRmspropUpdate(w, g, cache, h);
    const { lr, decay, correction, eps, weightDecay, clip } = h;
    this.addon.rmspropUpdate(w, g, cache, lr, decay, correction, eps, weightDecay, clip);
  }

  threads(): number {
    return this.addon.threads();
  }

  setThreads(n: number): void {
    validateThreads(n);
    this.addon.setThreads(n);
  }
}

/** Where node-gyp puts the addon. */
export const addonPath = join(packageRoot, "build", "Release", "imagesent_kernels.node");

let loaded: NativeKernels | undefined;

/**
 * The native addon's kernels, or undefined when the addon is not built (or cannot be loaded, which
 * is reported on stderr). The SGEMM backend defaults to our own micro-kernels, which measured
 * faster than OpenBLAS on the shapes this model runs (bench/kernels.ts); IMAGESENT_BLAS=openblas
 * selects OpenBLAS where the build linked it.
 */
export function loadNativeKernels(): NativeKernels | undefined {
  if (loaded) return loaded;
  if (!existsSync(addonPath)) return undefined;
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(addonPath) as Addon;
  } catch (e) {
    process.stderr.write(`imagesent: cannot load the native kernels (${addonPath}): ${e}\n`);
    return undefined;
  }
  const kernels = new NativeKernels(addon);
  const blas = process.env.IMAGESENT_BLAS;
  if (blas === "openblas") {
    if (!kernels.backends().includes("openblas")) {
      throw new Error(
        "IMAGESENT_BLAS=openblas, but the native kernels were built without OpenBLAS; install " +
          "libopenblas-dev and rebuild them (node scripts/build-native.mjs)",
      );
    }
    kernels.useBackend("openblas");
  } else if (blas !== undefined && blas !== "native") {
    throw new RangeError(`IMAGESENT_BLAS must be "openblas" or "native", got "${blas}"`);
  }
  loaded = kernels;
  return loaded;
}
