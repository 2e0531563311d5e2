import assert from "node:assert/strict";
import { test } from "node:test";
import { Params } from "../../src/core/params.js";
import { Tensor } from "../../src/core/tensor.js";

test("Tensor.from reads nested rows, flat values with a shape, and scalars", () => {
  const m = Tensor.from([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(m.shape, [2, 3]);
  assert.equal(m.rows, 2);
  assert.equal(m.cols, 3);
  assert.deepEqual(Tensor.from([1, 2, 3, 4], [2, 2]).toArray(), [
    [1, 2],
    [3, 4],
  ]);
  assert.equal(Tensor.from(2.5).item(), 2.5);
  assert.deepEqual(Tensor.from([1, 2]).shape, [2]);
});

test("Tensor rejects data that does not fit the shape, and ragged rows", () => {
  assert.throws(
    () => new Tensor(new Float32Array(5), [2, 3]),
    /shape \[2,3\] needs 6 values, got 5/,
  );
  assert.throws(() => Tensor.zeros([2, -1]), /bad shape \[2,-1\]/);
  assert.throws(() => Tensor.from([[1, 2], [3]]), /row 1 has 1 values, row 0 has 2/);
  assert.throws(() => Tensor.zeros([2]).item(), /shape \[2\] is not a scalar/);
});

test("gradient buffers are allocated on first use", () => {
  const t = Tensor.zeros([3]);
  assert.equal(t.grad, null);
  t.zeroGrad();
  assert.equal(t.grad, null);
  const g = t.gradBuffer();
  assert.equal(t.gradBuffer(), g);
  assert.equal(g.length, 3);
});

test("Params registers names, decay defaults and trainability", () => {
  const params = new Params();
  const w = params.add("W", Tensor.zeros([2, 3]));
  params.add("b", Tensor.zeros([3]));
  params.add("E", Tensor.zeros([4, 2]), { trainable: false });
  assert.equal(w.name, "W");
  assert.equal(w.requiresGrad, true);
  assert.deepEqual(
    params.all().map((p) => [p.name, p.decay, p.trainable]),
    [
      ["W", true, true],
      ["b", false, true],
      ["E", true, false],
    ],
  );
  assert.deepEqual(
    params.trainable().map((p) => p.name),
    ["W", "b"],
  );
  assert.equal(params.count(), 6 + 3 + 8);
  assert.throws(() => params.add("W", Tensor.zeros([1])), /"W" is already registered/);
  assert.throws(() => params.get("V"), /no parameter "V" \(have: W, b, E\)/);
});
