#include "rows.h"

#include <cmath>
#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12 flags the AVX-512 intrinsics' own "undefined" pass-through operands (GCC PR 105593, fixed
// in GCC 13); nothing here reads uninitialised data.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace imagesent {
namespace {

#if defined(__x86_64__)
// exp(x) for 16 lanes, Cephes' expf polynomial (about 2 ulp): x = n ln2 + r with |r| <= ln2 / 2,
// exp(r) by a degree-7 polynomial, and scalef for the 2^n (it also underflows cleanly to 0).
__attribute__((target("avx512f"))) inline __m512 exp16(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
  x = _mm512_min_ps(x, _mm512_set1_ps(88.7f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 y = _mm512_set1_ps(1.9875691500e-4f);
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(y, n);
}

__attribute__((target("avx512f"))) void softmaxRowAvx512(const float* x, int64_t cols, float* out,
                                                         float* maxOut, double* logSum) {
  __m512 vmax = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t j = 0;
  for (; j + 16 <= cols; j += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(x + j));
  float max = _mm512_reduce_max_ps(vmax);
  for (; j < cols; j++) max = std::fmax(max, x[j]);
  const __m512 vm = _mm512_set1_ps(max);
  // The sum is accumulated in double, as the TypeScript reference does.
  __m512d sumLo = _mm512_setzero_pd();
  __m512d sumHi = _mm512_setzero_pd();
  for (j = 0; j < cols; j += 16) {
    const __mmask16 mask =
        cols - j >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (cols - j)) - 1);
    const __m512 e =
        _mm512_maskz_mov_ps(mask, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, x + j), vm)));
    _mm512_mask_storeu_ps(out + j, mask, e);
    sumLo = _mm512_add_pd(sumLo, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
    sumHi = _mm512_add_pd(
        sumHi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
  }
  const double sum = _mm512_reduce_add_pd(_mm512_add_pd(sumLo, sumHi));
  const __m512 inv = _mm512_set1_ps(static_cast<float>(1.0 / sum));
  for (j = 0; j < cols; j += 16) {
    const __mmask16 mask =
        cols - j >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (cols - j)) - 1);
    _mm512_mask_storeu_ps(out + j, mask, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, out + j), inv));
  }
  *maxOut = max;
  *logSum = std::log(sum);
}

const bool softmaxWithAvx512 = __builtin_cpu_supports("avx512f");
#endif

void softmaxRowScalar(const float* x, int64_t cols, float* out, float* maxOut, double* logSum) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < cols; j++) max = std::fmax(max, x[j]);
  double sum = 0;
  for (int64_t j = 0; j < cols; j++) {
    const float e = std::exp(x[j] - max);
    out[j] = e;
    sum += e;
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t j = 0; j < cols; j++) out[j] *= inv;
  *maxOut = max;
  *logSum = std::log(sum);
}

// Writes softmax(x) into out (which may alias x) and returns the row max and log of the sum of
// exponentials, which the cross-entropy needs.
void softmaxRow(const float* x, int64_t cols, float* out, float* maxOut, double* logSum) {
#if defined(__x86_64__)
  if (softmaxWithAvx512) {
    softmaxRowAvx512(x, cols, out, maxOut, logSum);
    return;
  }
#endif
  softmaxRowScalar(x, cols, out, maxOut, logSum);
}

}  // namespace

void softmaxRows(const float* x, int64_t rows, int64_t cols, float* out) {
  float max;
  double logSum;
  for (int64_t r = 0; r < rows; r++) softmaxRow(x + r * cols, cols, out + r * cols, &max, &logSum);
}

void softmaxCrossEntropy(const float* logits, int64_t rows, int64_t cols, const int32_t* targets,
                         float* probs, float* losses) {
  for (int64_t r = 0; r < rows; r++) {
    const float* x = logits + r * cols;
    float max;
    double logSum;
    // Read the target logit first: probs may alias logits.
    const int32_t t = targets[r];
    const float xt = t < 0 ? 0.0f : x[t];
    softmaxRow(x, cols, probs + r * cols, &max, &logSum);
    // log p_t = x_t - max - log(sum), computed from the logits so tiny probabilities stay exact.
    losses[r] = t < 0 ? 0.0f : static_cast<float>(-(static_cast<double>(xt) - max - logSum));
  }
}

void maxOverRows(const float* x, int64_t rows, int64_t cols, float* maxOut, int32_t* argOut) {
  for (int64_t j = 0; j < cols; j++) {
    maxOut[j] = x[j];
    argOut[j] = 0;
  }
  for (int64_t r = 1; r < rows; r++) {
    const float* row = x + r * cols;
    for (int64_t j = 0; j < cols; j++) {
      // Strict comparison: ties keep the first row, as the TypeScript reference does.
      if (row[j] > maxOut[j]) {
        maxOut[j] = row[j];
        argOut[j] = static_cast<int32_t>(r);
      }
    }
  }
}

}  // namespace imagesent
