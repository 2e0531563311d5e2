// float16 to float32, for checkpoints stored in half precision; the same semantics as
// halvesToFloats in src/core/kernels/ts-kernels.ts.
#pragma once

#include <cstdint>

namespace imagesent {

// out[i] = the IEEE 754 half-precision value with bits bits[i], for i < n; returns how many of
// them are infinite or NaN (all five exponent bits set).
int64_t halvesToFloats(const uint16_t* bits, int64_t n, float* out);

}  // namespace imagesent
