// Antialiased triangle filter taps for one axis (docs/bundle-format.md, Preprocessing step 3).
#pragma once

#include <vector>

namespace anchorseg {

struct AxisFilter {
  int inSize = 0;
  int outSize = 0;
  int ksize = 0;            // taps per output, padded; weights has outSize * ksize entries
  std::vector<int> start;   // first source index per output
  std::vector<int> count;   // taps used per output
  std::vector<float> weights;
};

// Same float64 expressions as sdk/kernels/filter.ts, so the float32 weights are bit-identical.
AxisFilter makeAxisFilter(int inSize, int outSize);

}  // namespace anchorseg
