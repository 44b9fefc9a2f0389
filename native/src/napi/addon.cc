// The anchorseg kernels addon: plain functions over the C++ core (native/src/core), which knows
// nothing of Node-API. Sync variants run on the calling thread; *Async variants on a libuv worker.
#include <napi.h>

#include <memory>

#include "../core/image_kernel.h"
#include "../core/mask_kernel.h"
#include "../core/overlay.h"
#include "../core/rle.h"
#include "../core/row_pool.h"
#include "args.h"
#include "errors.h"
#include "kernel_job.h"
#include "params.h"

namespace anchorseg {

// Must equal KERNELS_ABI in sdk/kernels/native.ts (a stale binary is refused there).
constexpr int kKernelsAbi = 1;

class KernelsAddon : public Napi::Addon<KernelsAddon> {
 public:
  KernelsAddon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {
                             InstanceValue("kernelsAbi", Napi::Number::New(env, kKernelsAbi), napi_enumerable),
                             InstanceMethod("frameToTensor", &KernelsAddon::FrameToTensor, napi_enumerable),
                             InstanceMethod("frameToTensorAsync", &KernelsAddon::FrameToTensorAsync, napi_enumerable),
                             InstanceMethod("logitsToMask", &KernelsAddon::LogitsToMask, napi_enumerable),
                             InstanceMethod("logitsToMaskAsync", &KernelsAddon::LogitsToMaskAsync, napi_enumerable),
                             InstanceMethod("rleEncode", &KernelsAddon::RleEncode, napi_enumerable),
                             InstanceMethod("rleDecode", &KernelsAddon::RleDecode, napi_enumerable),
                             InstanceMethod("overlay", &KernelsAddon::Overlay, napi_enumerable),
                             InstanceMethod("setThreads", &KernelsAddon::SetThreads, napi_enumerable),
                         });
  }

 private:
  // Shared with in-flight jobs, so environment teardown (which destroys this addon and joins the
  // pool's threads) cannot free it under a running worker.
  std::shared_ptr<RowPool> pool_ = std::make_shared<RowPool>(1);
  // The async jobs' input copies (kernel_job.h); in-flight copies outlive it safely.
  std::shared_ptr<CopyPool> copies_ = std::make_shared<CopyPool>();

  // Argument order matters: reading an options object or an array element may run JavaScript
  // (a getter) that detaches or transfers a buffer, so every data pointer is taken after the
  // other arguments are read and the output is allocated, and nothing runs JavaScript after it.

  Napi::Value FrameToTensor(const Napi::CallbackInfo& info) {
    const ImageParams params = imageParamsArg(info[1]);
    Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(info.Env(), tensorBytes(params));
    const FrameView frame = frameArg(info[0]);
    frameToTensor(frame, params, out.Data(), pool_.get());
    return out;
  }

  // The job reads a copy of the frame's bytes (or, on a SharedArrayBuffer, the bytes in place):
  // the caller may transfer or detach its buffer as soon as this returns (kernel_job.h).
  Napi::Value FrameToTensorAsync(const Napi::CallbackInfo& info) {
    const ImageParams params = imageParamsArg(info[1]);
    Napi::Value data;
    bool shared = false;
    FrameView frame = frameArg(info[0], "frame", &data, &shared);
    const size_t bytes = frameBytes(frame);
    JobInput input = jobInput(info.Env(), *copies_, data, frame.data, bytes, shared);
    frame.data = input.data;
    frame.size = bytes;
    auto pool = pool_;
    auto owned = input.copy;
    auto* job = new KernelJob(
        info.Env(), "anchorseg:frameToTensor", input.keep, tensorBytes(params),
        [frame, params, pool, owned](uint8_t* out) { frameToTensor(frame, params, out, pool.get()); },
        [](Napi::Env, Napi::Buffer<uint8_t> out) -> Napi::Value { return out; });
    job->Queue();
    return job->Promise();
  }

  // logits' length is needed to check the params, and reading the params may run JavaScript: so
  // the pointer is read again after them (a buffer detached meanwhile is then refused).
  static const float* logitsArg(const Napi::Value& v, size_t expected, bool* shared = nullptr) {
    size_t count = 0;
    const float* logits = typedArrayData<const float>(v, "logits", napi_float32_array, &count, "ERR_INVALID_ARG", shared);
    if (count != expected) {
      throw codedError(v.Env(), "ERR_INVALID_ARG", "Expected " + std::to_string(expected) + " values for logits but received " + std::to_string(count));
    }
    return logits;
  }

  Napi::Value LogitsToMask(const Napi::CallbackInfo& info) {
    size_t count = 0;
    typedArrayData<const float>(info[0], "logits", napi_float32_array, &count);
    const LogitsParams params = logitsParamsArg(info[1], count);
    const size_t bytes = static_cast<size_t>(params.frameWidth) * params.frameHeight;
    Napi::Buffer<uint8_t> mask = Napi::Buffer<uint8_t>::New(info.Env(), bytes);
    const MaskStats stats = logitsToMask(logitsArg(info[0], count), params, mask.Data());
    return maskResult(info.Env(), mask, stats);
  }

  Napi::Value LogitsToMaskAsync(const Napi::CallbackInfo& info) {
    size_t count = 0;
    typedArrayData<const float>(info[0], "logits", napi_float32_array, &count);
    const LogitsParams params = logitsParamsArg(info[1], count);
    bool shared = false;
    const float* logits = logitsArg(info[0], count, &shared);
    JobInput input = jobInput(info.Env(), *copies_, info[0], logits, count * sizeof(float), shared);
    const float* data = reinterpret_cast<const float*>(input.data);
    auto owned = input.copy;
    auto stats = std::make_shared<MaskStats>();
    auto* job = new KernelJob(
        info.Env(), "anchorseg:logitsToMask", input.keep, static_cast<size_t>(params.frameWidth) * params.frameHeight,
        [data, params, stats, owned](uint8_t* out) { *stats = logitsToMask(data, params, out); },
        [stats](Napi::Env env, Napi::Buffer<uint8_t> out) -> Napi::Value { return maskResult(env, out, *stats); });
    job->Queue();
    return job->Promise();
  }

  Napi::Value RleEncode(const Napi::CallbackInfo& info) {
    size_t count = 0;
    const uint8_t* mask = typedArrayData<const uint8_t>(info[0], "mask", napi_uint8_array, &count);
    const int width = intArg(info[1], "width");
    const int height = intArg(info[2], "height");
    if (width < 1 || height < 1 || width > kMaxSide || height > kMaxSide || count != static_cast<size_t>(width) * height) {
      throw codedError(info.Env(), "ERR_INVALID_ARG",
                       "Expected " + std::to_string(static_cast<long long>(width) * height) + " bytes (" + std::to_string(width) + "x" +
                           std::to_string(height) + ") for mask but received " + std::to_string(count));
    }
    return Napi::String::New(info.Env(), encodeCounts(maskRuns(mask, width, height)));
  }

  Napi::Value RleDecode(const Napi::CallbackInfo& info) {
    if (!info[0].IsString()) throwExpected(info[0], "rle.counts", "a compressed RLE string");
    const std::string counts = info[0].As<Napi::String>().Utf8Value();
    const int height = intArg(info[1], "rle.size[0]");
    const int width = intArg(info[2], "rle.size[1]");
    if (height < 1 || width < 1 || height > kMaxSide || width > kMaxSide) {
      throw codedError(info.Env(), "ERR_INVALID_ARG", "Expected sides between 1 and " + std::to_string(kMaxSide) + " for rle.size");
    }
    Napi::Buffer<uint8_t> mask = Napi::Buffer<uint8_t>::New(info.Env(), static_cast<size_t>(width) * height);
    std::fill(mask.Data(), mask.Data() + mask.Length(), 0);
    const std::string problem = decodeRle(counts, height, width, mask.Data());
    if (!problem.empty()) throw codedError(info.Env(), "ERR_INVALID_ARG", problem);
    return mask;
  }

  Napi::Value Overlay(const Napi::CallbackInfo& info) {
    double rgb[3];
    tripleArg(info[2], "color", rgb);
    uint8_t color[3];
    for (int c = 0; c < 3; c++) {
      if (!(rgb[c] >= 0 && rgb[c] <= 255) || std::floor(rgb[c]) != rgb[c]) throwExpected(info[2], "color", "an array of 3 integers between 0 and 255");
      color[c] = static_cast<uint8_t>(rgb[c]);
    }
    const double alpha = numberArg(info[3], "alpha");
    if (!(alpha >= 0 && alpha <= 1)) throwExpected(info[3], "alpha", "a number between 0 and 1");
    // The frame is read once to size the output and again after allocating it, so its pointer is
    // the last thing read before the mask's.
    FrameView frame = frameArg(info[0]);
    Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(info.Env(), static_cast<size_t>(frame.width) * frame.height * 3);
    const FrameView again = frameArg(info[0]);
    if (again.width != frame.width || again.height != frame.height) {
      throw codedError(info.Env(), "ERR_FRAME_INVALID",
                       "Expected the same frame size on a second read but received " + std::to_string(again.width) + "x" + std::to_string(again.height) +
                           " after " + std::to_string(frame.width) + "x" + std::to_string(frame.height) + " (a getter changed it)");
    }
    frame = again;
    size_t count = 0;
    const uint8_t* mask = typedArrayData<const uint8_t>(info[1], "mask", napi_uint8_array, &count);
    if (count != static_cast<size_t>(frame.width) * frame.height) {
      throw codedError(info.Env(), "ERR_INVALID_ARG",
                       "Expected " + std::to_string(static_cast<size_t>(frame.width) * frame.height) + " bytes (" + std::to_string(frame.width) + "x" +
                           std::to_string(frame.height) + ") for mask but received " + std::to_string(count));
    }
    overlay(frame, mask, color, alpha, out.Data());
    return out;
  }

  Napi::Value SetThreads(const Napi::CallbackInfo& info) {
    const int n = intArg(info[0], "threads");
    if (n < 1 || n > 64) throwExpected(info[0], "threads", "integer between 1 and 64");
    const int previous = pool_->threads();
    pool_->setThreads(n);
    return Napi::Number::New(info.Env(), previous);
  }
};

}  // namespace anchorseg

using anchorseg::KernelsAddon;
NODE_API_ADDON(KernelsAddon)
