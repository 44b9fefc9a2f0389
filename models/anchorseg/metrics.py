"""LISA's ReasonSeg metrics (AnchorSeg reuses them unchanged).

- intersection/union are counted for the foreground class; ground-truth pixels equal to 255
  are ignored (the prediction there counts neither way);
- gIoU = mean over samples of i / (u + 1e-5), where a sample with u == 0 (no target, nothing
  predicted) counts 1.0;
- cIoU = sum of i / (sum of u + 1e-10) over the split.

CLI (cross-checks other implementations, e.g. the TypeScript SDK):
    python -m anchorseg.metrics --pairs pairs.json
reads [{"width", "height", "pred": [0/1 ...], "gt": [0/1/255 ...], "is_sentence"?}, ...]
(row-major flat lists) and prints summarize() as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

IGNORE = 255


def intersection_union(pred: np.ndarray, gt: np.ndarray) -> tuple[int, int]:
    """(intersection, union) of the foreground class. `pred`: bool, 0/1 or 0/255;
    `gt`: uint8 0/1/255 of the same shape."""
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f"Expected pred and gt of the same shape but received {pred.shape} and {gt.shape}")
    valid = gt != IGNORE
    p = (pred > 0) & valid
    g = gt == 1
    i = int(np.count_nonzero(p & g))
    return i, int(np.count_nonzero(p)) + int(np.count_nonzero(g)) - i


def _scores(pairs: Sequence[tuple[int, int]]) -> dict:
    if not pairs:
        return {"gIoU": 0.0, "cIoU": 0.0, "n": 0}
    acc, si, su = 0.0, 0, 0
    for i, u in pairs:
        acc += 1.0 if u == 0 else i / (u + 1e-5)
        si += i
        su += u
    return {"gIoU": acc / len(pairs), "cIoU": si / (su + 1e-10), "n": len(pairs)}


def summarize(pairs: Sequence[tuple[int, int]], is_sentence: Sequence[bool] | None = None) -> dict:
    """{"gIoU", "cIoU", "n"} over `pairs` of (i, u); with `is_sentence`, also "short" and
    "long" (ReasonSeg's phrase / sentence split) in the same form."""
    out = _scores(pairs)
    if is_sentence is not None:
        if len(is_sentence) != len(pairs):
            raise ValueError(f"Expected {len(pairs)} is_sentence flags but received {len(is_sentence)}")
        out["short"] = _scores([p for p, s in zip(pairs, is_sentence) if not s])
        out["long"] = _scores([p for p, s in zip(pairs, is_sentence) if s])
    return out


def _read_pairs(items: list[dict]) -> tuple[list[tuple[int, int]], list[bool] | None]:
    pairs, sentence = [], []
    for k, it in enumerate(items):
        shape = (int(it["height"]), int(it["width"]))
        pred = np.asarray(it["pred"], dtype=np.int64)
        gt = np.asarray(it["gt"], dtype=np.int64)
        if pred.size != shape[0] * shape[1] or gt.size != pred.size:
            raise ValueError(f"Expected {shape[0] * shape[1]} values in pair {k} but received pred {pred.size}, gt {gt.size}")
        pairs.append(intersection_union(pred.reshape(shape), gt.reshape(shape).astype(np.uint8)))
        sentence.append(bool(it.get("is_sentence", False)))
    has_flags = any("is_sentence" in it for it in items)
    return pairs, sentence if has_flags else None


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="LISA gIoU/cIoU over prediction/ground-truth pairs in a JSON file")
    ap.add_argument("--pairs", required=True, help="JSON file (or - for stdin)")
    args = ap.parse_args(argv)
    src = sys.stdin.read() if args.pairs == "-" else Path(args.pairs).read_text()
    pairs, sentence = _read_pairs(json.loads(src))
    print(json.dumps(summarize(pairs, sentence)))


if __name__ == "__main__":
    main()
