import assert from "node:assert/strict";
import { test } from "node:test";
import { float16Values, fromFloat16, toFloat16 } from "../../src/core/float16.js";

test("float16 conversion: exact values, rounding to even, subnormals, overflow, specials", () => {
  for (const v of [0, 1, -2, 0.5, 65504, 2 ** -14, 2 ** -24, -(2 ** -20)]) {
    assert.equal(fromFloat16(toFloat16(v)), v);
  }
  assert.equal(toFloat16(1 + 2 ** -11), toFloat16(1)); // a tie rounds to the even mantissa
  assert.equal(toFloat16(1 + 3 * 2 ** -11), toFloat16(1 + 2 ** -9));
  assert.equal(fromFloat16(toFloat16(1e6)), Number.POSITIVE_INFINITY);
  assert.equal(fromFloat16(toFloat16(2 ** -26)), 0);
  assert.ok(Number.isNaN(fromFloat16(toFloat16(Number.NaN))));
  assert.equal(fromFloat16(toFloat16(Number.NEGATIVE_INFINITY)), Number.NEGATIVE_INFINITY);
});

test("the float16 lookup table holds fromFloat16's value for each of the 65,536 bit patterns", () => {
  const table = float16Values();
  assert.equal(table.length, 0x10000);
  for (let h = 0; h < 0x10000; h++) {
    const want = fromFloat16(h);
    // Object.is tells -0 from 0; NaN payloads are not compared, only NaN-ness.
    assert.ok(Object.is(table[h], want), `0x${h.toString(16)}: table ${table[h]}, formula ${want}`);
  }
  assert.ok(Object.is(table[0x8000], -0));
  assert.equal(table[0x0001], 2 ** -24); // smallest subnormal
  assert.equal(table[0x03ff], 1023 * 2 ** -24); // largest subnormal
  assert.equal(table[0x7c00], Number.POSITIVE_INFINITY);
  assert.equal(table[0xfc00], Number.NEGATIVE_INFINITY);
  assert.ok(Number.isNaN(table[0x7e00]) && Number.isNaN(table[0xfc01]));
});
