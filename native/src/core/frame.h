// A camera frame as the kernels see it: borrowed bytes plus the sensor_msgs/Image header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace anchorseg {

enum class Encoding { Rgb8, Bgr8, Rgba8, Bgra8, Mono8, Yuyv, Nv12 };

constexpr int kMaxSide = 16384;  // same bound as sdk/frame.ts

bool parseEncoding(std::string_view name, Encoding* out);
const char* encodingName(Encoding e);
// Bytes per pixel of the (first) plane.
int bytesPerPixel(Encoding e);

struct FrameView {
  const uint8_t* data = nullptr;
  size_t size = 0;
  int width = 0;
  int height = 0;
  size_t step = 0;
  Encoding encoding = Encoding::Rgb8;
};

// Bytes the frame's header says it needs (nv12: half-height chroma plane after the luma rows).
size_t frameBytes(const FrameView& f);

// Empty when every byte the kernels read lies inside `data`; otherwise a message in the
// SDK's "Expected ... but received ..." shape. The kernels assume a frame that passed this.
std::string checkFrame(const FrameView& f);

}  // namespace anchorseg
