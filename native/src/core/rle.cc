#include "rle.h"

#include <cstdio>
#include <cstring>

namespace anchorseg {

std::vector<uint32_t> maskRuns(const uint8_t* mask, int width, int height) {
  std::vector<uint32_t> runs;
  uint8_t current = 0;
  uint32_t run = 0;
  for (int x = 0; x < width; x++) {
    const uint8_t* p = mask + x;
    for (int y = 0; y < height; y++, p += width) {
      const uint8_t v = *p != 0;
      if (v != current) {
        runs.push_back(run);
        run = 0;
        current = v;
      }
      run++;
    }
  }
  runs.push_back(run);
  return runs;
}

std::string encodeCounts(const std::vector<uint32_t>& runs) {
  std::string s;
  s.reserve(runs.size() * 2);
  for (size_t i = 0; i < runs.size(); i++) {
    long long x = runs[i];
    if (i > 2) x -= runs[i - 2];
    bool more = true;
    while (more) {
      int c = static_cast<int>(x & 0x1f);
      x >>= 5;  // arithmetic: negative deltas end at -1, as in maskApi.c
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      s.push_back(static_cast<char>(c + 48));
    }
  }
  return s;
}

namespace {
std::string bad(const std::string& what) { return "Expected " + what + " in rle.counts"; }

std::string quoted(char c) {
  // JSON.stringify of a one-character string (the TS message), ASCII only: UTF-8 and UTF-16
  // positions agree up to the first non-ASCII character, which is always the one reported.
  if (c == '"' || c == '\\') return std::string("\"\\") + c + "\"";
  const unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x80) return "a non-ASCII character";
  if (u < 0x20) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "\"\\u%04x\"", u);
    return buf;
  }
  return std::string("\"") + c + "\"";
}
}  // namespace

std::string decodeRle(std::string_view counts, int height, int width, uint8_t* mask) {
  const long long total = static_cast<long long>(height) * width;
  std::vector<long long> runs;
  long long sum = 0;
  size_t p = 0;
  // Column-major cursor for painting foreground runs.
  int cx = 0;
  int cy = 0;
  while (p < counts.size()) {
    long long x = 0;
    int k = 0;
    bool more = true;
    while (more) {
      if (p >= counts.size()) return bad("a complete run at the end");
      const int c = static_cast<int>(static_cast<unsigned char>(counts[p])) - 48;
      if (c < 0 || c > 63) return bad("characters between \"0\" and \"o\" but found " + quoted(counts[p]) + " at " + std::to_string(p));
      if (k > 5) return bad("a run of at most 6 characters at " + std::to_string(p));
      x |= static_cast<long long>(c & 0x1f) << (5 * k);
      more = (c & 0x20) != 0;
      p++;
      k++;
      if (!more && (c & 0x10)) x |= ~((1LL << (5 * k)) - 1);  // sign-extend
    }
    if (runs.size() > 2) x += runs[runs.size() - 2];
    if (x < 0 || sum + x > total) {
      return bad("runs summing to " + std::to_string(total) + " but run " + std::to_string(runs.size()) + " is " + std::to_string(x) + " after " +
                 std::to_string(sum));
    }
    if (runs.size() & 1) {
      for (long long i = 0; i < x; i++) {
        mask[static_cast<size_t>(cy) * width + cx] = 255;
        if (++cy == height) {
          cy = 0;
          cx++;
        }
      }
    } else {
      const long long at = static_cast<long long>(cx) * height + cy + x;
      cx = static_cast<int>(at / height);
      cy = static_cast<int>(at % height);
    }
    sum += x;
    runs.push_back(x);
  }
  if (sum != total) return bad("runs summing to " + std::to_string(total) + " (height x width) but they sum to " + std::to_string(sum));
  return {};
}

}  // namespace anchorseg
