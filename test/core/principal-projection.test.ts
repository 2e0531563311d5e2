import assert from "node:assert/strict";
import { test } from "node:test";
import { PrincipalProjection } from "../../src/core/principal-projection.js";
import { Rng } from "../../src/core/rng.js";

// 400 points in 6-d: mean (1, 2, 3, 0, 0, 0), spread 10 along (1, 1, 0, 0, 0, 0)/√2, 3 along
// e_3, 0.1 elsewhere: the top two principal directions are those two axes, in that order.
function sample(): Float32Array {
  const rng = new Rng(7);
  const rows = 400;
  const x = new Float32Array(rows * 6);
  for (let r = 0; r < rows; r++) {
    const a = 10 * rng.normal();
    const b = 3 * rng.normal();
    const v = [a / Math.SQRT2, a / Math.SQRT2, b, 0, 0, 0].map((c) => c + 0.1 * rng.normal());
    v[0] += 1;
    v[1] += 2;
    v[2] += 3;
    x.set(v, r * 6);
  }
  return x;
}

test("finds the top principal directions and the mean", () => {
  const p = PrincipalProjection.fit(sample(), 400, 6, 2);
  for (const [j, m] of [1, 2, 3].entries()) assert.ok(Math.abs(p.mean[j] - m) < 1.5, `mean ${j}`);
  const column = (c: number) => Array.from({ length: 6 }, (_, j) => p.basis[j * 2 + c]);
  const first = column(0);
  const second = column(1);
  assert.ok(Math.abs(Math.abs(first[0] + first[1]) / Math.SQRT2 - 1) < 0.01, `${first}`);
  assert.ok(Math.abs(Math.abs(second[2]) - 1) < 0.01, `${second}`);
  const dot = first.reduce((s, v, j) => s + v * second[j], 0);
  assert.ok(Math.abs(dot) < 1e-4);
});

test("apply centres stored vectors, not queries; dot products survive the projection", () => {
  const x = sample();
  const p = PrincipalProjection.fit(x, 400, 6, 2);
  const v = x.subarray(0, 6);
  const s = Float32Array.from([0.5, -1, 2, 0, 0, 0]);
  const z = p.apply(v, 1, true);
  const q = p.apply(s, 1, false);
  const full = v.reduce((a, vj, j) => a + vj * s[j], 0);
  const offset = p.mean.reduce((a, mj, j) => a + mj * s[j], 0);
  // The 0.1 noise outside the two directions is all the projection loses.
  assert.ok(Math.abs(offset + z[0] * q[0] + z[1] * q[1] - full) < 0.5);
  const uncentred = p.apply(v, 1, false);
  assert.notDeepEqual(Array.from(uncentred), Array.from(z));
});

test("bytes round trip, and a truncated projection is refused naming its source", () => {
  const p = PrincipalProjection.fit(sample(), 400, 6, 3);
  const back = PrincipalProjection.fromBytes(p.toBytes(), "p.bin");
  assert.deepEqual(back.basis, p.basis);
  assert.deepEqual(back.mean, p.mean);
  assert.throws(
    () => PrincipalProjection.fromBytes(p.toBytes().subarray(0, 40), "p.bin"),
    /p\.bin/,
  );
});

test("restore gives back the mean plus the basis times z: the projected point in the full space", () => {
  const x = sample();
  const p = PrincipalProjection.fit(x, 400, 6, 2);
  const v = x.subarray(0, 12);
  const back = p.restore(p.apply(v, 2, true), 2);
  for (let r = 0; r < 2; r++) {
    const z = p.apply(v.subarray(r * 6, r * 6 + 6), 1, true);
    for (let j = 0; j < 6; j++) {
      const want = p.mean[j] + p.basis[j * 2] * z[0] + p.basis[j * 2 + 1] * z[1];
      assert.ok(Math.abs(back[r * 6 + j] - want) < 1e-4, `${r}, ${j}`);
      // Only the 0.1 noise outside the two directions is lost.
      assert.ok(Math.abs(back[r * 6 + j] - v[r * 6 + j]) < 0.5, `${r}, ${j}`);
    }
  }
  assert.throws(() => p.restore(new Float32Array(3), 2), /3 values for 2 x 2/);
});
