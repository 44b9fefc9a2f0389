"""A trainable checkpoint from an exported bundle, for a warm restart (`train --init`).

Checkpoints live outside the repository and may be lost; the committed bundle is what survives. Its
engines hold every inference weight. This module exports a fresh model of the bundle's config through
the same exporter and the same graph (export.GRAPHS, the manifest's provenance.graph), so both graphs
have the same initializer names, learns from the fresh model which parameter (and which transform of
it) each initializer is, and inverts that on the bundle's values.

Bundles exported as the inference graph (0.4.8 on) hold each parameter as trained: recovery is exact.
In the modules graph (bundles up to 0.4.7) the exporter's constant folding renamed and reshaped many
of them: linear weights transposed, attention in-projections split into q/k/v, batch norms folded
into the convolution before them. A folded batch norm cannot be split back into its parts; its
convolution takes the folded weights and the norm is set so that it changes nothing in eval mode
(running stats measured on val images, gain and shift chosen to undo the normalisation), which keeps
a train-mode forward close as well.
Training-only weights (the auxiliary heads) start fresh. `check` proves the result: the recovered
model's engines give the bundle's outputs.

    cd models && ../.venv/bin/python -m anchorseg.recover --bundle bundles/anchorseg-tiny --out runs/from-0.4.1
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from torch import nn

from .evaluate import run_engine
from .export import export_engines, graph_of
from .model import AnchorSeg, Config
from .tokenizer import WordTokenizer
from .train import VAL_DIR, load_val

ENGINES = ("vision", "reasoner", "decoder")


def _initializers(path: Path) -> dict[str, np.ndarray]:
    return {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}


def _folded_pairs(model: nn.Module) -> list[tuple[str, str, nn.Conv2d, nn.BatchNorm2d]]:
    """(conv name, norm name, conv, norm) for every batch norm registered right after a convolution
    (in a Sequential, or as ConvBlock's dw and bn): the exporter folds those pairs."""
    pairs = []
    for name, mod in model.named_modules():
        prefix = f"{name}." if name else ""
        for (cname, conv), (bname, bn) in itertools.pairwise(mod.named_children()):
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                pairs.append((prefix + cname, prefix + bname, conv, bn))
    return pairs


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """The eval-mode conv + norm as one convolution (what the exporter's folding computes)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    return conv.weight * scale[:, None, None, None], (bias - bn.running_mean) * scale + bn.bias


def _candidates(model: AnchorSeg) -> dict[str, tuple[np.ndarray, str, Callable]]:
    """Every value an initializer can hold, keyed by a description; each with its parameter name
    and the inverse that writes a bundle value back into the state dict."""
    out: dict[str, tuple[np.ndarray, str, Callable]] = {}
    for name, p in model.state_dict().items():
        t = p.detach()
        out[f"{name}"] = (t.numpy(), name, lambda sd, v, n=name: sd[n].copy_(torch.from_numpy(v)))
        if t.ndim == 2:
            out[f"{name}.T"] = (t.T.numpy(), name, lambda sd, v, n=name: sd[n].copy_(torch.from_numpy(v).T))
        if t.ndim >= 2 and t.shape[0] <= 8:  # rows used one by one (type embeddings): indexing folds them
            for i in range(t.shape[0]):
                out[f"{name}[{i}]"] = (t[i].numpy(), name, lambda sd, v, n=name, i=i: sd[n][i].copy_(torch.from_numpy(v)))
        if t.ndim == 3 and t.shape[0] == 1:  # slot embeddings behind zero rows (the decoder's token positions)
            for k in (1, 2):
                padded = torch.cat([t.new_zeros(1, k, t.shape[2]), t], dim=1)
                out[f"pad{k}({name})"] = (padded.numpy(), name, lambda sd, v, n=name, k=k: sd[n].copy_(torch.from_numpy(v)[:, k:]))
        if name.endswith(("in_proj_weight", "in_proj_bias")):
            d = t.shape[0] // 3
            for i in range(3):

                def put(sd, v, n=name, i=i, d=d, tr=False):
                    sd[n][i * d : (i + 1) * d].copy_(torch.from_numpy(v).T if tr else torch.from_numpy(v))

                out[f"{name}[{i}/3]"] = (t[i * d : (i + 1) * d].numpy(), name, put)
                if t.ndim == 2:
                    out[f"{name}[{i}/3].T"] = (t[i * d : (i + 1) * d].T.numpy(), name, lambda sd, v, put=put: put(sd, v, tr=True))
    with torch.no_grad():
        for cname, _, conv, bn in _folded_pairs(model):
            w, b = _fold(conv, bn)
            out[f"fold({cname}).weight"] = (w.numpy(), f"{cname}.weight", lambda sd, v, n=cname: sd[f"{n}.weight"].copy_(torch.from_numpy(v)))
            out[f"fold({cname}).bias"] = (b.numpy(), f"{cname}.bias", lambda sd, v, n=cname: sd[f"{n}.bias"].copy_(torch.from_numpy(v)))
    return out


def _probe_model(cfg: Config) -> AnchorSeg:
    """A fresh model whose every value is distinct, so each initializer matches one candidate."""
    torch.manual_seed(0)
    model = AnchorSeg(cfg).eval()
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.dtype.is_floating_point:
                t.copy_(torch.rand_like(t) + 0.5)  # positive: running_var stays a variance
    return model


def recover(bundle: Path, calibration: torch.Tensor) -> tuple[AnchorSeg, dict]:
    """The model whose export is `bundle`; `calibration` (N x 3 x H x W, preprocessed) sets the
    running stats of the folded norms."""
    manifest = json.loads((bundle / "anchorseg.json").read_text())
    given = manifest["model"]["config"]
    cfg = Config(**{k: v for k, v in given.items() if k in Config.__dataclass_fields__})
    probe = _probe_model(cfg)
    candidates = _candidates(probe)
    model = AnchorSeg(cfg).eval()  # weights the engines do not hold (training-only) keep their init
    sd = model.state_dict()
    written: set[str] = set()
    norm_of = {conv: norm for conv, norm, _, _ in _folded_pairs(model)}
    folded: dict[str, str] = {}  # conv name -> the norm folded into it
    with tempfile.TemporaryDirectory() as tmp:
        fresh = export_engines(probe, Path(tmp), graph_of(manifest))
        for engine in ENGINES:
            ours, theirs = _initializers(fresh[engine]), _initializers(bundle / manifest["engines"][engine]["file"])
            if ours.keys() != theirs.keys():
                raise SystemExit(
                    f"{bundle}: expected the {engine} engine's initializers of this code's export, but received other ones "
                    f"(only in bundle: {sorted(theirs.keys() - ours.keys())[:5]}, only here: {sorted(ours.keys() - theirs.keys())[:5]})"
                )
            for name, value in ours.items():
                # by value, not shape: the exporter also reshapes (a norm's gain unsqueezed to C x 1 x 1)
                hits = [k for k, (c, _, _) in candidates.items() if c.size == value.size and np.allclose(c.ravel(), value.ravel(), rtol=1e-5, atol=1e-6)]
                if not hits:
                    if not np.array_equal(value, theirs[name]):
                        raise SystemExit(f"{bundle}: {engine} initializer {name} {value.shape} matches no parameter and is not a constant")
                    continue  # a constant of the graph (a shape, a folded scalar): the same in both
                like, param, put = candidates[hits[0]]
                put(sd, theirs[name].reshape(like.shape).copy())
                written.add(param)
                if hits[0].startswith("fold("):
                    conv = hits[0][5 : hits[0].index(")")]
                    folded[conv] = norm_of[conv]
    # a folded norm's own state is set by _calibrate_folded
    missing = sorted(k for k, t in sd.items() if k not in written and t.dtype.is_floating_point and k.rsplit(".", 1)[0] not in folded.values())
    model.load_state_dict(sd)
    _calibrate_folded(model, folded, calibration)
    return model, {"config": cfg.to_dict(), "tmcc": given.get("tmcc", True), "step": given.get("step"), "unrecovered": missing}


def _calibrate_folded(model: AnchorSeg, folded: dict[str, str], pixels: torch.Tensor) -> None:
    """Set every folded norm to change nothing in eval mode: running mean and variance are the
    statistics of its input on `pixels`, its gain undoes the division and its shift the subtraction,
    so a train-mode forward on similar batches stays close too."""
    mods = dict(model.named_modules())
    norms = {conv: mods[bn] for conv, bn in folded.items()}
    for bn in norms.values():  # identity in eval mode while the stats are measured
        bn.running_mean.zero_()
        bn.running_var.fill_(1 - bn.eps)
        bn.weight.data.fill_(1.0)
        bn.bias.data.zero_()
    stats: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    hooks = [
        mods[conv].register_forward_hook(lambda _m, _i, out, conv=conv: stats.__setitem__(conv, (out.mean((0, 2, 3)), out.var((0, 2, 3), unbiased=False))))
        for conv in norms
    ]
    with torch.no_grad():
        model.vision(pixels)
    for h in hooks:
        h.remove()
    with torch.no_grad():
        for conv, bn in norms.items():
            mean, var = stats[conv]
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            bn.weight.copy_(torch.sqrt(var + bn.eps))
            bn.bias.copy_(mean)


def check(model: AnchorSeg, bundle: Path, pixels: torch.Tensor) -> float:
    """The largest difference between the recovered model's engine outputs and the bundle's on
    `pixels` and a six-word goal (onnxruntime on both), relative to the output's largest magnitude
    where that is above 1 (float32 rounding grows with it)."""
    manifest = json.loads((bundle / "anchorseg.json").read_text())
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        ours = export_engines(model, Path(tmp), graph_of(manifest))
        cfg = model.cfg
        ids = np.ones((1, cfg.text_len), dtype=np.int64) * 2
        gm = np.zeros((1, cfg.text_len), dtype=np.float32)
        gm[0, :6] = 1
        results = {}
        for side, path_of in (("ours", lambda e: ours[e]), ("theirs", lambda e: bundle / manifest["engines"][e]["file"])):
            pool = {"pixels": pixels[:1].numpy(), "goal_ids": ids, "goal_mask": gm}
            for e in ENGINES:
                run_engine(ort.InferenceSession(str(path_of(e)), providers=["CPUExecutionProvider"]), pool)
            results[side] = pool
        for name, b in results["theirs"].items():
            a = results["ours"][name]
            worst = max(worst, float(np.abs(a - b).max() / max(1.0, np.abs(b).max())))
    return worst


def commit_holding(bundle: Path, repo: Path | None = None) -> str:
    """The commit that added this bundle's manifest, byte for byte, to the history of `repo` (the
    current one by default): where the bundle came from, also when it was taken out of history
    (`git archive <commit> models/bundles/anchorseg-tiny`) into a folder outside the checkout.
    "unknown" where no commit holds that manifest (an uncommitted export) or git is missing."""
    try:
        git = ["git", *(["-C", str(repo)] if repo else [])]
        blob = subprocess.run([*git, "hash-object", str(Path(bundle).resolve() / "anchorseg.json")], capture_output=True, text=True, check=True).stdout.strip()
        found = subprocess.run([*git, "log", "--all", "--format=%H", f"--find-object={blob}"], capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return found[-1] if found else "unknown"  # newest first: the last one added it


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True, help="a run folder: recovered.pt (for train --init), vocab.txt, recovered.json")
    args = ap.parse_args(argv)
    manifest = json.loads((args.bundle / "anchorseg.json").read_text())
    cfg = manifest["model"]["config"]
    tok = WordTokenizer.load(args.bundle / "vocab.txt", cfg["text_len"])
    pixels = torch.stack([torch.as_tensor(p) for p, *_ in load_val(tok, cfg["input_size"], manifest["images"][0]["letterbox"], None, VAL_DIR)])
    model, ck = recover(args.bundle, pixels)
    worst = check(model, args.bundle, pixels)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save({"config": ck["config"], "state": model.state_dict(), "step": ck["step"], "tmcc": ck["tmcc"]}, args.out / "recovered.pt")
    (args.out / "vocab.txt").write_bytes((args.bundle / "vocab.txt").read_bytes())
    info = {
        "bundle": manifest["model"]["name"] + " " + manifest["model"]["version"],
        "bundleCommit": commit_holding(args.bundle),
        "trainedWith": manifest["provenance"]["trainedWith"],
        "recoveredWith": f"cd models && ../.venv/bin/python -m anchorseg.recover --bundle {args.bundle} --out {args.out}",
        "maxDiff": worst,
        "unrecovered": ck["unrecovered"],
    }
    (args.out / "recovered.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info))


if __name__ == "__main__":
    main()
