// Register-blocked SGEMM micro-kernels: C[0:MR, 0:NR] = alpha * Ap * Bp + beta * C over k steps,
// where Ap is an MR x k panel packed k-major (MR floats per step) and Bp a k x NR panel packed
// row by row (NR floats per step, 64-byte aligned). beta == 0 never reads C.
#pragma once

#include <cstdint>

namespace imagesent {

using MicroKernelFn = void (*)(int64_t k, const float* ap, const float* bp, float* c, int64_t ldc,
                               float alpha, float beta);

struct MicroKernel {
  const char* name;
  int mr;
  int nr;
  // Cache blocking: kc steps of k per packed block, mc rows of A and nc columns of B per task.
  int kc;
  int mc;
  int nc;
  MicroKernelFn fn;
  // Optional: partial[r] computes only the first r rows of a panel (still packed mr wide); null
  // means partial panels go through fn and a scratch tile.
  const MicroKernelFn* partial;
  // Whether operands stored transposed are packed with AVX-512 transposes. Only the AVX-512
  // kernel does, so choosing another backend also runs (and tests) the portable packing.
  bool avx512Packing;
};

// Each returns nullptr when this build or this CPU cannot run it.
const MicroKernel* avx512MicroKernel();
const MicroKernel* avx2MicroKernel();
const MicroKernel* scalarMicroKernel();

}  // namespace imagesent
