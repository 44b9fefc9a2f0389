// One deserialized plan with its execution context, CUDA stream and device buffers. Not
// thread-safe: it lives on, and is only called from, its engine's own thread (runner_thread.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trt_common.h"

namespace anchorseg::trt {

struct TensorDesc {
  std::string name;
  nvinfer1::DataType type;
  std::vector<int64_t> shape;  // -1 = dynamic
  bool input;
};

struct HostInput {
  std::string name;
  nvinfer1::DataType type;
  std::vector<int64_t> dims;
  const void* data;  // the JS buffer, referenced by the caller until run() returns
  size_t bytes;
};

struct HostOutput {
  std::string name;
  nvinfer1::DataType type;
  std::vector<int64_t> dims;
  std::unique_ptr<uint8_t[]> data;
  size_t bytes;
};

class EngineRunner {
 public:
  // Throws std::runtime_error when the plan does not deserialize (another TensorRT version or
  // GPU, or a corrupt file: the caller treats that as a cache miss and rebuilds).
  explicit EngineRunner(const std::vector<uint8_t>& plan);
  ~EngineRunner();
  EngineRunner(const EngineRunner&) = delete;
  EngineRunner& operator=(const EngineRunner&) = delete;

  const std::vector<TensorDesc>& io() const { return io_; }

  // Sets shapes and addresses by name, enqueueV3 on this engine's stream, waits, copies outputs back.
  std::vector<HostOutput> run(const std::vector<HostInput>& inputs);

 private:
  void* deviceBuffer(const std::string& name, size_t bytes);

  std::unique_ptr<nvinfer1::IRuntime, Deleter<nvinfer1::IRuntime>> runtime_;
  std::unique_ptr<nvinfer1::ICudaEngine, Deleter<nvinfer1::ICudaEngine>> engine_;
  std::unique_ptr<nvinfer1::IExecutionContext, Deleter<nvinfer1::IExecutionContext>> context_;
  cudaStream_t stream_ = nullptr;
  std::vector<TensorDesc> io_;
  struct Buffer {
    void* ptr = nullptr;
    size_t bytes = 0;
  };
  std::vector<std::pair<std::string, Buffer>> buffers_;
};

}  // namespace anchorseg::trt
