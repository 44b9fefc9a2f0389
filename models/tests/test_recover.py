"""Recovery of a trainable checkpoint from a bundle: the recovered model's engines give the bundle's
outputs, train mode stays close on the calibration batch, and the chain is recorded in the recipe."""

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from anchorseg import recover, train
from anchorseg.export import GRAPHS, write_bundle
from anchorseg.model import AnchorSeg, Config
from anchorseg.tokenizer import WordTokenizer

SMALL = Config(vocab_size=24, dim=32, mask_dim=16, text_len=8, latent=2, reasoner_layers=1, heads=2, decoder_layers=1)
# weights no engine holds: the TMCC logits' scale and bias; the prompt path the variant does not use
NOT_EXPORTED = ("decoder.map_bias", "decoder.map_scale")
UNUSED = {False: ("decoder.no_mask",), True: ("decoder.latent_proj.", "decoder.map_down.")}


def _trained_like(cfg: Config) -> AnchorSeg:
    """Random weights and batch-norm statistics far from their init, as training leaves them."""
    torch.manual_seed(3)
    model = AnchorSeg(cfg)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.dtype.is_floating_point:
                t.copy_(torch.rand_like(t) + 0.2 if "running_var" in name else torch.randn_like(t) * 0.3)
    return model.eval()


def _bundle(tmp_path: Path, model: AnchorSeg, graph: str = "inference") -> Path:
    run = tmp_path / "run"
    run.mkdir()
    torch.save({"config": model.cfg.to_dict(), "state": model.state_dict(), "step": 7, "tmcc": True}, run / "best.pt")
    (run / "vocab.txt").write_text("".join(f"w{i}\n" for i in range(model.cfg.vocab_size)))
    write_bundle(run / "best.pt", tmp_path / "bundle", graph=graph)
    return tmp_path / "bundle"


@pytest.mark.parametrize("graph", GRAPHS)
@pytest.mark.parametrize("cfg", [SMALL, replace(SMALL, image_states="reasoner"), replace(SMALL, single_seg=True)], ids=["vision", "reasoner", "single-seg"])
def test_the_recovered_model_gives_the_bundles_outputs(tmp_path, cfg, graph):
    original = _trained_like(cfg)
    bundle = _bundle(tmp_path, original, graph)
    pixels = torch.randn(6, 3, cfg.input_size, cfg.input_size)
    model, ck = recover.recover(bundle, pixels)
    assert ck["unrecovered"] and all(k.startswith(NOT_EXPORTED + UNUSED[cfg.single_seg]) for k in ck["unrecovered"])
    assert ck["config"] == cfg.to_dict() and ck["step"] == 7
    assert recover.check(model, bundle, pixels) < 1e-4
    if graph == "inference":  # unfolded: every exported weight comes back as trained, batch norms included
        for name, value in original.state_dict().items():
            if name not in ck["unrecovered"]:
                assert torch.equal(model.state_dict()[name], value), name
        return
    # weights no fold touches come back exactly
    for name, value in original.reasoner.state_dict().items():
        assert torch.allclose(model.reasoner.state_dict()[name], value, atol=1e-6), name
    # the folded norms measured this batch: in train mode they normalise by the same statistics
    with torch.no_grad():
        tokens_eval, feats_eval = model.vision(pixels)
        model.train()
        tokens_train, feats_train = model.vision(pixels)
    assert torch.allclose(tokens_train, tokens_eval, atol=1e-3)
    assert torch.allclose(feats_train, feats_eval, atol=1e-3)


def test_a_bundle_of_another_architecture_is_refused(tmp_path):
    bundle = _bundle(tmp_path, _trained_like(SMALL))
    manifest = json.loads((bundle / "anchorseg.json").read_text())
    manifest["model"]["config"]["decoder_layers"] = 2
    (bundle / "anchorseg.json").write_text(json.dumps(manifest))
    with pytest.raises(SystemExit, match="expected the decoder engine's initializers of this code's export"):
        recover.recover(bundle, torch.randn(2, 3, SMALL.input_size, SMALL.input_size))


def test_a_warm_restart_from_a_recovered_bundle_records_the_chain(tmp_path):
    bundle = _bundle(tmp_path, _trained_like(Config(vocab_size=len(WordTokenizer.from_train_split(40).words))))
    start = tmp_path / "from-bundle"
    recover.main(["--bundle", str(bundle), "--out", str(start)])
    info = json.loads((start / "recovered.json").read_text())
    assert info["maxDiff"] < 1e-4
    train.main(["--out", str(tmp_path / "b"), "--steps", "1", "--batch", "2", "--workers", "0", "--val-limit", "4", "--init", str(start / "recovered.pt")])
    assert train.recipe(tmp_path / "b") == (
        f"cd models && ../.venv/bin/python -m anchorseg.recover --bundle {bundle} --out {start}"
        f" && ../.venv/bin/python -m anchorseg.train --out {tmp_path / 'b'} --steps 1 --batch 2 --val-limit 4 --workers 0 --init {start / 'recovered.pt'}"
    )
    assert train.recovered_start(tmp_path / "b") == info


def test_the_recorded_commit_is_the_one_that_added_the_manifest_wherever_the_bundle_now_is(tmp_path):
    repo, elsewhere = tmp_path / "repo", tmp_path / "taken-out"
    (repo / "b").mkdir(parents=True)
    elsewhere.mkdir()

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    git("init", "-q")
    (repo / "b" / "anchorseg.json").write_text('{"v": 1}\n')
    git("add", "b")
    git("commit", "-qm", "v1")
    added = git("rev-parse", "HEAD")
    (repo / "b" / "anchorseg.json").write_text('{"v": 2}\n')  # a later bundle replaces it
    git("commit", "-qam", "v2")
    (elsewhere / "anchorseg.json").write_text('{"v": 1}\n')  # as `git archive <added>` gives it
    assert recover.commit_holding(elsewhere, repo) == added
    assert recover.commit_holding(repo / "b", repo) == git("rev-parse", "HEAD")
    (elsewhere / "anchorseg.json").write_text('{"v": 3}\n')  # never committed
    assert recover.commit_holding(elsewhere, repo) == "unknown"
