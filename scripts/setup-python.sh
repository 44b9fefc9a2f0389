#!/usr/bin/env bash
# Creates .venv with the model side's packages (torch, onnx, onnxruntime, ...) and the Python
# peers the tests use (pycocotools, pyzmq). Idempotent: reinstalls only when requirements change.
set -euo pipefail
cd "$(dirname "$0")/.."
req=models/requirements.txt
stamp=.venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
echo "python: .venv ready ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
