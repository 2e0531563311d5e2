import assert from "node:assert/strict";
import test from "node:test";
import { FeatureNormalizer } from "../../src/vision/feature-normalizer.js";

test("fit computes per-dimension mean and 1/std over all rows of all batches", () => {
  // dim 0: 1, 3, 5 -> mean 3, variance (4 + 0 + 4) / 3 = 8/3; dim 1 is constant 2 -> minStd.
  const n = FeatureNormalizer.fit([Float32Array.of(1, 2, 3, 2), Float32Array.of(5, 2)], 2, 0.5);
  assert.deepEqual(Array.from(n.mean), [3, 2]);
  assert.ok(Math.abs(n.invStd[0] - 1 / Math.sqrt(8 / 3)) < 1e-6);
  assert.equal(n.invStd[1], 2);
  const out = n.apply(Float32Array.of(3, 2, 5, 3));
  assert.deepEqual(Array.from(out.subarray(0, 2)), [0, 0]);
  assert.ok(Math.abs(out[2] - 2 / Math.sqrt(8 / 3)) < 1e-6);
  assert.equal(out[3], 2);
});

test("normalised training features have mean 0 and variance 1", () => {
  const rows = 50;
  const x = new Float32Array(rows * 3);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 7919) % 101) / 10 + (i % 3) * 5;
  const n = FeatureNormalizer.fit([x], 3);
  const y = n.apply(x);
  for (let j = 0; j < 3; j++) {
    let s = 0;
    let s2 = 0;
    for (let r = 0; r < rows; r++) {
      s += y[r * 3 + j];
      s2 += y[r * 3 + j] ** 2;
    }
    assert.ok(Math.abs(s / rows) < 1e-4);
    assert.ok(Math.abs(s2 / rows - 1) < 1e-3);
  }
});

test("JSON round trip and validation", () => {
  const n = FeatureNormalizer.fit([Float32Array.of(1, 2, 3, 6)], 2);
  const back = FeatureNormalizer.fromJSON(JSON.parse(JSON.stringify(n.toJSON())));
  assert.deepEqual(back.mean, n.mean);
  assert.deepEqual(back.invStd, n.invStd);
  const read = (value: unknown) => () =>
    FeatureNormalizer.fromJSON(value, "m.ckpt", { path: "meta.normalizer" });
  assert.throws(read({ mean: [1], invStd: "x" }), {
    name: "InputError",
    message:
      'm.ckpt: meta.normalizer.invStd: expected a list of 1 finite numbers (one per mean), got "x"',
  });
  assert.throws(read({ mean: [1], invStd: [1, 2] }), {
    message:
      "m.ckpt: meta.normalizer.invStd: expected a list of 1 finite numbers (one per mean), got [1,2]",
  });
  assert.throws(read({ mean: [], invStd: [] }), {
    message: "m.ckpt: meta.normalizer.mean: expected a non-empty list of finite numbers, got []",
  });
  assert.throws(read({ mean: [1, null], invStd: [1, 2] }), {
    message: "m.ckpt: meta.normalizer.mean[1]: expected a finite number, got null",
  });
  assert.throws(read(null), {
    message: "m.ckpt: meta.normalizer: expected a JSON object, got null",
  });
  assert.throws(() => n.apply(new Float32Array(3)), /not a multiple of 2/);
  assert.throws(() => FeatureNormalizer.fit([], 2), /no feature rows/);
});
