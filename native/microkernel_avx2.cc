// AVX2+FMA micro-kernel: 6 rows x 16 columns (12 ymm accumulators, leaving room for the B
// vectors and the broadcast in the 16 ymm registers).
#include "microkernel.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace imagesent {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

__attribute__((target("avx2,fma"))) void kernelAvx2(int64_t k, const float* ap, const float* bp,
                                                    float* c, int64_t ldc, float alpha,
                                                    float beta) {
  __m256 acc0[kMr];
  __m256 acc1[kMr];
#pragma GCC unroll 6
  for (int i = 0; i < kMr; i++) acc0[i] = acc1[i] = _mm256_setzero_ps();
  for (int64_t p = 0; p < k; p++) {
    const __m256 b0 = _mm256_load_ps(bp);
    const __m256 b1 = _mm256_load_ps(bp + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kMr; i++) {
      const __m256 a = _mm256_broadcast_ss(ap + i);
      acc0[i] = _mm256_fmadd_ps(a, b0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(a, b1, acc1[i]);
    }
    ap += kMr;
    bp += kNr;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  if (beta == 0.0f) {
#pragma GCC unroll 6
    for (int i = 0; i < kMr; i++) {
      _mm256_storeu_ps(c + i * ldc, _mm256_mul_ps(va, acc0[i]));
      _mm256_storeu_ps(c + i * ldc + 8, _mm256_mul_ps(va, acc1[i]));
    }
  } else {
    const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int i = 0; i < kMr; i++) {
      float* row = c + i * ldc;
      _mm256_storeu_ps(row, _mm256_fmadd_ps(va, acc0[i], _mm256_mul_ps(vb, _mm256_loadu_ps(row))));
      _mm256_storeu_ps(row + 8,
                       _mm256_fmadd_ps(va, acc1[i], _mm256_mul_ps(vb, _mm256_loadu_ps(row + 8))));
    }
  }
}

const MicroKernel kAvx2{"avx2", kMr, kNr, 256, 192, 512, kernelAvx2, nullptr, false};

}  // namespace

const MicroKernel* avx2MicroKernel() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &kAvx2 : nullptr;
}

}  // namespace imagesent

#else

namespace imagesent {
const MicroKernel* avx2MicroKernel() { return nullptr; }
}  // namespace imagesent

#endif
