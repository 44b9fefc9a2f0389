// A few worker threads that split a range of rows with the calling thread. One job at a time:
// a caller that finds the pool busy (another libuv worker) runs its rows inline instead of waiting.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace anchorseg {

class RowPool {
 public:
  explicit RowPool(int threads = 1);
  ~RowPool();
  RowPool(const RowPool&) = delete;
  RowPool& operator=(const RowPool&) = delete;

  // Total threads used per job, the caller included (1 = inline). Returns the value now in effect.
  int setThreads(int threads);
  int threads() const { return threads_.load(); }

  // Calls fn(chunk, begin, end) on at most `maxChunks` contiguous chunks of [0, n), at least
  // `minChunk` rows each; chunk indices are distinct and below maxChunks (per-chunk scratch).
  using Job = std::function<void(int, int, int)>;
  void parallelFor(int n, int minChunk, int maxChunks, const Job& fn);

 private:
  void stop();
  void workerLoop(int index, unsigned seen);

  std::atomic<int> threads_{1};
  std::vector<std::thread> workers_;
  std::mutex busy_;  // held for a whole job
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const Job* job_ = nullptr;
  int jobRows_ = 0;
  int jobChunks_ = 0;
  int pending_ = 0;
  unsigned generation_ = 0;
  bool stopping_ = false;
};

}  // namespace anchorseg
