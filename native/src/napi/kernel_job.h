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
#include <new>
#include <string>

#include "errors.h"

namespace anchorseg {

// The bytes an async job reads. An ArrayBuffer may be transferred (postMessage, structuredClone),
// detached, or resized while the job runs, which frees or unmaps the memory under it: a reference
// to the view does not prevent that, and Node-API has no way to pin it. So its bytes are copied
// here, on the calling thread (a memcpy: about 0.03 ms per 640x480 rgb8 frame, docs/native.md).
// A SharedArrayBuffer can be neither detached nor shrunk: it is read in place (other threads may
// write it meanwhile; the job then sees some mix of old and new bytes, never freed memory).
struct JobInput {
  std::shared_ptr<uint8_t> copy;  // null when read in place
  const uint8_t* data = nullptr;
  Napi::Value keep;  // the view to reference until the job settles (in-place reads only)
};

inline JobInput jobInput(Napi::Env env, Napi::Value view, const void* data, size_t bytes, bool shared) {
  JobInput in;
  if (shared) {
    in.data = static_cast<const uint8_t*>(data);
    in.keep = view;
    return in;
  }
  in.copy = std::shared_ptr<uint8_t>(new (std::nothrow) uint8_t[bytes == 0 ? 1 : bytes], std::default_delete<uint8_t[]>());
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
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        outBytes_(outBytes),
        run_(std::move(run)),
        settle_(std::move(settle)) {
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
