"""Evaluate a bundle (onnxruntime) or a checkpoint (PyTorch) on a ReasonSeg-format folder with LISA's metrics.

    cd models && ../.venv/bin/python -m anchorseg.evaluate --bundle bundles/anchorseg-tiny [--data data/reasonseg-synth/test] [--json]
    cd models && ../.venv/bin/python -m anchorseg.evaluate --checkpoint runs/k1/best.pt
    cd models && ../.venv/bin/python -m anchorseg.evaluate --bundle bundles/anchorseg-tiny --paraphrases data/reasonseg-synth/paraphrases/test.jsonl
    cd models && ../.venv/bin/python -m anchorseg.evaluate --bundle bundles/anchorseg-tiny --data data/reasonseg-synth/dev --answers

The bundle path runs the three engines exactly as the SDK does (same preprocessing, tokenizer,
postprocessing) and the SDK's `found` rule (tokenizer.not_found_reason), so `npx anchorseg eval`
reproduces these numbers.
"""

from __future__ import annotations

import argparse
import json
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import preprocess
from .metrics import intersection_union, summarize
from .reasonseg import load_split, rasterize_polygons
from .synth.text import normalize_words
from .tokenizer import WordTokenizer, not_found_reason

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "reasonseg-synth"


def run_engine(sess, pool: dict) -> None:
    """Runs one engine fed by tensor name from `pool` and adds its outputs to it: how the engines
    of a bundle are wired (docs/bundle-format.md), here, in the SDK and in recover.check."""
    outs = sess.run(None, {i.name: pool[i.name] for i in sess.get_inputs()})
    pool.update({o.name: v for o, v in zip(sess.get_outputs(), outs, strict=True)})


class BundleRunner:
    """The three ONNX engines wired by tensor name, as in docs/bundle-format.md."""

    def __init__(self, bundle: Path, threads: int = 2):
        import onnxruntime as ort

        self.manifest = json.loads((bundle / "anchorseg.json").read_text())
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.sessions = {
            name: ort.InferenceSession(str(bundle / spec["file"]), opts, providers=["CPUExecutionProvider"]) for name, spec in self.manifest["engines"].items()
        }
        tk = self.manifest["tokenizer"]
        self.tok = WordTokenizer.load(bundle / tk["vocab"], tk["maxTokens"], tk.get("inflections", False))
        # absent (bundles before 0.4): every known word counts as content, as in the SDK
        self.function_words = frozenset(tk.get("functionWords", []))
        self.image = self.manifest["images"][0]
        # a dynamic goal length (export's inference graph) takes the goal's own tokens, as the SDK feeds it
        goal_ids = next(i for i in self.manifest["engines"]["reasoner"]["inputs"] if i["name"] == "goal_ids")
        self.goal_length_dynamic = isinstance(goal_ids["shape"][1], str)
        self.threshold = self.manifest["mask"]["threshold"]

    def _run(self, name: str, pool: dict) -> None:
        run_engine(self.sessions[name], pool)

    def has_content(self, text: str) -> bool:
        return self.tok.has_content(text, self.function_words)

    def predict(self, rgb: np.ndarray, text: str) -> tuple[np.ndarray, dict]:
        pixels, lb = preprocess.to_input(rgb, self.image["width"], self.image["height"], self.image["mean"], self.image["std"], self.image["letterbox"])
        ids, gm = self.tok.encode(text)
        if self.goal_length_dynamic:
            n = max(1, int(gm.sum()))
            ids, gm = ids[:n], gm[:n]
        pool = {"pixels": pixels, "goal_ids": ids[None], "goal_mask": gm[None]}
        for name in ("vision", "reasoner", "decoder"):
            self._run(name, pool)
        mask = preprocess.logits_to_mask(pool["mask_logits"][0, 0], lb, rgb.shape[1], rgb.shape[0], self.threshold)
        return mask, pool


class Record(NamedTuple):
    """One answer, scored later under any score threshold (see _scored)."""

    mask: tuple[int, int]  # (i, u) of the mask
    blank: tuple[int, int]  # (i, u) had the mask been empty
    score: float
    is_sentence: bool
    qtype: str | None  # "empty" for "not there" samples
    has_content: bool  # the goal has a content word
    scale: float | None = None  # framed scenes: the scene's width over the most that fits the frame


def _record(runner: BundleRunner, image: np.ndarray, gt: np.ndarray, text: str, is_sentence: bool, meta: dict) -> Record:
    pred, pool = runner.predict(image, text)
    return Record(
        intersection_union(pred, gt),
        intersection_union(np.zeros_like(pred), gt),
        float(pool["score"].reshape(-1)[0]),
        is_sentence,
        "empty" if meta.get("empty") else meta.get("qtype"),
        runner.has_content(text),
        (meta.get("framing") or {}).get("scale"),
    )


def _predict_split(runner: BundleRunner, data: Path, limit: int | None, progress: bool):
    """Per sample of `data`: its _record for texts[0]."""
    items = load_split(data)[:limit]
    if progress:
        from tqdm import tqdm

        items = tqdm(items, desc=data.name)
    for image, gt, texts, is_sentence, meta in items:
        yield _record(runner, image, gt, texts[0], is_sentence, meta)


# framed scenes by scale (Record.scale): a small scene reaches the model's input with few pixels
SCALE_BINS = (0.3, 0.5, 0.7, 0.85, 1.0)


def _scale_bin(scale: float | None) -> str:
    if scale is None:
        return "unframed"
    lo, hi = next((lo, hi) for lo, hi in pairwise(SCALE_BINS) if scale < hi or hi == SCALE_BINS[-1])
    return f"{lo:.2f}-{hi:.2f}"


def _scored(records: list[Record], threshold: float, by_type: bool = False) -> dict:
    """LISA's metrics where a result that is not found (the SDK's rule, tokenizer.not_found_reason:
    no content word, or a score below `threshold`) answers an empty mask. `by_type` adds `byType`
    (per query type) and, where some scenes are framed, `byScale`; each group's `missedUnion` is
    the share of the whole set's union its answers miss (union - intersection), so the groups'
    shares sum to 1 - cIoU and say which of them costs cIoU most."""
    pairs = [r.mask if not_found_reason(r.has_content, r.score, threshold) is None else r.blank for r in records]
    sentence = [r.is_sentence for r in records]
    out = summarize(pairs, sentence)
    union = sum(u for _, u in pairs)

    def group(g, keys: list) -> dict:
        sel = [(p, s) for p, s, k in zip(pairs, sentence, keys) if k == g]
        missed = sum(u - i for (i, u), _ in sel)
        return {**summarize([p for p, _ in sel], [s for _, s in sel]), "missedUnion": missed / union if union else 0.0}

    def groups(keys: list) -> dict:
        return {g: group(g, keys) for g in sorted({k for k in keys if k})}

    if by_type and any(r.qtype for r in records):
        out["byType"] = groups([r.qtype for r in records])
    if by_type and any(r.scale is not None for r in records):
        out["byScale"] = groups([_scale_bin(r.scale) for r in records])
    return out


def evaluate_bundle(
    bundle: Path, data: Path, limit: int | None = None, progress: bool = False, by_type: bool = False, score_threshold: float | None = None
) -> dict:
    """LISA's metrics; `by_type` adds `byType` for ReasonSeg-Synth folders (per query type, and "empty").
    A result scoring below `score_threshold` (default: the manifest's `score.threshold`, as the SDK's
    `found`) counts as an empty mask: the model's answer is "not there"."""
    runner = BundleRunner(bundle)
    threshold = runner.manifest["score"]["threshold"] if score_threshold is None else score_threshold
    return _scored(list(_predict_split(runner, data, limit, progress)), threshold, by_type)


def best_score_threshold(records) -> float:
    """The threshold in steps of 0.05 that maximises gIoU over `records` (see _predict_split); of
    several equal ones, the middle: val holds no score between them, and the lowest sits right at
    its lowest-scoring wrong answer, so unseen "not there" goals pass it (models/README.md)."""
    candidates = [round(0.05 * k, 2) for k in range(20)]
    giou = {t: _scored(records, t)["gIoU"] for t in candidates}
    best = [t for t in candidates if giou[t] == max(giou.values())]
    return best[len(best) // 2]


def calibrate_score_threshold(bundle: Path, data: Path = DATA / "val") -> float:
    """The bundle's `score.threshold`, chosen on `data` (val: test stays unseen)."""
    return best_score_threshold(list(_predict_split(BundleRunner(bundle), data, None, False)))


def evaluate_paraphrases(bundle: Path, file: Path, data: Path = DATA / "test", score_threshold: float | None = None) -> dict:
    """Each row of `file` (JSON lines: sample id in `data`, `original` = its texts[0], `paraphrase`):
    LISA's metrics on the same images with the original and with the paraphrase, the drop between
    them, and the same for the paraphrases whose every word the bundle's tokenizer reads (`known`:
    in its vocabulary, or an inflection of a word in it where the manifest says `inflections`) and
    those with at least one word it reads as unknown (`unknown`). `dropSpread` is how far the gIoU drop moves
    when the pairs are resampled (see _bootstrap_drop): a set of a few hundred pairs cannot resolve
    drops closer than that."""
    runner = BundleRunner(bundle)
    threshold = runner.manifest["score"]["threshold"] if score_threshold is None else score_threshold
    rows = [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
    by_id = {meta["id"]: (image, gt, texts, is_sentence, meta) for image, gt, texts, is_sentence, meta in load_split(data)}
    original, paraphrase = [], []
    for row in rows:
        if row["sample"] not in by_id:
            raise ValueError(f"Expected sample {row['sample']!r} of {file} in {data} but it has no such sample")
        image, gt, texts, is_sentence, meta = by_id[row["sample"]]
        if texts[0] != row["original"]:
            raise ValueError(f"Expected original {texts[0]!r} for sample {row['sample']} but received {row['original']!r}")
        original.append(_record(runner, image, gt, row["original"], is_sentence, meta))
        paraphrase.append(_record(runner, image, gt, row["paraphrase"], is_sentence, meta))
    unknown = [any(runner.tok.read(w) is None for w in normalize_words(row["paraphrase"])) for row in rows]

    def compare(keep: list[bool], by_type: bool = False) -> dict:
        a = _scored([r for r, k in zip(original, keep) if k], threshold, by_type)
        b = _scored([r for r, k in zip(paraphrase, keep) if k], threshold, by_type)
        return {"original": a, "paraphrase": b, "drop": {"gIoU": a["gIoU"] - b["gIoU"], "cIoU": a["cIoU"] - b["cIoU"]}, "n": a["n"]}

    return {
        **compare([True] * len(rows), by_type=True),
        "dropSpread": _bootstrap_drop(original, paraphrase, threshold),
        "known": compare([not u for u in unknown]),
        "unknown": compare(unknown),
        "withUnknownWords": sum(unknown),
    }


def _bootstrap_drop(original: list[Record], paraphrase: list[Record], threshold: float, resamples: int = 1000) -> dict:
    """The gIoU drop over `resamples` resamplings of the pairs with replacement (a fixed seed, so the
    figure is the same on every run): its standard deviation and 95 % interval."""
    rng = np.random.default_rng(0)
    n = len(original)
    drops = []
    for _ in range(resamples):
        k = rng.integers(0, n, n)
        drops.append(_scored([original[j] for j in k], threshold)["gIoU"] - _scored([paraphrase[j] for j in k], threshold)["gIoU"])
    lo, hi = np.percentile(drops, [2.5, 97.5])
    return {"resamples": resamples, "sd": float(np.std(drops)), "interval95": [float(lo), float(hi)]}


ANSWERS = ("target", "not found", "background", "same category", "target's colour", "other object")


def answer_kind(pred: np.ndarray, found: bool, objects: list[dict]) -> str:
    """Which object a present target's answer picked: the object covering at least half of the mask
    (ReasonSeg-Synth lists every object), named by how it relates to the target."""
    if not found or not pred.any():
        return "not found"
    h, w = pred.shape
    cover = [(int((pred & rasterize_polygons([o["polygon"]], h, w).astype(bool)).sum()), o) for o in objects]
    hit, best = max(cover, key=lambda c: c[0])
    target = next(o for o in objects if o["is_target"])
    if 2 * hit < pred.sum():
        return "background"
    if best["is_target"]:
        return "target"
    if best["category"] == target["category"]:
        return "same category"
    return "target's colour" if best["colour"] == target["colour"] else "other object"


def answers_by_type(bundle: Path, data: Path, limit: int | None = None) -> dict[str, dict[str, int]]:
    """Per query type, how many answers to present targets fall in each of ANSWERS (the SDK's
    `found` rule): where a type's errors go, to judge a design change on dev."""
    runner = BundleRunner(bundle)
    threshold = runner.manifest["score"]["threshold"]
    out: dict[str, dict[str, int]] = {}
    for image, _gt, texts, _s, meta in load_split(data)[:limit]:
        if meta.get("empty"):
            continue
        pred, pool = runner.predict(image, texts[0])
        found = not_found_reason(runner.has_content(texts[0]), float(pool["score"].reshape(-1)[0]), threshold) is None
        row = out.setdefault(meta.get("qtype", "all"), dict.fromkeys(ANSWERS, 0))
        row[answer_kind(pred.astype(bool), found, meta["objects"])] += 1
    return out


def evaluate_checkpoint(checkpoint: Path, data: Path, limit: int | None = None) -> dict:
    import torch

    from .model import load_checkpoint
    from .train import evaluate, load_val

    model, _ = load_checkpoint(checkpoint)
    tok = WordTokenizer.load(checkpoint.parent / "vocab.txt", model.cfg.text_len)
    torch.set_num_threads(2)
    return evaluate(model, load_val(tok, model.cfg.input_size, model.cfg.letterbox, limit, data))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--bundle", type=Path)
    src.add_argument("--checkpoint", type=Path)
    ap.add_argument("--data", type=Path, default=DATA / "test")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--paraphrases", type=Path, default=None, help="bundle only: a JSON-lines paraphrase set over --data (e.g. data/reasonseg-synth/paraphrases/test.jsonl)"
    )
    ap.add_argument(
        "--score-threshold",
        type=float,
        default=None,
        help="bundle only: instead of the manifest's score.threshold (0: never blank a mask for its score; a goal without a content word is still blanked)",
    )
    ap.add_argument("--answers", action="store_true", help="bundle only: per query type, which object the answers to present targets picked")
    args = ap.parse_args(argv)
    if args.answers:
        if not args.bundle:
            ap.error("--answers needs --bundle")
        rows = answers_by_type(args.bundle, args.data, args.limit)
        if args.json:
            print(json.dumps(rows))
            return
        print(f"{'type':12s}" + "".join(f"{a:>17s}" for a in ANSWERS))
        for qtype, row in sorted(rows.items()):
            print(f"{qtype:12s}" + "".join(f"{row[a]:17d}" for a in ANSWERS))
        return
    if args.paraphrases:
        if not args.bundle:
            ap.error("--paraphrases needs --bundle")
        m = evaluate_paraphrases(args.bundle, args.paraphrases, args.data, args.score_threshold)
        print(
            json.dumps(m)
            if args.json
            else f"{args.paraphrases} (n {m['n']}, {m['withUnknownWords']} with unknown words): gIoU original {m['original']['gIoU']:.4f}"
            f" paraphrase {m['paraphrase']['gIoU']:.4f} drop {m['drop']['gIoU']:.4f}; cIoU original {m['original']['cIoU']:.4f}"
            f" paraphrase {m['paraphrase']['cIoU']:.4f} drop {m['drop']['cIoU']:.4f}"
            f"\n  gIoU drop over {m['dropSpread']['resamples']} resamplings of the pairs: sd {m['dropSpread']['sd']:.4f},"
            f" 95 % interval {m['dropSpread']['interval95'][0]:.4f} to {m['dropSpread']['interval95'][1]:.4f}"
        )
        for k in () if args.json else ("known", "unknown"):
            v = m[k]
            print(
                f"  {k:7s} words (n {v['n']}): gIoU original {v['original']['gIoU']:.4f} paraphrase {v['paraphrase']['gIoU']:.4f}"
                f" drop {v['drop']['gIoU']:.4f}; cIoU drop {v['drop']['cIoU']:.4f}"
            )
        return
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
        for k, v in (*m.get("byType", {}).items(), *(("scale " + b, v) for b, v in m.get("byScale", {}).items())):
            print(f"  {k:11s}: gIoU {v['gIoU']:.4f}  cIoU {v['cIoU']:.4f}  n {v['n']}  missed union {v['missedUnion']:.3f}")


if __name__ == "__main__":
    main()
