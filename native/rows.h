// Row-wise reductions of the autodiff core; the same semantics as src/core/kernels/ts-kernels.ts.
#pragma once

#include <cstdint>

namespace imagesent {

void softmaxRows(const float* x, int64_t rows, int64_t cols, float* out);
void softmaxCrossEntropy(const float* logits, int64_t rows, int64_t cols, const int32_t* targets,
                         float* probs, float* losses);
void maxOverRows(const float* x, int64_t rows, int64_t cols, float* maxOut, int32_t* argOut);

}  // namespace imagesent
