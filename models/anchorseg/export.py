"""Export a checkpoint as a three-engine ONNX bundle (docs/bundle-format.md).

cd models && ../.venv/bin/python -m anchorseg.export --checkpoint runs/tiny/best.pt --out bundles/anchorseg-tiny
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import subprocess
import warnings
from pathlib import Path

import onnx
import torch

from . import inference, preprocess
from . import model as modules
from .model import AnchorSeg, VisionEngine, load_checkpoint
from .synth import function_words
from .synth.writer import DATA_VERSION
from .train import recipe, recovered_start

OPSET = 17
FORMAT_VERSION = 1
VERSION = "0.4.8"  # of the weights exported now: 0.1.0 first trained export (2,200 steps), 0.2.0 auxiliary heads (6,000 steps), 0.3.0 spliced wrappers + calibrated score.threshold (4,200 steps), 0.4.0 generator v2 + function words (13,500 steps, issue #13; measured, never shipped, its weights lost), 0.4.1 the same recipe at 8,000 steps, 0.4.2 0.4.1 recovered from its bundle and trained 7,000 more steps (a warm restart), 0.4.3 0.4.2 recovered and trained 5,000 more steps at peak lr 4e-4 (a second restart), 0.4.4 0.4.3 recovered at a 160-pixel input (its grid positions resized) and trained 1,500 more steps at peak lr 3e-4, 0.4.5 the same restart with each frame stretched over the whole input (letterbox none), 0.4.6 0.4.5's engines with tokenizer.inflections written (no training), 0.4.7 0.4.3 recovered at a 176-pixel input, stretched, with group references and every object labelled for the token heads, 1,250 more steps, 0.4.8 0.4.7's weights exported as the inference graph (no training)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _io(path: Path) -> tuple[list[dict], list[dict]]:
    """Engine I/O as the ONNX graph declares it (names, dtypes, shapes with symbolic dims as strings)."""
    m = onnx.load(str(path))
    names = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.FLOAT16: "float16", onnx.TensorProto.INT64: "int64", onnx.TensorProto.INT32: "int32"}

    def desc(v):
        t = v.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in t.shape.dim]
        return {"name": v.name, "dtype": names[t.elem_type], "shape": shape}

    inits = {i.name for i in m.graph.initializer}
    return [desc(v) for v in m.graph.input if v.name not in inits], [desc(v) for v in m.graph.output]


# How the engines are traced. "inference": reasoner and decoder re-expressed (inference.py), the goal at
# its own length, the weights as trained (no constant folding, so each initializer is one parameter;
# ONNX Runtime and TensorRT fold at load). "modules": the training modules traced as they are, at a
# fixed goal length, constants folded: every bundle up to 0.4.7, kept so `recover` reads them.
GRAPHS = ("inference", "modules")


def graph_of(manifest: dict) -> str:
    """How a bundle's engines were traced (GRAPHS); bundles up to 0.4.7 do not say: "modules"."""
    return manifest["provenance"].get("graph", "modules")


def engine_modules(model: AnchorSeg, graph: str) -> tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module]:
    """The vision, reasoner and decoder engines as `graph` traces them."""
    if graph not in GRAPHS:
        raise ValueError(f"Expected a graph in {GRAPHS} but received {graph!r}")
    engines = inference if graph == "inference" else modules
    return VisionEngine(model), engines.ReasonerEngine(model), engines.DecoderEngine(model)


def _declare_output_shapes(path: Path, module: torch.nn.Module, args: tuple) -> None:
    """Unfolded, the graph's own shape inference leaves output dims unnamed; none depends on the
    goal length, so they are the traced outputs' (the manifest and the SDK read them)."""
    with torch.no_grad():
        outs = module(*args)
    m = onnx.load(str(path))
    for value, out in zip(m.graph.output, outs if isinstance(outs, tuple) else (outs,), strict=True):
        for dim, size in zip(value.type.tensor_type.shape.dim, out.shape, strict=True):
            dim.Clear()
            dim.dim_value = size
    onnx.save(m, str(path))


def export_engines(model: AnchorSeg, out: Path, graph: str = "inference") -> dict[str, Path]:
    vision, reasoner, decoder = engine_modules(model, graph)
    cfg = model.cfg
    inference_graph = graph == "inference"
    px = torch.zeros(1, 3, cfg.input_size, cfg.input_size)
    ids = torch.zeros(1, cfg.text_len, dtype=torch.long)
    gm = torch.zeros(1, cfg.text_len)
    gm[0, 0] = 1
    with torch.no_grad():
        tokens, feats = model.vision(px)
        bank, rstates = model.reasoner(tokens, ids, gm)
    states_name = "image_tokens" if cfg.image_states == "vision" else "image_states"
    reasoner_out = ["query_bank"] if cfg.image_states == "vision" else ["query_bank", "image_states"]
    goal_length = {"goal_ids": {1: "T"}, "goal_mask": {1: "T"}} if inference_graph else None
    specs = {
        "vision": (vision, (px,), ["pixels"], ["image_tokens", "mask_features"], None),
        "reasoner": (reasoner, (tokens, ids, gm), ["image_tokens", "goal_ids", "goal_mask"], reasoner_out, goal_length),
        "decoder": (
            decoder,
            (tokens if cfg.image_states == "vision" else rstates, feats, bank),
            [states_name, "mask_features", "query_bank"],
            ["token_map", "mask_logits", "score"],
            None,
        ),
    }
    paths = {}
    for name, (module, args, inputs, outputs, dynamic) in specs.items():
        path = out / f"{name}.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module.eval(),
                args,
                str(path),
                input_names=inputs,
                output_names=outputs,
                dynamic_axes=dynamic,
                opset_version=OPSET,
                dynamo=False,
                do_constant_folding=not inference_graph,
            )
        if inference_graph:
            _declare_output_shapes(path, module, args)
        onnx.checker.check_model(onnx.load(str(path)))
        paths[name] = path
    return paths


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):  # exported outside a checkout, or without git
        return "unknown"


def write_bundle(checkpoint: Path, out: Path, vocab: Path | None = None, graph: str = "inference") -> Path:
    model, ck = load_checkpoint(checkpoint)
    cfg = model.cfg
    out.mkdir(parents=True, exist_ok=True)
    paths = export_engines(model, out, graph)
    vocab_src = vocab or checkpoint.parent / "vocab.txt"
    (out / "vocab.txt").write_bytes(vocab_src.read_bytes())
    engines = {}
    for name, path in paths.items():
        inputs, outputs = _io(path)
        engines[name] = {"file": path.name, "sha256": sha256(path), "inputs": inputs, "outputs": outputs}
    manifest = {
        "format": "anchorseg-bundle",
        "formatVersion": FORMAT_VERSION,
        "model": {
            "name": "anchorseg-tiny",
            "version": VERSION,
            "latentTokens": cfg.latent,
            "grid": cfg.grid,
            "dim": cfg.dim,
            "imageStates": cfg.image_states,
            "config": {**cfg.to_dict(), "tmcc": ck.get("tmcc", True), "step": ck.get("step")},
        },
        "images": [
            {
                "input": "pixels",
                "width": cfg.input_size,
                "height": cfg.input_size,
                "channelOrder": "rgb",
                "layout": "nchw",
                "dtype": "float32",
                "resize": "bilinear-antialias",
                "letterbox": cfg.letterbox,
                "mean": list(preprocess.MEAN),
                "std": list(preprocess.STD),
            }
        ],
        "tokenizer": {
            "type": "word",
            "vocab": "vocab.txt",
            "padId": 0,
            "unkId": 1,
            "maxTokens": cfg.text_len,
            "maxChars": 512,
            "functionWords": sorted(set(function_words()) & set(vocab_src.read_text().splitlines())),
            "inflections": True,
        },
        "mask": {"image": "pixels", "threshold": 0.0},
        "score": {"threshold": 0.5},
        "engines": engines,
        "files": [{"path": "vocab.txt", "sha256": sha256(out / "vocab.txt")}],
        "provenance": {
            "data": DATA_VERSION,
            "commit": git_commit(),
            "graph": graph,
            "checkpoint": checkpoint.name,
            "trainedWith": recipe(checkpoint.parent),
            **({"initFrom": start} if (start := recovered_start(checkpoint.parent)) else {}),
            "date": dt.date.today().isoformat(),
        },
        "metrics": {},
    }
    (out / "anchorseg.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return out / "anchorseg.json"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--no-eval", action="store_true", help="skip choosing score.threshold on val (0.5 stays) and measuring val/test metrics")
    args = ap.parse_args(argv)
    path = write_bundle(args.checkpoint, args.out)
    if not args.no_eval:
        calibrate_and_measure(args.out)
    print(path)


def calibrate_and_measure(bundle: Path) -> None:
    """Choose the manifest's score.threshold on val, then record val and test metrics under it."""
    from .evaluate import DATA, calibrate_score_threshold, evaluate_bundle

    path = bundle / "anchorseg.json"
    manifest = json.loads(path.read_text())
    manifest["score"]["threshold"] = calibrate_score_threshold(bundle, DATA / "val")
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    manifest["metrics"] = {split: evaluate_bundle(bundle, DATA / split) for split in ("val", "test")}
    path.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
