#include "device_info.h"

#include <memory>

#include "trt_common.h"

namespace anchorseg::trt {

namespace {
std::string version(int32_t v) {
  // getInferLibVersion: major * 10000 + minor * 100 + patch (TensorRT 10).
  return std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." + std::to_string(v % 100);
}
}  // namespace

DeviceInfo queryDevice() {
  DeviceInfo d;
  d.tensorrt = version(getInferLibVersion());
  d.tensorrtBuilt = std::to_string(NV_TENSORRT_MAJOR) + "." + std::to_string(NV_TENSORRT_MINOR) + "." + std::to_string(NV_TENSORRT_PATCH);
  cudaCheck(cudaRuntimeGetVersion(&d.cudaRuntime), "cudaRuntimeGetVersion");
  cudaCheck(cudaDriverGetVersion(&d.cudaDriver), "cudaDriverGetVersion");
  int device = 0;
  cudaCheck(cudaGetDevice(&device), "cudaGetDevice");
  cudaDeviceProp prop{};
  cudaCheck(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  d.gpu = prop.name;
  d.computeCapability = std::to_string(prop.major) + "." + std::to_string(prop.minor);
  d.integrated = prop.integrated != 0;
  std::unique_ptr<nvinfer1::IBuilder, Deleter<nvinfer1::IBuilder>> builder(nvinfer1::createInferBuilder(logger()));
  d.dlaCores = builder ? builder->getNbDLACores() : 0;
  return d;
}

}  // namespace anchorseg::trt
