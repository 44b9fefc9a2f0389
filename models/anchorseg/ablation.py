"""The ablation table: every row trained here with the same budget, evaluated on the dev split
(design choices are judged on dev, never on test: issue #13; rows before it were scored on test).

    cd models && ../.venv/bin/python -m anchorseg.ablation --steps 600 --out runs/ablation

Rows: single <SEG> (LISA-style) vs query bank + anchor; with vs without TMCC; K in {1, 3, 7};
decoder image states from the vision encoder (per-frame, what we ship) vs from the reasoner (reference).
Writes runs/ablation/table.md and table.json; rows already trained (checkpoint present) are reused.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .evaluate import DATA, evaluate_checkpoint
from .train import main as train

ROWS = [
    ("single <SEG> (no latent, no token map, no TMCC)", "seg1", ["--single-seg"]),
    ("query bank K=1 + anchor, TMCC", "k1", ["--latent", "1"]),
    ("query bank K=3 + anchor, TMCC", "k3", ["--latent", "3"]),
    ("query bank K=7 + anchor, TMCC (shipped config)", "k7", ["--latent", "7"]),
    ("query bank K=7 + anchor, no TMCC", "k7-notmcc", ["--latent", "7", "--no-tmcc"]),
    ("query bank K=7 + anchor, TMCC, reasoner image states", "k7-reasoner", ["--latent", "7", "--image-states", "reasoner"]),
]


def _flag(row: dict, key: str) -> str:
    # rows trained before the auxiliary heads (spliced wrappers) existed carry no "aux" ("splice") key
    return "yes" if row.get(key) else "no"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("runs/ablation"))
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", nargs="*", help="row keys to run (default: all)")
    ap.add_argument("--no-aux", action="store_true", help="train without the auxiliary heads (as rows trained before they existed)")
    ap.add_argument("--no-splice", action="store_true", help="template wrappers only (as rows trained before spliced wrappers existed)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    table = args.out / "table.json"

    def load() -> dict:
        return json.loads(table.read_text()) if table.exists() else {}

    for label, key, extra in ROWS:
        if args.only and key not in args.only:
            continue
        run = args.out / key
        if not (run / "last.pt").exists():
            train(
                [
                    "--out",
                    str(run),
                    "--steps",
                    str(args.steps),
                    "--eval-every",
                    str(args.steps),
                    "--val-limit",
                    "100",
                    "--threads",
                    str(args.threads),
                    *extra,
                    *(["--no-aux"] if args.no_aux else []),
                    *(["--no-splice"] if args.no_splice else []),
                ]
            )
        row = {
            "label": label,
            "steps": args.steps,
            "aux": not args.no_aux,
            "splice": not args.no_splice,
            "dev": evaluate_checkpoint(run / "last.pt", DATA / "dev"),
        }
        results = load()  # re-read: rows may be trained by parallel processes (--only)
        results[key] = row
        table.write_text(json.dumps(results, indent=2))
    results = load()
    lines = ["| configuration | aux heads | spliced wrappers | steps | dev gIoU | dev cIoU | short gIoU | long gIoU |", "|---|---|---|---|---|---|---|---|"]
    for label, key, _ in ROWS:
        if "dev" in results.get(key, {}):  # a row of an older table.json holds test figures: not comparable
            r = results[key]
            t = r["dev"]
            lines.append(
                f"| {label} | {_flag(r, 'aux')} | {_flag(r, 'splice')} | {r['steps']} | {t['gIoU']:.3f} | {t['cIoU']:.3f} | {t['short']['gIoU']:.3f} | {t['long']['gIoU']:.3f} |"
            )
    (args.out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
