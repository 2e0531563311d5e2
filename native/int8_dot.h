// The scaled dot product of one query with each of many int8 rows; the same semantics as int8Dot
// in src/core/kernels/ts-kernels.ts.
#pragma once

#include <cstdint>

#include "thread_pool.h"

namespace imagesent {

// For each of `rows` records stored every `recordBytes` bytes of `bytes`, with `width` int8
// values at valuesAt and a float32 scale at scaleAt in the record, and the query rounded to int8
// with one scale (qScale = max |q| / 127, q8 = round(q / qScale), halves away from zero):
//   out[r] = scale_r * qScale * (q8 . v_r)
void int8Dot(ThreadPool& pool, const uint8_t* bytes, int64_t rows, int64_t recordBytes,
             int64_t width, int64_t valuesAt, int64_t scaleAt, const float* q, float* out);

}  // namespace imagesent
