#include "int8_max_dot.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace imagesent {
namespace {

// Sixteen floats as one value: GCC lowers its arithmetic to the widest vectors the function's
// target has (one AVX-512 register, two AVX2 ones, four SSE ones).
typedef float Floats16 __attribute__((vector_size(64)));

// x += the 16 floats at p times s.
inline __attribute__((always_inline)) void addScaled(Floats16& x, const float* p, float s) {
  Floats16 v;
  std::memcpy(&v, p, sizeof v);
  x += v * s;
}

// dots[t] = sum_j qT[j * padded + t] v[j] for t < padded: the query rows transposed and padded
// to a multiple of 16, so that 16 query rows are multiplied at once, with four accumulators over
// j to hide the multiply-add latency; target_clones picks the widest the CPU runs.
__attribute__((target_clones("avx512f", "avx2", "default"))) void rowDots(
    int64_t width, int64_t padded, const float* __restrict qT, const float* __restrict v,
    float* __restrict dots) {
  for (int64_t tb = 0; tb < padded; tb += 16) {
    Floats16 a0 = {}, a1 = {}, a2 = {}, a3 = {};
    const float* q = qT + tb;
    int64_t j = 0;
    for (; j + 4 <= width; j += 4) {
      addScaled(a0, q + j * padded, v[j]);
      addScaled(a1, q + (j + 1) * padded, v[j + 1]);
      addScaled(a2, q + (j + 2) * padded, v[j + 2]);
      addScaled(a3, q + (j + 3) * padded, v[j + 3]);
    }
    for (; j < width; j++) addScaled(a0, q + j * padded, v[j]);
    const Floats16 sum = (a0 + a1) + (a2 + a3);
    std::memcpy(dots + tb, &sum, sizeof sum);
  }
}

struct Job {
  const uint8_t* bytes;
  Int8Layout l;
  const float* qT;
  int64_t rows, padded;
  const float* offsets;
  bool unit;
  float weight;
  float* out;
  // Per thread: one row's values as floats, its dots, and the best score of each query row.
  std::vector<std::vector<float>>* scratch;
};

constexpr int64_t kGroupsPerChunk = 64;

float readFloat(const uint8_t* at) {
  float v;
  std::memcpy(&v, at, sizeof v);
  return v;
}

void groupBlock(void* ctx, int64_t chunk, int tid) {
  const Job& j = *static_cast<const Job*>(ctx);
  std::vector<float>& s = (*j.scratch)[tid];
  const Int8Layout& l = j.l;
  float* values = s.data();
  float* dots = values + l.width;
  float* best = dots + j.padded;
  const int64_t end = std::min(l.groups, (chunk + 1) * kGroupsPerChunk);
  for (int64_t g = chunk * kGroupsPerChunk; g < end; g++) {
    const uint8_t* group = j.bytes + g * l.groupBytes;
    std::fill(best, best + j.rows, -std::numeric_limits<float>::infinity());
    for (int64_t r = 0; r < l.per; r++) {
      const int8_t* v = reinterpret_cast<const int8_t*>(group + l.valuesAt + r * l.valueStride);
      for (int64_t k = 0; k < l.width; k++) values[k] = static_cast<float>(v[k]);
      const float scale = readFloat(group + l.scalesAt + r * l.scaleStride);
      float div = 1.0f;
      if (j.unit) {
        const float length = readFloat(group + l.lengthsAt + r * l.lengthStride);
        div = length > 0 ? 1.0f / length : 0.0f;
      }
      rowDots(l.width, j.padded, j.qT, values, dots);
      for (int64_t t = 0; t < j.rows; t++) {
        const float x = (j.offsets[t] + scale * dots[t]) * div;
        // A NaN wins and stays: the max of values one of which is not a number is not one.
        if (x > best[t] || std::isnan(x)) best[t] = x;
      }
    }
    float sum = 0;
    for (int64_t t = 0; t < j.rows; t++) sum += best[t];
    j.out[g] += j.weight * sum;
  }
}

}  // namespace

void int8MaxDotSum(ThreadPool& pool, const uint8_t* bytes, const Int8Layout& layout,
                   const float* q, int64_t rows, const float* offsets, bool unit, float weight,
                   float* out) {
  const int64_t width = layout.width;
  if (rows == 0) return;
  const int64_t padded = (rows + 15) / 16 * 16;
  std::vector<float> qT(width * padded, 0.0f);
  for (int64_t t = 0; t < rows; t++) {
    for (int64_t k = 0; k < width; k++) qT[k * padded + t] = q[t * width + k];
  }
  std::vector<std::vector<float>> scratch(pool.threads(),
                                          std::vector<float>(width + padded + rows));
  Job job{bytes, layout, qT.data(), rows, padded, offsets, unit, weight, out, &scratch};
  pool.run((layout.groups + kGroupsPerChunk - 1) / kGroupsPerChunk, groupBlock, &job);
}

}  // namespace imagesent
