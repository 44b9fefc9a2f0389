// A kernel call on a libuv worker thread, settled as a Promise. The job never reads memory the
// caller can take away: the input bytes are copied on the calling thread (JobInput), except for
// a view on a SharedArrayBuffer, which cannot be detached or shrunk and is kept alive by a
// reference instead. The output is allocated on the worker and handed to JS with
// Buffer::NewOrCopy.
#pragma once

#include <napi.h>

#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "errors.h"

namespace anchorseg {

// Blocks for the input copies, kept for reuse: a fresh block of tens of megabytes is fresh pages
// (glibc maps blocks above its mmap threshold, at most 32 MiB, anew each time), and faulting them
// in cost 20 to 38 ms per 4000x3000 frame on the calling thread where the copy alone is a few.
// Idle blocks are kept up to kMaxIdleBytes; a block is reused for a request of at least half its
// size. Shared with in-flight jobs (their copies return here when they settle, or are freed when
// the addon has gone).
class CopyPool : public std::enable_shared_from_this<CopyPool> {
 public:
  static constexpr size_t kMaxIdleBytes = size_t{64} << 20;

  // A block of at least `bytes` (null when out of memory), handed back to the pool when released.
  std::shared_ptr<uint8_t> get(size_t bytes) {
    bytes = bytes == 0 ? 1 : bytes;
    Block block;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t i = 0; i < idle_.size(); i++) {
        if (idle_[i].size >= bytes && idle_[i].size / 2 <= bytes) {
          block = std::move(idle_[i]);
          idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
          idleBytes_ -= block.size;
          break;
        }
      }
    }
    if (!block.data) {
      block.data.reset(new (std::nothrow) uint8_t[bytes]);
      if (!block.data) return nullptr;
      block.size = bytes;
    }
    uint8_t* raw = block.data.release();
    const size_t size = block.size;
    std::weak_ptr<CopyPool> pool = weak_from_this();
    return std::shared_ptr<uint8_t>(raw, [pool, size](uint8_t* p) {
      if (auto alive = pool.lock()) {
        alive->put(Block{std::unique_ptr<uint8_t[]>(p), size});
      } else {
        delete[] p;
      }
    });
  }

 private:
  struct Block {
    std::unique_ptr<uint8_t[]> data;
    size_t size = 0;
  };

  void put(Block block) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Newest first; the oldest idle blocks go when the total would pass the cap.
    idle_.insert(idle_.begin(), std::move(block));
    idleBytes_ += idle_.front().size;
    while (idleBytes_ > kMaxIdleBytes && !idle_.empty()) {
      idleBytes_ -= idle_.back().size;
      idle_.pop_back();
    }
  }

  std::mutex mutex_;
  std::vector<Block> idle_;
  size_t idleBytes_ = 0;
};

// The bytes an async job reads. An ArrayBuffer may be transferred (postMessage, structuredClone),
// detached, or resized while the job runs, which frees or unmaps the memory under it: a reference
// to the view does not prevent that, and Node-API has no way to pin it. So its bytes are copied
// here, on the calling thread (docs/native.md has the cost). A SharedArrayBuffer can be neither
// detached nor shrunk: it is read in place (other threads may write it meanwhile; the job then
// sees some mix of old and new bytes, never freed memory).
struct JobInput {
  std::shared_ptr<uint8_t> copy;  // null when read in place
  const uint8_t* data = nullptr;
  Napi::Value keep;  // the view to reference until the job settles (in-place reads only)
};

inline JobInput jobInput(Napi::Env env, CopyPool& pool, Napi::Value view, const void* data, size_t bytes, bool shared) {
  JobInput in;
  if (shared) {
    in.data = static_cast<const uint8_t*>(data);
    in.keep = view;
    return in;
  }
  in.copy = pool.get(bytes);
  if (!in.copy) throw codedError(env, "ERR_INTERNAL", "Out of memory for a " + std::to_string(bytes) + "-byte copy of a kernel input");
  if (bytes > 0) std::memcpy(in.copy.get(), data, bytes);
  in.data = in.copy.get();
  return in;
}

class KernelJob : public Napi::AsyncWorker {
 public:
  // `run` fills `out` (outBytes) on the worker; `settle` builds the JS value from the result buffer.
  using Run = std::function<void(uint8_t* out)>;
  using Settle = std::function<Napi::Value(Napi::Env, Napi::Buffer<uint8_t>)>;

  // `keep`: a value to hold a reference to until the job settles (may be empty).
  KernelJob(Napi::Env env, const char* name, Napi::Value keep, size_t outBytes, Run run, Settle settle)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), outBytes_(outBytes), run_(std::move(run)), settle_(std::move(settle)) {
    if (!keep.IsEmpty()) keep_ = Napi::Persistent(keep);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    out_.reset(new (std::nothrow) uint8_t[outBytes_ == 0 ? 1 : outBytes_]);
    if (!out_) {
      SetError("Out of memory for a " + std::to_string(outBytes_) + "-byte kernel output");
      return;
    }
    run_(out_.get());
  }

  // A job can finish while its environment is being torn down (a worker thread exiting): then
  // nothing can be created or settled, and a C++ exception here would terminate the process.
  void OnOK() override {
    try {
      Napi::Env env = Env();
      auto buffer = Napi::Buffer<uint8_t>::NewOrCopy(env, out_.get(), outBytes_, [](Napi::Env, uint8_t* p) { delete[] p; });
      out_.release();  // the buffer's finalizer owns it now (or already freed it after a copy)
      deferred_.Resolve(settle_(env, buffer));
    } catch (const Napi::Error&) {
    }
  }

  void OnError(const Napi::Error& e) override {
    try {
      deferred_.Reject(e.Value());
    } catch (const Napi::Error&) {
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Value> keep_;
  size_t outBytes_;
  Run run_;
  Settle settle_;
  std::unique_ptr<uint8_t[]> out_;
};

}  // namespace anchorseg
