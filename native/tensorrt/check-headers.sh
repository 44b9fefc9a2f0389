#!/usr/bin/env bash
# Compiles every native/tensorrt/*.cc to an object file against given TensorRT and CUDA headers,
# with binding.gyp's flags (read from it) plus those node-gyp adds on Linux. Catches API mistakes
# on a machine without TensorRT libraries or a GPU; it links nothing and runs nothing.
#   TENSORRT_INCLUDE=/path/with/NvInfer.h CUDA_INCLUDE=/path/with/cuda_runtime_api.h \
#     bash native/tensorrt/check-headers.sh
# Not part of CI or `npm test`: those machines have no TensorRT headers (docs/tensorrt.md).
set -euo pipefail
cd "$(dirname "$0")/../.."

[ -n "${TENSORRT_INCLUDE:-}" ] || { echo "check-headers: set TENSORRT_INCLUDE to the folder holding NvInfer.h and NvOnnxParser.h" >&2; exit 2; }
[ -n "${CUDA_INCLUDE:-}" ] || { echo "check-headers: set CUDA_INCLUDE to the folder holding cuda_runtime_api.h" >&2; exit 2; }
for f in "$TENSORRT_INCLUDE/NvInferVersion.h" "$TENSORRT_INCLUDE/NvOnnxParser.h" "$CUDA_INCLUDE/cuda_runtime_api.h"; do
  [ -f "$f" ] || { echo "check-headers: $f not found" >&2; exit 1; }
done
cxx="${CXX:-g++}"

# binding.gyp's target_defaults: cflags_cc and defines.
mapfile -t gyp < <(node native/scripts/gyp-flags.cjs)
[ "${#gyp[@]}" -gt 0 ] || { echo "check-headers: could not read the flags from binding.gyp" >&2; exit 1; }
# What node-gyp's common.gypi adds on Linux (see build/*.target.mk); -fno-rtti stays, as there.
nodegyp=(-fPIC -pthread -Wno-unused-parameter -fno-omit-frame-pointer -fno-rtti -DBUILDING_NODE_EXTENSION)

napi_include="$(node -p "require('node-addon-api').include_dir")"
node_include="${NODE_INCLUDE:-$(dirname "$(dirname "$(node -p process.execPath)")")/include/node}"
[ -f "$node_include/node_api.h" ] || node_include="$HOME/.cache/node-gyp/$(node -p process.versions.node)/include/node"
[ -f "$node_include/node_api.h" ] || { echo "check-headers: Node headers not found (set NODE_INCLUDE)" >&2; exit 1; }

# The preprocessor reads the version, so the indirect TRT_*_ENTERPRISE form (10.11+) works too.
version="$(printf '#include <NvInferVersion.h>\nNV_TENSORRT_MAJOR.NV_TENSORRT_MINOR.NV_TENSORRT_PATCH\n' |
  "$cxx" -E -P -I"$TENSORRT_INCLUDE" -x c++ - | tail -n 1 | tr -d ' ')"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
n=0
warnings=0
for src in native/tensorrt/*.cc; do
  # One at a time and niced: a check, not a build; it should not slow the machine down.
  log="$(nice -n 10 "$cxx" "${nodegyp[@]}" "${gyp[@]}" -I"$napi_include" -I"$node_include" \
    -I"$TENSORRT_INCLUDE" -I"$CUDA_INCLUDE" -c "$src" -o "$out/$(basename "$src" .cc).o" 2>&1)" ||
    { printf '%s\n' "$log" >&2; echo "check-headers: $src does not compile against TensorRT $version" >&2; exit 1; }
  if [ -n "$log" ]; then
    printf '%s\n' "$log" >&2
    warnings=$((warnings + $(grep -c 'warning:' <<<"$log" || true)))
  fi
  n=$((n + 1))
done
if [ "$warnings" -gt 0 ]; then
  echo "check-headers: $warnings warnings against TensorRT $version headers" >&2
  exit 1
fi
echo "tensorrt: $n sources compiled against TensorRT $version headers (no link, no run)"
