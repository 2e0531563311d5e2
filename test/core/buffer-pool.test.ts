import assert from "node:assert/strict";
import { test } from "node:test";
import { capacityFor, give, take, takeZeroed } from "../../src/core/buffer-pool.js";

test("capacityFor rounds up to an eighth of the power of two, small lengths as they are", () => {
  assert.equal(capacityFor(1000), 1000);
  assert.equal(capacityFor(4096), 4096);
  // 4097..4608 share one class: 4096 + 512.
  assert.equal(capacityFor(4097), 4608);
  assert.equal(capacityFor(4600), 4608);
  assert.equal(capacityFor(1_150_000), 1_179_648);
  for (const n of [1025, 5000, 123_457, 2_917_000]) {
    const c = capacityFor(n);
    assert.ok(c >= n && c <= n * 1.125, `${n} -> ${c}`);
  }
});

test("a returned buffer serves the next request of its class, at the new length", () => {
  const a = take(40_000);
  a.fill(7);
  give(a);
  const b = take(39_000);
  assert.equal(b.buffer, a.buffer, "same memory, slightly shorter batch");
  assert.equal(b.length, 39_000);
  const c = take(39_000);
  assert.notEqual(c.buffer, b.buffer, "a buffer in use is not handed out again");
  give(b);
  const z = takeZeroed(40_100);
  assert.equal(z.buffer, a.buffer);
  assert.ok(z.every((v) => v === 0));
  give(z);
  give(c);
});

test("give ignores arrays the pool did not make, views inside one, and second returns", () => {
  const foreign = new Float32Array(50_000);
  give(foreign);
  assert.notEqual(take(50_000).buffer, foreign.buffer);
  const mine = take(60_000);
  give(mine.subarray(10));
  assert.notEqual(take(60_000).buffer, mine.buffer, "a view at an offset is not taken back");
  give(mine);
  give(mine);
  const first = take(60_000);
  const second = take(60_000);
  assert.equal(first.buffer, mine.buffer);
  assert.notEqual(second.buffer, mine.buffer, "returned twice, handed out once");
});

test("small requests are plain arrays, never pooled", () => {
  const small = take(100);
  assert.equal(small.length, 100);
  give(small);
  assert.notEqual(take(100).buffer, small.buffer);
});
