#include "filter.h"

#include <algorithm>
#include <cmath>

namespace anchorseg {

AxisFilter makeAxisFilter(int inSize, int outSize) {
  AxisFilter f;
  const double scale = static_cast<double>(inSize) / outSize;
  const double support = std::max(scale, 1.0);
  f.inSize = inSize;
  f.outSize = outSize;
  f.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  f.start.resize(outSize);
  f.count.resize(outSize);
  f.weights.assign(static_cast<size_t>(outSize) * f.ksize, 0.0f);
  std::vector<double> w(f.ksize);
  for (int i = 0; i < outSize; i++) {
    const double center = (i + 0.5) * scale;
    const int lo = std::max(0, static_cast<int>(std::floor(center - support + 0.5)));
    const int hi = std::min(inSize, static_cast<int>(std::floor(center + support + 0.5)));
    double total = 0;
    for (int j = lo; j < hi; j++) {
      const double x = std::max(0.0, 1.0 - std::fabs((j + 0.5 - center) / support));
      w[j - lo] = x;
      total += x;
    }
    f.start[i] = lo;
    f.count[i] = hi - lo;
    for (int j = 0; j < hi - lo; j++) f.weights[static_cast<size_t>(i) * f.ksize + j] = static_cast<float>(total > 0 ? w[j] / total : 0);
  }
  return f;
}

}  // namespace anchorseg
