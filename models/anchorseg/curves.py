"""A training run's curves as a small CSV, to commit beside the weights it made.

    cd models && ../.venv/bin/python -m anchorseg.curves runs/tiny-v2/log.jsonl --out curves/tiny-v2.csv

One row per `--every` steps (default 250): the mean of the logged training losses in that window
(`train` logs every 25th step's loss, a single batch's, too noisy to plot one by one), the
learning rate and wall time at its end, and the val gIoU / cIoU where the run evaluated at that
step. A log resumed with `--resume` is one run: `train` drops the lines after the checkpoint and
`elapsed_s` goes on from the checkpoint's.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

COLUMNS = ("step", "elapsed_min", "lr", "loss", "mask_dice", "val_gIoU", "val_cIoU")


def read_log(path: Path) -> list[dict]:
    records = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{n}: expected one JSON record per line but {err}") from err
        if not isinstance(rec, dict) or not isinstance(rec.get("step"), int) or "loss" not in rec or "mask_dice" not in rec:
            raise ValueError(f"{path}:{n}: expected a record with an integer step, loss and mask_dice but received {line[:80]!r}")
        records.append(rec)
    steps = [r["step"] for r in records]
    if steps != sorted(set(steps)):
        raise ValueError(f"{path}: expected strictly increasing steps (one run) but they repeat or go back")
    return records


def curve_rows(records: list[dict], every: int = 250) -> list[dict]:
    """Window w holds the records with step in ((w-1)*every, w*every]; a val record ends a row of its own step."""
    rows: list[dict] = []
    window: list[dict] = []
    for i, rec in enumerate(records):
        window.append(rec)
        last = i + 1 == len(records)
        if rec["step"] % every == 0 or "val" in rec or last:
            val = rec.get("val") or {}
            rows.append(
                {
                    "step": rec["step"],
                    "elapsed_min": round(rec["elapsed_s"] / 60, 1) if "elapsed_s" in rec else "",
                    "lr": f"{rec['lr']:.3g}" if "lr" in rec else "",
                    "loss": round(sum(r["loss"] for r in window) / len(window), 4),
                    "mask_dice": round(sum(r["mask_dice"] for r in window) / len(window), 4),
                    "val_gIoU": round(val["gIoU"], 4) if "gIoU" in val else "",
                    "val_cIoU": round(val["cIoU"], 4) if "cIoU" in val else "",
                }
            )
            window = []
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log", type=Path, help="a run's log.jsonl")
    ap.add_argument("--out", type=Path, help="the CSV to write (default: standard output)")
    ap.add_argument("--every", type=int, default=250, help="steps per row (default 250)")
    args = ap.parse_args(argv)
    if args.every < 1:
        ap.error(f"--every: expected a positive integer but received {args.every}")
    rows = curve_rows(read_log(args.log), args.every)
    out = args.out.open("w", newline="") if args.out else sys.stdout
    try:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    finally:
        if args.out:
            out.close()


if __name__ == "__main__":
    main()
