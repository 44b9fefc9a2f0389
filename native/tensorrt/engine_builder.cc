#include "engine_builder.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // inside NVIDIA's headers, as in trt_common.h
#include <NvOnnxParser.h>
#pragma GCC diagnostic pop

#include <memory>

#include "trt_common.h"

namespace anchorseg::trt {

namespace {

template <typename T>
using Ptr = std::unique_ptr<T, Deleter<T>>;

// Reports phases and steps; returning false from stepComplete makes TensorRT abandon the build.
class Monitor : public nvinfer1::IProgressMonitor {
 public:
  Monitor(const Progress& progress, const std::atomic<bool>& cancel) : progress_(progress), cancel_(cancel) {}
  void phaseStart(char const* phaseName, char const* /*parentPhase*/, int32_t nbSteps) noexcept override { report(phaseName, 0, nbSteps); }
  bool stepComplete(char const* phaseName, int32_t step) noexcept override {
    report(phaseName, step + 1, -1);
    return !cancel_.load();
  }
  void phaseFinish(char const* /*phaseName*/) noexcept override {}

 private:
  void report(const char* phase, int step, int steps) noexcept {
    try {
      progress_(phase, step, steps);
    } catch (...) {  // progress is advisory: never let it unwind through TensorRT
    }
  }
  const Progress& progress_;
  const std::atomic<bool>& cancel_;
};

}  // namespace

BuildResult buildPlan(const std::string& onnxPath, const BuildOptions& options, const Progress& progress, const std::atomic<bool>& cancel) {
  Ptr<nvinfer1::IBuilder> builder(nvinfer1::createInferBuilder(logger()));
  if (!builder) throw std::runtime_error("createInferBuilder failed: " + logger().lastError());
  Ptr<nvinfer1::INetworkDefinition> network(builder->createNetworkV2(0));  // explicit batch is the only mode in TRT 10
  Ptr<nvonnxparser::IParser> parser(nvonnxparser::createParser(*network, logger()));
  if (!parser->parseFromFile(onnxPath.c_str(), static_cast<int32_t>(nvinfer1::ILogger::Severity::kWARNING))) {
    std::string why;
    for (int32_t i = 0; i < parser->getNbErrors(); i++) why += std::string(i ? "; " : "") + parser->getError(i)->desc();
    throw std::runtime_error("Could not parse " + onnxPath + ": " + why);
  }

  Ptr<nvinfer1::IBuilderConfig> config(builder->createBuilderConfig());
  config->setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, options.workspaceBytes);
  if (options.fp16) config->setFlag(nvinfer1::BuilderFlag::kFP16);  // I/O stays as the ONNX declares it
  if (options.dlaCore >= 0) {
    if (options.dlaCore >= builder->getNbDLACores()) {
      throw std::runtime_error("DLA core " + std::to_string(options.dlaCore) + " asked for, but this device has " + std::to_string(builder->getNbDLACores()));
    }
    config->setDefaultDeviceType(nvinfer1::DeviceType::kDLA);
    config->setDLACore(options.dlaCore);
    config->setFlag(nvinfer1::BuilderFlag::kGPU_FALLBACK);  // attention and other layers DLA lacks
  }

  // Dynamic input dimensions (the full-size split's goal length "T") get one profile: 1..dynamicMax.
  nvinfer1::IOptimizationProfile* profile = nullptr;
  for (int32_t i = 0; i < network->getNbInputs(); i++) {
    nvinfer1::ITensor* input = network->getInput(i);
    const nvinfer1::Dims dims = input->getDimensions();
    bool dynamic = false;
    nvinfer1::Dims lo = dims, opt = dims, hi = dims;
    for (int32_t d = 0; d < dims.nbDims; d++) {
      if (dims.d[d] >= 0) continue;
      dynamic = true;
      lo.d[d] = 1;
      opt.d[d] = options.dynamicMax;
      hi.d[d] = options.dynamicMax;
    }
    if (!dynamic) continue;
    if (profile == nullptr) profile = builder->createOptimizationProfile();
    profile->setDimensions(input->getName(), nvinfer1::OptProfileSelector::kMIN, lo);
    profile->setDimensions(input->getName(), nvinfer1::OptProfileSelector::kOPT, opt);
    profile->setDimensions(input->getName(), nvinfer1::OptProfileSelector::kMAX, hi);
  }
  if (profile != nullptr) config->addOptimizationProfile(profile);

  // Timing cache: reuse earlier measurements (a cache from another TensorRT version is ignored).
  Ptr<nvinfer1::ITimingCache> cache(config->createTimingCache(options.timingCache.data(), options.timingCache.size()));
  if (cache) config->setTimingCache(*cache, /*ignoreMismatch=*/false);

  Monitor monitor(progress, cancel);
  config->setProgressMonitor(&monitor);
  Ptr<nvinfer1::IHostMemory> plan(builder->buildSerializedNetwork(*network, *config));
  if (cancel.load()) throw BuildCancelled();
  if (!plan) throw std::runtime_error("TensorRT could not build " + onnxPath + ": " + logger().lastError());

  BuildResult result;
  const auto* bytes = static_cast<const uint8_t*>(plan->data());
  result.plan.assign(bytes, bytes + plan->size());
  if (const nvinfer1::ITimingCache* updated = config->getTimingCache()) {
    Ptr<nvinfer1::IHostMemory> blob(updated->serialize());
    if (blob) {
      const auto* b = static_cast<const uint8_t*>(blob->data());
      result.timingCache.assign(b, b + blob->size());
    }
  }
  return result;
}

}  // namespace anchorseg::trt
