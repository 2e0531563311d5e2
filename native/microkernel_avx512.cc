// AVX-512 micro-kernel: 12 rows x 32 columns (24 zmm accumulators). Compiled with a target
// attribute rather than -mavx512f so the addon still loads on CPUs without AVX-512.
#include "microkernel.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace imagesent {
namespace {

constexpr int kMr = 12;
constexpr int kNr = 32;

// Rows < kMr serves the last, partial panel of A (still packed kMr wide) without computing the
// zero-padded rows: M = 100 would otherwise waste a third of its last panel.
template <int Rows>
__attribute__((target("avx512f"))) void kernelAvx512(int64_t k, const float* ap, const float* bp,
                                                     float* c, int64_t ldc, float alpha,
                                                     float beta) {
  __m512 acc0[Rows];
  __m512 acc1[Rows];
#pragma GCC unroll 12
  for (int i = 0; i < Rows; i++) acc0[i] = acc1[i] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; p++) {
    const __m512 b0 = _mm512_load_ps(bp);
    const __m512 b1 = _mm512_load_ps(bp + 16);
    _mm_prefetch(reinterpret_cast<const char*>(ap + 8 * kMr), _MM_HINT_T0);
#pragma GCC unroll 12
    for (int i = 0; i < Rows; i++) {
      const __m512 a = _mm512_set1_ps(ap[i]);
      acc0[i] = _mm512_fmadd_ps(a, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(a, b1, acc1[i]);
    }
    ap += kMr;
    bp += kNr;
  }
  const __m512 va = _mm512_set1_ps(alpha);
  if (beta == 0.0f) {
#pragma GCC unroll 12
    for (int i = 0; i < Rows; i++) {
      _mm512_storeu_ps(c + i * ldc, _mm512_mul_ps(va, acc0[i]));
      _mm512_storeu_ps(c + i * ldc + 16, _mm512_mul_ps(va, acc1[i]));
    }
  } else {
    const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
    for (int i = 0; i < Rows; i++) {
      float* row = c + i * ldc;
      _mm512_storeu_ps(row, _mm512_fmadd_ps(va, acc0[i], _mm512_mul_ps(vb, _mm512_loadu_ps(row))));
      _mm512_storeu_ps(row + 16, _mm512_fmadd_ps(va, acc1[i],
                                                 _mm512_mul_ps(vb, _mm512_loadu_ps(row + 16))));
    }
  }
}

const MicroKernelFn kPartial[kMr] = {
    nullptr,          kernelAvx512<1>, kernelAvx512<2>, kernelAvx512<3>,
    kernelAvx512<4>,  kernelAvx512<5>, kernelAvx512<6>, kernelAvx512<7>,
    kernelAvx512<8>,  kernelAvx512<9>, kernelAvx512<10>, kernelAvx512<11>,
};

const MicroKernel kAvx512{"avx512", kMr, kNr, 256, 240, 512, kernelAvx512<kMr>, kPartial, true};

}  // namespace

const MicroKernel* avx512MicroKernel() {
  return __builtin_cpu_supports("avx512f") ? &kAvx512 : nullptr;
}

}  // namespace imagesent

#else

namespace imagesent {
const MicroKernel* avx512MicroKernel() { return nullptr; }
}  // namespace imagesent

#endif
