// A kernel call on a libuv worker thread, settled as a Promise. The input typed array is held
// by a reference (not copied) until the job settles; the output is allocated on the worker and
// handed to JS with Buffer::NewOrCopy. If the input was detached meanwhile, the job rejects.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <new>
#include <string>

#include "errors.h"

namespace anchorseg {

class KernelJob : public Napi::AsyncWorker {
 public:
  // `run` fills `out` (outBytes) on the worker; `settle` builds the JS value from the result buffer.
  using Run = std::function<void(uint8_t* out)>;
  using Settle = std::function<Napi::Value(Napi::Env, Napi::Buffer<uint8_t>)>;

  KernelJob(Napi::Env env, const char* name, Napi::Value input, const char* inputName, size_t outBytes, Run run, Settle settle)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        input_(Napi::Persistent(input.As<Napi::Object>())),
        inputName_(inputName),
        outBytes_(outBytes),
        run_(std::move(run)),
        settle_(std::move(settle)) {}

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
      if (input_.Value().As<Napi::TypedArray>().ArrayBuffer().IsDetached()) {
        deferred_.Reject(codedError(env, "ERR_INVALID_ARG", std::string(inputName_) + " was detached while a kernel was reading it").Value());
        return;
      }
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
  Napi::ObjectReference input_;
  const char* inputName_;
  size_t outBytes_;
  Run run_;
  Settle settle_;
  std::unique_ptr<uint8_t[]> out_;
};

}  // namespace anchorseg
