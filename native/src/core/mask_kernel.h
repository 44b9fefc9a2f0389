// Decoder logits -> frame-resolution mask, bbox and area in one pass
// (docs/bundle-format.md, Postprocessing): crop the letterbox padding, bilinear upsample, threshold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace anchorseg {

struct LogitsParams {
  int logitsWidth = 0;
  int logitsHeight = 0;
  int contentWidth = 0;
  int contentHeight = 0;
  int inputWidth = 0;
  int inputHeight = 0;
  int frameWidth = 0;
  int frameHeight = 0;
  double threshold = 0;
};

struct MaskStats {
  long long area = 0;
  int x0 = 0;  // bbox, inclusive; meaningful when area > 0
  int y0 = 0;
  int x1 = -1;
  int y1 = -1;
};

// Empty when usable with `count` logits; otherwise an "Expected ... but received ..." message.
std::string checkLogitsParams(const LogitsParams& p, size_t count);

// `mask` holds frameWidth * frameHeight bytes (written 0 / 255). float64 arithmetic in the
// order sdk/kernels/reference.ts uses, so masks are identical, threshold ties included.
MaskStats logitsToMask(const float* logits, const LogitsParams& p, uint8_t* mask);

}  // namespace anchorseg
