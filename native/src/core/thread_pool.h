// The one thread pool of the native kernels (fusion and tracking). Workers live for the process (or the
// owning object) and wait on a condition variable between jobs, because spawning threads per call would
// cost more than the work on small images and pyramid levels. The calling thread always takes part.
// A kernel runs several short parallel phases back to back (fusion: pixel weights, block discovery,
// voxel updates; each well under a millisecond), and waking a sleeping thread costs tens of
// microseconds, so workers and the waiting caller spin for a short while (kSpinMicros) before sleeping.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace navws {

class ThreadPool {
 public:
  // `threads` counts the calling thread too; 0 picks the hardware concurrency.
  explicit ThreadPool(unsigned threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Process-wide pool for kernels without a pool of their own.
  static ThreadPool& shared();

  // Sizes the shared pool (the process's thread budget, src/workers/thread-budget.ts) and returns its
  // size. Only the first use creates the pool: a later call returns the size it already has.
  static unsigned configureShared(unsigned threads);

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }

  // Calls fn(begin, end, worker) over [0, n) in chunks of `grain` handed out dynamically, so uneven
  // items balance themselves; worker is in [0, size()). Blocks until done; the first exception thrown
  // by fn is rethrown here. Jobs from different calling threads are serialised.
  void parallelFor(size_t n, size_t grain, const std::function<void(size_t, size_t, unsigned)>& fn);

  // How many contiguous chunks parallelChunks cuts [0, n) into for a minimum chunk length.
  size_t chunkCount(size_t n, size_t minChunk) const;

  // Calls fn(chunk, begin, end) for chunkCount(n, minChunk) fixed contiguous chunks. The partition does
  // not depend on scheduling, so per-chunk partial sums reduced in chunk order are deterministic.
  void parallelChunks(size_t n, size_t minChunk, const std::function<void(size_t, size_t, size_t)>& fn);

 private:
  void workerLoop(unsigned index);
  void runChunks(unsigned worker);

  std::vector<std::thread> workers_;
  std::mutex submit_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t, size_t, unsigned)>* job_ = nullptr;
  size_t jobSize_ = 0;
  size_t grain_ = 1;
  std::atomic<size_t> next_{0};
  // Written under mutex_; atomic so the spin phase can watch them without the lock.
  std::atomic<unsigned> busy_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
};

}  // namespace navws
