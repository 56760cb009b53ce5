#include "tracking/thread_pool.h"

#include <algorithm>
#include <cstdlib>

namespace navws::tracking {

ThreadPool::ThreadPool(size_t threads) {
  for (size_t i = 1; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

ThreadPool& ThreadPool::Shared() {
  static ThreadPool pool([] {
    size_t n = std::max(1u, std::thread::hardware_concurrency());
    if (const char* env = std::getenv("NAVWS_TRACKING_THREADS")) {
      const long v = std::strtol(env, nullptr, 10);
      if (v > 0) n = static_cast<size_t>(v);
    }
    return std::min<size_t>(n, 16);
  }());
  return pool;
}

size_t ThreadPool::ChunkCount(size_t n, size_t min_chunk) const {
  if (n == 0) return 0;
  const size_t by_size = (n + std::max<size_t>(min_chunk, 1) - 1) / std::max<size_t>(min_chunk, 1);
  return std::max<size_t>(1, std::min(Size(), by_size));
}

void ThreadPool::ParallelFor(size_t n, size_t min_chunk, const ChunkFn& fn) {
  const size_t chunks = ChunkCount(n, min_chunk);
  if (chunks == 0) return;
  if (chunks == 1) {
    fn(0, 0, n);
    return;
  }
  std::lock_guard<std::mutex> submit(submit_mutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    job_n_ = n;
    job_chunks_ = chunks;
    next_chunk_ = 0;
    unfinished_ = chunks;
    ++generation_;
  }
  work_cv_.notify_all();
  RunChunks();
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [this] { return unfinished_ == 0; });
  job_ = nullptr;
}

void ThreadPool::RunChunks() {
  for (;;) {
    size_t chunk;
    const ChunkFn* fn;
    size_t n, chunks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (job_ == nullptr || next_chunk_ >= job_chunks_) return;
      chunk = next_chunk_++;
      fn = job_;
      n = job_n_;
      chunks = job_chunks_;
    }
    const size_t begin = n * chunk / chunks;
    const size_t end = n * (chunk + 1) / chunks;
    (*fn)(chunk, begin, end);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--unfinished_ == 0) done_cv_.notify_all();
    }
  }
}

void ThreadPool::WorkerLoop() {
  size_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    RunChunks();
  }
}

}  // namespace navws::tracking
