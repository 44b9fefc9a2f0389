// Plain C++ tests of the kernels core (no Node-API), built with ASan + UBSan by the Makefile
// (`npm run test:native-asan`). Inputs are allocated at exactly the size the header declares, so
// any read past a frame, a logits map or a mask is a reported heap-buffer-overflow.
// Equality with the TypeScript reference is tested in test/kernels-golden.test.ts; this file
// checks memory safety, error paths and invariants that need no reference.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../src/core/filter.h"
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

// Atomic: CHECK also runs on the row pool's threads (testRowPool).
std::atomic<int> failures{0};
std::atomic<int> checks{0};

#define CHECK(cond)                                                                 \
  do {                                                                              \
    checks++;                                                                       \
    if (!(cond)) {                                                                  \
      failures++;                                                                   \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                               \
  } while (0)

const Encoding kEncodings[] = {Encoding::Rgb8, Encoding::Bgr8, Encoding::Rgba8, Encoding::Bgra8, Encoding::Mono8, Encoding::Yuyv, Encoding::Nv12};

// A heap block of exactly n bytes (a vector's capacity may exceed its size; new[] of n does not).
struct Exact {
  explicit Exact(size_t n) : size(n), data(new uint8_t[n == 0 ? 1 : n]) {}
  size_t size;
  std::unique_ptr<uint8_t[]> data;
};

struct TestFrame {
  FrameView view;
  std::unique_ptr<Exact> bytes;
};

TestFrame makeFrame(Encoding e, int w, int h, int pad, uint32_t seed, int fill = -1) {
  TestFrame f;
  f.view.width = w;
  f.view.height = h;
  f.view.encoding = e;
  f.view.step = static_cast<size_t>(w) * bytesPerPixel(e) + (e == Encoding::Nv12 ? (w & 1) : 0) + pad;
  f.bytes = std::make_unique<Exact>(frameBytes(f.view));
  std::mt19937 rng(seed);
  for (size_t i = 0; i < f.bytes->size; i++) f.bytes->data[i] = fill >= 0 ? static_cast<uint8_t>(fill) : static_cast<uint8_t>(rng());
  f.view.data = f.bytes->data.get();
  f.view.size = f.bytes->size;
  return f;
}

void testFrameChecks() {
  TestFrame f = makeFrame(Encoding::Rgb8, 5, 4, 0, 1);
  CHECK(checkFrame(f.view).empty());
  FrameView short_ = f.view;
  short_.size -= 1;
  CHECK(checkFrame(short_).find("Expected at least 60 bytes") == 0);
  FrameView narrow = f.view;
  narrow.step = 14;
  CHECK(!checkFrame(narrow).empty());
  FrameView huge = f.view;
  huge.width = kMaxSide + 1;
  CHECK(!checkFrame(huge).empty());
  FrameView null = f.view;
  null.data = nullptr;
  CHECK(!checkFrame(null).empty());
  TestFrame y = makeFrame(Encoding::Yuyv, 6, 3, 0, 2);
  y.view.width = 5;
  CHECK(checkFrame(y.view).find("even width") != std::string::npos);
  TestFrame n = makeFrame(Encoding::Nv12, 5, 3, 0, 3);  // step 6: whole UV pairs
  CHECK(checkFrame(n.view).empty());
  n.view.step = 5;
  CHECK(!checkFrame(n.view).empty());
  FrameView overflow = f.view;
  overflow.step = SIZE_MAX / 2;
  CHECK(!checkFrame(overflow).empty());
  Encoding e;
  CHECK(parseEncoding("nv12", &e) && e == Encoding::Nv12);
  CHECK(!parseEncoding("yuv420", &e));
}

void testHalf() {
  CHECK(halfBits(1.0f) == 0x3c00);
  CHECK(halfBits(-2.0f) == 0xc000);
  CHECK(halfBits(65504.0f) == 0x7bff);
  CHECK(halfBits(65520.0f) == 0x7c00);  // rounds up to infinity
  CHECK(halfBits(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(halfBits(std::ldexp(1.0f, -25)) == 0x0000);  // tie to even
  CHECK(halfBits(3 * std::ldexp(1.0f, -25)) == 0x0002);
  CHECK(halfBits(-0.0f) == 0x8000);
  CHECK(halfBits(NAN) == 0x7e00);
  CHECK(halfBits(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);  // tie to even (down)
  CHECK(halfBits(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);  // tie to even (up)
}

void testFilter() {
  for (auto [in, out] : {std::pair{640, 128}, {7, 3}, {3, 7}, {1, 9}, {9, 1}, {1920, 128}}) {
    const AxisFilter f = makeAxisFilter(in, out);
    for (int i = 0; i < out; i++) {
      CHECK(f.count[i] >= 1 && f.count[i] <= f.ksize);
      CHECK(f.start[i] >= 0 && f.start[i] + f.count[i] <= in);
      double sum = 0;
      for (int k = 0; k < f.count[i]; k++) sum += f.weights[static_cast<size_t>(i) * f.ksize + k];
      CHECK(std::fabs(sum - 1) < 1e-6);
    }
  }
}

// Every geometry and encoding runs clean; a uniform frame gives a uniform, correctly normalised tensor.
void testImageKernel(RowPool* pool) {
  const int geometries[][4] = {{640, 480, 128, 128}, {641, 479, 128, 128}, {1280, 160, 128, 128}, {90, 700, 128, 128},
                               {16, 12, 128, 128},   {37, 23, 64, 96},     {2, 1, 32, 32},        {1, 9, 17, 5}};
  for (Encoding e : kEncodings) {
    for (const auto& g : geometries) {
      const int w = e == Encoding::Yuyv ? g[0] + (g[0] & 1) : g[0];
      for (int pad : {0, 3}) {
        TestFrame f = makeFrame(e, w, g[1], pad, static_cast<uint32_t>(w * 7 + g[1]));
        CHECK(checkFrame(f.view).empty());
        for (bool fp16 : {false, true}) {
          ImageParams p = letterboxed(w, g[1], g[2], g[3]);
          p.fp16 = fp16;
          p.bgr = pad != 0;
          CHECK(checkImageParams(p).empty());
          Exact out(tensorBytes(p));
          frameToTensor(f.view, p, out.data.get(), pool);
          if (!fp16) {
            const float* t = reinterpret_cast<const float*>(out.data.get());
            bool finite = true;
            for (size_t i = 0; i < out.size / 4; i++) finite = finite && std::isfinite(t[i]);
            CHECK(finite);
            // Padding (right of the content, and below it) is 0.
            CHECK(t[static_cast<size_t>(p.inputWidth) * p.inputHeight - 1] == 0 || (p.contentWidth == p.inputWidth && p.contentHeight == p.inputHeight));
          }
        }
      }
    }
  }
  // Uniform grey 200 (YUV: Y=200, U=V=128 is grey (200-16)*255/219 in RGB).
  for (Encoding e : kEncodings) {
    const bool yuv = e == Encoding::Yuyv || e == Encoding::Nv12;
    TestFrame f = makeFrame(e, 50, 30, 1, 0, 200);
    if (yuv) {
      // Chroma bytes to 128: yuyv odd bytes, nv12 the plane after the luma rows.
      for (size_t i = 0; i < f.bytes->size; i++) {
        const bool chroma = e == Encoding::Yuyv ? (i % f.view.step) % 2 == 1 : i >= f.view.step * 30;
        if (chroma) f.bytes->data[i] = 128;
      }
    }
    ImageParams p = letterboxed(50, 30, 40, 40);
    Exact out(tensorBytes(p));
    frameToTensor(f.view, p, out.data.get(), pool);
    const float* t = reinterpret_cast<const float*>(out.data.get());
    const double v = yuv ? (200.0 - 16) * 255 / 219 : 200.0;
    for (int c = 0; c < 3; c++) {
      const float expected = static_cast<float>((v / 255 - p.mean[c]) / p.std[c]);
      const float got = t[static_cast<size_t>(c) * 40 * 40 + 5 * 40 + 7];
      CHECK(std::fabs(got - expected) < 1e-5);
    }
  }
}

void testMaskKernel() {
  const int cases[][6] = {{640, 480, 128, 128, 64, 64}, {480, 640, 128, 128, 64, 64}, {37, 23, 64, 96, 32, 48},
                          {1, 1, 128, 128, 64, 64},     {333, 211, 17, 5, 3, 1},      {16, 12, 128, 128, 1, 1}};
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0, 2);
  for (const auto& c : cases) {
    LogitsParams p = test::logitsFor(c);
    const size_t n = static_cast<size_t>(c[4]) * c[5];
    std::unique_ptr<float[]> logits(new float[n]);
    for (size_t i = 0; i < n; i++) logits[i] = noise(rng);
    CHECK(checkLogitsParams(p, n).empty());
    CHECK(!checkLogitsParams(p, n + 1).empty());
    Exact mask(static_cast<size_t>(c[0]) * c[1]);
    const MaskStats s = logitsToMask(logits.get(), p, mask.data.get());
    long long area = 0;
    int x0 = c[0], y0 = c[1], x1 = -1, y1 = -1;
    for (int y = 0; y < c[1]; y++) {
      for (int x = 0; x < c[0]; x++) {
        const uint8_t v = mask.data[static_cast<size_t>(y) * c[0] + x];
        CHECK(v == 0 || v == 255);
        if (v) {
          area++;
          x0 = std::min(x0, x);
          x1 = std::max(x1, x);
          y0 = std::min(y0, y);
          y1 = std::max(y1, y);
        }
      }
    }
    CHECK(s.area == area);
    if (area > 0) CHECK(s.x0 == x0 && s.x1 == x1 && s.y0 == y0 && s.y1 == y1);
    // Every SIMD clone must give the bytes of the plain float64 expression (docs/bundle-format.md).
    bool same = true;
    for (int y = 0; y < c[1]; y++) {
      for (int x = 0; x < c[0]; x++) {
        auto tap = [](int i, int frame, int content, int input, int n, int* a, int* b) {
          double u = ((((i + 0.5) * content) / frame) * n) / input - 0.5;
          u = u < 0 ? 0 : u > n - 1 ? n - 1 : u;
          *a = static_cast<int>(std::floor(u));
          *b = *a + 1 < n ? *a + 1 : n - 1;
          return u - *a;
        };
        int xa, xb, ya, yb;
        const double fx = tap(x, c[0], p.contentWidth, c[2], c[4], &xa, &xb);
        const double fy = tap(y, c[1], p.contentHeight, c[3], c[5], &ya, &yb);
        auto row = [&](int r) { return static_cast<double>(logits[r * c[4] + xa]) * (1 - fx) + static_cast<double>(logits[r * c[4] + xb]) * fx; };
        const bool on = row(ya) * (1 - fy) + row(yb) * fy > p.threshold;
        same = same && (mask.data[static_cast<size_t>(y) * c[0] + x] == (on ? 255 : 0));
      }
    }
    CHECK(same);
  }
  LogitsParams bad;
  CHECK(!checkLogitsParams(bad, 0).empty());
}

void testRle() {
  // pycocotools: a 1x1 foreground pixel is "01"; the 1x37 row below is from test/fixtures/rle-vectors.json.
  const uint8_t one[1] = {255};
  CHECK(encodeCounts(maskRuns(one, 1, 1)) == "01");
  const char* row = "0101011010001011100011110111101010010";
  Exact rowMask(37);
  for (int i = 0; i < 37; i++) rowMask.data[i] = row[i] == '1' ? 255 : 0;
  CHECK(encodeCounts(maskRuns(rowMask.data.get(), 37, 1)) == "1110010O20N221N00M0010O");

  std::mt19937 rng(9);
  for (auto [w, h] : {std::pair{1, 1}, {640, 480}, {37, 23}, {1, 1000}, {1000, 1}}) {
    for (int density : {0, 3, 50, 97, 100}) {
      Exact m(static_cast<size_t>(w) * h);
      for (size_t i = 0; i < m.size; i++) m.data[i] = static_cast<int>(rng() % 100) < density ? 255 : 0;
      const std::string counts = encodeCounts(maskRuns(m.data.get(), w, h));
      Exact back(m.size);
      std::memset(back.data.get(), 0, back.size);
      CHECK(decodeRle(counts, h, w, back.data.get()).empty());
      CHECK(std::memcmp(back.data.get(), m.data.get(), m.size) == 0);
      // Truncations and wrong sizes are errors, never out-of-bounds writes.
      if (counts.size() > 1) {
        std::memset(back.data.get(), 0, back.size);
        CHECK(!decodeRle(std::string_view(counts).substr(0, counts.size() - 1), h, w, back.data.get()).empty());
      }
      if (h > 1) {
        Exact smaller(static_cast<size_t>(w) * (h - 1));
        std::memset(smaller.data.get(), 0, smaller.size);
        CHECK(!decodeRle(counts, h - 1, w, smaller.data.get()).empty());
      }
    }
  }
  Exact tiny(4);
  for (const char* bad : {"p", "0\x7f", "ooooooo", "5", "02M", "\xc3\xa9", "0000000000000000000000"}) {
    std::memset(tiny.data.get(), 0, 4);
    CHECK(!decodeRle(bad, 2, 2, tiny.data.get()).empty());
  }
  // Random strings: any outcome but a crash or an out-of-bounds write.
  for (int i = 0; i < 2000; i++) {
    std::string s(rng() % 12, ' ');
    for (char& ch : s) ch = static_cast<char>(40 + rng() % 80);
    std::memset(tiny.data.get(), 0, 4);
    decodeRle(s, 2, 2, tiny.data.get());
  }
}

void testOverlay() {
  for (Encoding e : kEncodings) {
    TestFrame f = makeFrame(e, 50, 31, 2, 4);
    Exact mask(50 * 31);
    for (size_t i = 0; i < mask.size; i++) mask.data[i] = (i % 7 == 0) ? 255 : 0;
    Exact out(50 * 31 * 3);
    const uint8_t color[3] = {0, 255, 0};
    overlay(f.view, mask.data.get(), color, 1.0, out.data.get());
    CHECK(out.data[0] == 0 && out.data[1] == 255 && out.data[2] == 0);  // pixel 0 is masked, alpha 1
  }
  TestFrame g = makeFrame(Encoding::Rgb8, 2, 1, 0, 0, 100);
  const uint8_t mask[2] = {255, 0};
  uint8_t out[6];
  const uint8_t color[3] = {255, 0, 51};
  overlay(g.view, mask, color, 0.5, out);
  CHECK(out[0] == 178 && out[1] == 50 && out[2] == 76);  // floor(v/2 + c/2 + 0.5)
  CHECK(out[3] == 100 && out[4] == 100 && out[5] == 100);
}

void testRowPool() {
  RowPool pool(3);
  CHECK(pool.threads() == 3);
  std::vector<int> hits(1000, 0);
  pool.parallelFor(1000, 10, 3, [&](int chunk, int begin, int end) {
    CHECK(chunk >= 0 && chunk < 3);
    for (int i = begin; i < end; i++) hits[i]++;
  });
  bool once = true;
  for (int v : hits) once = once && v == 1;
  CHECK(once);
  // Two callers at once: one gets the pool, the other runs inline; both cover their range.
  std::vector<int> a(5000, 0), b(5000, 0);
  std::thread t([&] {
    for (int r = 0; r < 50; r++)
      pool.parallelFor(5000, 10, 3, [&](int, int s, int e) {
        for (int i = s; i < e; i++) a[i]++;
      });
  });
  for (int r = 0; r < 50; r++)
    pool.parallelFor(5000, 10, 3, [&](int, int s, int e) {
      for (int i = s; i < e; i++) b[i]++;
    });
  t.join();
  bool all = true;
  for (int i = 0; i < 5000; i++) all = all && a[i] == 50 && b[i] == 50;
  CHECK(all);
  CHECK(pool.setThreads(1) == 1);
  CHECK(pool.setThreads(4) == 4);
  // Workers started after jobs have run must wait for the next job, not replay the last one
  // (they used to wake on the old generation and call a null job). Give them time to misbehave.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::vector<int> c(1000, 0);
  pool.parallelFor(1000, 10, 4, [&](int, int s, int e) {
    for (int i = s; i < e; i++) c[i]++;
  });
  bool after = true;
  for (int v : c) after = after && v == 1;
  CHECK(after);
}

}  // namespace

int main() {
  testFrameChecks();
  testHalf();
  testFilter();
  testImageKernel(nullptr);
  RowPool pool(2);
  testImageKernel(&pool);
  testMaskKernel();
  testRle();
  testOverlay();
  testRowPool();
  std::printf("kernels_test: %d passed, %d failed\n", checks - failures, failures.load());
  return failures == 0 ? 0 : 1;
}
