// Loops the compiler vectorises well with AVX-512/AVX2 but not with x86-64's SSE2 baseline
// (double -> byte narrowing, gathers) get clones chosen at load time, so a prebuild stays
// runnable on any x86-64 (measured on the mask kernel, 640x480: SSE2 0.16 ms, AVX2 0.10 ms,
// x86-64-v4 0.063 ms of CPU). Elsewhere (arm64: NEON is baseline) this is a no-op. FP results
// are identical in every clone: no fast-math, no FMA contraction (-ffp-contract=off).
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(ANCHORSEG_NO_CLONES)
#define ANCHORSEG_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define ANCHORSEG_SIMD_CLONES
#endif
