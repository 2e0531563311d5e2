// The backward pass of the max over each group's rows of a product A B^T (the word-region scores'
// best region per word); the same semantics as maxProductBackward in
// src/core/kernels/ts-kernels.ts.
#pragma once

#include <cstdint>

#include "thread_pool.h"

namespace imagesent {

// out[g, c] = max over r < per of a[g * per + r] . b[c] (rows of `dim` values) won at row
// arg[g, c]; given dOut (groups x cols):
//   dA[g * per + arg[g, c]] += dOut[g, c] b[c]    (skipped when dA is null)
//   dB[c]                   += dOut[g, c] a[g * per + arg[g, c]]   (skipped when dB is null)
// Zero entries of dOut cost nothing. Every arg must be in [0, per).
void maxProductBackward(ThreadPool& pool, const int32_t* arg, const float* dOut, int64_t groups,
                        int64_t cols, int64_t per, int64_t dim, const float* a, const float* b,
                        float* dA, float* dB);

}  // namespace imagesent
