import assert from "node:assert/strict";
import { test } from "node:test";
import { reluRecurrence } from "../../../src/core/ops/recurrence.js";
import { Tensor } from "../../../src/core/tensor.js";
import { assertClose, assertGradients, input } from "./support.js";

// Three sequences of lengths 3, 2 and 1, stacked longest first: 3 rows at step 0, 2, then 1.
const sizes = Int32Array.from([3, 2, 1]);
const H = 2;

/** The recurrence written out step by step, row by row, from its definition. */
function naive(
  a: Float32Array,
  W: Float32Array,
  bias: Float32Array,
  start: Float32Array | null,
  reverse: boolean,
): number[] {
  const offsets = [0, 3, 5, 6];
  const h = new Array<number>(a.length).fill(0);
  const order = reverse ? [2, 1, 0] : [0, 1, 2];
  order.forEach((t, i) => {
    const prev = i === 0 ? null : order[i - 1];
    for (let r = 0; r < sizes[t]; r++) {
      for (let j = 0; j < H; j++) {
        let v = a[(offsets[t] + r) * H + j] + bias[j];
        if (prev === null) v += start === null ? 0 : start[r * H + j];
        else if (r < sizes[prev]) {
          for (let k = 0; k < H; k++) v += h[(offsets[prev] + r) * H + k] * W[k * H + j];
        }
        h[(offsets[t] + r) * H + j] = Math.max(0, v);
      }
    }
  });
  return h;
}

test("reluRecurrence runs forwards and backwards as its definition, with bias and start", () => {
  const a = input([6, H], 31, 0.1);
  const W = input([H, H], 32);
  const bias = input([H], 33);
  const startFwd = input([3, H], 34);
  const startRev = input([1, H], 35);
  assertClose(
    reluRecurrence(a, W, sizes, { bias, start: startFwd }).data,
    naive(a.data, W.data, bias.data, startFwd.data, false),
  );
  assertClose(
    reluRecurrence(a, W, sizes, { bias, start: startRev, reverse: true }).data,
    naive(a.data, W.data, bias.data, startRev.data, true),
  );
  const none = new Float32Array(H);
  assertClose(reluRecurrence(a, W, sizes).data, naive(a.data, W.data, none, null, false));
});

test("reluRecurrence gradient check, both directions", () => {
  // Seeds whose pre-activations all sit farther than the step from 0, 8 of 12 units active in
  // each direction (so both sides of the ReLU are checked).
  const a = input([6, H], 56, 0.3);
  const W = input([H, H], 57, 0.1);
  const bias = input([H], 58, 0.1);
  const start = input([3, H], 59, 0.1);
  assertGradients(() => reluRecurrence(a, W, sizes, { bias, start }), { a, W, bias, start });
  const last = input([1, H], 60, 0.1);
  assertGradients(() => reluRecurrence(a, W, sizes, { bias, start: last, reverse: true }), {
    a,
    W,
    bias,
    last,
  });
});

test("reluRecurrence rejects inputs that do not fit the steps", () => {
  const W = Tensor.zeros([H, H]);
  assert.throws(
    () => reluRecurrence(Tensor.zeros([5, H]), W, sizes),
    /reluRecurrence: a \[5,2\] and Whh \[2,2\] do not fit steps of \[3,2,1\]/,
  );
  assert.throws(
    () => reluRecurrence(Tensor.zeros([6, H]), W, sizes, { bias: Tensor.zeros([3]) }),
    /bias must have 2 values/,
  );
  assert.throws(
    () =>
      reluRecurrence(Tensor.zeros([6, H]), W, sizes, {
        start: Tensor.zeros([3, H]),
        reverse: true,
      }),
    /start \[3,2\] does not fit the 1 rows of the first step/,
  );
});
