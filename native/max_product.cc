#include "max_product.h"

#include <algorithm>

namespace imagesent {
namespace {

// y += s x over n values: one loop the compiler vectorises; target_clones picks the widest the
// CPU runs.
__attribute__((target_clones("avx512f", "avx2", "default"))) void axpy(int64_t n, float s,
                                                                       const float* x, float* y) {
  for (int64_t i = 0; i < n; i++) y[i] += s * x[i];
}

struct Job {
  const int32_t* arg;
  const float* dOut;
  int64_t groups, cols, per, dim;
  const float* a;
  const float* b;
  float* dA;
  float* dB;
};

// Columns per chunk of the dB pass: each chunk owns its dB rows, so threads never share one.
constexpr int64_t kColumnsPerChunk = 16;

// dA for one group: its rows are written by this chunk only.
void groupRows(void* ctx, int64_t g, int) {
  const Job& j = *static_cast<const Job*>(ctx);
  const float* d = j.dOut + g * j.cols;
  const int32_t* won = j.arg + g * j.cols;
  for (int64_t c = 0; c < j.cols; c++) {
    if (d[c] != 0.0f) axpy(j.dim, d[c], j.b + c * j.dim, j.dA + (g * j.per + won[c]) * j.dim);
  }
}

// dB for a block of columns, summed over every group.
void columnBlock(void* ctx, int64_t chunk, int) {
  const Job& j = *static_cast<const Job*>(ctx);
  const int64_t end = std::min(j.cols, (chunk + 1) * kColumnsPerChunk);
  for (int64_t c = chunk * kColumnsPerChunk; c < end; c++) {
    float* out = j.dB + c * j.dim;
    for (int64_t g = 0; g < j.groups; g++) {
      const float d = j.dOut[g * j.cols + c];
      if (d != 0.0f) axpy(j.dim, d, j.a + (g * j.per + j.arg[g * j.cols + c]) * j.dim, out);
    }
  }
}

}  // namespace

void maxProductBackward(ThreadPool& pool, const int32_t* arg, const float* dOut, int64_t groups,
                        int64_t cols, int64_t per, int64_t dim, const float* a, const float* b,
                        float* dA, float* dB) {
  Job job{arg, dOut, groups, cols, per, dim, a, b, dA, dB};
  if (dA != nullptr) pool.run(groups, groupRows, &job);
  if (dB != nullptr) pool.run((cols + kColumnsPerChunk - 1) / kColumnsPerChunk, columnBlock, &job);
}

}  // namespace imagesent
