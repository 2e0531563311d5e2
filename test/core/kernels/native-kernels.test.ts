import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { float16Values } from "../../../src/core/float16.js";
import type { Kernels } from "../../../src/core/kernels/kernels.js";
import {
  addonPath,
  loadNativeKernels,
  type NativeBackend,
} from "../../../src/core/kernels/native-kernels.js";
import { TsKernels } from "../../../src/core/kernels/ts-kernels.js";

const native = loadNativeKernels();
const skip = native
  ? false
  : `native addon not built (${addonPath}); run node scripts/build-native.mjs`;
const ts = new TsKernels();

// CI sets IMAGESENT_REQUIRE_NATIVE=1 so a broken addon build fails the run instead of skipping.
test("the native addon is built where it is required", {
  skip: process.env.IMAGESENT_REQUIRE_NATIVE !== "1" && "IMAGESENT_REQUIRE_NATIVE is not 1",
}, () => {
  assert.ok(native, `native addon missing at ${addonPath}`);
});

/** Deterministic values in [-1, 1) (xorshift), so a failure reproduces. */
function random(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 31 - 1;
  };
}

function filled(len: number, rnd: () => number): Float32Array {
  const x = new Float32Array(len);
  for (let i = 0; i < len; i++) x[i] = rnd();
  return x;
}

interface Case {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha?: number;
  beta?: number;
  /** Extra row-stride padding of each operand, and leading elements before each view. */
  pad?: number;
  offset?: number;
}

/** Runs one SGEMM case on `k` and on the TS reference and checks they agree within float32 error. */
function checkSgemm(kernel: Kernels, c: Case, seed: number): void {
  const { transA, transB, m, n, k } = c;
  const alpha = c.alpha ?? 1;
  const beta = c.beta ?? 0;
  const pad = c.pad ?? 0;
  const offset = c.offset ?? 0;
  const rnd = random(seed);
  const aRows = transA ? k : m;
  const aCols = transA ? m : k;
  const bRows = transB ? n : k;
  const bCols = transB ? k : n;
  const lda = aCols + pad;
  const ldb = bCols + pad;
  const ldc = n + pad;
  // Views into larger buffers: the kernels must honour byteOffset and leave the rest alone.
  const view = (rows: number, ld: number) =>
    filled(offset + rows * ld + 3, rnd).subarray(offset, offset + rows * ld);
  const a = view(aRows, lda);
  const b = view(bRows, ldb);
  const cBase = filled(offset + m * ldc + 3, rnd);
  const cNative = cBase.slice().subarray(offset, offset + m * ldc);
  const cRef = cBase.slice().subarray(offset, offset + m * ldc);
  kernel.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cNative, ldc);
  ts.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cRef, ldc);
  const tol = (i: number) => 1e-6 * k * Math.abs(alpha) + 1e-5 * Math.abs(cRef[i]);
  for (let i = 0; i < m * ldc; i++) {
    const col = i % ldc;
    if (col >= n) {
      assert.equal(cNative[i], cRef[i], `padding of c at ${i} was written`);
    } else if (!(Math.abs(cNative[i] - cRef[i]) <= tol(i))) {
      assert.fail(
        `${kernel.name} ${JSON.stringify(c)}: c[${Math.floor(i / ldc)},${col}] = ${cNative[i]}, reference ${cRef[i]}`,
      );
    }
  }
  // Nothing outside the view of c changes.
  const whole = new Float32Array(cNative.buffer);
  for (let i = 0; i < offset; i++) assert.equal(whole[i], cBase[i]);
  for (let i = offset + m * ldc; i < whole.length; i++) assert.equal(whole[i], cBase[i]);
}

const combos = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

function forEachBackend(fn: (b: NativeBackend) => void): void {
  if (!native) return;
  const before = native.backend();
  try {
    for (const b of native.backends()) {
      native.useBackend(b);
      fn(b);
    }
  } finally {
    native.useBackend(before);
  }
}

test("native sgemm matches the TS reference on random shapes, all transposes", { skip }, () => {
  forEachBackend(() => {
    const rnd = random(7);
    let seed = 1;
    for (const [transA, transB] of combos) {
      for (let trial = 0; trial < 6; trial++) {
        const dim = (max: number) => 1 + Math.floor(((rnd() + 1) / 2) * max);
        checkSgemm(
          native!,
          { transA, transB, m: dim(70), n: dim(90), k: dim(trial === 0 ? 600 : 300) },
          seed++,
        );
      }
    }
  });
});

test("native sgemm honours alpha, beta, row strides and subarray offsets", { skip }, () => {
  forEachBackend(() => {
    let seed = 100;
    for (const [transA, transB] of combos) {
      for (const [alpha, beta] of [
        [1, 1],
        [-0.5, 2],
        [2, 0],
        [0.25, -1],
      ]) {
        checkSgemm(
          native!,
          { transA, transB, m: 29, n: 45, k: 300, alpha, beta, pad: 5, offset: 7 },
          seed++,
        );
      }
    }
  });
});

test("native sgemm handles edge shapes", { skip }, () => {
  forEachBackend(() => {
    const shapes: Array<[number, number, number]> = [
      [1, 1, 1],
      [1, 1, 300],
      [5, 7, 1],
      [1, 77, 33],
      [77, 1, 33],
      [12, 32, 256],
      [13, 33, 257],
      // Taller than one row tile: B is packed up front rather than per task.
      [250, 40, 33],
      [0, 5, 4],
      [5, 0, 4],
      [5, 4, 0],
      [0, 0, 0],
    ];
    let seed = 200;
    for (const [m, n, k] of shapes) {
      for (const [transA, transB] of combos) {
        checkSgemm(native!, { transA, transB, m, n, k, beta: 0.5, pad: 1, offset: 1 }, seed++);
        checkSgemm(native!, { transA, transB, m, n, k }, seed++);
      }
    }
  });
});

test("native sgemm with beta = 0 ignores NaN in C; k = 0 scales C by beta", { skip }, () => {
  forEachBackend((backend) => {
    const a = new Float32Array([1, 2, 3, 4]);
    const b = new Float32Array([5, 6, 7, 8]);
    const c = new Float32Array(4).fill(Number.NaN);
    native!.sgemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2);
    assert.deepEqual(Array.from(c), [19, 22, 43, 50], backend);
    c.fill(Number.NaN);
    native!.sgemm(false, false, 2, 2, 0, 1, a, 2, b, 2, 0, c, 2);
    assert.deepEqual(Array.from(c), [0, 0, 0, 0], backend);
    c.set([1, 2, 3, 4]);
    native!.sgemm(false, false, 2, 2, 0, 1, a, 2, b, 2, 3, c, 2);
    assert.deepEqual(Array.from(c), [3, 6, 9, 12], backend);
  });
});

test("native sgemm gives the same bits on one and two threads", { skip }, () => {
  const k = native!;
  const threads = k.threads();
  const rnd = random(9);
  try {
    // Above the size where the kernels go parallel.
    const [m, n, kk] = [150, 170, 260];
    const a = filled(m * kk, rnd);
    const b = filled(kk * n, rnd);
    for (const [transA, transB] of combos) {
      const one = new Float32Array(m * n);
      const two = new Float32Array(m * n);
      k.setThreads(1);
      k.sgemm(transA, transB, m, n, kk, 1, a, transA ? m : kk, b, transB ? kk : n, 0, one, n);
      k.setThreads(2);
      assert.equal(k.threads(), 2);
      k.sgemm(transA, transB, m, n, kk, 1, a, transA ? m : kk, b, transB ? kk : n, 0, two, n);
      if (k.backend() !== "openblas") assert.deepEqual(two, one);
      checkSgemm(k, { transA, transB, m, n, k: kk, beta: 1, pad: 3 }, 11);
    }
  } finally {
    k.setThreads(threads);
  }
});

test("native softmaxRows and softmaxCrossEntropy match the TS reference", { skip }, () => {
  const rnd = random(3);
  const rows = 9;
  const cols = 37;
  const x = filled(rows * cols, () => rnd() * 20);
  // Ties, a constant row and huge logits must not break the max-subtraction.
  x.fill(4, 0, cols);
  x[cols + 3] = 80;
  x[cols + 4] = 80;
  x[2 * cols] = -1e4;
  const targets = new Int32Array([0, 3, 36, -1, 5, -1, 0, 12, 20]);
  const pn = new Float32Array(rows * cols);
  const pt = new Float32Array(rows * cols);
  native!.softmaxRows(x, rows, cols, pn);
  ts.softmaxRows(x, rows, cols, pt);
  for (let i = 0; i < pn.length; i++) assert.ok(Math.abs(pn[i] - pt[i]) <= 1e-6, `softmax ${i}`);
  const ln = new Float32Array(rows);
  const lt = new Float32Array(rows);
  pn.fill(0);
  native!.softmaxCrossEntropy(x, rows, cols, targets, pn, ln);
  ts.softmaxCrossEntropy(x, rows, cols, targets, pt, lt);
  for (let i = 0; i < pn.length; i++) assert.ok(Math.abs(pn[i] - pt[i]) <= 1e-6, `probs ${i}`);
  for (let r = 0; r < rows; r++) {
    assert.ok(Math.abs(ln[r] - lt[r]) <= 1e-5 * (1 + Math.abs(lt[r])), `loss ${r}`);
  }
  assert.equal(ln[3], 0, "a padded row (target -1) has loss 0");
  assert.ok(Math.abs(ln[0] - Math.log(cols)) < 1e-5, "uniform row: loss log(cols)");
  // In place: out aliases x.
  const inPlace = x.slice();
  native!.softmaxRows(inPlace, rows, cols, inPlace);
  for (let i = 0; i < pt.length; i++) assert.ok(Math.abs(inPlace[i] - pt[i]) <= 1e-6);
});

test("native maxOverRows matches the TS reference, first row wins ties", { skip }, () => {
  const rnd = random(5);
  const rows = 7;
  const cols = 19;
  const x = filled(rows * cols, rnd).subarray(0);
  x[2 * cols + 4] = 5;
  x[5 * cols + 4] = 5;
  for (let r = 0; r < rows; r++) x[r * cols + 6] = 1;
  const mn = new Float32Array(cols);
  const an = new Int32Array(cols);
  const mt = new Float32Array(cols);
  const at = new Int32Array(cols);
  native!.maxOverRows(x, rows, cols, mn, an);
  ts.maxOverRows(x, rows, cols, mt, at);
  assert.deepEqual(mn, mt);
  assert.deepEqual(an, at);
  assert.equal(an[4], 2);
  assert.equal(an[6], 0);
  const one = new Float32Array([3, -2]);
  native!.maxOverRows(one, 1, 2, mn, an);
  assert.deepEqual(Array.from(mn.subarray(0, 2)), [3, -2]);
  assert.deepEqual(Array.from(an.subarray(0, 2)), [0, 0]);
});

test("native rmspropUpdate matches the TS reference: clip, weight decay, NaN, odd lengths", {
  skip,
}, () => {
  const rnd = random(9);
  // 1,037 entries: the vector loop and its scalar tail both run.
  const n = 1037;
  const g = filled(n, rnd).map((v) => 8 * v);
  g[3] = Number.NaN;
  const w0 = filled(n, rnd);
  const c0 = filled(n, rnd).map((v) => Math.abs(v));
  const h = {
    lr: 0.01,
    decay: 0.99,
    correction: 1 / (1 - 0.99 ** 3),
    eps: 1e-8,
    weightDecay: 1e-3,
    clip: 5,
  };
  const [wn, cn, wt, ct] = [w0.slice(), c0.slice(), w0.slice(), c0.slice()];
  native!.rmspropUpdate(wn, g, cn, h);
  ts.rmspropUpdate(wt, g, ct, h);
  assert.ok(Number.isNaN(wn[3]) && Number.isNaN(wt[3]), "a NaN gradient is not hidden by the clip");
  for (let i = 0; i < n; i++) {
    if (i === 3) continue;
    assert.ok(
      Math.abs(wn[i] - wt[i]) <= 1e-6 * (1 + Math.abs(wt[i])),
      `w[${i}] ${wn[i]} vs ${wt[i]}`,
    );
    assert.ok(Math.abs(cn[i] - ct[i]) <= 1e-5 * (1 + ct[i]), `cache[${i}] ${cn[i]} vs ${ct[i]}`);
  }
  assert.throws(() => native!.rmspropUpdate(wn, g.subarray(1), cn, h), /same length/);
  assert.throws(() => native!.rmspropUpdate(wn, g, cn, { ...h, clip: 0 }), /clip must be > 0/);
});

test("native sgdUpdate matches the TS reference: clip, momentum, weight decay, NaN", {
  skip,
}, () => {
  const rnd = random(11);
  const n = 1037;
  const g = filled(n, rnd).map((v) => 8 * v);
  g[5] = Number.NaN;
  const w0 = filled(n, rnd);
  const v0 = filled(n, rnd);
  const h = { lr: 0.01, momentum: 0.9, weightDecay: 1e-3, clip: 5 };
  const [wn, vn, wt, vt] = [w0.slice(), v0.slice(), w0.slice(), v0.slice()];
  native!.sgdUpdate(wn, g, vn, h);
  ts.sgdUpdate(wt, g, vt, h);
  assert.ok(Number.isNaN(wn[5]) && Number.isNaN(wt[5]), "a NaN gradient is not hidden by the clip");
  for (let i = 0; i < n; i++) {
    if (i === 5) continue;
    assert.ok(
      Math.abs(wn[i] - wt[i]) <= 1e-6 * (1 + Math.abs(wt[i])),
      `w[${i}] ${wn[i]} vs ${wt[i]}`,
    );
    assert.ok(
      Math.abs(vn[i] - vt[i]) <= 1e-5 * (1 + Math.abs(vt[i])),
      `v[${i}] ${vn[i]} vs ${vt[i]}`,
    );
  }
  // The clip bounds the gradient entry, not the velocity: g = 8 > 5 adds exactly 5.
  const one = [new Float32Array([0]), new Float32Array([8]), new Float32Array([1])];
  native!.sgdUpdate(one[0], one[1], one[2], { lr: 1, momentum: 0.5, weightDecay: 0, clip: 5 });
  assert.deepEqual([one[0][0], one[2][0]], [-5.5, 5.5]);
  assert.throws(() => native!.sgdUpdate(wn, g.subarray(1), vn, h), /same length/);
  assert.throws(() => native!.sgdUpdate(wn, g, vn, { ...h, clip: 0 }), /clip must be > 0/);
});

test("maxProductBackward (native and TS) equals the dense backward through the winning rows", {
  skip,
}, () => {
  const rnd = random(13);
  // 3 groups of 4 rows, 37 columns, rows of 21 values: vector loops and their tails both run.
  const [groups, per, cols, width] = [3, 4, 37, 21];
  const a = filled(groups * per * width, rnd);
  const b = filled(cols * width, rnd);
  const arg = Int32Array.from({ length: groups * cols }, (_, i) => (i * 7) % per);
  const dOut = filled(groups * cols, rnd).map((v, i) => (i % 3 === 0 ? 0 : v));
  // The definition: a dense gradient G of the product (groups * per x cols), non-zero only at
  // the winners, then dA = G b and dB = G^T a.
  const G = new Float32Array(groups * per * cols);
  for (let g = 0; g < groups; g++) {
    for (let c = 0; c < cols; c++) G[(g * per + arg[g * cols + c]) * cols + c] = dOut[g * cols + c];
  }
  const rows = groups * per;
  const dA = new Float32Array(rows * width).fill(0.5);
  const dB = new Float32Array(cols * width).fill(-0.25);
  ts.sgemm(false, false, rows, width, cols, 1, G, cols, b, width, 1, dA, width);
  ts.sgemm(true, false, cols, width, rows, 1, G, cols, a, width, 1, dB, width);
  for (const k of [native!, ts]) {
    const gotA = new Float32Array(rows * width).fill(0.5);
    const gotB = new Float32Array(cols * width).fill(-0.25);
    k.maxProductBackward(arg, dOut, groups, cols, per, width, a, b, gotA, gotB);
    for (let i = 0; i < dA.length; i++)
      assert.ok(Math.abs(gotA[i] - dA[i]) < 1e-5, `${k.name} dA[${i}]`);
    for (let i = 0; i < dB.length; i++)
      assert.ok(Math.abs(gotB[i] - dB[i]) < 1e-5, `${k.name} dB[${i}]`);
    const onlyB = new Float32Array(cols * width).fill(-0.25);
    k.maxProductBackward(arg, dOut, groups, cols, per, width, a, b, null, onlyB);
    assert.deepEqual(onlyB, gotB);
    const bad = arg.slice();
    bad[5] = per;
    assert.throws(
      () => k.maxProductBackward(bad, dOut, groups, cols, per, width, a, b, gotA, null),
      /arg\[5\] = 4 is not a row of its group of 4/,
    );
    assert.throws(
      () => k.maxProductBackward(arg, dOut, groups, cols, per, width, a, b.subarray(1), null, null),
      /b has/,
    );
  }
});

/**
 * `groups` groups of `per` int8 rows (width values) laid out as Kernels.int8MaxDotSum reads them,
 * 3 bytes into a larger buffer so that nothing is aligned: a 4-byte id, the scales, the lengths,
 * the values, 2 bytes of padding.
 */
function int8Groups(groups: number, per: number, width: number, rnd: () => number) {
  const scalesAt = 4;
  const lengthsAt = scalesAt + 4 * per;
  const valuesAt = lengthsAt + 4 * per;
  const groupBytes = valuesAt + per * width + 2;
  const buffer = new Uint8Array(3 + groups * groupBytes);
  const bytes = buffer.subarray(3);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows: { scale: number; length: number; values: number[] }[][] = [];
  for (let g = 0; g < groups; g++) {
    const group = [];
    for (let r = 0; r < per; r++) {
      const scale = Math.fround(0.01 + Math.abs(rnd()) * 0.05);
      const length = Math.fround(r === 1 && g === 2 ? 0 : 1 + Math.abs(rnd()));
      const values = Array.from({ length: width }, () => Math.round(rnd() * 127));
      view.setFloat32(g * groupBytes + scalesAt + 4 * r, scale, true);
      view.setFloat32(g * groupBytes + lengthsAt + 4 * r, length, true);
      values.forEach((x, j) => {
        v[g * groupBytes + valuesAt + r * width + j] = x;
      });
      group.push({ scale, length, values });
    }
    rows.push(group);
  }
  const strides = { valueStride: width, scaleStride: 4, lengthStride: 4 };
  return {
    data: { bytes, groups, groupBytes, per, width, valuesAt, scalesAt, lengthsAt, ...strides },
    rows,
  };
}

test("int8MaxDotSum (native and TS) is the sum over query rows of each group's best scaled dot", {
  skip,
}, () => {
  const rnd = random(21);
  // Rows of 37 and 131 values: the native dot's unrolled loop and its tail both run; 19 query
  // rows take two blocks of 16 lanes, the second padded.
  for (const [groups, per, width, rows, unit] of [
    [5, 3, 37, 4, false],
    [5, 3, 37, 4, true],
    [4, 2, 131, 19, false],
    [4, 2, 131, 19, true],
  ] as const) {
    const { data, rows: stored } = int8Groups(groups, per, width, rnd);
    const q = filled(rows * width, rnd);
    const offsets = filled(rows, rnd);
    const want = stored.map((group) => {
      let sum = 0;
      for (let t = 0; t < rows; t++) {
        let best = Number.NEGATIVE_INFINITY;
        for (const row of group) {
          let dot = 0;
          row.values.forEach((x, j) => {
            dot += q[t * width + j] * x;
          });
          const div = unit ? (row.length > 0 ? 1 / row.length : 0) : 1;
          best = Math.max(best, (offsets[t] + row.scale * dot) * div);
        }
        sum += best;
      }
      return 1 + 0.5 * sum;
    });
    for (const k of [native!, ts]) {
      const out = new Float32Array(groups).fill(1);
      k.int8MaxDotSum(data, q, rows, offsets, unit, 0.5, out);
      out.forEach((x, g) => {
        assert.ok(Math.abs(x - want[g]) < 1e-4 * (1 + Math.abs(want[g])), `${k.name} ${unit} ${g}`);
      });
    }
  }
});

test("int8Dot (native and TS) is each record's scale times its int8 row's dot with the int8-rounded query", {
  skip,
}, () => {
  const rnd = random(23);
  // Rows of 5, 48, 128 and 131 values (whole vectors and tails), 3 bytes into a buffer so that
  // nothing is aligned, after a 4-byte id and the scale.
  for (const width of [5, 48, 128, 131]) {
    const rows = 9;
    const recordBytes = 8 + width + 1;
    const bytes = new Uint8Array(3 + rows * recordBytes).subarray(3);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const q = filled(width, rnd);
    const qScale = Math.fround(Math.max(...Array.from(q, Math.abs)) / 127);
    const q8 = Array.from(q, (x) => Math.sign(x) * Math.round(Math.abs(Math.fround(x / qScale))));
    const want: number[] = [];
    const bound: { float: number; slack: number }[] = [];
    for (let r = 0; r < rows; r++) {
      const scale = Math.fround(0.01 + Math.abs(rnd()) * 0.05);
      view.setFloat32(r * recordBytes + 4, scale, true);
      let dot = 0;
      let float = 0;
      let mass = 0;
      for (let j = 0; j < width; j++) {
        const x = Math.round(rnd() * 127);
        values[r * recordBytes + 8 + j] = x;
        dot += q8[j] * x;
        float += q[j] * x;
        mass += Math.abs(x);
      }
      want.push(scale * qScale * dot);
      // The query's rounding moves each value by at most half its scale.
      bound.push({ float: scale * float, slack: scale * (qScale / 2) * mass + 1e-6 });
    }
    const data = { bytes, rows, recordBytes, width, valuesAt: 8, scaleAt: 4 };
    for (const k of [native!, ts]) {
      const out = new Float32Array(rows);
      k.int8Dot(data, q, out);
      out.forEach((x, r) => {
        assert.ok(
          Math.abs(x - want[r]) < 1e-5 * (1 + Math.abs(want[r])),
          `${k.name} ${width} ${r}`,
        );
        assert.ok(
          Math.abs(x - bound[r].float) <= bound[r].slack,
          `${k.name} ${width} ${r}: near q . v`,
        );
      });
    }
  }
});

test("int8Dot by hand, and a row past its record is refused", { skip }, () => {
  // Two records of 8 bytes: scale 0.5 then (2, -3, 1, 0) and scale 2 then (1, 1, 1, 1). The
  // query (1, 2, 3, 127) is its own int8 rounding (scale 127 / 127 = 1): 0.5 x (2 - 6 + 3) = -0.5
  // and 2 x 133 = 266; a query of zeros scores 0.
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setFloat32(0, 0.5, true);
  bytes.set(Uint8Array.from(Int8Array.of(2, -3, 1, 0)), 4);
  view.setFloat32(8, 2, true);
  bytes.set([1, 1, 1, 1], 12);
  const data = { bytes, rows: 2, recordBytes: 8, width: 4, valuesAt: 4, scaleAt: 0 };
  const q = Float32Array.of(1, 2, 3, 127);
  for (const k of [native!, ts]) {
    const out = new Float32Array(2);
    k.int8Dot(data, q, out);
    assert.deepEqual(Array.from(out), [-0.5, 266], k.name);
    k.int8Dot(data, new Float32Array(4), out);
    assert.deepEqual(Array.from(out), [0, 0], k.name);
    assert.throws(
      () => k.int8Dot({ ...data, valuesAt: 5 }, q, out),
      /int8Dot: a row does not fit in its 8-byte record/,
    );
    assert.throws(() => k.int8Dot(data, Float32Array.of(1, 2, 3), out), /int8Dot: q/);
  }
});

test("int8MaxDotSum's widest integer rows do not overflow: 256 values of -128 against the largest query", {
  skip,
}, () => {
  // One group of one row: 256 x -128 x (the query's 32767 levels) is near int32's bound.
  const width = 256;
  const bytes = new Uint8Array(8 + width);
  const view = new DataView(bytes.buffer);
  view.setFloat32(4, 0.5, true);
  bytes.fill(0x80, 8);
  const data = {
    bytes,
    groups: 1,
    groupBytes: bytes.length,
    per: 1,
    width,
    valuesAt: 8,
    valueStride: width,
    scalesAt: 4,
    scaleStride: 4,
    lengthsAt: 0,
    lengthStride: 0,
  };
  const q = new Float32Array(width).fill(3);
  for (const k of [native!, ts]) {
    const out = new Float32Array(1);
    k.int8MaxDotSum(data, q, 1, Float32Array.of(0), false, 1, out);
    assert.ok(Math.abs(out[0] - 0.5 * 3 * -128 * width) < 1e-3, `${k.name}: ${out[0]}`);
  }
});

test("int8MaxDotSum reads rows with their scale before their values; a NaN row makes a NaN", {
  skip,
}, () => {
  // Two groups of two rows of two values, each row its float32 scale then its int8 values (the
  // search index's vectors), after a 4-byte id: 16 bytes a group, the second row's scale at an
  // unaligned byte. Query (32767, 4), its own 15-bit rounding (the native integer path's): row 0
  // = 1 x (32767 x 3 + 4 x 4) = 98317, row 1 = 0.5 x (32767 x 5 + 4 x 5) = 81927.5, so group 0
  // scores 98317; group 1's row 1 has a NaN scale, so it scores NaN. Lengths are not read
  // without `unit`.
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  for (const [g, second] of [0.5, Number.NaN].entries()) {
    view.setFloat32(16 * g + 4, 1, true);
    bytes.set([3, 4], 16 * g + 8);
    view.setFloat32(16 * g + 10, second, true);
    bytes.set([5, 5], 16 * g + 14);
  }
  const data = {
    bytes,
    groups: 2,
    groupBytes: 16,
    per: 2,
    width: 2,
    valuesAt: 8,
    valueStride: 6,
    scalesAt: 4,
    scaleStride: 6,
    lengthsAt: 0,
    lengthStride: 0,
  };
  const q = Float32Array.of(32767, 4);
  for (const k of [native!, ts]) {
    const out = new Float32Array(2);
    k.int8MaxDotSum(data, q, 1, Float32Array.of(0), false, 1, out);
    assert.equal(out[0], 98317, k.name);
    assert.ok(Number.isNaN(out[1]), `${k.name}: ${out[1]}`);
    k.int8MaxDotSum(data, new Float32Array(0), 0, new Float32Array(0), false, 1, out);
    assert.equal(out[0], 98317, `${k.name}: no query rows add nothing`);
    const broken = new Float32Array(2);
    k.int8MaxDotSum(data, Float32Array.of(Number.NaN, 1), 1, Float32Array.of(0), false, 1, broken);
    assert.ok(Number.isNaN(broken[0]), `${k.name}: a NaN in the query makes a NaN`);
    assert.throws(
      () => k.int8MaxDotSum({ ...data, groupBytes: 15 }, q, 1, Float32Array.of(0), false, 1, out),
      /int8MaxDotSum: a group's rows do not fit in its 15 bytes/,
    );
    assert.throws(
      () => k.int8MaxDotSum({ ...data, groups: 3 }, q, 1, Float32Array.of(0), false, 1, out),
      /int8MaxDotSum: bytes has 32 elements/,
    );
    // With `unit` the lengths would be read past the group.
    assert.throws(
      () => k.int8MaxDotSum({ ...data, lengthsAt: 14 }, q, 1, Float32Array.of(0), true, 1, out),
      /do not fit/,
    );
  }
});

test("allocateFloats (native and TS) gives n writable zeros, large ones apart from each other", {
  skip,
}, () => {
  for (const k of [native!, ts]) {
    for (const n of [0, 5, 3 << 20]) {
      const a = k.allocateFloats(n);
      const b = k.allocateFloats(n);
      assert.ok(a instanceof Float32Array && a.length === n, `${k.name} ${n}`);
      assert.ok(a.every((x) => x === 0));
      a.fill(1.5);
      assert.ok(
        b.every((x) => x === 0),
        "two allocations do not share memory",
      );
      assert.equal(a[n - 1], n > 0 ? 1.5 : undefined);
    }
    assert.throws(() => k.allocateFloats(-1), /allocateFloats: n must be an integer >= 0/);
  }
});

test("halvesToFloats (native and TS) gives every half value exactly and counts the specials", {
  skip,
}, () => {
  const bits = Uint16Array.from({ length: 0x10000 + 5 }, (_, i) => i % 0x10000);
  const want = float16Values();
  for (const k of [native!, ts]) {
    const out = new Float32Array(bits.length);
    // Infinities and NaNs: all five exponent bits set, with either sign.
    assert.equal(k.halvesToFloats(bits, out), 2 * 0x400, k.name);
    bits.forEach((b, i) => {
      const v = want[b];
      assert.ok(
        Number.isNaN(v) ? Number.isNaN(out[i]) : Object.is(out[i], v),
        `${k.name} 0x${b.toString(16)}`,
      );
    });
    // The tail past the last group of eight goes the scalar way.
    assert.equal(k.halvesToFloats(Uint16Array.of(0x3c00, 0x7c01, 0xfc00), new Float32Array(3)), 2);
    assert.throws(() => k.halvesToFloats(bits, new Float32Array(3)), /same length/);
  }
});

test("readRecords (native and TS) reads each id's record by position, and marks ids past the end, negative or short", {
  skip,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "imagesent-read-records-"));
  try {
    // 300 whole records of 37 bytes and a partial one (record 300: 20 bytes).
    const recordBytes = 37;
    const rnd = random(11);
    const file = Uint8Array.from({ length: 300 * recordBytes + 20 }, () =>
      Math.floor((rnd() + 1) * 128),
    );
    const path = join(dir, "records.bin");
    writeFileSync(path, file);
    // More ids than one native chunk (64), repeats and out-of-order ones among them.
    const ids = Int32Array.from({ length: 150 }, (_, k) => (k * 97) % 300);
    ids.set([-1, 300, 301, 5_000, 299, 0, 0], 140);
    const want = new Uint8Array(ids.length * recordBytes);
    ids.forEach((id, k) => {
      if (id >= 0 && id < 300) {
        want.set(file.subarray(id * recordBytes, (id + 1) * recordBytes), k * recordBytes);
      } else {
        new DataView(want.buffer).setInt32(k * recordBytes, -7, true);
      }
    });
    const fd = openSync(path, "r");
    const folder = openSync(dir, "r");
    try {
      for (const k of [native!, ts]) {
        const out = new Uint8Array(ids.length * recordBytes);
        k.readRecords({ fd, ids, recordBytes, slots: 302, noRecord: -7 }, out);
        // Only the first 4 bytes of a missing record are set: compare those records there.
        ids.forEach((id, r) => {
          const at = r * recordBytes;
          const n = id >= 0 && id < 300 ? recordBytes : 4;
          assert.deepEqual(out.subarray(at, at + n), want.subarray(at, at + n), `${k.name} ${r}`);
        });
        // slots bounds the ids read: record 10 past slots 5 is missing, though the file has it.
        const few = new Uint8Array(recordBytes);
        k.readRecords({ fd, ids: Int32Array.of(10), recordBytes, slots: 5, noRecord: -7 }, few);
        assert.equal(new DataView(few.buffer).getInt32(0, true), -7, k.name);
        assert.throws(
          () => k.readRecords({ fd, ids, recordBytes, slots: 302, noRecord: -7 }, few),
          /needs/,
          k.name,
        );
        assert.throws(
          () =>
            k.readRecords(
              { fd: folder, ids: Int32Array.of(0), recordBytes, slots: 1, noRecord: -7 },
              few,
            ),
          /EISDIR|directory/i,
          k.name,
        );
      }
    } finally {
      closeSync(fd);
      closeSync(folder);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("native kernels name their backend and refuse unknown ones", { skip }, () => {
  assert.match(native!.name, /^native \((avx512|avx2|scalar|openblas)\)$/);
  assert.ok(native!.backends().includes("scalar"));
  assert.throws(() => native!.useBackend("cuda" as NativeBackend), /not available/);
  assert.throws(() => native!.setThreads(0), RangeError);
});
