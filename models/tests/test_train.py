"""Training entry point: a warm restart (--init) starts from the checkpoint's weights, and the
recipe a bundle records names every run that made it."""
import json
from pathlib import Path

import pytest
import torch

from anchorseg import train
from anchorseg.model import AnchorSeg, Config

TINY = ["--steps", "1", "--batch", "2", "--workers", "0", "--val-limit", "4", "--eval-every", "1"]


def _run(out: Path, *extra: str) -> dict:
    train.main(["--out", str(out), *TINY, *extra])
    return torch.load(out / "last.pt", map_location="cpu", weights_only=False)


def test_init_starts_from_the_checkpoint_and_the_recipe_names_both_runs(tmp_path):
    first = _run(tmp_path / "a")
    # lr 0: AdamW moves no weight (its weight decay scales with lr too), so b's weights end where
    # they started; BatchNorm's running statistics are not weights and do move.
    second = _run(tmp_path / "b", "--lr", "0", "--seed", "1", "--init", str(tmp_path / "a" / "last.pt"))
    weights = dict(AnchorSeg(Config(**first["config"])).named_parameters())
    assert weights
    for name in weights:
        assert torch.equal(first["state"][name], second["state"][name]), name
    for name, value in first["heads"].items():
        assert torch.equal(value, second["heads"][name]), name
    # Flags in the parser's order, defaults left out.
    assert train.recipe(tmp_path / "b") == (
        f"cd models && ../.venv/bin/python -m anchorseg.train --out {tmp_path / 'a'} --steps 1 --batch 2 --eval-every 1 --val-limit 4 --workers 0"
        f" && ../.venv/bin/python -m anchorseg.train --out {tmp_path / 'b'} --steps 1 --batch 2 --lr 0.0 --seed 1"
        f" --eval-every 1 --val-limit 4 --workers 0 --init {tmp_path / 'a' / 'last.pt'}"
    )


def test_init_refuses_a_checkpoint_of_another_shape(tmp_path):
    _run(tmp_path / "a")
    with pytest.raises(SystemExit, match="differs"):
        _run(tmp_path / "b", "--latent", "3", "--init", str(tmp_path / "a" / "last.pt"))


def test_recipe_of_a_checkpoint_without_a_run_folder(tmp_path):
    assert train.recipe(tmp_path).startswith("unknown")
    (tmp_path / "config.json").write_text(json.dumps({"train": {"out": "runs/x", "steps": "4200"}}))
    assert train.recipe(tmp_path) == "cd models && ../.venv/bin/python -m anchorseg.train --out runs/x"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present: the run would start")
def test_a_cuda_run_without_a_gpu_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(SystemExit, match="sees no CUDA device"):
        train.main(["--out", str(tmp_path / "c"), *TINY, "--device", "cuda"])
    assert not (tmp_path / "c").exists()
