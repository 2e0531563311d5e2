import type { Int8Groups, Int8Rows, RecordReads, RmspropHyper, SgdHyper } from "./kernels.js";

/**
 * Argument checks shared by every Kernels implementation, so a bad shape fails the same way, with
 * a RangeError naming the argument, whichever backend is active (and before native code could
 * read past a buffer).
 */

const MAX_DIM = 2 ** 31 - 1;

function dim(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_DIM) {
    throw new RangeError(`${name} must be an integer >= 0, got ${value}`);
  }
}

/** A rows x cols matrix stored with row stride ld must fit in `length` elements. */
function matrix(
  op: string,
  name: string,
  length: number,
  rows: number,
  cols: number,
  ld: number,
): void {
  if (rows === 0 || cols === 0) return;
  if (ld < cols) {
    throw new RangeError(`${op}: row stride of ${name} (${ld}) is smaller than its width ${cols}`);
  }
  const need = (rows - 1) * ld + cols;
  if (length < need) {
    throw new RangeError(
      `${op}: ${name} has ${length} elements, needs ${need} for ${rows}x${cols} with row stride ${ld}`,
    );
  }
}

function overlaps(x: Float32Array, y: Float32Array): boolean {
  if (x.buffer !== y.buffer || x.length === 0 || y.length === 0) return false;
  const xEnd = x.byteOffset + x.byteLength;
  const yEnd = y.byteOffset + y.byteLength;
  return x.byteOffset < yEnd && y.byteOffset < xEnd;
}

export function validateSgemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  c: Float32Array,
  ldc: number,
): void {
  for (const [name, v] of [
    ["m", m],
    ["n", n],
    ["k", k],
    ["lda", lda],
    ["ldb", ldb],
    ["ldc", ldc],
  ] as const) {
    dim(`sgemm: ${name}`, v);
  }
  matrix("sgemm", "c", c.length, m, n, ldc);
  if (m === 0 || n === 0 || k === 0) return;
  matrix(
    "sgemm",
    transA ? "a (transposed, k x m)" : "a (m x k)",
    a.length,
    transA ? k : m,
    transA ? m : k,
    lda,
  );
  matrix(
    "sgemm",
    transB ? "b (transposed, n x k)" : "b (k x n)",
    b.length,
    transB ? n : k,
    transB ? k : n,
    ldb,
  );
  if (overlaps(a, c) || overlaps(b, c)) {
    throw new RangeError("sgemm: c must not share memory with a or b");
  }
}

export function validateSoftmaxRows(
  x: Float32Array,
  rows: number,
  cols: number,
  out: Float32Array,
): void {
  dim("softmaxRows: rows", rows);
  dim("softmaxRows: cols", cols);
  matrix("softmaxRows", "x", x.length, rows, cols, cols);
  matrix("softmaxRows", "out", out.length, rows, cols, cols);
}

export function validateSoftmaxCrossEntropy(
  logits: Float32Array,
  rows: number,
  cols: number,
  targets: Int32Array,
  probs: Float32Array,
  losses: Float32Array,
): void {
  dim("softmaxCrossEntropy: rows", rows);
  dim("softmaxCrossEntropy: cols", cols);
  matrix("softmaxCrossEntropy", "logits", logits.length, rows, cols, cols);
  matrix("softmaxCrossEntropy", "probs", probs.length, rows, cols, cols);
  if (targets.length < rows) {
    throw new RangeError(
      `softmaxCrossEntropy: targets has ${targets.length} elements, needs ${rows}`,
    );
  }
  if (losses.length < rows) {
    throw new RangeError(
      `softmaxCrossEntropy: losses has ${losses.length} elements, needs ${rows}`,
    );
  }
  for (let r = 0; r < rows; r++) {
    if (targets[r] >= cols) {
      throw new RangeError(
        `softmaxCrossEntropy: targets[${r}] = ${targets[r]} is out of range for ${cols} classes`,
      );
    }
  }
}

export function validateMaxOverRows(
  x: Float32Array,
  rows: number,
  cols: number,
  maxOut: Float32Array,
  argOut: Int32Array,
): void {
  dim("maxOverRows: rows", rows);
  dim("maxOverRows: cols", cols);
  if (rows === 0 && cols > 0) throw new RangeError("maxOverRows: needs rows >= 1");
  matrix("maxOverRows", "x", x.length, rows, cols, cols);
  if (maxOut.length < cols) {
    throw new RangeError(`maxOverRows: maxOut has ${maxOut.length} elements, needs ${cols}`);
  }
  if (argOut.length < cols) {
    throw new RangeError(`maxOverRows: argOut has ${argOut.length} elements, needs ${cols}`);
  }
}

export function validateMaxProductBackward(
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
  const op = "maxProductBackward";
  for (const [name, value] of Object.entries({ groups, cols, per, width })) {
    dim(`${op}: ${name}`, value);
  }
  matrix(op, "arg", arg.length, groups, cols, cols);
  matrix(op, "dOut", dOut.length, groups, cols, cols);
  matrix(op, "a", a.length, groups * per, width, width);
  matrix(op, "b", b.length, cols, width, width);
  if (dA !== null) matrix(op, "dA", dA.length, groups * per, width, width);
  if (dB !== null) matrix(op, "dB", dB.length, cols, width, width);
  for (let i = 0; i < groups * cols; i++) {
    if (!(arg[i] >= 0 && arg[i] < per)) {
      throw new RangeError(`${op}: arg[${i}] = ${arg[i]} is not a row of its group of ${per}`);
    }
  }
}

export function validateInt8MaxDotSum(
  data: Int8Groups,
  q: Float32Array,
  rows: number,
  offsets: Float32Array,
  unit: boolean,
  weight: number,
  out: Float32Array,
): void {
  const op = "int8MaxDotSum";
  const { bytes, groups, groupBytes, per, width } = data;
  const { valuesAt, valueStride, scalesAt, scaleStride, lengthsAt, lengthStride } = data;
  for (const [name, value] of Object.entries({
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
    rows,
  })) {
    dim(`${op}: ${name}`, value);
  }
  const last = Math.max(per - 1, 0);
  if (
    groups > 0 &&
    per > 0 &&
    (valuesAt + last * valueStride + width > groupBytes ||
      scalesAt + last * scaleStride + 4 > groupBytes ||
      (unit && lengthsAt + last * lengthStride + 4 > groupBytes))
  ) {
    throw new RangeError(`${op}: a group's rows do not fit in its ${groupBytes} bytes`);
  }
  matrix(op, "bytes", bytes.length, groups, groupBytes, groupBytes);
  matrix(op, "q", q.length, rows, width, width);
  matrix(op, "offsets", offsets.length, 1, rows, rows);
  matrix(op, "out", out.length, 1, groups, groups);
  if (!Number.isFinite(weight)) throw new RangeError(`${op}: weight must be finite, got ${weight}`);
}

export function validateInt8Dot(data: Int8Rows, q: Float32Array, out: Float32Array): void {
  const op = "int8Dot";
  const { bytes, rows, recordBytes, width, valuesAt, scaleAt } = data;
  for (const [name, value] of Object.entries({ rows, recordBytes, width, valuesAt, scaleAt })) {
    dim(`${op}: ${name}`, value);
  }
  if (rows > 0 && (valuesAt + width > recordBytes || scaleAt + 4 > recordBytes)) {
    throw new RangeError(`${op}: a row does not fit in its ${recordBytes}-byte record`);
  }
  matrix(op, "bytes", bytes.length, rows, recordBytes, recordBytes);
  matrix(op, "q", q.length, 1, width, width);
  matrix(op, "out", out.length, 1, rows, rows);
}

export function validateSgdUpdate(
  w: Float32Array,
  g: Float32Array,
  velocity: Float32Array,
  h: SgdHyper,
): void {
  validateParameterUpdate("sgdUpdate", "velocity", w, g, velocity, h.clip);
}

export function validateRmspropUpdate(
  w: Float32Array,
  g: Float32Array,
  cache: Float32Array,
  h: RmspropHyper,
): void {
  validateParameterUpdate("rmspropUpdate", "cache", w, g, cache, h.clip);
}

/** An optimiser step's weights, gradient and state buffer agree in length; the clip is > 0. */
function validateParameterUpdate(
  op: string,
  stateName: string,
  w: Float32Array,
  g: Float32Array,
  state: Float32Array,
  clip: number,
): void {
  if (g.length !== w.length || state.length !== w.length) {
    throw new RangeError(
      `${op}: w, g and ${stateName} must have the same length, got ${w.length}, ${g.length} and ${state.length}`,
    );
  }
  if (!(clip > 0)) throw new RangeError(`${op}: clip must be > 0, got ${clip}`);
}

export function validateAllocateFloats(n: number): void {
  dim("allocateFloats: n", n);
}

export function validateHalvesToFloats(bits: Uint16Array, out: Float32Array): void {
  if (out.length !== bits.length) {
    throw new RangeError(
      `halvesToFloats: bits and out must have the same length, got ${bits.length} and ${out.length}`,
    );
  }
}

export function validateReadRecords(reads: RecordReads, out: Uint8Array): void {
  const { fd, ids, recordBytes, slots, noRecord } = reads;
  const op = "readRecords";
  if (!Number.isInteger(fd) || fd < 0 || fd > MAX_DIM) {
    throw new RangeError(`${op}: fd must be a file descriptor, got ${fd}`);
  }
  if (!Number.isInteger(recordBytes) || recordBytes < 4 || recordBytes > MAX_DIM) {
    throw new RangeError(`${op}: recordBytes must be an integer >= 4, got ${recordBytes}`);
  }
  if (!Number.isInteger(slots) || slots < 0 || slots > MAX_DIM) {
    throw new RangeError(`${op}: slots must be an integer >= 0, got ${slots}`);
  }
  if (!Number.isInteger(noRecord) || noRecord < -(2 ** 31) || noRecord > MAX_DIM) {
    throw new RangeError(`${op}: noRecord must be an int32, got ${noRecord}`);
  }
  if (out.length !== ids.length * recordBytes) {
    throw new RangeError(
      `${op}: out has ${out.length} bytes, needs ${ids.length} x ${recordBytes}`,
    );
  }
}

export function validateThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new RangeError(`setThreads: thread count must be an integer in 1..256, got ${n}`);
  }
}
