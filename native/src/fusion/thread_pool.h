// A small persistent pool of std::threads for data-parallel loops. Work is handed out in chunks from
// an atomic counter so uneven items (blocks with many or few surface voxels) balance themselves.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace navws::fusion {

class ThreadPool {
 public:
  // `threads` counts the calling thread too; 0 picks the hardware concurrency.
  explicit ThreadPool(unsigned threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }

  // Calls fn(begin, end, worker) over [0, n) in chunks of `grain`; worker is in [0, size()).
  // Blocks until every chunk is done; the first exception thrown by fn is rethrown here.
  void parallelFor(size_t n, size_t grain, const std::function<void(size_t, size_t, unsigned)>& fn);

 private:
  void workerLoop(unsigned index);
  void runChunks(unsigned worker);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t, size_t, unsigned)>* job_ = nullptr;
  size_t jobSize_ = 0;
  size_t grain_ = 1;
  std::atomic<size_t> next_{0};
  unsigned busy_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace navws::fusion
