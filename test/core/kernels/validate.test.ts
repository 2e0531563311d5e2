import assert from "node:assert/strict";
import { test } from "node:test";
import type { Kernels } from "../../../src/core/kernels/kernels.js";
import { loadNativeKernels } from "../../../src/core/kernels/native-kernels.js";
import { TsKernels } from "../../../src/core/kernels/ts-kernels.js";

const implementations: Kernels[] = [new TsKernels()];
const native = loadNativeKernels();
if (native) implementations.push(native);

const f = (n: number) => new Float32Array(n);

for (const k of implementations) {
  test(`${k.name}: sgemm rejects bad shapes and short buffers, naming the argument`, () => {
    const ok = () => k.sgemm(false, false, 2, 3, 4, 1, f(8), 4, f(12), 3, 0, f(6), 3);
    ok();
    assert.throws(() => k.sgemm(false, false, -1, 3, 4, 1, f(8), 4, f(12), 3, 0, f(6), 3), {
      name: "RangeError",
      message: /sgemm: m must be an integer >= 0, got -1/,
    });
    assert.throws(
      () => k.sgemm(false, false, 2, 3.5, 4, 1, f(8), 4, f(12), 3, 0, f(6), 3),
      /sgemm: n must be an integer/,
    );
    assert.throws(
      () => k.sgemm(false, false, 2, 3, 4, 1, f(7), 4, f(12), 3, 0, f(6), 3),
      /sgemm: a \(m x k\) has 7 elements, needs 8/,
    );
    assert.throws(
      () => k.sgemm(true, false, 2, 3, 4, 1, f(8), 1, f(12), 3, 0, f(6), 3),
      /sgemm: row stride of a \(transposed, k x m\) \(1\) is smaller than its width 2/,
    );
    assert.throws(
      () => k.sgemm(false, true, 2, 3, 4, 1, f(8), 4, f(11), 4, 0, f(6), 3),
      /sgemm: b \(transposed, n x k\) has 11 elements, needs 12/,
    );
    assert.throws(
      () => k.sgemm(false, false, 2, 3, 4, 1, f(8), 4, f(12), 3, 0, f(6), 4),
      /sgemm: c has 6 elements, needs 7/,
    );
    const shared = f(20);
    assert.throws(
      () =>
        k.sgemm(
          false,
          false,
          2,
          2,
          2,
          1,
          shared.subarray(0, 4),
          2,
          f(4),
          2,
          0,
          shared.subarray(2, 6),
          2,
        ),
      /c must not share memory/,
    );
    // Empty products need no operand storage at all.
    k.sgemm(false, false, 0, 3, 4, 1, f(0), 4, f(0), 3, 0, f(0), 3);
  });

  test(`${k.name}: row kernels reject short buffers and bad targets`, () => {
    assert.throws(() => k.softmaxRows(f(5), 2, 3, f(6)), /softmaxRows: x has 5 elements, needs 6/);
    assert.throws(() => k.softmaxRows(f(6), 2, 3, f(5)), /softmaxRows: out has 5 elements/);
    assert.throws(
      () => k.softmaxCrossEntropy(f(6), 2, 3, new Int32Array([0, 3]), f(6), f(2)),
      /targets\[1\] = 3 is out of range for 3 classes/,
    );
    assert.throws(
      () => k.softmaxCrossEntropy(f(6), 2, 3, new Int32Array([0]), f(6), f(2)),
      /targets has 1 elements, needs 2/,
    );
    assert.throws(
      () => k.softmaxCrossEntropy(f(6), 2, 3, new Int32Array([0, 1]), f(6), f(1)),
      /losses has 1 elements, needs 2/,
    );
    assert.throws(() => k.maxOverRows(f(0), 0, 3, f(3), new Int32Array(3)), /needs rows >= 1/);
    assert.throws(
      () => k.maxOverRows(f(6), 2, 3, f(2), new Int32Array(3)),
      /maxOut has 2 elements, needs 3/,
    );
    assert.throws(
      () => k.maxOverRows(f(6), 2, -3, f(3), new Int32Array(3)),
      /maxOverRows: cols must be an integer >= 0/,
    );
  });

  test(`${k.name}: readRecords rejects bad record sizes, slots and short buffers before reading`, () => {
    const ids = Int32Array.of(0, 1);
    assert.throws(
      () =>
        k.readRecords({ fd: 0, ids, recordBytes: 3, slots: 2, noRecord: -1 }, new Uint8Array(6)),
      {
        name: "RangeError",
        message: /readRecords: recordBytes must be an integer >= 4, got 3/,
      },
    );
    assert.throws(
      () =>
        k.readRecords({ fd: 0, ids, recordBytes: 8, slots: -1, noRecord: -1 }, new Uint8Array(16)),
      /readRecords: slots must be an integer >= 0, got -1/,
    );
    assert.throws(
      () =>
        k.readRecords({ fd: -2, ids, recordBytes: 8, slots: 2, noRecord: -1 }, new Uint8Array(16)),
      /readRecords: fd must be a file descriptor, got -2/,
    );
    assert.throws(
      () =>
        k.readRecords({ fd: 0, ids, recordBytes: 8, slots: 2, noRecord: -1 }, new Uint8Array(15)),
      /readRecords: out has 15 bytes, needs 2 x 8/,
    );
  });
}
