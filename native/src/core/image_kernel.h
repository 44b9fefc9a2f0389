// Frame -> network input in one call: colour conversion, letterbox, antialiased resize,
// normalisation, NCHW float32/float16 (docs/bundle-format.md, Preprocessing).
#pragma once

#include <cstddef>
#include <string>

#include "frame.h"
#include "row_pool.h"

namespace anchorseg {

struct ImageParams {
  int inputWidth = 0;
  int inputHeight = 0;
  int contentWidth = 0;
  int contentHeight = 0;
  bool bgr = false;
  bool fp16 = false;
  double mean[3] = {0, 0, 0};  // per RGB channel, before channel order is applied
  double std[3] = {1, 1, 1};
};

// Empty when the parameters are usable; otherwise an "Expected ... but received ..." message.
std::string checkImageParams(const ImageParams& p);

size_t tensorBytes(const ImageParams& p);

// `out` holds tensorBytes(p) bytes. `frame` passed checkFrame, `p` passed checkImageParams.
void frameToTensor(const FrameView& frame, const ImageParams& p, void* out, RowPool* pool);

}  // namespace anchorseg
