// The best scaled int8 dot product of each query row over each group's rows, summed over the query
// rows; the same semantics as int8MaxDotSum in src/core/kernels/ts-kernels.ts.
#pragma once

#include <cstdint>

#include "thread_pool.h"

namespace imagesent {

// For each of `groups` groups stored every `groupBytes` bytes of `bytes`, with `per` rows of
// `width` int8 values (row r's at valuesAt + r * valueStride in the group), each row's float32
// scale at scalesAt + r * scaleStride and float32 length at lengthsAt + r * lengthStride (read
// only when `unit`):
//   out[g] += weight * sum_t max_r (offsets[t] + scale_r * (q_t . v_r)) * div_r
// with div_r = 1 / length_r (0 for a length of 0) when `unit`, else 1; a max over values one of
// which is not a number is NaN. Rows of at most 256 values on a CPU with AVX-512BW take q_t
// rounded to 15 bits (its own scale) and the dots in integers.
struct Int8Layout {
  int64_t groups, groupBytes, per, width;
  int64_t valuesAt, valueStride, scalesAt, scaleStride, lengthsAt, lengthStride;
};
void int8MaxDotSum(ThreadPool& pool, const uint8_t* bytes, const Int8Layout& layout,
                   const float* q, int64_t rows, const float* offsets, bool unit, float weight,
                   float* out);

}  // namespace imagesent
