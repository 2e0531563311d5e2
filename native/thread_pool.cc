#include "thread_pool.h"

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpuRelax() { _mm_pause(); }
#else
static inline void cpuRelax() {}
#endif

namespace imagesent {

namespace {
// How long an idle worker spins before sleeping: long enough to catch the next GEMM of a
// training step without a futex wake-up, short enough not to steal a busy core for long.
constexpr auto kSpin = std::chrono::microseconds(100);
}  // namespace

ThreadPool::ThreadPool(int threads) { setThreads(threads); }

ThreadPool::~ThreadPool() { stopWorkers(); }

void ThreadPool::stopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
  stop_.store(false);
}

void ThreadPool::setThreads(int n) {
  if (n < 1) n = 1;
  if (n == threads()) return;
  stopWorkers();
  for (int tid = 1; tid < n; tid++) workers_.emplace_back([this, tid] { workerLoop(tid); });
}

void ThreadPool::workerLoop(int tid) {
  uint64_t seen = generation_.load(std::memory_order_acquire);
  for (;;) {
    auto start = std::chrono::steady_clock::now();
    for (int spins = 0; generation_.load(std::memory_order_acquire) == seen && !stop_.load();
         spins++) {
      cpuRelax();
      if ((spins & 63) == 63 && std::chrono::steady_clock::now() - start > kSpin) break;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (generation_.load() == seen && !stop_.load()) {
      sleeping_++;
      wake_.wait(lock, [&] { return generation_.load() != seen || stop_.load(); });
      sleeping_--;
    }
    if (stop_.load()) return;
    seen = generation_.load();
    inflight_.fetch_add(1);
    Fn fn = fn_;
    void* ctx = ctx_;
    int64_t total = total_;
    lock.unlock();
    for (int64_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < total;) {
      fn(ctx, i, tid);
      done_.fetch_add(1, std::memory_order_release);
    }
    inflight_.fetch_sub(1, std::memory_order_release);
  }
}

void ThreadPool::run(int64_t chunks, Fn fn, void* ctx) {
  if (chunks <= 0) return;
  if (workers_.empty() || chunks == 1) {
    for (int64_t i = 0; i < chunks; i++) fn(ctx, i, 0);
    return;
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    // A worker that woke too late for the previous job may still be looking at its counter.
    while (inflight_.load(std::memory_order_acquire) != 0) {
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
    }
    fn_ = fn;
    ctx_ = ctx;
    total_ = chunks;
    next_.store(0);
    done_.store(0);
    generation_.fetch_add(1, std::memory_order_release);
    if (sleeping_ > 0) wake_.notify_all();
  }
  for (int64_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < chunks;) {
    fn(ctx, i, 0);
    done_.fetch_add(1, std::memory_order_release);
  }
  for (int spins = 0; done_.load(std::memory_order_acquire) < chunks; spins++) {
    cpuRelax();
    if ((spins & 255) == 255) std::this_thread::yield();
  }
}

}  // namespace imagesent
