#include "int8_dot.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace imagesent {
namespace {

struct Job {
  const uint8_t* bytes;
  int64_t rows, recordBytes, width, valuesAt, scaleAt;
  const int8_t* q;
  float qScale;
  float* out;
};

constexpr int64_t kRowsPerChunk = 4096;

// out[r] for rows [first, end): the int8 dot product in int32 (at most 127 x 127 x width, exact),
// which GCC vectorises as widening multiply-adds (vpmaddwd), 32 values an instruction with
// AVX-512BW, then scaled once. target_clones picks the widest vectors the CPU runs.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void dotRows(const Job& j,
                                                                           int64_t first,
                                                                           int64_t end) {
  const int64_t width = j.width;
  const int8_t* __restrict q = j.q;
  for (int64_t r = first; r < end; r++) {
    const uint8_t* record = j.bytes + r * j.recordBytes;
    const int8_t* __restrict v = reinterpret_cast<const int8_t*>(record + j.valuesAt);
    int32_t dot = 0;
    for (int64_t x = 0; x < width; x++) dot += static_cast<int32_t>(q[x]) * v[x];
    float scale;
    std::memcpy(&scale, record + j.scaleAt, sizeof scale);
    j.out[r] = scale * j.qScale * static_cast<float>(dot);
  }
}

void rowBlock(void* ctx, int64_t chunk, int) {
  const Job& j = *static_cast<const Job*>(ctx);
  const int64_t first = chunk * kRowsPerChunk;
  dotRows(j, first, std::min(j.rows, first + kRowsPerChunk));
}

}  // namespace

void int8Dot(ThreadPool& pool, const uint8_t* bytes, int64_t rows, int64_t recordBytes,
             int64_t width, int64_t valuesAt, int64_t scaleAt, const float* q, float* out) {
  // The query as int8 with one scale, q ~ qScale * q8, as the TS reference rounds it.
  float max = 0;
  for (int64_t x = 0; x < width; x++) max = std::max(max, std::fabs(q[x]));
  const float qScale = max > 0 ? max / 127.0f : 0.0f;
  std::vector<int8_t> q8(width, 0);
  if (qScale > 0) {
    for (int64_t x = 0; x < width; x++) q8[x] = static_cast<int8_t>(std::round(q[x] / qScale));
  }
  Job job{bytes, rows, recordBytes, width, valuesAt, scaleAt, q8.data(), qScale, out};
  pool.run((rows + kRowsPerChunk - 1) / kRowsPerChunk, rowBlock, &job);
}

}  // namespace imagesent
