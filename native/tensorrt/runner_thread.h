// The engine's own thread: TensorRT work (deserialize, enqueueV3, synchronize) never runs on the
// JS thread nor in libuv's small pool. One job at a time; a second is refused (ERR_BUSY upstream).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace anchorseg::trt {

class RunnerThread {
 public:
  using Job = std::function<void()>;

  RunnerThread() : thread_([this] { loop(); }) {}
  ~RunnerThread() { stop(); }
  RunnerThread(const RunnerThread&) = delete;
  RunnerThread& operator=(const RunnerThread&) = delete;

  // False when a job is queued or running, or the thread is stopping.
  bool post(Job job) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (busy_ || stopping_) return false;
    job_ = std::move(job);
    busy_ = true;
    wake_.notify_one();
    return true;
  }

  // Lets the current job finish, then joins. Idempotent.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || job_ != nullptr; });
        if (job_ == nullptr) return;  // stopping with nothing queued
        job = std::move(job_);
        job_ = nullptr;
      }
      job();
      std::lock_guard<std::mutex> lock(mutex_);
      busy_ = false;
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  Job job_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace anchorseg::trt
