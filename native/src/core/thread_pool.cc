#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace navws {

namespace {

constexpr auto kSpinMicros = std::chrono::microseconds(100);

inline void cpuRelax() {
#if defined(__SSE2__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// Spins until done() or kSpinMicros have passed; returns done().
template <typename Done>
bool spinUntil(Done done) {
  const auto until = std::chrono::steady_clock::now() + kSpinMicros;
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      if (done()) return true;
      cpuRelax();
    }
    if (std::chrono::steady_clock::now() >= until) return done();
  }
}

}  // namespace

ThreadPool::ThreadPool(unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::runChunks(unsigned worker) {
  for (;;) {
    size_t begin = next_.fetch_add(grain_, std::memory_order_relaxed);
    if (begin >= jobSize_) return;
    size_t end = std::min(jobSize_, begin + grain_);
    try {
      (*job_)(begin, end, worker);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      next_.store(jobSize_, std::memory_order_relaxed);  // stop handing out further chunks
    }
  }
}

void ThreadPool::workerLoop(unsigned index) {
  uint64_t seen = 0;
  for (;;) {
    spinUntil([&] {
      return stop_.load(std::memory_order_relaxed) || generation_.load(std::memory_order_acquire) != seen;
    });
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    runChunks(index);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_ == 0) done_.notify_one();
    }
  }
}

namespace {
// Size asked for by configureShared before the pool's first use; 0 = the hardware concurrency.
std::atomic<unsigned> g_requested_threads{0};
}  // namespace

ThreadPool& ThreadPool::shared() {
  static ThreadPool pool([] {
    unsigned n = g_requested_threads.load();
    if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
    return std::min(n, 16u);
  }());
  return pool;
}

unsigned ThreadPool::configureShared(unsigned threads) {
  g_requested_threads.store(threads);
  return shared().size();
}

size_t ThreadPool::chunkCount(size_t n, size_t minChunk) const {
  if (n == 0) return 0;
  minChunk = std::max<size_t>(minChunk, 1);
  return std::max<size_t>(1, std::min<size_t>(size(), (n + minChunk - 1) / minChunk));
}

void ThreadPool::parallelChunks(size_t n, size_t minChunk, const std::function<void(size_t, size_t, size_t)>& fn) {
  const size_t chunks = chunkCount(n, minChunk);
  if (chunks == 0) return;
  parallelFor(chunks, 1, [&](size_t c0, size_t c1, unsigned) {
    for (size_t c = c0; c < c1; ++c) fn(c, n * c / chunks, n * (c + 1) / chunks);
  });
}

void ThreadPool::parallelFor(size_t n, size_t grain, const std::function<void(size_t, size_t, unsigned)>& fn) {
  if (n == 0) return;
  grain = std::max<size_t>(1, grain);
  if (workers_.empty() || n <= grain) {
    fn(0, n, 0);
    return;
  }
  std::lock_guard<std::mutex> submit(submit_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    jobSize_ = n;
    grain_ = grain;
    next_.store(0, std::memory_order_relaxed);
    busy_ = static_cast<unsigned>(workers_.size());
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  runChunks(0);
  spinUntil([&] { return busy_.load(std::memory_order_acquire) == 0; });
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busy_ == 0; });
    job_ = nullptr;
    error = error_;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace navws
