// A small persistent pool for the tracking kernels. Spawning threads per Gauss-Newton iteration would
// cost more than the work on small pyramid levels, so workers live for the process and wait on a
// condition variable between jobs. The calling thread always takes part in a job.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace navws::tracking {

class ThreadPool {
 public:
  // chunk: index in [0, chunks) so callers can keep one partial sum per chunk without locking.
  using ChunkFn = std::function<void(size_t chunk, size_t begin, size_t end)>;

  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Shared by every Node thread that loads the addon; NAVWS_TRACKING_THREADS overrides the size.
  static ThreadPool& Shared();

  // Threads a job can use, the caller included.
  size_t Size() const { return workers_.size() + 1; }

  // How many chunks ParallelFor will cut [0, n) into for a given minimum chunk length.
  size_t ChunkCount(size_t n, size_t min_chunk) const;

  // Runs fn over [0, n) cut into ChunkCount(n, min_chunk) contiguous chunks; returns when all are done.
  // Jobs from different callers are serialised. fn must not throw.
  void ParallelFor(size_t n, size_t min_chunk, const ChunkFn& fn);

 private:
  void WorkerLoop();
  void RunChunks();

  std::vector<std::thread> workers_;
  std::mutex submit_mutex_;
  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  const ChunkFn* job_ = nullptr;
  size_t job_n_ = 0;
  size_t job_chunks_ = 0;
  size_t next_chunk_ = 0;
  size_t unfinished_ = 0;
  size_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace navws::tracking
