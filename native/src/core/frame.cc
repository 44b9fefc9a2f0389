#include "frame.h"

namespace anchorseg {

namespace {
struct Named {
  const char* name;
  Encoding encoding;
  int bytes;
};
constexpr Named kEncodings[] = {
    {"rgb8", Encoding::Rgb8, 3},   {"bgr8", Encoding::Bgr8, 3}, {"rgba8", Encoding::Rgba8, 4}, {"bgra8", Encoding::Bgra8, 4},
    {"mono8", Encoding::Mono8, 1}, {"yuyv", Encoding::Yuyv, 2}, {"nv12", Encoding::Nv12, 1},
};
}  // namespace

bool parseEncoding(std::string_view name, Encoding* out) {
  for (const auto& e : kEncodings) {
    if (name == e.name) {
      *out = e.encoding;
      return true;
    }
  }
  return false;
}

const char* encodingName(Encoding e) { return kEncodings[static_cast<int>(e)].name; }

int bytesPerPixel(Encoding e) { return kEncodings[static_cast<int>(e)].bytes; }

size_t frameBytes(const FrameView& f) {
  const size_t rows = static_cast<size_t>(f.height);
  return f.encoding == Encoding::Nv12 ? f.step * (rows + (rows + 1) / 2) : f.step * rows;
}

std::string checkFrame(const FrameView& f) {
  const std::string side = "integer between 1 and " + std::to_string(kMaxSide);
  if (f.width < 1 || f.width > kMaxSide) return "Expected " + side + " for frame.width but received " + std::to_string(f.width);
  if (f.height < 1 || f.height > kMaxSide) return "Expected " + side + " for frame.height but received " + std::to_string(f.height);
  if (f.encoding == Encoding::Yuyv && f.width % 2 != 0) {
    return "Expected an even width for yuyv for frame.width but received " + std::to_string(f.width);
  }
  size_t minStep = static_cast<size_t>(f.width) * static_cast<size_t>(bytesPerPixel(f.encoding));
  if (f.encoding == Encoding::Nv12) minStep += static_cast<size_t>(f.width & 1);  // whole UV pairs
  if (f.step < minStep) {
    return "Expected integer >= " + std::to_string(minStep) + " for frame.step (" + encodingName(f.encoding) + ", width " + std::to_string(f.width) +
           ") but received " + std::to_string(f.step);
  }
  if (f.step > (SIZE_MAX / 2) / static_cast<size_t>(f.height)) return "Expected a smaller frame.step but received " + std::to_string(f.step);
  const size_t need = frameBytes(f);
  if (f.data == nullptr || f.size < need) {
    return "Expected at least " + std::to_string(need) + " bytes of data for a " + std::to_string(f.width) + "x" + std::to_string(f.height) + " " +
           encodingName(f.encoding) + " frame with step " + std::to_string(f.step) + " but received " + std::to_string(f.data == nullptr ? 0 : f.size);
  }
  return {};
}

}  // namespace anchorseg
