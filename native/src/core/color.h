// YUV -> RGB: BT.601 matrix, limited ("video") range, chroma replicated to the pixels sharing it.
// Same float64 tables and summation order as sdk/kernels/color.ts (bit-identical values).
#pragma once

#include <cmath>
#include <cstdint>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace anchorseg {

struct YuvTables {
  double y[256];
  double rv[256];
  double gu[256];
  double gv[256];
  double bu[256];
};

const YuvTables& yuvTables();

// Branch-free: camera noise makes out-of-gamut values unpredictable, and compilers keep
// `x < 0 ? 0 : ...` as branches for doubles. Same result as the TS ternaries (no NaN or -0 here).
inline double clamp255(double x) {
#if defined(__SSE2__)
  return _mm_cvtsd_f64(_mm_min_sd(_mm_max_sd(_mm_set_sd(x), _mm_setzero_pd()), _mm_set_sd(255.0)));
#elif defined(__aarch64__)
  return std::fmin(std::fmax(x, 0.0), 255.0);  // fmaxnm / fminnm
#else
  return x < 0 ? 0 : x > 255 ? 255 : x;
#endif
}

// RGB in [0, 255] as float64; callers store it as float32 (tensor) or round it (overlay).
inline void yuvToRgb(const YuvTables& t, uint8_t y, uint8_t u, uint8_t v, double* rgb) {
  const double yt = t.y[y];
  rgb[0] = clamp255(yt + t.rv[v]);
  rgb[1] = clamp255(yt + t.gu[u] + t.gv[v]);
  rgb[2] = clamp255(yt + t.bu[u]);
}

// Round half up for the non-negative values here, as Math.floor(x + 0.5) does in TS.
inline uint8_t roundByte(double x) { return static_cast<uint8_t>(std::floor(x + 0.5)); }

}  // namespace anchorseg
