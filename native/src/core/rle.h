// COCO RLE, byte-compatible with pycocotools' compressed strings (maskApi.c rleToString /
// rleFrString): column-major runs starting with background; same checks and messages as
// sdk/kernels/rle.ts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace anchorseg {

// Column-major run lengths of a row-major mask (non-zero = foreground).
std::vector<uint32_t> maskRuns(const uint8_t* mask, int width, int height);

std::string encodeCounts(const std::vector<uint32_t>& runs);

// Paints the runs of `counts` into a zeroed row-major mask as 255. Returns an error message
// ("Expected ... in rle.counts") when the string is malformed or its runs do not cover height x width.
std::string decodeRle(std::string_view counts, int height, int width, uint8_t* mask);

}  // namespace anchorseg
