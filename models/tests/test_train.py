"""Training entry point: a warm restart (--init) starts from the checkpoint's weights, and the
recipe a bundle records names every run that made it."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from anchorseg import preprocess, train
from anchorseg.export import write_bundle
from anchorseg.model import GRID_PARAMS, AnchorSeg, Config, grow_reasoner, resize_grids

TINY = ["--steps", "1", "--batch", "2", "--workers", "0", "--val-limit", "4", "--eval-every", "1"]


def _run(out: Path, *extra: str) -> dict:
    train.main(["--out", str(out), *TINY, *extra])
    return torch.load(out / "last.pt", map_location="cpu", weights_only=False)


def test_init_starts_from_the_checkpoint_and_the_recipe_names_both_runs(tmp_path):
    first = _run(tmp_path / "a")
    # lr 0: AdamW moves no weight (its weight decay scales with lr too), so b's weights end where
    # they started; BatchNorm's running statistics are not weights and do move.
    second = _run(tmp_path / "b", "--lr", "0", "--seed", "1", "--framed", "0.8", "--init", str(tmp_path / "a" / "last.pt"))
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
        f" --framed 0.8 --eval-every 1 --val-limit 4 --workers 0 --init {tmp_path / 'a' / 'last.pt'}"
    )


def test_init_refuses_a_checkpoint_of_another_shape(tmp_path):
    _run(tmp_path / "a")
    with pytest.raises(SystemExit, match="differs"):
        _run(tmp_path / "b", "--latent", "3", "--init", str(tmp_path / "a" / "last.pt"))


def test_init_at_another_input_size_resizes_the_grid_positions_only(tmp_path):
    first = _run(tmp_path / "a")
    second = _run(tmp_path / "b", "--lr", "0", "--input-size", "160", "--init", str(tmp_path / "a" / "last.pt"))
    assert second["config"]["input_size"] == 160 and second["config"]["grid"] == 10 and second["config"]["mask_grid"] == 40
    for name, value in first["state"].items():
        if name in GRID_PARAMS:  # an 8x8 grid of positions resized to 10x10 keeps its mean and range
            assert second["state"][name].shape[1] == (10 if name == "vision.pos" else 40) ** 2
            assert torch.allclose(second["state"][name].mean(), value.mean(), atol=1e-3)
            assert second["state"][name].abs().max() <= value.abs().max() + 1e-6
        elif "running_" not in name and "num_batches" not in name:
            assert torch.equal(second["state"][name], value), name
    assert resize_grids(first["state"], Config(**first["config"]))["vision.pos"] is first["state"]["vision.pos"]  # same size: untouched
    with pytest.raises(ValueError, match="multiple of 16 but received 150"):
        Config.for_input(150)


def test_a_stretched_restart_fills_the_whole_input_and_its_bundle_says_so(tmp_path):
    _run(tmp_path / "a")
    ck = _run(tmp_path / "b", "--letterbox", "none", "--init", str(tmp_path / "a" / "last.pt"))
    assert ck["config"]["letterbox"] == "none"
    manifest = json.loads(write_bundle(tmp_path / "b" / "last.pt", tmp_path / "bundle").read_text())
    assert manifest["images"][0]["letterbox"] == "none" and manifest["model"]["config"]["letterbox"] == "none"
    # a white 4:3 frame: letterboxed, the input's bottom quarter is padding (0); stretched, none of it is
    rgb = np.full((48, 64, 3), 255, np.uint8)
    boxed, lb = preprocess.to_input(rgb, 32, 32)
    assert (lb.content_width, lb.content_height) == (32, 24) and np.all(boxed[0, :, 24:] == 0) and np.all(boxed[0, :, :24] > 0)
    stretched, lb = preprocess.to_input(rgb, 32, 32, letterbox="none")
    assert (lb.content_width, lb.content_height) == (32, 32) and np.all(stretched[0] > 0)
    # and the mask comes back over the whole frame: the logits' left half is the frame's left half
    logits = np.where(np.arange(16) < 8, 1.0, -1.0)[None, :].repeat(16, 0)
    mask = preprocess.logits_to_mask(logits, lb, 64, 48)
    assert mask[:, :32].all() and not mask[:, 32:].any()
    with pytest.raises(ValueError, match="letterbox mode"):
        preprocess.letterbox_for(64, 48, 32, 32, "top-left")
    # a restart from it keeps stretching unless told otherwise
    assert _run(tmp_path / "c", "--init", str(tmp_path / "b" / "last.pt"))["config"]["letterbox"] == "none"
    assert _run(tmp_path / "d", "--letterbox", "bottom-right", "--init", str(tmp_path / "b" / "last.pt"))["config"]["letterbox"] == "bottom-right"


def test_init_with_a_deeper_reasoner_starts_computing_what_the_checkpoint_did(tmp_path):
    first = _run(tmp_path / "a")
    second = _run(tmp_path / "b", "--lr", "0", "--reasoner-layers", "6", "--init", str(tmp_path / "a" / "last.pt"))
    assert second["config"]["reasoner_layers"] == 6
    # the run's weights (lr 0: unmoved) are the grown checkpoint's; BatchNorm statistics did move
    grown = grow_reasoner(first["state"], Config(**second["config"]))
    for name, _ in AnchorSeg(Config(**second["config"])).named_parameters():
        assert torch.equal(second["state"][name], grown[name]), name
    old, new = AnchorSeg(Config(**first["config"])).eval(), AnchorSeg(Config(**second["config"])).eval()
    old.load_state_dict(first["state"])
    new.load_state_dict(grown)
    torch.manual_seed(0)
    px, ids, gm = torch.randn(2, 3, 128, 128), torch.randint(1, 50, (2, 40)), torch.ones(2, 40)
    with torch.no_grad():
        for a, b in zip(old(px, ids, gm), new(px, ids, gm)):
            assert torch.allclose(a, b, atol=1e-5)
    # the appended layers are copies of the last one whose residual outputs start at zero
    assert torch.equal(second["state"]["reasoner.layers.layers.5.linear1.weight"], first["state"]["reasoner.layers.layers.3.linear1.weight"])
    assert not second["state"]["reasoner.layers.layers.4.linear2.weight"].any()
    with pytest.raises(ValueError, match="at least the checkpoint's 6 reasoner layers"):
        grow_reasoner(second["state"], Config(reasoner_layers=4))


def test_recipe_of_a_checkpoint_without_a_run_folder(tmp_path):
    assert train.recipe(tmp_path).startswith("unknown")
    (tmp_path / "config.json").write_text(json.dumps({"train": {"out": "runs/x", "steps": "4200"}}))
    assert train.recipe(tmp_path) == "cd models && ../.venv/bin/python -m anchorseg.train --out runs/x"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present: the run would start")
def test_a_cuda_run_without_a_gpu_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(SystemExit, match="sees no CUDA device"):
        train.main(["--out", str(tmp_path / "c"), *TINY, "--device", "cuda"])
    assert not (tmp_path / "c").exists()


def test_a_stopped_run_resumes_exactly(tmp_path, monkeypatch):
    """Stop after step 2 of 4 (the last checkpoint), resume: weights, optimiser state, best val
    and the log end where the uninterrupted run's do, bit for bit."""
    flags = ["--steps", "4", "--batch", "2", "--workers", "0", "--val-limit", "4", "--eval-every", "2", "--checkpoint-minutes", "0"]
    train.main(["--out", str(tmp_path / "whole"), *flags])

    real_step, calls = train.train_step, []

    def stop_at_third(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # a kill between checkpoints
        return real_step(*a, **k)

    monkeypatch.setattr(train, "train_step", stop_at_third)
    with pytest.raises(KeyboardInterrupt):
        train.main(["--out", str(tmp_path / "cut"), *flags])
    monkeypatch.setattr(train, "train_step", real_step)
    assert torch.load(tmp_path / "cut" / "resume.pt", weights_only=False)["step"] == 2
    # how the run executes may change on resume (RUN_ONLY), not what it computes
    train.main(["--out", str(tmp_path / "cut"), *flags, "--resume", "--checkpoint-minutes", "5"])

    a = torch.load(tmp_path / "whole" / "resume.pt", weights_only=False)
    b = torch.load(tmp_path / "cut" / "resume.pt", weights_only=False)
    assert a["step"] == b["step"] == 4 and a["best"] == b["best"]
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])  # the RNGs run on as if never stopped
    assert a["rng"]["python"] == b["rng"]["python"]
    for part in ("state", "heads"):
        for name, value in a[part].items():
            assert torch.equal(value, b[part][name]), (part, name)
    for k, v in a["optimizer"]["state"].items():
        for name, t in v.items():
            assert torch.equal(t, b["optimizer"]["state"][k][name]), (k, name)
    strip = lambda p: [{k: v for k, v in json.loads(x).items() if k != "elapsed_s"} for x in p.read_text().splitlines()]
    assert strip(tmp_path / "whole" / "log.jsonl") == strip(tmp_path / "cut" / "log.jsonl")


def test_resume_refuses_other_flags_and_a_missing_checkpoint(tmp_path):
    with pytest.raises(SystemExit, match="there is none"):
        train.main(["--out", str(tmp_path / "r"), *TINY, "--resume"])
    train.main(["--out", str(tmp_path / "r"), *TINY])
    with pytest.raises(SystemExit, match="'lr': \\('0.0008', '0.001'\\)"):
        train.main(["--out", str(tmp_path / "r"), *TINY, "--lr", "1e-3", "--resume"])


def test_a_run_from_before_a_flag_existed_resumes_at_its_default(tmp_path):
    train.main(["--out", str(tmp_path / "r"), *TINY])
    path = tmp_path / "r" / "resume.pt"
    state = torch.load(path, weights_only=False)
    del state["config"]["train"]["group_refs"]
    torch.save(state, path)
    with pytest.raises(SystemExit, match="'group_refs': \\('0.0', '0.5'\\)"):
        train.main(["--out", str(tmp_path / "r"), *TINY, "--group-refs", "0.5", "--resume"])
    train.main(["--out", str(tmp_path / "r"), *TINY, "--resume"])


def test_batch_b_is_the_same_samples_whatever_the_workers_and_the_start():
    """What --resume relies on: the stream started at batch 3 gives batches 3, 4, ... of a stream
    started at 0, with one process or with two workers taking turns."""
    from torch.utils.data import DataLoader

    from anchorseg.tokenizer import WordTokenizer

    cfg = Config()
    tok = WordTokenizer.from_train_split(cfg.text_len)

    def batches(start, workers, n):
        loader = DataLoader(train.SynthStream(tok, cfg, 0, True, 2, start), batch_size=2, num_workers=workers)
        it = iter(loader)
        return [next(it) for _ in range(n)]

    whole = batches(0, 0, 6)
    for got in (batches(3, 0, 3), batches(3, 2, 3)):
        for a, b in zip(whole[3:], got):
            assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])  # pixels and goal ids
