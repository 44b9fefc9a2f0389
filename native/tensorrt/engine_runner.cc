#include "engine_runner.h"

#include <algorithm>

namespace anchorseg::trt {

namespace {
size_t count(const std::vector<int64_t>& dims) {
  size_t n = 1;
  for (int64_t d : dims) n *= static_cast<size_t>(d);
  return n;
}

std::string shapeText(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); i++) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}
}  // namespace

EngineRunner::EngineRunner(const std::vector<uint8_t>& plan) {
  runtime_.reset(nvinfer1::createInferRuntime(logger()));
  if (!runtime_) throw std::runtime_error("createInferRuntime failed: " + logger().lastError());
  engine_.reset(runtime_->deserializeCudaEngine(plan.data(), plan.size()));
  if (!engine_) throw std::runtime_error("The plan does not deserialize on this TensorRT/GPU: " + logger().lastError());
  context_.reset(engine_->createExecutionContext());
  if (!context_) throw std::runtime_error("createExecutionContext failed: " + logger().lastError());
  cudaCheck(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  for (int32_t i = 0; i < engine_->getNbIOTensors(); i++) {
    TensorDesc t;
    t.name = engine_->getIOTensorName(i);
    t.type = engine_->getTensorDataType(t.name.c_str());
    t.input = engine_->getTensorIOMode(t.name.c_str()) == nvinfer1::TensorIOMode::kINPUT;
    const nvinfer1::Dims dims = engine_->getTensorShape(t.name.c_str());
    t.shape.assign(dims.d, dims.d + dims.nbDims);
    if (elementSize(t.type) == 0) throw std::runtime_error("Tensor " + t.name + " has a data type the SDK does not handle");
    io_.push_back(std::move(t));
  }
}

EngineRunner::~EngineRunner() {
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  for (auto& [name, b] : buffers_) cudaFree(b.ptr);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
  context_.reset();  // before the engine, the engine before the runtime
  engine_.reset();
  runtime_.reset();
}

void* EngineRunner::deviceBuffer(const std::string& name, size_t bytes) {
  auto it = std::find_if(buffers_.begin(), buffers_.end(), [&](const auto& e) { return e.first == name; });
  if (it == buffers_.end()) it = buffers_.insert(buffers_.end(), {name, Buffer{}});
  if (it->second.bytes < bytes) {
    cudaFree(it->second.ptr);
    it->second = Buffer{};
    cudaCheck(cudaMalloc(&it->second.ptr, bytes), "cudaMalloc");  // 256-byte aligned, as TensorRT wants
    it->second.bytes = bytes;
  }
  return it->second.ptr;
}

std::vector<HostOutput> EngineRunner::run(const std::vector<HostInput>& inputs) {
  for (const TensorDesc& t : io_) {
    if (!t.input) continue;
    auto in = std::find_if(inputs.begin(), inputs.end(), [&](const HostInput& h) { return h.name == t.name; });
    if (in == inputs.end()) throw std::runtime_error("Expected input \"" + t.name + "\" but it was not fed");
    if (in->type != t.type)
      throw std::runtime_error(std::string("Expected ") + dtypeName(t.type) + " for input \"" + t.name + "\" but received " + dtypeName(in->type));
    if (in->bytes != count(in->dims) * elementSize(t.type))
      throw std::runtime_error("Input \"" + t.name + "\": byte length does not match " + shapeText(in->dims));
    nvinfer1::Dims dims{};
    dims.nbDims = static_cast<int32_t>(in->dims.size());
    std::copy(in->dims.begin(), in->dims.end(), dims.d);
    if (!context_->setInputShape(t.name.c_str(), dims)) {
      throw std::runtime_error("Input \"" + t.name + "\": shape " + shapeText(in->dims) + " is outside the engine's profile " + shapeText(t.shape));
    }
    void* device = deviceBuffer(t.name, in->bytes);
    cudaCheck(cudaMemcpyAsync(device, in->data, in->bytes, cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync (input)");
    context_->setTensorAddress(t.name.c_str(), device);
  }
  std::vector<HostOutput> outputs;
  for (const TensorDesc& t : io_) {
    if (t.input) continue;
    const nvinfer1::Dims dims = context_->getTensorShape(t.name.c_str());
    HostOutput o;
    o.name = t.name;
    o.type = t.type;
    o.dims.assign(dims.d, dims.d + dims.nbDims);
    if (std::any_of(o.dims.begin(), o.dims.end(), [](int64_t d) { return d < 0; })) {
      throw std::runtime_error("Output \"" + t.name + "\" has a data-dependent shape, which the SDK does not support");
    }
    o.bytes = count(o.dims) * elementSize(t.type);
    context_->setTensorAddress(t.name.c_str(), deviceBuffer(t.name, std::max<size_t>(o.bytes, 1)));
    outputs.push_back(std::move(o));
  }
  if (!context_->enqueueV3(stream_)) throw std::runtime_error("enqueueV3 failed: " + logger().lastError());
  for (HostOutput& o : outputs) {
    o.data.reset(new uint8_t[std::max<size_t>(o.bytes, 1)]);
    cudaCheck(cudaMemcpyAsync(o.data.get(), deviceBuffer(o.name, o.bytes), o.bytes, cudaMemcpyDeviceToHost, stream_), "cudaMemcpyAsync (output)");
  }
  cudaCheck(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  return outputs;
}

}  // namespace anchorseg::trt
