// Packed, cache-blocked SGEMM over row-major matrices, threaded by a ThreadPool.
#pragma once

#include <cstdint>

#include "microkernel.h"
#include "thread_pool.h"

namespace imagesent {

// C = alpha * op(A) * op(B) + beta * C with op(A) m x k, op(B) k x n; lda/ldb/ldc are row strides
// as stored. beta == 0 ignores C's contents.
void sgemm(ThreadPool& pool, const MicroKernel& mk, bool transA, bool transB, int64_t m, int64_t n,
           int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
           float beta, float* c, int64_t ldc);

}  // namespace imagesent
