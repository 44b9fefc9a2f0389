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
run npx vitest run
run bash -c 'cd models && ../.venv/bin/python -m pytest -q'
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED suite: %s\n' "${failed[@]}"
  exit 1
fi
