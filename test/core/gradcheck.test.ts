import assert from "node:assert/strict";
import { test } from "node:test";
import { result } from "../../src/core/autodiff.js";
import { formatGradcheck, gradcheck } from "../../src/core/gradcheck.js";
import { mul, tanh } from "../../src/core/ops/index.js";
import { Params } from "../../src/core/params.js";
import { Tensor } from "../../src/core/tensor.js";

/** x^2 with a deliberately wrong backward (2x + 0.1 at one entry). */
function brokenSquare(x: Tensor, wrongAt: number): Tensor {
  const y = Float32Array.from(x.data, (v) => v * v);
  return result(y, x.shape, [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < gx.length; i++) gx[i] += g[i] * (2 * x.data[i] + (i === wrongAt ? 0.1 : 0));
  });
}

test("gradcheck finds a wrong gradient and names the parameter and index", () => {
  const params = new Params();
  const w = params.add("W", Tensor.from([0.5, -0.3, 0.8, 0.2], [2, 2]));
  const res = gradcheck(() => brokenSquare(w, 2), params);
  assert.equal(res.ok, false);
  assert.equal(res.worst?.name, "W");
  assert.equal(res.worst?.index, 2);
  assert.match(formatGradcheck(res), /FAILED, 4 entries, worst relative error .* at W\[2\]/);
});

test("gradcheck passes a correct gradient, leaves the values unchanged, and samples big tensors", () => {
  const w = Tensor.from(
    Array.from({ length: 200 }, (_, i) => Math.sin(i)),
    [10, 20],
    { requiresGrad: true },
  );
  const before = w.data.slice();
  const res = gradcheck(() => tanh(w), { w }, { maxPerParam: 30 });
  assert.ok(res.ok, formatGradcheck(res));
  assert.equal(res.checked, 30);
  assert.deepEqual(w.data, before);
});

test("gradcheck skips frozen parameters", () => {
  const params = new Params();
  const w = params.add("W", Tensor.from([0.5, -0.3]), { trainable: false });
  const v = params.add("v", Tensor.from([0.1, 0.2]));
  const res = gradcheck(() => mul(w, v), params);
  assert.equal(res.checked, 2);
  assert.equal(res.worst?.name, "v");
});
