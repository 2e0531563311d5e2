#include "halves.h"

#include <cstring>

#ifdef __x86_64__
#include <immintrin.h>
#endif

namespace imagesent {
namespace {

// The value of half-precision bits h, exactly: subnormals, infinities and NaN included.
float halfValue(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000 | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // A subnormal half is a normal float: shift the mantissa up to its leading 1.
    int32_t e = 113;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      e--;
    }
    bits = sign | (static_cast<uint32_t>(e) << 23) | ((mantissa & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

int64_t scalarHalves(const uint16_t* bits, int64_t n, float* out) {
  int64_t special = 0;
  for (int64_t i = 0; i < n; i++) {
    out[i] = halfValue(bits[i]);
    special += (bits[i] & 0x7c00) == 0x7c00;
  }
  return special;
}

#ifdef __x86_64__
// F16C converts eight halves an instruction (and keeps NaN payloads as the scalar path does).
__attribute__((target("avx2,f16c"))) int64_t f16cHalves(const uint16_t* bits, int64_t n,
                                                        float* out) {
  int64_t special = 0;
  int64_t i = 0;
  const __m128i exponent = _mm_set1_epi16(0x7c00);
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bits + i));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
    const __m128i all = _mm_cmpeq_epi16(_mm_and_si128(h, exponent), exponent);
    special += __builtin_popcount(_mm_movemask_epi8(all)) / 2;
  }
  return special + scalarHalves(bits + i, n - i, out + i);
}
#endif

}  // namespace

int64_t halvesToFloats(const uint16_t* bits, int64_t n, float* out) {
#ifdef __x86_64__
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c")) {
    return f16cHalves(bits, n, out);
  }
#endif
  return scalarHalves(bits, n, out);
}

}  // namespace imagesent
