#include "row_pool.h"

#include <algorithm>

namespace anchorseg {

namespace {
void chunk(int n, int chunks, int i, int* begin, int* end) {
  *begin = static_cast<int>(static_cast<long long>(n) * i / chunks);
  *end = static_cast<int>(static_cast<long long>(n) * (i + 1) / chunks);
}
}  // namespace

RowPool::RowPool(int threads) { setThreads(threads); }

RowPool::~RowPool() {
  std::lock_guard<std::mutex> busy(busy_);
  stop();
}

void RowPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  stopping_ = false;
}

int RowPool::setThreads(int threads) {
  std::lock_guard<std::mutex> busy(busy_);
  threads = std::clamp(threads, 1, 64);
  if (threads == threads_.load() && static_cast<int>(workers_.size()) == threads - 1) return threads;
  stop();
  threads_.store(threads);
  // A new worker must not mistake a job that finished before it started for a fresh one.
  unsigned generation;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation = generation_;
  }
  for (int i = 1; i < threads; i++) workers_.emplace_back([this, i, generation] { workerLoop(i, generation); });
  return threads;
}

void RowPool::workerLoop(int index, unsigned seen) {
  for (;;) {
    const Job* job;
    int begin = 0;
    int end = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      job = job_;
      if (index >= jobChunks_) continue;
      chunk(jobRows_, jobChunks_, index, &begin, &end);
    }
    (*job)(index, begin, end);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

void RowPool::parallelFor(int n, int minChunk, int maxChunks, const Job& fn) {
  if (n <= 0) return;
  std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
  const int chunks = busy.owns_lock() ? std::min({threads_.load(), maxChunks, std::max(1, n / std::max(1, minChunk))}) : 1;
  if (chunks == 1) {
    fn(0, 0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    jobRows_ = n;
    jobChunks_ = chunks;
    pending_ = chunks - 1;
    generation_++;
  }
  wake_.notify_all();
  int begin;
  int end;
  chunk(n, chunks, 0, &begin, &end);
  fn(0, begin, end);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return pending_ == 0; });
  job_ = nullptr;
}

}  // namespace anchorseg
