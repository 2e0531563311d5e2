import assert from "node:assert/strict";
import { test } from "node:test";
import { backward } from "../../../src/core/autodiff.js";
import { gather } from "../../../src/core/ops/embedding.js";
import { sum } from "../../../src/core/ops/reduce.js";
import { Tensor } from "../../../src/core/tensor.js";
import { assertGradients, input } from "./support.js";

test("gather picks rows by index", () => {
  const table = Tensor.from([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  const y = gather(table, Int32Array.of(2, 0, 2));
  assert.deepEqual(y.toArray(), [
    [5, 6],
    [1, 2],
    [5, 6],
  ]);
});

test("gather's backward scatter-adds: repeated indices accumulate, unpicked rows stay 0", () => {
  const table = input([4, 3], 1);
  backward(sum(gather(table, Int32Array.of(1, 3, 1, 1))));
  assert.deepEqual(Array.from(table.grad!), [0, 0, 0, 3, 3, 3, 0, 0, 0, 1, 1, 1]);
});

test("gather gradient check", () => {
  const table = input([5, 3], 2);
  assertGradients(() => gather(table, Int32Array.of(4, 0, 4, 2)), { table });
});

test("gather rejects an index outside the table, naming it", () => {
  assert.throws(
    () => gather(Tensor.zeros([3, 2]), Int32Array.of(0, 3)),
    /gather: index 3 at position 1 is outside table \[3,2\]/,
  );
  assert.throws(() => gather(Tensor.zeros([3, 2]), Int32Array.of(-1)), /gather: index -1/);
});
