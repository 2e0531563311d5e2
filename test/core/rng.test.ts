import assert from "node:assert/strict";
import test from "node:test";
import { Rng } from "../../src/core/rng.js";

test("the same seed gives the same stream and different seeds differ", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xs = Array.from({ length: 8 }, () => a.nextUint32());
  assert.deepEqual(
    Array.from({ length: 8 }, () => b.nextUint32()),
    xs,
  );
  assert.notDeepEqual(
    Array.from({ length: 8 }, () => c.nextUint32()),
    xs,
  );
});

test("a restored state continues the stream exactly", () => {
  const a = new Rng(7);
  for (let i = 0; i < 5; i++) a.uniform();
  const saved = a.state();
  const next = [a.uniform(), a.normal(), a.int(10)];
  const b = new Rng(999);
  b.setState(saved);
  assert.deepEqual([b.uniform(), b.normal(), b.int(10)], next);
});

test("uniform lies in [0, 1) with mean near 1/2; normal has mean 0 and variance 1", () => {
  const r = new Rng(1);
  const n = 20000;
  let su = 0;
  let sn = 0;
  let sn2 = 0;
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    su += u;
    const z = r.normal();
    sn += z;
    sn2 += z * z;
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.01);
  assert.ok(Math.abs(sn / n) < 0.03);
  assert.ok(Math.abs(sn2 / n - 1) < 0.05);
});

test("int, pick and shuffle stay in range and shuffle is a permutation", () => {
  const r = new Rng(3);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) seen.add(r.int(5));
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4]);
  const items = [1, 2, 3, 4, 5, 6];
  assert.deepEqual([...r.shuffle([...items])].sort(), items);
  assert.throws(() => r.pick([]), /empty list/);
  assert.throws(() => r.setState([0, 0, 0, 0]), /not all zero/);
});

test("fillBernoulli draws exactly what uniform() would, element by element", () => {
  for (const [seed, p] of [
    [3, 0.5],
    [11, 0.2],
    [12345, 0.9],
  ] as const) {
    const a = new Rng(seed);
    const b = new Rng(seed);
    const mask = new Float32Array(10007);
    a.fillBernoulli(mask, p, 2.5);
    const expected = Float32Array.from(mask, () => (b.uniform() >= p ? 2.5 : 0));
    assert.deepEqual(mask, expected);
    assert.deepEqual(a.state(), b.state(), "the state moves on by the same draws");
    const kept = mask.filter((v) => v !== 0).length / mask.length;
    assert.ok(Math.abs(kept - (1 - p)) < 0.02, `kept ${kept}`);
  }
});
