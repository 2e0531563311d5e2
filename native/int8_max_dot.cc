#include "int8_max_dot.h"

#include <immintrin.h>

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
typedef int32_t Ints16 __attribute__((vector_size(64)));

// x += the 16 floats at p times s.
inline __attribute__((always_inline)) void addScaled(Floats16& x, const float* p, float s) {
  Floats16 v;
  std::memcpy(&v, p, sizeof v);
  x += v * s;
}

float readFloat(const uint8_t* at) {
  float v;
  std::memcpy(&v, at, sizeof v);
  return v;
}

struct Job {
  const uint8_t* bytes;
  Int8Layout l;
  // The float path: the query transposed and padded (null on the integer path).
  const float* qT;
  int64_t rows, padded;
  // The query rows' offsets, padded with zeros to `padded`.
  const float* offsets;
  bool unit;
  float weight;
  float* out;
  // Per thread: one row's values as floats and the best score of each (padded) query row.
  std::vector<std::vector<float>>* scratch;
  // The integer path (null where not taken): each query row rounded to int16 with a scale of
  // its own, laid out for _mm512_madd_epi16 (per block of 16 rows and pair of values, the 16
  // rows' two values), and those scales, padded.
  const int16_t* qPairs;
  const float* qScales;
};

constexpr int64_t kGroupsPerChunk = 64;

// best[0..16) = the larger of it and (offset + scale * dots) * div for 16 query rows. A NaN wins
// and stays, as in Math.max: x replaces best when x > best or x is NaN, and nothing replaces a NaN.
inline __attribute__((always_inline)) void keepBest(const float* offsets, const Floats16& dots,
                                                    float scale, float div, float* best) {
  Floats16 offset, old;
  std::memcpy(&offset, offsets, sizeof offset);
  std::memcpy(&old, best, sizeof old);
  const Floats16 score = (offset + scale * dots) * div;
  const Floats16 next = (score > old) | (score != score) ? score : old;
  std::memcpy(best, &next, sizeof next);
}

// What row r's scores are divided by: 1 / its length (0 for a length of 0) when `unit`, else 1.
inline __attribute__((always_inline)) float rowDivisor(const Job& j, const uint8_t* group,
                                                       int64_t r) {
  if (!j.unit) return 1.0f;
  const float length = readFloat(group + j.l.lengthsAt + r * j.l.lengthStride);
  return length > 0 ? 1.0f / length : 0.0f;
}

// out[g] += weight * the sum of the query rows' bests.
inline __attribute__((always_inline)) void addGroup(const Job& j, int64_t g, const float* best) {
  float sum = 0;
  for (int64_t t = 0; t < j.rows; t++) sum += best[t];
  j.out[g] += j.weight * sum;
}

// out[g] += weight * sum_t best_t for groups [first, end): per row, its int8 values widened to
// floats, their dots with 16 query rows at once (the query transposed and padded to a multiple
// of 16, eight accumulators over the values to hide the multiply-add latency), then each query
// row's best updated 16 at a time (keepBest). target_clones picks the widest vectors the CPU
// runs.
__attribute__((target_clones("avx512f", "avx2", "default"))) void scoreGroups(
    const Job& j, int64_t first, int64_t end, float* __restrict values, float* __restrict best) {
  const Int8Layout& l = j.l;
  const int64_t width = l.width, padded = j.padded;
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t g = first; g < end; g++) {
    const uint8_t* group = j.bytes + g * l.groupBytes;
    for (int64_t t = 0; t < padded; t++) best[t] = -inf;
    for (int64_t r = 0; r < l.per; r++) {
      const int8_t* v = reinterpret_cast<const int8_t*>(group + l.valuesAt + r * l.valueStride);
      // A plain loop: widened by hand 16 at a time and stored as whole vectors, the values
      // were read back (one at a time, below) 1.6 times slower, waiting on those stores.
      for (int64_t k = 0; k < width; k++) values[k] = static_cast<float>(v[k]);
      const float scale = readFloat(group + l.scalesAt + r * l.scaleStride);
      const float div = rowDivisor(j, group, r);
      for (int64_t tb = 0; tb < padded; tb += 16) {
        Floats16 a[8] = {};
        const float* q = j.qT + tb;
        int64_t x = 0;
        for (; x + 8 <= width; x += 8) {
          for (int u = 0; u < 8; u++) addScaled(a[u], q + (x + u) * padded, values[x + u]);
        }
        for (; x < width; x++) addScaled(a[0], q + x * padded, values[x]);
        const Floats16 dots = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
        keepBest(j.offsets + tb, dots, scale, div, best + tb);
      }
    }
    addGroup(j, g, best);
  }
}

// acc + the 16 query rows' dots with one pair of a row's values: `pair` points to the two int16
// values, q to the 16 rows' two int16 values each. One VNNI multiply-add of the rows' pairs and
// the row's pair broadcast from memory.
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline)) inline __m512i addPair(
    __m512i acc, const int16_t* pair, const int16_t* q) {
  int32_t w;
  std::memcpy(&w, pair, sizeof w);
  return _mm512_dpwssd_epi32(acc, _mm512_loadu_si512(q), _mm512_set1_epi32(w));
}

// scoreGroups with the dots in integers: each row's int8 values widened to int16 once, then per
// pair of values one broadcast and one multiply-add of 32 int16 into 16 int32 sums (16 query rows
// at once), four accumulators; the sums to floats with their rows' scales, then as scoreGroups.
// |q| <= 32767, |v| <= 128 and width <= 256 keep each sum within int32. VNNI's fused
// multiply-add (vpdpwssd) scored 20,000 sketches of 20 rows of 128 values in 20-22 ms where
// AVX-512BW's multiply-add then add took 27-28.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void scoreGroupsInt16(
    const Job& j, int64_t first, int64_t end, float* __restrict scratch, float* __restrict best) {
  const Int8Layout& l = j.l;
  const int64_t width = l.width, padded = j.padded, pairs = (width + 1) / 2;
  int16_t* values = reinterpret_cast<int16_t*>(scratch);
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t g = first; g < end; g++) {
    const uint8_t* group = j.bytes + g * l.groupBytes;
    for (int64_t t = 0; t < padded; t++) best[t] = -inf;
    for (int64_t r = 0; r < l.per; r++) {
      const int8_t* v = reinterpret_cast<const int8_t*>(group + l.valuesAt + r * l.valueStride);
      for (int64_t k = 0; k < width; k++) values[k] = v[k];
      values[width] = 0;
      const float scale = readFloat(group + l.scalesAt + r * l.scaleStride);
      const float div = rowDivisor(j, group, r);
      for (int64_t tb = 0; tb < padded; tb += 16) {
        const int16_t* q = j.qPairs + (tb / 16) * pairs * 32;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        int64_t p = 0;
        for (; p + 4 <= pairs; p += 4) {
          a0 = addPair(a0, values + 2 * p, q + 32 * p);
          a1 = addPair(a1, values + 2 * (p + 1), q + 32 * (p + 1));
          a2 = addPair(a2, values + 2 * (p + 2), q + 32 * (p + 2));
          a3 = addPair(a3, values + 2 * (p + 3), q + 32 * (p + 3));
        }
        for (; p < pairs; p++) a0 = addPair(a0, values + 2 * p, q + 32 * p);
        const __m512i sum = _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3));
        Ints16 sums;
        Floats16 rowScales;
        std::memcpy(&sums, &sum, sizeof sums);
        std::memcpy(&rowScales, j.qScales + tb, sizeof rowScales);
        keepBest(j.offsets + tb, __builtin_convertvector(sums, Floats16) * rowScales, scale, div,
                 best + tb);
      }
    }
    addGroup(j, g, best);
  }
}

void groupBlock(void* ctx, int64_t chunk, int tid) {
  const Job& j = *static_cast<const Job*>(ctx);
  std::vector<float>& s = (*j.scratch)[tid];
  const int64_t first = chunk * kGroupsPerChunk;
  const int64_t end = std::min(j.l.groups, first + kGroupsPerChunk);
  if (j.qPairs != nullptr) {
    scoreGroupsInt16(j, first, end, s.data(), s.data() + j.l.width);
  } else {
    scoreGroups(j, first, end, s.data(), s.data() + j.l.width);
  }
}

}  // namespace

void int8MaxDotSum(ThreadPool& pool, const uint8_t* bytes, const Int8Layout& layout,
                   const float* q, int64_t rows, const float* offsets, bool unit, float weight,
                   float* out) {
  const int64_t width = layout.width;
  if (rows == 0) return;
  const int64_t padded = (rows + 15) / 16 * 16;
  // Rows of at most 256 values, on a CPU with AVX-512BW and VNNI (Cascade Lake, Ice Lake, Zen 4
  // and later) and a query of numbers: the dots in integers, from the query rounded to int16
  // pairs; otherwise in floats, from it transposed.
  const bool integer =
      width > 0 && width <= 256 && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vnni") &&
      std::all_of(q, q + rows * width, [](float x) { return std::isfinite(x); });
  std::vector<float> qTStore;
  float* qT = nullptr;
  const int64_t pairs = (width + 1) / 2;
  std::vector<int16_t> qPairs;
  std::vector<float> qScales(padded, 0.0f);
  if (integer) {
    qPairs.assign(padded / 16 * pairs * 32, 0);
    for (int64_t t = 0; t < rows; t++) {
      float max = 0;
      for (int64_t k = 0; k < width; k++) max = std::max(max, std::fabs(q[t * width + k]));
      const float s = max > 0 ? max / 32767.0f : 0.0f;
      qScales[t] = s;
      if (s == 0) continue;
      for (int64_t k = 0; k < width; k++) {
        const int64_t at = ((t / 16) * pairs + k / 2) * 32 + 2 * (t % 16) + k % 2;
        qPairs[at] = static_cast<int16_t>(std::round(q[t * width + k] / s));
      }
    }
  } else {
    // 64-byte aligned, so that each 16 floats of a value's query rows are one cache line.
    qTStore.assign(width * padded + 16, 0.0f);
    qT = qTStore.data();
    while (reinterpret_cast<uintptr_t>(qT) % 64 != 0) qT++;
    for (int64_t t = 0; t < rows; t++) {
      for (int64_t k = 0; k < width; k++) qT[k * padded + t] = q[t * width + k];
    }
  }
  std::vector<float> paddedOffsets(padded, 0.0f);
  std::copy(offsets, offsets + rows, paddedOffsets.begin());
  std::vector<std::vector<float>> scratch(pool.threads(), std::vector<float>(width + 1 + padded));
  Job job{bytes, layout, qT, rows, padded, paddedOffsets.data(), unit, weight, out, &scratch,
          integer ? qPairs.data() : nullptr, qScales.data()};
  pool.run((layout.groups + kGroupsPerChunk - 1) / kGroupsPerChunk, groupBlock, &job);
}

}  // namespace imagesent
