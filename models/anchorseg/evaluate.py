"""Evaluate a bundle (onnxruntime) or a checkpoint (PyTorch) on a ReasonSeg-format folder with LISA's metrics.

    cd models && ../.venv/bin/python -m anchorseg.evaluate --bundle bundles/anchorseg-tiny [--data data/reasonseg-synth/test] [--json]
    cd models && ../.venv/bin/python -m anchorseg.evaluate --checkpoint runs/k1/best.pt

The bundle path runs the three engines exactly as the SDK does (same preprocessing, tokenizer,
postprocessing), so `npx anchorseg eval` reproduces these numbers.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from . import preprocess
from .metrics import intersection_union, summarize
from .reasonseg import load_split
from .tokenizer import WordTokenizer

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "reasonseg-synth"


class BundleRunner:
    """The three ONNX engines wired by tensor name, as in docs/bundle-format.md."""

    def __init__(self, bundle: Path, threads: int = 2):
        import onnxruntime as ort

        self.manifest = json.loads((bundle / "anchorseg.json").read_text())
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.sessions = {
            name: ort.InferenceSession(str(bundle / spec["file"]), opts, providers=["CPUExecutionProvider"])
            for name, spec in self.manifest["engines"].items()
        }
        tk = self.manifest["tokenizer"]
        self.tok = WordTokenizer.load(bundle / tk["vocab"], tk["maxTokens"])
        self.image = self.manifest["images"][0]
        self.threshold = self.manifest["mask"]["threshold"]

    def _run(self, name: str, pool: dict) -> None:
        sess = self.sessions[name]
        feeds = {i.name: pool[i.name] for i in sess.get_inputs()}
        outs = sess.run(None, feeds)
        pool.update({o.name: v for o, v in zip(sess.get_outputs(), outs)})

    def predict(self, rgb: np.ndarray, text: str) -> tuple[np.ndarray, dict]:
        pixels, lb = preprocess.to_input(rgb, self.image["width"], self.image["height"], self.image["mean"], self.image["std"])
        ids, gm = self.tok.encode(text)
        pool = {"pixels": pixels, "goal_ids": ids[None], "goal_mask": gm[None]}
        for name in ("vision", "reasoner", "decoder"):
            self._run(name, pool)
        mask = preprocess.logits_to_mask(pool["mask_logits"][0, 0], lb, rgb.shape[1], rgb.shape[0], self.threshold)
        return mask, pool


def _predict_split(runner: "BundleRunner", data: Path, limit: int | None, progress: bool):
    """Per sample: (i, u) of the mask, (i, u) had the mask been empty, score, is_sentence, type."""
    items = load_split(data)[:limit]
    if progress:
        from tqdm import tqdm

        items = tqdm(items, desc=data.name)
    for image, gt, texts, is_sentence, meta in items:
        pred, pool = runner.predict(image, texts[0])
        yield (intersection_union(pred, gt), intersection_union(np.zeros_like(pred), gt), float(pool["score"].reshape(-1)[0]),
               is_sentence, "empty" if meta.get("empty") else meta.get("qtype"))


def _scored(records, threshold: float, by_type: bool = False) -> dict:
    """LISA's metrics where a result scoring below `threshold` (the SDK's `found` = false) answers an empty mask."""
    pairs = [blank if score < threshold else full for full, blank, score, _, _ in records]
    sentence = [r[3] for r in records]
    out = summarize(pairs, sentence)
    types = [r[4] for r in records]
    if by_type and any(types):
        out["byType"] = {t: summarize([p for p, k in zip(pairs, types) if k == t], [s for s, k in zip(sentence, types) if k == t])
                         for t in sorted({t for t in types if t})}
    return out


def evaluate_bundle(bundle: Path, data: Path, limit: int | None = None, progress: bool = False, by_type: bool = False,
                    score_threshold: float | None = None) -> dict:
    """LISA's metrics; `by_type` adds `byType` for ReasonSeg-Synth folders (per query type, and "empty").
    A result scoring below `score_threshold` (default: the manifest's `score.threshold`, as the SDK's
    `found`) counts as an empty mask: the model's answer is "not there"."""
    runner = BundleRunner(bundle)
    threshold = runner.manifest["score"]["threshold"] if score_threshold is None else score_threshold
    return _scored(list(_predict_split(runner, data, limit, progress)), threshold, by_type)


def best_score_threshold(records) -> float:
    """The threshold in steps of 0.05 that maximises gIoU over `records` (see _predict_split); the
    lowest of equals, so that a mask is blanked only where that pays."""
    candidates = [round(0.05 * k, 2) for k in range(20)]
    return max(candidates, key=lambda t: (_scored(records, t)["gIoU"], -t))


def calibrate_score_threshold(bundle: Path, data: Path = DATA / "val") -> float:
    """The bundle's `score.threshold`, chosen on `data` (val: test stays unseen)."""
    return best_score_threshold(list(_predict_split(BundleRunner(bundle), data, None, False)))


def evaluate_checkpoint(checkpoint: Path, data: Path, limit: int | None = None) -> dict:
    import torch

    from .export import load_checkpoint
    from .train import evaluate, load_val

    model, ck = load_checkpoint(checkpoint)
    tok = WordTokenizer.load(checkpoint.parent / "vocab.txt", model.cfg.text_len)
    torch.set_num_threads(2)
    return evaluate(model, load_val(tok, model.cfg.input_size, limit, data))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--bundle", type=Path)
    src.add_argument("--checkpoint", type=Path)
    ap.add_argument("--data", type=Path, default=DATA / "test")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--score-threshold", type=float, default=None, help="bundle only: instead of the manifest's score.threshold (0: never blank a mask)")
    args = ap.parse_args(argv)
    if args.bundle:
        m = evaluate_bundle(args.bundle, args.data, args.limit, progress=not args.json, by_type=True, score_threshold=args.score_threshold)
    else:
        m = evaluate_checkpoint(args.checkpoint, args.data, args.limit)
    if args.json:
        print(json.dumps(m))
    else:
        print(f"{args.data}: gIoU {m['gIoU']:.4f}  cIoU {m['cIoU']:.4f}  n {m['n']}")
        for k in ("short", "long"):
            if k in m:
                print(f"  {k:5s}: gIoU {m[k]['gIoU']:.4f}  cIoU {m[k]['cIoU']:.4f}  n {m[k]['n']}")
        for k, v in m.get("byType", {}).items():
            print(f"  {k:11s}: gIoU {v['gIoU']:.4f}  cIoU {v['cIoU']:.4f}  n {v['n']}")


if __name__ == "__main__":
    main()
