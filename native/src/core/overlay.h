// rgb8 picture of a frame with mask pixels blended towards a colour; same byte values as the TS kernel.
#pragma once

#include <cstdint>

#include "frame.h"

namespace anchorseg {

// `mask` holds width * height bytes (non-zero = blend), `out` width * height * 3 bytes.
void overlay(const FrameView& frame, const uint8_t* mask, const uint8_t color[3], double alpha, uint8_t* out);

}  // namespace anchorseg
