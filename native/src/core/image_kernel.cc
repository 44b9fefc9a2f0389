#include "image_kernel.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "color.h"
#include "filter.h"
#include "half.h"
#include "simd.h"

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

// One source row through the horizontal filter: nw outputs of `lanes` floats (1, or 4 = RGB +
// unused). Four outputs at a time, each with its own accumulator: one accumulator is bound by
// add latency. Every output runs the padded ksize taps; the weights past count[x] are 0 and the
// row carries zero padding past its end, so each sum equals the count-limited one exactly.
void horizontal(const float* src, int stride, const AxisFilter& fx, float* dst) {
  const int nw = fx.outSize;
  const int ks = fx.ksize;
  const float* weights = fx.weights.data();
  int x = 0;
  if (stride == 1) {
    for (; x + 4 <= nw; x += 4) {
      const float* w = weights + static_cast<size_t>(x) * ks;
      const float* s0 = src + fx.start[x];
      const float* s1 = src + fx.start[x + 1];
      const float* s2 = src + fx.start[x + 2];
      const float* s3 = src + fx.start[x + 3];
      float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (int k = 0; k < ks; k++) {
        a0 += w[k] * s0[k];
        a1 += w[ks + k] * s1[k];
        a2 += w[2 * ks + k] * s2[k];
        a3 += w[3 * ks + k] * s3[k];
      }
      dst[x] = a0;
      dst[x + 1] = a1;
      dst[x + 2] = a2;
      dst[x + 3] = a3;
    }
    for (; x < nw; x++) {
      const float* w = weights + static_cast<size_t>(x) * ks;
      const float* s = src + fx.start[x];
      float a = 0;
      for (int k = 0; k < ks; k++) a += w[k] * s[k];
      dst[x] = a;
    }
    return;
  }
  auto load = [](const float* p) {
    v4f v;
    std::memcpy(&v, p, sizeof v);  // 3-float pixels read one float past: rows carry padding
    return v;
  };
  for (; x + 4 <= nw; x += 4) {
    const float* w = weights + static_cast<size_t>(x) * ks;
    const float* s0 = src + static_cast<size_t>(fx.start[x]) * stride;
    const float* s1 = src + static_cast<size_t>(fx.start[x + 1]) * stride;
    const float* s2 = src + static_cast<size_t>(fx.start[x + 2]) * stride;
    const float* s3 = src + static_cast<size_t>(fx.start[x + 3]) * stride;
    v4f a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
    for (int k = 0, o = 0; k < ks; k++, o += stride) {
      a0 += w[k] * load(s0 + o);
      a1 += w[ks + k] * load(s1 + o);
      a2 += w[2 * ks + k] * load(s2 + o);
      a3 += w[3 * ks + k] * load(s3 + o);
    }
    float* d = dst + static_cast<size_t>(x) * 4;
    std::memcpy(d, &a0, sizeof a0);
    std::memcpy(d + 4, &a1, sizeof a1);
    std::memcpy(d + 8, &a2, sizeof a2);
    std::memcpy(d + 12, &a3, sizeof a3);
  }
  for (; x < nw; x++) {
    const float* w = weights + static_cast<size_t>(x) * ks;
    const float* s = src + static_cast<size_t>(fx.start[x]) * stride;
    v4f a = {0, 0, 0, 0};
    for (int k = 0, o = 0; k < ks; k++, o += stride) a += w[k] * load(s + o);
    std::memcpy(dst + static_cast<size_t>(x) * 4, &a, sizeof a);
  }
}

// acc += c * row, the vertical filter's inner loop.
ANCHORSEG_SIMD_CLONES
void accumulate(float* __restrict acc, const float* __restrict row, float c, size_t n) {
  for (size_t i = 0; i < n; i++) acc[i] += c * row[i];
}

template <typename T>
void writeRow(const float* acc, int lanes, const int* channel, const ImageParams& p, int y, T* out, T (*store)(double)) {
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

size_t tensorBytes(const ImageParams& p) { return static_cast<size_t>(3) * p.inputWidth * p.inputHeight * (p.fp16 ? 2 : 4); }

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
  // Zero padding: ksize pixels for the padded taps, plus one float for the 4-float loads.
  const size_t srcLen = static_cast<size_t>(w + fx.ksize) * stride + 4;
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
    const size_t used = static_cast<size_t>(w) * stride;
    std::memset(src + used, 0, (srcLen - used) * sizeof(float));
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
        accumulate(acc, tmp.get() + static_cast<size_t>(fy.start[y] + k) * rowLen, wy[k], rowLen);
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
