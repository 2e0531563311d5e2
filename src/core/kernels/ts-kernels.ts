import { readSync } from "node:fs";
import { float16Values } from "../float16.js";
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
} from "./validate.js";

/**
 * The pure-TypeScript kernels: the reference every native kernel is tested against, and the
 * fallback when the addon is not built. Written for clarity first; the i-k-j loop order keeps the
 * inner loop contiguous so it is not needlessly slow.
 */
export class TsKernels implements Kernels {
  readonly name = "typescript";

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
    const row = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const aip = transA ? a[p * lda + i] : a[i * lda + p];
        if (aip === 0) continue;
        if (transB) {
          for (let j = 0; j < n; j++) row[j] += aip * b[j * ldb + p];
        } else {
          const off = p * ldb;
          for (let j = 0; j < n; j++) row[j] += aip * b[off + j];
        }
      }
      const off = i * ldc;
      for (let j = 0; j < n; j++) {
        c[off + j] = beta === 0 ? alpha * row[j] : alpha * row[j] + beta * c[off + j];
      }
    }
  }

  softmaxRows(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
    validateSoftmaxRows(x, rows, cols, out);
    for (let r = 0; r < rows; r++) {
      const off = r * cols;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < cols; j++) max = Math.max(max, x[off + j]);
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        const e = Math.exp(x[off + j] - max);
        out[off + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < cols; j++) out[off + j] *= inv;
    }
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
    for (let r = 0; r < rows; r++) {
      const off = r * cols;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < cols; j++) max = Math.max(max, logits[off + j]);
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        const e = Math.exp(logits[off + j] - max);
        probs[off + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < cols; j++) probs[off + j] *= inv;
      const t = targets[r];
      // log p_t = x_t - max - log(sum), computed from the logits so tiny probabilities stay exact.
      losses[r] = t < 0 ? 0 : -(logits[off + t] - max - Math.log(sum));
    }
  }

  maxOverRows(
    x: Float32Array,
    rows: number,
    cols: number,
    maxOut: Float32Array,
    argOut: Int32Array,
  ): void {
    validateMaxOverRows(x, rows, cols, maxOut, argOut);
    for (let j = 0; j < cols; j++) {
      maxOut[j] = x[j];
      argOut[j] = 0;
    }
    for (let r = 1; r < rows; r++) {
      const off = r * cols;
      for (let j = 0; j < cols; j++) {
        if (x[off + j] > maxOut[j]) {
          maxOut[j] = x[off + j];
          argOut[j] = r;
        }
      }
    }
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
    for (let g = 0; g < groups; g++) {
      for (let c = 0; c < cols; c++) {
        const d = dOut[g * cols + c];
        if (d === 0) continue;
        const row = (g * per + arg[g * cols + c]) * width;
        const col = c * width;
        if (dA !== null) for (let i = 0; i < width; i++) dA[row + i] += d * b[col + i];
        if (dB !== null) for (let i = 0; i < width; i++) dB[col + i] += d * a[row + i];
      }
    }
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
    if (rows === 0) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const best = new Float32Array(rows);
    for (let g = 0; g < groups; g++) {
      const at = g * groupBytes;
      best.fill(Number.NEGATIVE_INFINITY);
      for (let r = 0; r < per; r++) {
        const scale = view.getFloat32(at + scalesAt + r * scaleStride, true);
        const length = unit ? view.getFloat32(at + lengthsAt + r * lengthStride, true) : 1;
        const div = unit ? (length > 0 ? 1 / length : 0) : 1;
        const v = at + valuesAt + r * valueStride;
        for (let t = 0; t < rows; t++) {
          let dot = 0;
          for (let j = 0; j < width; j++) dot += q[t * width + j] * values[v + j];
          const x = Math.fround((offsets[t] + scale * dot) * div);
          if (x > best[t] || Number.isNaN(x)) best[t] = x;
        }
      }
      let sum = 0;
      for (let t = 0; t < rows; t++) sum += best[t];
      out[g] += weight * sum;
    }
  }

  int8Dot(data: Int8Rows, q: Float32Array, out: Float32Array): void {
    validateInt8Dot(data, q, out);
    const { bytes, rows, recordBytes, width, valuesAt, scaleAt } = data;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let max = 0;
    for (let j = 0; j < width; j++) max = Math.max(max, Math.abs(q[j]));
    const qScale = Math.fround(max / 127);
    // Rounded half away from zero, from the float32 quotient, as the native kernel does.
    const q8 = Int8Array.from(q.subarray(0, width), (x) =>
      qScale > 0 ? Math.sign(x) * Math.round(Math.abs(Math.fround(x / qScale))) : 0,
    );
    for (let r = 0; r < rows; r++) {
      const at = r * recordBytes;
      let dot = 0;
      for (let j = 0; j < width; j++) dot += q8[j] * values[at + valuesAt + j];
      out[r] = Math.fround(Math.fround(view.getFloat32(at + scaleAt, true) * qScale) * dot);
    }
  }

  sgdUpdate(w: Float32Array, g: Float32Array, velocity: Float32Array, h: SgdHyper): void {
    validateSgdUpdate(w, g, velocity, h);
    const { lr, momentum, weightDecay, clip } = h;
    for (let i = 0; i < w.length; i++) {
      velocity[i] =
        momentum * velocity[i] + Math.min(Math.max(g[i], -clip), clip) + weightDecay * w[i];
      w[i] -= lr * velocity[i];
    }
  }

  allocateFloats(n: number): Float32Array {
    validateAllocateFloats(n);
    return new Float32Array(n);
  }

  halvesToFloats(bits: Uint16Array, out: Float32Array): number {
    validateHalvesToFloats(bits, out);
    const half = float16Values();
    let special = 0;
    for (let i = 0; i < bits.length; i++) {
      const b = bits[i];
      out[i] = half[b];
      if ((b & 0x7c00) === 0x7c00) special++;
    }
    return special;
  }

  readRecords(reads: RecordReads, out: Uint8Array): void {
    validateReadRecords(reads, out);
    const { fd, ids, recordBytes, slots, noRecord } = reads;
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    ids.forEach((id, k) => {
      const at = k * recordBytes;
      let got = 0;
      while (id >= 0 && id < slots && got < recordBytes) {
        const r = readSync(fd, out, at + got, recordBytes - got, id * recordBytes + got);
        if (r === 0) break;
        got += r;
      }
      if (got !== recordBytes) view.setInt32(at, noRecord, true);
    });
  }

  rmspropUpdate(w: Float32Array, g: Float32Array, cache: Float32Array, h: RmspropHyper): void {
    validateRmspropUpdate(w, g, cache, h);
    const { lr, decay, correction, eps, weightDecay, clip } = h;
    for (let i = 0; i < w.length; i++) {
      const gi = Math.min(Math.max(g[i], -clip), clip) + weightDecay * w[i];
      cache[i] = decay * cache[i] + (1 - decay) * gi * gi;
      w[i] -= (lr * gi) / (Math.sqrt(cache[i] * correction) + eps);
    }
  }

  threads(): number {
    return 1;
  }

  setThreads(_n: number): void {}
}
