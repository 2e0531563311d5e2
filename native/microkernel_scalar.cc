// Portable micro-kernel in plain C++ (the compiler vectorises it for the baseline ISA): the
// fallback on CPUs without AVX2 and on other architectures.
#include "microkernel.h"

namespace imagesent {
namespace {

// 4 x 8 keeps the accumulators in the 16 SSE registers of baseline x86-64.
constexpr int kMr = 4;
constexpr int kNr = 8;

void kernelScalar(int64_t k, const float* ap, const float* bp, float* c, int64_t ldc, float alpha,
                  float beta) {
  float acc[kMr][kNr] = {};
  for (int64_t p = 0; p < k; p++) {
    for (int i = 0; i < kMr; i++) {
      const float a = ap[i];
      for (int j = 0; j < kNr; j++) acc[i][j] += a * bp[j];
    }
    ap += kMr;
    bp += kNr;
  }
  for (int i = 0; i < kMr; i++) {
    float* row = c + i * ldc;
    for (int j = 0; j < kNr; j++) {
      row[j] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * row[j];
    }
  }
}

const MicroKernel kScalar{"scalar", kMr, kNr, 256, 128, 512, kernelScalar, nullptr, false};

}  // namespace

const MicroKernel* scalarMicroKernel() { return &kScalar; }

}  // namespace imagesent
