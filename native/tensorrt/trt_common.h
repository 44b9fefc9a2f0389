// TensorRT provider: shared pieces. Written against the documented TensorRT 10 / CUDA 12 APIs;
// no machine of this project has TensorRT: native/tensorrt/ has been compiled against real
// TensorRT 10.0 and 10.6 / CUDA 12.6 headers (check-headers.sh), never linked or run
// (docs/tensorrt.md).
#pragma once

// NVIDIA's headers use their own deprecated declarations (IPluginV2, IGpuAllocator::allocate):
// GCC warns inside them unless they sit in a system include directory (JetPack's do, a
// TENSORRT_ROOT tarball's do not). Quiet that for the headers only, not for our own uses.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <NvInfer.h>
#include <NvInferVersion.h>
#pragma GCC diagnostic pop
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>

#if NV_TENSORRT_MAJOR < 10
#error "anchorseg's TensorRT provider needs TensorRT 10 (JetPack 6.1+): tensors are addressed by name, enqueueV3"
#endif

namespace anchorseg::trt {

// TensorRT calls the logger from its own threads: keep the last error for messages, print warnings.
class Logger : public nvinfer1::ILogger {
 public:
  void log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept override {
    if (severity > Severity::kWARNING) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (severity <= Severity::kERROR) last_ = msg;
    std::fprintf(stderr, "anchorseg tensorrt: %s\n", msg);
  }
  std::string lastError() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_;
  }

 private:
  mutable std::mutex mutex_;
  std::string last_;
};

// One logger per process, as TensorRT expects (it must outlive every builder/runtime).
inline Logger& logger() {
  static Logger instance;
  return instance;
}

inline void cudaCheck(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

// TensorRT objects are deleted with `delete` since TensorRT 10.
template <typename T>
struct Deleter {
  void operator()(T* p) const { delete p; }
};

// Element size and the SDK's dtype name (sdk/tensor.ts) of a TensorRT type; size 0 = unsupported.
inline size_t elementSize(nvinfer1::DataType t) {
  switch (t) {
    case nvinfer1::DataType::kFLOAT:
    case nvinfer1::DataType::kINT32:
      return 4;
    case nvinfer1::DataType::kHALF:
      return 2;
    case nvinfer1::DataType::kINT64:
      return 8;
    case nvinfer1::DataType::kUINT8:
    case nvinfer1::DataType::kBOOL:
      return 1;
    default:
      return 0;
  }
}

inline const char* dtypeName(nvinfer1::DataType t) {
  switch (t) {
    case nvinfer1::DataType::kFLOAT:
      return "float32";
    case nvinfer1::DataType::kHALF:
      return "float16";
    case nvinfer1::DataType::kINT32:
      return "int32";
    case nvinfer1::DataType::kINT64:
      return "int64";
    case nvinfer1::DataType::kUINT8:
      return "uint8";
    case nvinfer1::DataType::kBOOL:
      return "bool";
    default:
      return "unsupported";
  }
}

}  // namespace anchorseg::trt
