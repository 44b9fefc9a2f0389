"""The data-set gate: trivial baselines stay far below what the model must reach."""

import json
import subprocess
import sys
from pathlib import Path

from anchorseg.baselines import GATED, TOO_EASY, run

MODELS = Path(__file__).resolve().parents[1]
TEST = MODELS / "data" / "reasonseg-synth" / "test"


def test_committed_test_split_is_not_trivial():
    result = run(TEST)
    assert result["random"]["all"]["n"] == 600
    for b in GATED:
        assert result[b]["all"]["gIoU"] < TOO_EASY, (b, result[b]["all"])
    assert result["ceiling"]["all"]["gIoU"] > 0.9  # masks survive the 64x64 logit resolution
    assert result["ceiling"]["empty"]["gIoU"] == 1.0 and result["random"]["empty"]["gIoU"] == 0.0
    assert set(result["random"]) >= {"attribute", "function", "spatial", "comparative", "negation", "composition"}


def test_cli_prints_table_and_json(tmp_path):
    from anchorseg.synth.writer import write_split

    write_split(tmp_path, "test", 8)
    res = subprocess.run([sys.executable, "-m", "anchorseg.baselines", "--data", str(tmp_path)], cwd=MODELS, capture_output=True, text=True, check=True)
    lines = res.stdout.strip().splitlines()
    assert lines[0].startswith("| baseline | all (n=8)")
    assert json.loads(lines[-1])["largest"]["all"]["n"] == 8
