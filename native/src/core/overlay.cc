#include "overlay.h"

#include <cmath>
#include <cstddef>

#include "color.h"

namespace anchorseg {

namespace {
// Row y of the frame as rgb8; yuv values rounded half up.
void rgbRow(const FrameView& f, int y, uint8_t* out) {
  const uint8_t* row = f.data + static_cast<size_t>(y) * f.step;
  const int w = f.width;
  double rgb[3];
  switch (f.encoding) {
    case Encoding::Rgb8:
      for (int i = 0; i < w * 3; i++) out[i] = row[i];
      return;
    case Encoding::Bgr8:
    case Encoding::Rgba8:
    case Encoding::Bgra8: {
      const int n = bytesPerPixel(f.encoding);
      const bool swap = f.encoding != Encoding::Rgba8;
      for (int x = 0; x < w; x++, row += n, out += 3) {
        out[0] = row[swap ? 2 : 0];
        out[1] = row[1];
        out[2] = row[swap ? 0 : 2];
      }
      return;
    }
    case Encoding::Mono8:
      for (int x = 0; x < w; x++, out += 3) out[0] = out[1] = out[2] = row[x];
      return;
    case Encoding::Yuyv: {
      const YuvTables& t = yuvTables();
      for (int x = 0; x < w; x += 2, row += 4) {
        for (int i = 0; i < 2; i++, out += 3) {
          yuvToRgb(t, row[2 * i], row[1], row[3], rgb);
          for (int c = 0; c < 3; c++) out[c] = roundByte(rgb[c]);
        }
      }
      return;
    }
    case Encoding::Nv12: {
      const YuvTables& t = yuvTables();
      const uint8_t* uv = f.data + static_cast<size_t>(f.height) * f.step + static_cast<size_t>(y >> 1) * f.step;
      for (int x = 0; x < w; x++, out += 3) {
        yuvToRgb(t, row[x], uv[x & ~1], uv[(x & ~1) + 1], rgb);
        for (int c = 0; c < 3; c++) out[c] = roundByte(rgb[c]);
      }
      return;
    }
  }
}
}  // namespace

void overlay(const FrameView& frame, const uint8_t* mask, const uint8_t color[3], double alpha, uint8_t* out) {
  uint8_t blend[3][256];
  for (int c = 0; c < 3; c++) {
    for (int v = 0; v < 256; v++) blend[c][v] = static_cast<uint8_t>(std::floor(v * (1 - alpha) + color[c] * alpha + 0.5));
  }
  const int w = frame.width;
  for (int y = 0; y < frame.height; y++) {
    uint8_t* o = out + static_cast<size_t>(y) * w * 3;
    rgbRow(frame, y, o);
    const uint8_t* m = mask + static_cast<size_t>(y) * w;
    for (int x = 0; x < w; x++) {
      if (m[x] == 0) continue;
      for (int c = 0; c < 3; c++) o[x * 3 + c] = blend[c][o[x * 3 + c]];
    }
  }
}

}  // namespace anchorseg
