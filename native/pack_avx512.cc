// AVX-512 packing of the operands that must be transposed on the way into their panels (A stored
// m x k, B stored n x k): 16x16 in-register transposes instead of element-by-element gathers,
// which made packing a third of the time of dY . W^T.
#include "pack.h"

#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12 flags the AVX-512 intrinsics' own "undefined" pass-through operands (GCC PR 105593, fixed
// in GCC 13); nothing here reads uninitialised data.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace imagesent {
namespace {

// Transposes r[0..15] in place: afterwards r[q] holds column q of the 16x16 block.
__attribute__((target("avx512f"))) inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    const __m512d a = _mm512_castps_pd(t[i]);
    const __m512d b = _mm512_castps_pd(t[i + 1]);
    const __m512d c = _mm512_castps_pd(t[i + 2]);
    const __m512d d = _mm512_castps_pd(t[i + 3]);
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int h = 0; h < 16; h += 8) {
    for (int i = 0; i < 4; i++) {
      t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
      t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
    }
  }
  for (int i = 0; i < 8; i++) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
}

// dst[q * stride + s] = src[s * ld + q] for q < 16 and s < store (rows s >= lanes read as zero).
__attribute__((target("avx512f"))) inline void transposeBlock(const float* src, int64_t ld,
                                                              int lanes, float* dst, int stride,
                                                              int store) {
  __m512 r[16];
#pragma GCC unroll 16
  for (int s = 0; s < 16; s++) {
    r[s] = s < lanes ? _mm512_loadu_ps(src + s * ld) : _mm512_setzero_ps();
  }
  transpose16(r);
  const __mmask16 mask = static_cast<__mmask16>((1u << store) - 1);
#pragma GCC unroll 16
  for (int q = 0; q < 16; q++) _mm512_mask_storeu_ps(dst + q * stride, mask, r[q]);
}

}  // namespace

__attribute__((target("avx512f"))) void packTransposedAvx512(const float* src, int64_t ld,
                                                             int64_t rows, int64_t p0,
                                                             int64_t kcb, int width, float* dst) {
  // Panel row s (< width) is source row s; its element p is src[s * ld + p0 + p].
  int64_t p = 0;
  for (; p + 16 <= kcb; p += 16) {
    for (int s0 = 0; s0 < width; s0 += 16) {
      const int64_t lanes = rows - s0 < 0 ? 0 : (rows - s0 > 16 ? 16 : rows - s0);
      const int store = width - s0 < 16 ? width - s0 : 16;
      transposeBlock(src + s0 * ld + p0 + p, ld, static_cast<int>(lanes), dst + p * width + s0,
                     width, store);
    }
  }
  for (; p < kcb; p++) {
    float* out = dst + p * width;
    for (int64_t s = 0; s < rows; s++) out[s] = src[s * ld + p0 + p];
    for (int64_t s = rows; s < width; s++) out[s] = 0.0f;
  }
}

}  // namespace imagesent

#endif
