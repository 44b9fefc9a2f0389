#include "mask_kernel.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "frame.h"
#include "simd.h"

namespace anchorseg {

namespace {

struct Taps {
  std::vector<int> i0;
  std::vector<int> i1;
  std::vector<double> f;
};

// u = (x + 0.5) * content / frame * logits / input - 0.5, clamped to [0, logits - 1].
Taps logitsTaps(int frameSize, int content, int input, int logits) {
  Taps t;
  t.i0.resize(frameSize);
  t.i1.resize(frameSize);
  t.f.resize(frameSize);
  for (int x = 0; x < frameSize; x++) {
    double u = ((((x + 0.5) * content) / frameSize) * logits) / input - 0.5;
    u = u < 0 ? 0 : u > logits - 1 ? logits - 1 : u;
    const int a = static_cast<int>(std::floor(u));
    t.i0[x] = a;
    t.i1[x] = a + 1 < logits ? a + 1 : logits - 1;
    t.f[x] = u - a;
  }
  return t;
}

// One frame row: blend two interpolated logits rows, threshold to 0 / 255, count the hits.
ANCHORSEG_SIMD_CLONES
int thresholdRow(const double* __restrict a, const double* __restrict b, double gy, double fy, double threshold, uint8_t* __restrict m, int w) {
  for (int x = 0; x < w; x++) m[x] = a[x] * gy + b[x] * fy > threshold ? 255 : 0;
  int count = 0;
  for (int x = 0; x < w; x++) count += m[x] & 1;
  return count;
}

// One logits row interpolated at every frame column.
ANCHORSEG_SIMD_CLONES
void interpolateRow(const float* __restrict l, const int* __restrict i0, const int* __restrict i1, const double* __restrict f, double* __restrict out, int w) {
  for (int x = 0; x < w; x++) out[x] = static_cast<double>(l[i0[x]]) * (1 - f[x]) + static_cast<double>(l[i1[x]]) * f[x];
}

std::string side(const char* name, int v) {
  return "Expected integer between 1 and " + std::to_string(kMaxSide) + " for " + name + " but received " + std::to_string(v);
}

}  // namespace

std::string checkLogitsParams(const LogitsParams& p, size_t count) {
  const struct {
    const char* name;
    int v;
  } sides[] = {{"logitsWidth", p.logitsWidth},   {"logitsHeight", p.logitsHeight},   {"inputWidth", p.inputWidth}, {"inputHeight", p.inputHeight},
               {"contentWidth", p.contentWidth}, {"contentHeight", p.contentHeight}, {"frameWidth", p.frameWidth}, {"frameHeight", p.frameHeight}};
  for (const auto& s : sides) {
    if (s.v < 1 || s.v > kMaxSide) return side(s.name, s.v);
  }
  if (p.contentWidth > p.inputWidth)
    return "Expected integer <= inputWidth " + std::to_string(p.inputWidth) + " for letterbox.contentWidth but received " + std::to_string(p.contentWidth);
  if (p.contentHeight > p.inputHeight)
    return "Expected integer <= inputHeight " + std::to_string(p.inputHeight) + " for letterbox.contentHeight but received " + std::to_string(p.contentHeight);
  const size_t need = static_cast<size_t>(p.logitsWidth) * p.logitsHeight;
  if (count != need) {
    return "Expected " + std::to_string(need) + " values (" + std::to_string(p.logitsWidth) + "x" + std::to_string(p.logitsHeight) +
           ") for logits but received " + std::to_string(count);
  }
  if (std::isnan(p.threshold)) return "Expected a number for threshold but received NaN";
  return {};
}

MaskStats logitsToMask(const float* logits, const LogitsParams& p, uint8_t* mask) {
  const int w = p.frameWidth;
  const int h = p.frameHeight;
  const int lw = p.logitsWidth;
  const Taps tx = logitsTaps(w, p.contentWidth, p.inputWidth, lw);
  const Taps ty = logitsTaps(h, p.contentHeight, p.inputHeight, p.logitsHeight);

  // Each logits row a frame row needs, interpolated at every frame column once.
  std::vector<char> needed(p.logitsHeight, 0);
  for (int y = 0; y < h; y++) needed[ty.i0[y]] = needed[ty.i1[y]] = 1;
  std::unique_ptr<double[]> rows(new double[static_cast<size_t>(p.logitsHeight) * w]);
  for (int r = 0; r < p.logitsHeight; r++) {
    if (!needed[r]) continue;
    interpolateRow(logits + static_cast<size_t>(r) * lw, tx.i0.data(), tx.i1.data(), tx.f.data(), rows.get() + static_cast<size_t>(r) * w, w);
  }

  MaskStats s;
  s.x0 = w;
  s.y0 = h;
  const double threshold = p.threshold;
  for (int y = 0; y < h; y++) {
    const double* a = rows.get() + static_cast<size_t>(ty.i0[y]) * w;
    const double* b = rows.get() + static_cast<size_t>(ty.i1[y]) * w;
    const double fy = ty.f[y];
    const double gy = 1 - fy;
    uint8_t* m = mask + static_cast<size_t>(y) * w;
    const int count = thresholdRow(a, b, gy, fy, threshold, m, w);
    if (count == 0) continue;
    s.area += count;
    int first = 0;
    while (m[first] == 0) first++;
    int last = w - 1;
    while (m[last] == 0) last--;
    if (first < s.x0) s.x0 = first;
    if (last > s.x1) s.x1 = last;
    if (y < s.y0) s.y0 = y;
    s.y1 = y;
  }
  return s;
}

}  // namespace anchorseg
