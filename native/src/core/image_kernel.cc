#include "image_kernel.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include "color.h"
#include "filter.h"
#include "half.h"

namespace anchorseg {

namespace {

typedef float v4f __attribute__((vector_size(16)));

// Floats per pixel after row conversion: 3- and 4-channel rows keep their layout, mono stays 1.
int floatStride(Encoding e) {
  switch (e) {
    case Encoding::Rgba8:
    case Encoding::Bgra8:
      return 4;
    case Encoding::Mono8:
      return 1;
    default:
      return 3;
  }
}

// Which converted channel holds RGB channel c (BGR rows are swapped when writing, not when reading).
int channelOf(Encoding e, int c) {
  switch (e) {
    case Encoding::Bgr8:
    case Encoding::Bgra8:
      return 2 - c;
    case Encoding::Mono8:
      return 0;
    default:
      return c;
  }
}

// Row y as floats in [0, 255], floatStride(e) per pixel.
void convertRow(const FrameView& f, int y, float* out) {
  const uint8_t* row = f.data + static_cast<size_t>(y) * f.step;
  const int w = f.width;
  switch (f.encoding) {
    case Encoding::Yuyv: {
      const YuvTables& t = yuvTables();
      double rgb[3];
      for (int x = 0; x < w; x += 2, row += 4, out += 6) {
        yuvToRgb(t, row[0], row[1], row[3], rgb);
        for (int c = 0; c < 3; c++) out[c] = static_cast<float>(rgb[c]);
        yuvToRgb(t, row[2], row[1], row[3], rgb);
        for (int c = 0; c < 3; c++) out[3 + c] = static_cast<float>(rgb[c]);
      }
      return;
    }
    case Encoding::Nv12: {
      const YuvTables& t = yuvTables();
      const uint8_t* uv = f.data + static_cast<size_t>(f.height) * f.step + static_cast<size_t>(y >> 1) * f.step;
      double rgb[3];
      for (int x = 0; x < w; x++, out += 3) {
        const int c0 = x & ~1;
        yuvToRgb(t, row[x], uv[c0], uv[c0 + 1], rgb);
        for (int c = 0; c < 3; c++) out[c] = static_cast<float>(rgb[c]);
      }
      return;
    }
    default: {
      const int n = w * floatStride(f.encoding);
      for (int i = 0; i < n; i++) out[i] = row[i];
    }
  }
}

// One source row through the horizontal filter: nw outputs of `lanes` floats (1, or 4 = RGB + unused).
void horizontal(const float* src, int stride, const AxisFilter& fx, float* dst) {
  const int nw = fx.outSize;
  const int ks = fx.ksize;
  if (stride == 1) {
    for (int x = 0; x < nw; x++) {
      const float* w = &fx.weights[static_cast<size_t>(x) * ks];
      const float* s = src + fx.start[x];
      float acc = 0;
      for (int k = 0, n = fx.count[x]; k < n; k++) acc += w[k] * s[k];
      dst[x] = acc;
    }
    return;
  }
  for (int x = 0; x < nw; x++) {
    const float* w = &fx.weights[static_cast<size_t>(x) * ks];
    const float* s = src + static_cast<size_t>(fx.start[x]) * stride;
    v4f acc = {0, 0, 0, 0};
    for (int k = 0, n = fx.count[x]; k < n; k++, s += stride) {
      v4f px;
      std::memcpy(&px, s, sizeof px);  // 3-float pixels read one float past: rows carry padding
      acc += w[k] * px;
    }
    std::memcpy(dst + static_cast<size_t>(x) * 4, &acc, sizeof acc);
  }
}

template <typename T>
void writeRow(const float* acc, int lanes, const int* channel, const ImageParams& p, int y, T* out,
              T (*store)(double)) {
  const size_t plane = static_cast<size_t>(p.inputWidth) * p.inputHeight;
  for (int c = 0; c < 3; c++) {
    T* dst = out + static_cast<size_t>(p.bgr ? 2 - c : c) * plane + static_cast<size_t>(y) * p.inputWidth;
    const float* src = acc + channel[c];
    const double mean = p.mean[c];
    const double std = p.std[c];
    for (int x = 0; x < p.contentWidth; x++) dst[x] = store((static_cast<double>(src[static_cast<size_t>(x) * lanes]) / 255 - mean) / std);
  }
}

float storeFloat(double v) { return static_cast<float>(v); }
uint16_t storeHalf(double v) { return halfBits(static_cast<float>(v)); }

}  // namespace

std::string checkImageParams(const ImageParams& p) {
  const std::string side = "integer between 1 and " + std::to_string(kMaxSide);
  if (p.inputWidth < 1 || p.inputWidth > kMaxSide) return "Expected " + side + " for inputWidth but received " + std::to_string(p.inputWidth);
  if (p.inputHeight < 1 || p.inputHeight > kMaxSide) return "Expected " + side + " for inputHeight but received " + std::to_string(p.inputHeight);
  if (p.contentWidth < 1 || p.contentWidth > p.inputWidth) {
    return "Expected integer between 1 and inputWidth " + std::to_string(p.inputWidth) + " for contentWidth but received " + std::to_string(p.contentWidth);
  }
  if (p.contentHeight < 1 || p.contentHeight > p.inputHeight) {
    return "Expected integer between 1 and inputHeight " + std::to_string(p.inputHeight) + " for contentHeight but received " + std::to_string(p.contentHeight);
  }
  for (int c = 0; c < 3; c++) {
    if (!std::isfinite(p.mean[c])) return "Expected finite numbers for mean but received a non-finite value";
    if (!(std::isfinite(p.std[c]) && p.std[c] > 0)) return "Expected finite numbers > 0 for std but received a non-positive or non-finite value";
  }
  return {};
}

size_t tensorBytes(const ImageParams& p) {
  return static_cast<size_t>(3) * p.inputWidth * p.inputHeight * (p.fp16 ? 2 : 4);
}

void frameToTensor(const FrameView& frame, const ImageParams& p, void* out, RowPool* pool) {
  const int w = frame.width;
  const int h = frame.height;
  const int nw = p.contentWidth;
  const int nh = p.contentHeight;
  const AxisFilter fx = makeAxisFilter(w, nw);
  const AxisFilter fy = makeAxisFilter(h, nh);
  const int stride = floatStride(frame.encoding);
  const int lanes = stride == 1 ? 1 : 4;
  const size_t rowLen = static_cast<size_t>(nw) * lanes;
  const size_t srcLen = static_cast<size_t>(w) * stride + 4;  // + padding for the 4-float loads
  int channel[3];
  for (int c = 0; c < 3; c++) channel[c] = channelOf(frame.encoding, c);

  // Uninitialised on purpose: every element is written before it is read.
  std::unique_ptr<float[]> tmp(new float[static_cast<size_t>(h) * rowLen]);
  const int threads = pool != nullptr ? pool->threads() : 1;
  std::unique_ptr<float[]> scratch(new float[static_cast<size_t>(threads) * std::max(srcLen, rowLen)]);
  auto run = [&](int n, int minChunk, const RowPool::Job& fn) {
    if (pool != nullptr) {
      pool->parallelFor(n, minChunk, threads, fn);
    } else {
      fn(0, 0, n);
    }
  };
  auto scratchFor = [&](int chunk) { return scratch.get() + static_cast<size_t>(chunk) * std::max(srcLen, rowLen); };

  run(h, 32, [&](int chunk, int begin, int end) {
    float* src = scratchFor(chunk);
    std::memset(src + srcLen - 4, 0, 4 * sizeof(float));
    for (int y = begin; y < end; y++) {
      convertRow(frame, y, src);
      horizontal(src, stride, fx, tmp.get() + static_cast<size_t>(y) * rowLen);
    }
  });

  std::memset(out, 0, tensorBytes(p));  // padding = 0 = the mean colour after normalisation
  run(nh, 16, [&](int chunk, int begin, int end) {
    float* acc = scratchFor(chunk);
    for (int y = begin; y < end; y++) {
      const float* wy = &fy.weights[static_cast<size_t>(y) * fy.ksize];
      std::memset(acc, 0, rowLen * sizeof(float));
      for (int k = 0, n = fy.count[y]; k < n; k++) {
        const float c = wy[k];
        const float* row = tmp.get() + static_cast<size_t>(fy.start[y] + k) * rowLen;
        for (size_t i = 0; i < rowLen; i++) acc[i] += c * row[i];
      }
      if (p.fp16) {
        writeRow(acc, lanes, channel, p, y, static_cast<uint16_t*>(out), storeHalf);
      } else {
        writeRow(acc, lanes, channel, p, y, static_cast<float*>(out), storeFloat);
      }
    }
  });
}

}  // namespace anchorseg
