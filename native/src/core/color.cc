#include "color.h"

namespace anchorseg {

namespace {
constexpr double kKr = 0.299;
constexpr double kKb = 0.114;
constexpr double kKg = 1 - kKr - kKb;
constexpr double kYScale = 255.0 / 219;
constexpr double kCScale = 255.0 / 224;

YuvTables build() {
  YuvTables t{};
  for (int i = 0; i < 256; i++) {
    t.y[i] = kYScale * (i - 16);
    t.rv[i] = kCScale * (2 * (1 - kKr)) * (i - 128);
    t.gu[i] = -kCScale * ((2 * (1 - kKb) * kKb) / kKg) * (i - 128);
    t.gv[i] = -kCScale * ((2 * (1 - kKr) * kKr) / kKg) * (i - 128);
    t.bu[i] = kCScale * (2 * (1 - kKb)) * (i - 128);
  }
  return t;
}
}  // namespace

const YuvTables& yuvTables() {
  static const YuvTables tables = build();
  return tables;
}

}  // namespace anchorseg
