"""Trivial baselines on a ReasonSeg-Synth folder, overall and by query type.

    python -m anchorseg.baselines --data data/reasonseg-synth/test [--json]

They see the generator's object list (the sample JSON's `objects`) and pick one object's
polygon as the prediction:
- random:   a uniformly random object (fixed seed);
- largest:  the object with the most pixels;
- salient:  the object whose mean colour is farthest from the median background colour;
- keyword:  (text-aware, for reference) the object sharing the most words with the query
            (category, plural, colour, texture), ties to the first; none when nothing matches;
- ceiling:  (for reference) the ground truth itself pushed through the tiny model's mask path
            (letterbox to 128x128, average to 64x64 logits, the bundle's upsampling): what a
            perfect model with that output resolution scores.
If a data set lets `random`, `largest` or `salient` reach 0.30 gIoU it is too easy.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from . import preprocess
from .metrics import intersection_union, summarize
from .reasonseg import load_split, rasterize_polygons
from .synth.lexicon import CATEGORIES
from .synth.text import normalize_words

BASELINES = ["random", "largest", "salient", "keyword", "ceiling"]
CEILING_INPUT, CEILING_LOGITS = 128, 64
GATED = ["random", "largest", "salient"]
TOO_EASY = 0.30


def _object_masks(objects, h, w):
    return [rasterize_polygons([o["polygon"]], h, w) for o in objects]


def _keyword_score(o: dict, words: set[str]) -> int:
    names = {o["category"], CATEGORIES.get(o["category"], (None, o["category"]))[1]}
    return int(bool(names & words)) + int(o["colour"] in words) + int(o["texture"] in words)


def ceiling(gt: np.ndarray) -> np.ndarray:
    h, w = gt.shape
    lb = preprocess.letterbox_for(w, h, CEILING_INPUT, CEILING_INPUT)
    soft = preprocess.mask_to_input((gt == 1).astype(np.float32), lb)
    k = CEILING_INPUT // CEILING_LOGITS
    logits = soft.reshape(CEILING_LOGITS, k, CEILING_LOGITS, k).mean(axis=(1, 3)) - 0.5
    return preprocess.logits_to_mask(logits, lb, w, h).astype(np.uint8)


def predictions(image: np.ndarray, gt: np.ndarray, text: str, objects: list[dict], rng: np.random.Generator) -> dict:
    """{baseline name: uint8 mask} for one sample."""
    h, w = image.shape[:2]
    masks = _object_masks(objects, h, w)
    empty = np.zeros((h, w), np.uint8)
    if not masks:
        return {name: empty for name in BASELINES} | {"ceiling": ceiling(gt)}
    areas = [int(m.sum()) for m in masks]
    fg = np.any(np.stack(masks), axis=0)
    bg = np.median(image[~fg].reshape(-1, 3).astype(np.float64), axis=0)
    dist = [np.linalg.norm(image[m.astype(bool)].reshape(-1, 3).mean(axis=0) - bg) if a else -1.0 for m, a in zip(masks, areas)]
    words = set(normalize_words(text))
    kw = [_keyword_score(o, words) for o in objects]
    return {
        "random": masks[int(rng.integers(len(masks)))],
        "largest": masks[int(np.argmax(areas))],
        "salient": masks[int(np.argmax(dist))],
        "keyword": masks[int(np.argmax(kw))] if max(kw) > 0 else empty,
        "ceiling": ceiling(gt),
    }


def run(folder: Path, seed: int = 0) -> dict:
    items = load_split(folder)
    rng = np.random.default_rng(seed)
    pairs = {b: defaultdict(list) for b in BASELINES}
    flags = defaultdict(list)
    for image, gt, texts, is_sentence, meta in items:
        preds = predictions(image, gt, texts[0], meta.get("objects", []), rng)
        groups = ["all", meta.get("qtype", "unknown")] + (["empty"] if meta.get("empty") else [])
        for g in groups:
            flags[g].append(is_sentence)
        for b, pred in preds.items():
            iu = intersection_union(pred, gt)
            for g in groups:
                pairs[b][g].append(iu)
    return {b: {g: summarize(p, flags[g]) for g, p in by.items()} for b, by in pairs.items()}


def table(result: dict) -> str:
    groups = list(next(iter(result.values())).keys())
    lines = ["| baseline | " + " | ".join(f"{g} (n={result[BASELINES[0]][g]['n']})" for g in groups) + " |", "|---" * (len(groups) + 1) + "|"]
    for b, by in result.items():
        lines.append(f"| {b} | " + " | ".join(f"{by[g]['gIoU']:.3f} / {by[g]['cIoU']:.3f}" for g in groups) + " |")
    return "\n".join(lines) + "\n(gIoU / cIoU)"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print only the JSON")
    args = ap.parse_args(argv)
    result = run(args.data, args.seed)
    if not args.json:
        print(table(result))
        worst = max(result[b]["all"]["gIoU"] for b in GATED)
        verdict = "too easy" if worst >= TOO_EASY else "ok"
        print(f"best trivial baseline gIoU {worst:.3f} (limit {TOO_EASY}): {verdict}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
