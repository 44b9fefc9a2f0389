#!/usr/bin/env bash
# Creates .venv with the model side's packages (torch, onnx, onnxruntime, ...), the Python
# peers the tests use (pycocotools, pyzmq) and the formatters/linters of `npm run lint` (ruff,
# clang-format). Idempotent: each requirements file is reinstalled only when it changes.
set -euo pipefail
cd "$(dirname "$0")/.."
changed=
install() { # requirements file, stamp
  local req=$1 stamp=.venv/$2 want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
  changed=1
}
install models/requirements.txt .requirements.sha256
install scripts/requirements-lint.txt .requirements-lint.sha256
if [ -n "$changed" ]; then
  echo "python: .venv ready ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'), $(.venv/bin/ruff --version), $(.venv/bin/clang-format --version | sed 's/ version//'))"
fi
