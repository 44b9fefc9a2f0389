// What a TensorRT plan is tied to: the plan cache key (sdk/backends/tensorrt-plan-cache.ts) holds these.
#pragma once

#include <string>

namespace anchorseg::trt {

struct DeviceInfo {
  std::string tensorrt;       // runtime library version, getInferLibVersion(), e.g. "10.3.0"
  std::string tensorrtBuilt;  // headers this provider was compiled against
  int cudaRuntime = 0;        // cudaRuntimeGetVersion, e.g. 12060
  int cudaDriver = 0;
  std::string gpu;            // cudaDeviceProp::name
  std::string computeCapability;  // "8.7"
  bool integrated = false;    // Jetson: GPU shares DRAM with the CPU
  int dlaCores = 0;
};

DeviceInfo queryDevice();

}  // namespace anchorseg::trt
