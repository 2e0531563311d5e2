// The blocking follows BLIS/GotoBLAS: A is packed into MR-row panels and B into NR-column panels,
// per kc block of k, each element once, so threads can split C into small tiles without repacking
// (B is packed up front, or by the one task that uses each block when C is a single tile tall).
// Within a tile the B micro-panel stays in L1 while A panels stream from L2.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "pack.h"

namespace imagesent {
namespace {

// Below this many flops waking a second thread costs more than it saves.
constexpr double kParallelFlops = 4e6;
// With several threads, aim for this many tasks per thread so a stalled thread's share is small.
constexpr int64_t kTasksPerThread = 4;

struct AlignedBuffer {
  float* data = nullptr;
  size_t size = 0;
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { std::free(data); }
  float* reserve(size_t floats) {
    if (floats > size) {
      std::free(data);
      size = (floats + 15) & ~size_t{15};
      data = static_cast<float*>(std::aligned_alloc(64, size * sizeof(float)));
      if (!data) {
        size = 0;
        throw std::bad_alloc();
      }
    }
    return data;
  }
};

// Shared across calls so steady-state training does not allocate; calls are serialised by the
// addon, so one set suffices.
AlignedBuffer packedA;
AlignedBuffer packedB;
// Per-thread B blocks for tasks that pack their own (see Job::packBInTask).
std::vector<AlignedBuffer> taskB;

#if defined(__x86_64__)
const bool transposeWithAvx512 = __builtin_cpu_supports("avx512f");
#endif

// dst[p * width + s] = src[s * ld + p0 + p] (zero for rows <= s < width): packing an operand
// stored transposed relative to its panel.
void packTransposed(const float* src, int64_t ld, int64_t rows, int64_t p0, int64_t kcb, int width,
                    bool avx512, float* dst) {
#if defined(__x86_64__)
  if (avx512 && transposeWithAvx512 && width <= 32) {
    packTransposedAvx512(src, ld, rows, p0, kcb, width, dst);
    return;
  }
#endif
  // Gather reads from the rows, contiguous writes: measured faster than strided writes.
  for (int64_t p = 0; p < kcb; p++) {
    float* out = dst + p * width;
    for (int64_t s = 0; s < rows; s++) out[s] = src[s * ld + p0 + p];
    for (int64_t s = rows; s < width; s++) out[s] = 0.0f;
  }
}

int64_t roundUp(int64_t x, int64_t to) { return (x + to - 1) / to * to; }
int64_t ceilDiv(int64_t x, int64_t y) { return (x + y - 1) / y; }

// dst[p * MR + i] = op(A)[i0 + i, p0 + p], zero-padded to MR rows.
void packA(const float* a, int64_t lda, bool transA, int64_t i0, int64_t rows, int64_t p0,
           int64_t kcb, int mr, bool avx512, float* dst) {
  if (transA) {
    for (int64_t p = 0; p < kcb; p++) {
      const float* src = a + (p0 + p) * lda + i0;
      float* out = dst + p * mr;
      for (int64_t i = 0; i < rows; i++) out[i] = src[i];
      for (int64_t i = rows; i < mr; i++) out[i] = 0.0f;
    }
  } else {
    packTransposed(a + i0 * lda, lda, rows, p0, kcb, mr, avx512, dst);
  }
}

// dst[p * NR + j] = op(B)[p0 + p, j0 + j], zero-padded to NR columns.
void packB(const float* b, int64_t ldb, bool transB, int64_t j0, int64_t cols, int64_t p0,
           int64_t kcb, int nr, bool avx512, float* dst) {
  if (transB) {
    packTransposed(b + j0 * ldb, ldb, cols, p0, kcb, nr, avx512, dst);
  } else {
    for (int64_t p = 0; p < kcb; p++) {
      const float* src = b + (p0 + p) * ldb + j0;
      float* out = dst + p * nr;
      for (int64_t j = 0; j < cols; j++) out[j] = src[j];
      for (int64_t j = cols; j < nr; j++) out[j] = 0.0f;
    }
  }
}

struct Job {
  const MicroKernel* mk;
  bool transA, transB;
  int64_t m, n, k;
  float alpha, beta;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  int64_t kc, mc, nc;
  int64_t mPanels;  // ceil(m / MR): A panels per kc block
  int64_t nPanels;  // ceil(n / NR): B panels per kc block
  int64_t kBlocks;  // ceil(k / kc)
  int64_t packChunk;  // panels packed per pool chunk
  int64_t aChunks;    // pack chunks of A; those of B follow
  int64_t mTiles;     // tasks along m
  // With a single tile along m no two tasks share a B block, so each task packs its own just
  // before using it (still hot in L2) instead of all of B going through memory first.
  bool packBInTask;
  float* ap;  // packed A: the kc block at p0 starts at ap + p0 * mPanels * MR
  float* bp;  // packed B: the kc block at p0 starts at bp + p0 * nPanels * NR
};

// Packing chunk: a run of panels of one kc block of A (chunks [0, aChunks)) or of B (the rest).
void packChunk(void* ctx, int64_t chunk, int) {
  const Job& job = *static_cast<const Job*>(ctx);
  const bool isA = chunk < job.aChunks;
  if (!isA) chunk -= job.aChunks;
  const int64_t panels = isA ? job.mPanels : job.nPanels;
  const int64_t chunksPerBlock = ceilDiv(panels, job.packChunk);
  const int64_t p0 = chunk / chunksPerBlock * job.kc;
  const int64_t kcb = std::min(job.kc, job.k - p0);
  const int64_t first = chunk % chunksPerBlock * job.packChunk;
  const int64_t last = std::min(panels, first + job.packChunk);
  if (isA) {
    const int mr = job.mk->mr;
    float* block = job.ap + p0 * job.mPanels * mr;
    for (int64_t panel = first; panel < last; panel++) {
      const int64_t i0 = panel * mr;
      packA(job.a, job.lda, job.transA, i0, std::min<int64_t>(mr, job.m - i0), p0, kcb, mr,
            job.mk->avx512Packing, block + panel * mr * kcb);
    }
  } else {
    const int nr = job.mk->nr;
    float* block = job.bp + p0 * job.nPanels * nr;
    for (int64_t panel = first; panel < last; panel++) {
      const int64_t j0 = panel * nr;
      packB(job.b, job.ldb, job.transB, j0, std::min<int64_t>(nr, job.n - j0), p0, kcb, nr,
            job.mk->avx512Packing, block + panel * nr * kcb);
    }
  }
}

// Compute task: one mc x nc tile of C over all of k.
void computeTile(void* ctx, int64_t task, int tid) {
  const Job& job = *static_cast<const Job*>(ctx);
  const MicroKernel& mk = *job.mk;
  const int mr = mk.mr;
  const int nr = mk.nr;
  const int64_t i0 = task % job.mTiles * job.mc;
  const int64_t j0 = task / job.mTiles * job.nc;
  const int64_t mcb = std::min(job.mc, job.m - i0);
  const int64_t ncb = std::min(job.nc, job.n - j0);
  alignas(64) float tile[32 * 64];
  for (int64_t p0 = 0; p0 < job.k; p0 += job.kc) {
    const int64_t kcb = std::min(job.kc, job.k - p0);
    // Later kc blocks accumulate onto what the first one wrote.
    const float beta = p0 == 0 ? job.beta : 1.0f;
    const float* aBlock = job.ap + p0 * job.mPanels * mr;
    const float* bBlock;
    if (job.packBInTask) {
      float* own = taskB[tid].data;
      for (int64_t j = 0; j < ncb; j += nr) {
        packB(job.b, job.ldb, job.transB, j0 + j, std::min<int64_t>(nr, ncb - j), p0, kcb, nr,
              mk.avx512Packing, own + j * kcb);
      }
      bBlock = own;
    } else {
      bBlock = job.bp + p0 * job.nPanels * nr + j0 * kcb;
    }
    for (int64_t j = 0; j < ncb; j += nr) {
      const int64_t cols = std::min<int64_t>(nr, ncb - j);
      const float* bPanel = bBlock + j * kcb;
      for (int64_t i = 0; i < mcb; i += mr) {
        const int64_t rows = std::min<int64_t>(mr, mcb - i);
        const float* aPanel = aBlock + (i0 + i) / mr * mr * kcb;
        float* cTile = job.c + (i0 + i) * job.ldc + j0 + j;
        if (cols == nr && rows == mr) {
          mk.fn(kcb, aPanel, bPanel, cTile, job.ldc, job.alpha, beta);
          continue;
        }
        if (cols == nr && mk.partial) {
          mk.partial[rows](kcb, aPanel, bPanel, cTile, job.ldc, job.alpha, beta);
          continue;
        }
        // Edge tile: compute the full padded tile aside, then write back only the real part.
        mk.fn(kcb, aPanel, bPanel, tile, nr, 1.0f, 0.0f);
        for (int64_t r = 0; r < rows; r++) {
          float* out = cTile + r * job.ldc;
          const float* t = tile + r * nr;
          for (int64_t s = 0; s < cols; s++) {
            out[s] = beta == 0.0f ? job.alpha * t[s] : job.alpha * t[s] + beta * out[s];
          }
        }
      }
    }
  }
}

}  // namespace

void sgemm(ThreadPool& pool, const MicroKernel& mk, bool transA, bool transB, int64_t m, int64_t n,
           int64_t k, float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
           float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; i++) {
      float* row = c + i * ldc;
      for (int64_t j = 0; j < n; j++) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
    }
    return;
  }
  const int64_t threads =
      2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) <
              kParallelFlops
          ? 1
          : pool.threads();

  Job job{};
  job.mk = &mk;
  job.transA = transA;
  job.transB = transB;
  job.m = m;
  job.n = n;
  job.k = k;
  job.alpha = alpha;
  job.beta = beta;
  job.a = a;
  job.lda = lda;
  job.b = b;
  job.ldb = ldb;
  job.c = c;
  job.ldc = ldc;
  job.kc = std::min<int64_t>(mk.kc, k);
  // Equal tiles rather than full ones plus a sliver: a thin last tile would re-read all of B (or
  // A) for little work.
  job.mc = roundUp(ceilDiv(m, ceilDiv(m, mk.mc)), mk.mr);
  job.nc = roundUp(ceilDiv(n, ceilDiv(n, mk.nc)), mk.nr);
  if (threads > 1) {
    // Packing does not depend on the tiling, so smaller tiles cost no repacking: shrink them (nc
    // first) until every thread has several to claim.
    const int64_t want = threads * kTasksPerThread;
    const int64_t nTilesWanted = ceilDiv(want, ceilDiv(m, job.mc));
    job.nc = std::max<int64_t>(std::min<int64_t>(job.nc, roundUp(ceilDiv(n, nTilesWanted), mk.nr)),
                               std::min<int64_t>(job.nc, 2 * mk.nr));
    const int64_t mTilesWanted = ceilDiv(want, ceilDiv(n, job.nc));
    job.mc = std::max<int64_t>(std::min<int64_t>(job.mc, roundUp(ceilDiv(m, mTilesWanted), mk.mr)),
                               std::min<int64_t>(job.mc, 2 * mk.mr));
  }
  job.mPanels = ceilDiv(m, mk.mr);
  job.nPanels = ceilDiv(n, mk.nr);
  job.kBlocks = ceilDiv(k, job.kc);
  job.mTiles = ceilDiv(m, job.mc);
  job.packChunk = std::max<int64_t>(1, 8192 / job.kc);
  job.aChunks = job.kBlocks * ceilDiv(job.mPanels, job.packChunk);
  job.packBInTask = job.mTiles == 1;
  job.ap = packedA.reserve(static_cast<size_t>(job.mPanels * mk.mr * k));
  if (job.packBInTask) {
    if (taskB.size() < static_cast<size_t>(threads)) taskB = std::vector<AlignedBuffer>(threads);
    for (int64_t t = 0; t < threads; t++) taskB[t].reserve(static_cast<size_t>(job.kc * job.nc));
  } else {
    job.bp = packedB.reserve(static_cast<size_t>(job.nPanels * mk.nr * k));
  }

  const int64_t packChunks =
      job.aChunks + (job.packBInTask ? 0 : job.kBlocks * ceilDiv(job.nPanels, job.packChunk));
  const int64_t tasks = job.mTiles * ceilDiv(n, job.nc);
  if (threads == 1) {
    for (int64_t i = 0; i < packChunks; i++) packChunk(&job, i, 0);
    for (int64_t i = 0; i < tasks; i++) computeTile(&job, i, 0);
  } else {
    pool.run(packChunks, packChunk, &job);
    pool.run(tasks, computeTile, &job);
  }
}

}  // namespace imagesent
