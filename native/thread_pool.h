// A small persistent thread pool whose jobs are split into chunks claimed from an atomic counter.
// The calling thread claims chunks too, so when a worker is descheduled (the other core is busy)
// the caller simply takes the remaining chunks and the call runs at one-thread speed instead of
// waiting on a statically assigned half.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace imagesent {

class ThreadPool {
 public:
  using Fn = void (*)(void* ctx, int64_t chunk, int tid);

  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }
  void setThreads(int n);

  // Runs fn(ctx, i, tid) for i in [0, chunks); tid < threads() identifies the running thread so
  // callers can give each its own scratch memory. Returns when every chunk has finished.
  void run(int64_t chunks, Fn fn, void* ctx);

 private:
  void workerLoop(int tid);
  void stopWorkers();

  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  int sleeping_ = 0;
  // The current job; written only under mu_ while no worker is inside a job (inflight_ == 0).
  Fn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t total_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<int> inflight_{0};
};

}  // namespace imagesent
