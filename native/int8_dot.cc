#include "int8_dot.h"

#include <algorithm>
#include <cstring>

namespace imagesent {
namespace {

// Sixteen floats, and sixteen int8 values, as one value each: GCC lowers their arithmetic to the
// widest vectors the function's target has.
typedef float Floats16 __attribute__((vector_size(64)));
typedef int8_t Bytes16 __attribute__((vector_size(16)));

struct Job {
  const uint8_t* bytes;
  int64_t rows, recordBytes, width, valuesAt, scaleAt;
  const float* q;
  float* out;
};

constexpr int64_t kRowsPerChunk = 4096;

// out[r] for rows [first, end): the values widened 16 at a time and multiplied against the
// query's matching 16 floats into four accumulators, then the tail one at a time. target_clones
// picks the widest vectors the CPU runs.
__attribute__((target_clones("avx512f", "avx2", "default"))) void dotRows(const Job& j,
                                                                          int64_t first,
                                                                          int64_t end) {
  const int64_t width = j.width, whole = width / 16 * 16;
  for (int64_t r = first; r < end; r++) {
    const uint8_t* record = j.bytes + r * j.recordBytes;
    const uint8_t* v = record + j.valuesAt;
    Floats16 a[4] = {};
    int64_t x = 0;
    for (; x + 64 <= whole; x += 64) {
      for (int u = 0; u < 4; u++) {
        Bytes16 b;
        Floats16 q;
        std::memcpy(&b, v + x + 16 * u, sizeof b);
        std::memcpy(&q, j.q + x + 16 * u, sizeof q);
        a[u] += __builtin_convertvector(b, Floats16) * q;
      }
    }
    for (; x < whole; x += 16) {
      Bytes16 b;
      Floats16 q;
      std::memcpy(&b, v + x, sizeof b);
      std::memcpy(&q, j.q + x, sizeof q);
      a[0] += __builtin_convertvector(b, Floats16) * q;
    }
    const Floats16 s = (a[0] + a[1]) + (a[2] + a[3]);
    float dot = 0;
    for (int k = 0; k < 16; k++) dot += s[k];
    for (; x < width; x++) dot += j.q[x] * static_cast<float>(static_cast<int8_t>(v[x]));
    float scale;
    std::memcpy(&scale, record + j.scaleAt, sizeof scale);
    j.out[r] = scale * dot;
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
  Job job{bytes, rows, recordBytes, width, valuesAt, scaleAt, q, out};
  pool.run((rows + kRowsPerChunk - 1) / kRowsPerChunk, rowBlock, &job);
}

}  // namespace imagesent
