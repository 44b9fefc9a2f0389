#!/usr/bin/env bash
# Prebuilt binaries (prebuildify + node-gyp-build): one Node-API build per platform-arch serves
# every Node version >= 20, and node-gyp-build loads prebuilds/<platform>-<arch>/ when no local
# build exists. Run on each target (linux-x64 and linux-arm64 CI runners, or an arm64 Jetson):
#   npm run build:prebuilds            -> prebuilds/linux-<arch>/anchorseg.glibc.node
# Prebuilds hold the CPU kernels only: the TensorRT provider is always built on the Jetson
# itself (it links that machine's TensorRT/CUDA), see docs/tensorrt.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
prefix="$(dirname "$(dirname "$(command -v node)")")"
# Local Node headers (Debian's nodejs, official tarballs) instead of a download from nodejs.org.
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$prefix/include/node/common.gypi" ]; then
  export npm_config_nodedir="$prefix"
fi
# prebuildify runs node-gyp from PATH: `npm run` puts npm's bundled copy there.
ANCHORSEG_TENSORRT=0 npx --no-install prebuildify --napi --strip --tag-libc "$@"
ls -l prebuilds/*/
