// Vectorised packing helpers for the SGEMM driver (gemm.cc).
#pragma once

#include <cstdint>

namespace imagesent {

// Packs a panel whose rows are rows of src: dst[p * width + s] = src[s * ld + p0 + p] for
// s < rows (zero for rows <= s < width) and p < kcb. Requires AVX-512F; width <= 32.
void packTransposedAvx512(const float* src, int64_t ld, int64_t rows, int64_t p0, int64_t kcb,
                          int width, float* dst);

}  // namespace imagesent
