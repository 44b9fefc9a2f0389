"""anchorseg.soup: the mean of two runs' weights, exported like any checkpoint, with both runs in
the bundle's recipe."""

import json

import pytest
import torch

from anchorseg import soup, train
from anchorseg.export import write_bundle
from anchorseg.model import load_checkpoint

TINY = ["--steps", "1", "--batch", "2", "--workers", "0", "--val-limit", "4", "--eval-every", "1"]


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """Two one-step restarts of one start, at two seeds (as the recipe's last runs)."""
    root = tmp_path_factory.mktemp("soup")
    train.main(["--out", str(root / "a"), *TINY])
    for seed in (3, 4):
        train.main(["--out", str(root / f"t{seed}"), *TINY, "--seed", str(seed), "--init", str(root / "a" / "last.pt")])
    return root


def test_the_soup_is_the_mean_of_its_members_and_exports_with_their_recipe(twins):
    members = [twins / "t3" / "last.pt", twins / "t4" / "last.pt"]
    soup.main(["--out", str(twins / "s"), *map(str, members)])
    a, b = (torch.load(m, map_location="cpu", weights_only=False) for m in members)
    s = torch.load(twins / "s" / "soup.pt", map_location="cpu", weights_only=False)
    moved = 0
    for name, value in s["state"].items():
        if value.is_floating_point():
            assert torch.allclose(value, (a["state"][name] + b["state"][name]) / 2), name
            moved += not torch.equal(a["state"][name], b["state"][name])
        else:
            assert torch.equal(value, a["state"][name]), name
    assert moved  # the seeds gave different weights, so the mean is a third model
    assert set(s["heads"]) == set(a["heads"]) and s["config"] == a["config"]
    model, _ = load_checkpoint(twins / "s" / "soup.pt")
    assert sum(p.numel() for p in model.parameters()) > 0

    manifest = json.loads(write_bundle(twins / "s" / "soup.pt", twins / "bundle").read_text())
    recipe = manifest["provenance"]["trainedWith"]
    start = f"../.venv/bin/python -m anchorseg.train --out {twins / 'a'} "
    assert recipe.count(start) == 1  # the shared start once
    assert f"--out {twins / 't3'} " in recipe and f"--out {twins / 't4'} " in recipe
    assert recipe.endswith(f"-m anchorseg.soup --out {twins / 's'} {members[0]} {members[1]}")
    assert manifest["provenance"]["checkpoint"] == "soup.pt"


def test_soup_refuses_members_of_another_shape_or_one_member(twins, tmp_path):
    train.main(["--out", str(tmp_path / "k3"), *TINY, "--latent", "3"])
    a = torch.load(twins / "t3" / "last.pt", map_location="cpu", weights_only=False)
    other = torch.load(tmp_path / "k3" / "last.pt", map_location="cpu", weights_only=False)
    with pytest.raises(ValueError, match="Expected member 1 to have member 0's model config but received differences .*latent"):
        soup.soup([a, other])
    with pytest.raises(ValueError, match="at least 2 checkpoints .* received 1"):
        soup.soup([a])
    counted = {**a, "state": {**a["state"]}}
    name = next(k for k, v in a["state"].items() if not v.is_floating_point())
    counted["state"][name] = a["state"][name] + 1
    with pytest.raises(ValueError, match=f"integer tensor weight {name} to be equal"):
        soup.soup([a, counted])
