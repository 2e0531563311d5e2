import assert from "node:assert/strict";
import { test } from "node:test";
import { normal, uniform, xavier, zeros } from "../../src/core/init.js";
import { Rng } from "../../src/core/rng.js";

function stats(data: Float32Array) {
  let s = 0;
  let s2 = 0;
  for (const v of data) {
    s += v;
    s2 += v * v;
  }
  const mean = s / data.length;
  return { mean, std: Math.sqrt(s2 / data.length - mean * mean) };
}

test("uniform stays within [-scale, scale] and is reproducible", () => {
  const a = uniform([50, 40], new Rng(1), 0.08);
  assert.deepEqual(a.shape, [50, 40]);
  for (const v of a.data) assert.ok(Math.abs(v) <= 0.08);
  assert.ok(Math.abs(stats(a.data).std - 0.08 / Math.sqrt(3)) < 0.003);
  assert.deepEqual(uniform([50, 40], new Rng(1), 0.08).data, a.data);
  assert.notDeepEqual(uniform([50, 40], new Rng(2), 0.08).data, a.data);
});

test("normal has the requested std", () => {
  const { mean, std } = stats(normal([100, 100], new Rng(3), 0.01).data);
  assert.ok(Math.abs(mean) < 0.0005);
  assert.ok(Math.abs(std - 0.01) < 0.0005);
});

test("xavier uses sqrt(6 / (fanIn + fanOut)); zeros is zeros", () => {
  const w = xavier([300, 100], new Rng(4));
  const limit = Math.sqrt(6 / 400);
  let max = 0;
  for (const v of w.data) max = Math.max(max, Math.abs(v));
  assert.ok(max <= limit && max > 0.95 * limit);
  assert.throws(() => xavier([10], new Rng(1)), /xavier: expected a 2-D/);
  assert.ok(zeros([3, 2]).data.every((v) => v === 0));
});
