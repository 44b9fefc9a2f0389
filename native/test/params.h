// Kernel parameters shared by the C++ tests (kernels_test.cc, kernels_digest.cc).
#pragma once

#include "../src/core/image_kernel.h"
#include "../src/core/mask_kernel.h"

namespace anchorseg::test {

// A w x h frame letterboxed into W x H with the bundle's ImageNet normalisation. Integer
// arithmetic (round half up of w * s, s = min(W / w, H / h)), so every architecture gets the
// same content size.
inline ImageParams letterboxed(int w, int h, int W, int H) {
  ImageParams p;
  p.inputWidth = W;
  p.inputHeight = H;
  const bool byWidth = static_cast<long long>(W) * h <= static_cast<long long>(H) * w;
  p.contentWidth = byWidth ? W : static_cast<int>((2LL * w * H + h) / (2LL * h));
  p.contentHeight = byWidth ? static_cast<int>((2LL * h * W + w) / (2LL * w)) : H;
  if (p.contentWidth < 1) p.contentWidth = 1;
  if (p.contentHeight < 1) p.contentHeight = 1;
  p.mean[0] = 0.485;
  p.mean[1] = 0.456;
  p.mean[2] = 0.406;
  p.std[0] = 0.229;
  p.std[1] = 0.224;
  p.std[2] = 0.225;
  return p;
}

// Logits of lw x lh for a W x H input holding a letterboxed w x h frame: c = {w, h, W, H, lw, lh}.
inline LogitsParams logitsFor(const int (&c)[6], double threshold = 0) {
  const ImageParams lb = letterboxed(c[0], c[1], c[2], c[3]);
  LogitsParams p;
  p.frameWidth = c[0];
  p.frameHeight = c[1];
  p.inputWidth = c[2];
  p.inputHeight = c[3];
  p.contentWidth = lb.contentWidth;
  p.contentHeight = lb.contentHeight;
  p.logitsWidth = c[4];
  p.logitsHeight = c[5];
  p.threshold = threshold;
  return p;
}

}  // namespace anchorseg::test
