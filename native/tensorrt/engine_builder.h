// ONNX -> serialized TensorRT plan (IBuilder + nvonnxparser), with progress and cancellation.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace anchorseg::trt {

struct BuildOptions {
  bool fp16 = true;
  size_t workspaceBytes = size_t{1} << 30;
  int dlaCore = -1;                      // >= 0: DLA with GPU fallback (AGX Orin, Orin NX)
  int dynamicMax = 64;                   // upper bound of every dynamic input dimension
  std::vector<uint8_t> timingCache;      // previous cache (may be empty); updated one comes back
};

struct BuildResult {
  std::vector<uint8_t> plan;
  std::vector<uint8_t> timingCache;
};

// phase, step, steps (TensorRT's IProgressMonitor, flattened).
using Progress = std::function<void(const std::string& phase, int step, int steps)>;

// Throws std::runtime_error with TensorRT's message; a cancelled build throws BuildCancelled.
BuildResult buildPlan(const std::string& onnxPath, const BuildOptions& options, const Progress& progress, const std::atomic<bool>& cancel);

struct BuildCancelled : std::runtime_error {
  BuildCancelled() : std::runtime_error("TensorRT engine build cancelled") {}
};

}  // namespace anchorseg::trt
