// Prints a hash of every kernel's output bytes over a fixed set of inputs, one line per case.
// The same source built for two architectures must print the same lines: native/scripts/check-arm64.sh
// diffs an x86-64 run (the build that test/kernels-golden.test.ts checks against the TypeScript
// reference) with an aarch64 run under qemu. Inputs come from integer arithmetic only (no
// <random> distributions, no libm), so they are identical everywhere.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../src/core/frame.h"
#include "../src/core/half.h"
#include "../src/core/image_kernel.h"
#include "../src/core/mask_kernel.h"
#include "../src/core/overlay.h"
#include "../src/core/rle.h"
#include "../src/core/row_pool.h"
#include "params.h"

using namespace anchorseg;
using test::letterboxed;

namespace {

struct Rng {  // splitmix64
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

uint64_t fnv(const void* data, size_t n, uint64_t h = 0xcbf29ce484222325ull) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

uint64_t total = 0xcbf29ce484222325ull;
int lines = 0;

void emit(const std::string& name, uint64_t h) {
  std::printf("%s %016llx\n", name.c_str(), static_cast<unsigned long long>(h));
  total = fnv(&h, sizeof h, total);
  lines++;
}

const Encoding kEncodings[] = {Encoding::Rgb8, Encoding::Bgr8, Encoding::Rgba8, Encoding::Bgra8, Encoding::Mono8, Encoding::Yuyv, Encoding::Nv12};

struct Frame {
  FrameView view;
  std::vector<uint8_t> bytes;
};

Frame makeFrame(Encoding e, int w, int h, int pad, uint64_t seed) {
  Frame f;
  f.view.width = w;
  f.view.height = h;
  f.view.encoding = e;
  f.view.step = static_cast<size_t>(w) * bytesPerPixel(e) + (e == Encoding::Nv12 ? (w & 1) : 0) + pad;
  f.bytes.resize(frameBytes(f.view));
  Rng r{seed};
  for (auto& b : f.bytes) b = static_cast<uint8_t>(r.next() >> 56);
  f.view.data = f.bytes.data();
  f.view.size = f.bytes.size();
  return f;
}

void images(RowPool* pool, const char* tag) {
  const int geometries[][4] = {{640, 480, 128, 128}, {641, 479, 128, 128}, {1280, 160, 128, 128}, {90, 700, 128, 128},   {16, 12, 128, 128},
                               {37, 23, 64, 96},     {2, 1, 32, 32},       {1, 9, 17, 5},         {1920, 1080, 128, 128}};
  for (Encoding e : kEncodings) {
    for (const auto& g : geometries) {
      const int w = e == Encoding::Yuyv ? g[0] + (g[0] & 1) : g[0];
      for (int pad : {0, 3}) {
        const Frame f = makeFrame(e, w, g[1], pad, static_cast<uint64_t>(w) * 7919 + g[1]);
        if (!checkFrame(f.view).empty()) {
          emit("frame-rejected", 0);
          continue;
        }
        for (bool fp16 : {false, true}) {
          ImageParams p = letterboxed(w, g[1], g[2], g[3]);
          p.fp16 = fp16;
          p.bgr = pad != 0;
          std::vector<uint8_t> out(tensorBytes(p));
          frameToTensor(f.view, p, out.data(), pool);
          char name[128];
          std::snprintf(name, sizeof name, "tensor/%s/%s/%dx%d+%d->%dx%d/%s", tag, encodingName(e), w, g[1], pad, g[2], g[3], fp16 ? "f16" : "f32");
          emit(name, fnv(out.data(), out.size()));
        }
      }
    }
  }
}

void masks() {
  const int cases[][6] = {{640, 480, 128, 128, 64, 64}, {480, 640, 128, 128, 64, 64}, {37, 23, 64, 96, 32, 48},      {1, 1, 128, 128, 64, 64},
                          {333, 211, 17, 5, 3, 1},      {16, 12, 128, 128, 1, 1},     {1920, 1080, 128, 128, 32, 32}};
  Rng r{5};
  for (const auto& c : cases) {
    // Smooth values (ties at the threshold are common with small integers / 4) and noisy ones.
    for (int kind = 0; kind < 3; kind++) {
      const LogitsParams p = test::logitsFor(c, kind == 2 ? 0.25 : 0);
      const size_t n = static_cast<size_t>(c[4]) * c[5];
      std::vector<float> logits(n);
      for (size_t i = 0; i < n; i++) {
        const int64_t v = static_cast<int64_t>(r.next() >> 40) - (1 << 23);  // [-2^23, 2^23)
        logits[i] = kind == 0 ? static_cast<float>(v >> 21) / 4 : static_cast<float>(v) / (1 << 20);
      }
      std::vector<uint8_t> mask(static_cast<size_t>(c[0]) * c[1]);
      const MaskStats s = logitsToMask(logits.data(), p, mask.data());
      const long long stats[5] = {s.area, s.x0, s.y0, s.x1, s.y1};
      char name[128];
      std::snprintf(name, sizeof name, "mask/%dx%d/%dx%d/%dx%d/kind%d", c[0], c[1], c[2], c[3], c[4], c[5], kind);
      emit(name, fnv(stats, sizeof stats, fnv(mask.data(), mask.size())));
      const std::string counts = encodeCounts(maskRuns(mask.data(), c[0], c[1]));
      emit(std::string("rle/") + (name + 5), fnv(counts.data(), counts.size()));
      std::vector<uint8_t> back(mask.size(), 0);
      const std::string err = decodeRle(counts, c[1], c[0], back.data());
      emit(std::string("rle-decode/") + (name + 5), fnv(err.data(), err.size(), fnv(back.data(), back.size())));
    }
  }
}

void rleErrors() {
  // Bytes >= 0x80 included: plain `char` is signed on x86-64 and unsigned on aarch64.
  Rng r{11};
  uint64_t h = 0xcbf29ce484222325ull;
  std::vector<uint8_t> m(4 * 5);
  for (int i = 0; i < 20000; i++) {
    std::string s(r.next() % 12, ' ');
    for (char& ch : s) ch = static_cast<char>(i % 4 == 0 ? r.next() & 0xff : 40 + r.next() % 80);
    std::fill(m.begin(), m.end(), 0);
    const std::string err = decodeRle(s, 4, 5, m.data());
    h = fnv(err.data(), err.size() + 1, fnv(m.data(), m.size(), h));
  }
  emit("rle-errors", h);
  for (const char* bad : {"p", "0\x7f", "ooooooo", "5", "02M", "\xc3\xa9", "\xff", "\x80" "1", "0000000000000000000000", "\"", "\\", "\x01"}) {
    std::fill(m.begin(), m.end(), 0);
    const std::string err = decodeRle(bad, 4, 5, m.data());
    emit("rle-error/" + err, fnv(m.data(), m.size()));
  }
}

void overlays() {
  for (Encoding e : kEncodings) {
    const Frame f = makeFrame(e, 50, 31, 2, 4);
    std::vector<uint8_t> mask(50 * 31);
    for (size_t i = 0; i < mask.size(); i++) mask[i] = (i % 7 == 0 || i % 11 == 3) ? 255 : 0;
    for (double alpha : {0.0, 0.3, 0.5, 0.77, 1.0}) {
      const uint8_t color[3] = {17, 255, 200};
      std::vector<uint8_t> out(50 * 31 * 3);
      overlay(f.view, mask.data(), color, alpha, out.data());
      char name[64];
      std::snprintf(name, sizeof name, "overlay/%s/%g", encodingName(e), alpha);
      emit(name, fnv(out.data(), out.size()));
    }
  }
}

void halves() {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint64_t bits = 0; bits < (1ull << 32); bits += 4099) {  // ~1M float32 patterns, all classes
    float v;
    const uint32_t b = static_cast<uint32_t>(bits);
    std::memcpy(&v, &b, sizeof v);
    const uint16_t r = halfBits(v);
    h = fnv(&r, sizeof r, h);
  }
  emit("half", h);
}

void messages() {
  Frame f = makeFrame(Encoding::Rgb8, 5, 4, 0, 1);
  std::string all;
  FrameView v = f.view;
  v.size -= 1;
  all += checkFrame(v) + "\n";
  v = f.view;
  v.step = 14;
  all += checkFrame(v) + "\n";
  v = f.view;
  v.width = kMaxSide + 1;
  all += checkFrame(v) + "\n";
  ImageParams p;
  all += checkImageParams(p) + "\n";
  p = letterboxed(5, 4, 8, 8);
  p.std[1] = 0;
  all += checkImageParams(p) + "\n";
  LogitsParams lp;
  all += checkLogitsParams(lp, 3) + "\n";
  emit("messages", fnv(all.data(), all.size()));
}

}  // namespace

int main() {
  images(nullptr, "inline");
  RowPool pool(3);
  images(&pool, "pool3");
  masks();
  rleErrors();
  overlays();
  halves();
  messages();
  std::printf("kernels_digest: %d cases, total %016llx\n", lines, static_cast<unsigned long long>(total));
  return 0;
}
