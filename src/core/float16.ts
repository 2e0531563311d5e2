/**
 * IEEE 754 half precision: the storage type of shipped checkpoints (checkpoint.ts) and its
 * conversions to and from numbers.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE half-precision bits nearest to x (round half to even; overflow to infinity). */
export function toFloat16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal: the implicit leading bit becomes explicit and shifts down with the rest.
    return sign | roundShift(mant | 0x800000, 14 - e);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return (sign | (e << 10)) + roundShift(mant, 13);
}

/** The value of IEEE half-precision bits. */
export function fromFloat16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

let float16Table: Float32Array | undefined;

/**
 * The value of every half-precision bit pattern, indexed by the bits: decoding a shipped model's
 * millions of weights by lookup rather than by fromFloat16 takes a fifth of a cold search off.
 * Every half value is exact in float32, so the table holds what fromFloat16 returns.
 */
export function float16Values(): Float32Array {
  if (!float16Table) {
    float16Table = new Float32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) float16Table[h] = fromFloat16(h);
  }
  return float16Table;
}

function roundShift(m: number, s: number): number {
  const q = m >>> s;
  const rem = m & ((1 << s) - 1);
  const half = 1 << (s - 1);
  return rem > half || (rem === half && (q & 1) === 1) ? q + 1 : q;
}
