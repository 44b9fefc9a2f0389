// Loops the compiler vectorises well with AVX2 but not with x86-64's SSE2 baseline (double ->
// byte narrowing) get an AVX2 clone chosen at load time; a prebuild stays runnable on any
// x86-64. Elsewhere (arm64: NEON is baseline) this is a no-op. FP results are identical either
// way: no fast-math, no FMA contraction (-ffp-contract=off).
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(ANCHORSEG_NO_CLONES)
#define ANCHORSEG_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define ANCHORSEG_AVX2_CLONE
#endif
