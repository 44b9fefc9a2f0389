"""python -m anchorseg.synth write --out data/reasonseg-synth [--val 300 --test 600 --sequences 6 --frames 90]

Deterministic: the same arguments reproduce the same files byte for byte (same Pillow/libjpeg)."""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from .writer import write_sequence, write_split


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m anchorseg.synth", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write", help="write val/test splits and sequences")
    w.add_argument("--out", type=Path, required=True)
    w.add_argument("--val", type=int, default=300)
    w.add_argument("--test", type=int, default=600)
    w.add_argument("--sequences", type=int, default=6)
    w.add_argument("--frames", type=int, default=90)
    w.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    for split, count in (("val", args.val), ("test", args.test)):
        folder = args.out / split
        if folder.exists():
            shutil.rmtree(folder)  # stale files from a larger earlier run must not survive
        write_split(folder, split, count, args.seed)
        print(f"{split}: {count} samples -> {folder}")
    seq_root = args.out / "sequences"
    if seq_root.exists():
        shutil.rmtree(seq_root)
    for i in range(args.sequences):
        write_sequence(seq_root / f"seq{i:02d}", i, args.frames, args.seed)
    print(f"sequences: {args.sequences} x {args.frames} frames -> {seq_root}")


if __name__ == "__main__":
    main()
