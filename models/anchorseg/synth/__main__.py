"""python -m anchorseg.synth write --out data/reasonseg-synth [--val 300 --test 600 --dev 300 --framed 200
                                                             --sequences 6 --frames 90 --switch-sequences 2 --switch-frames 120]

Deterministic: the same arguments reproduce the same files byte for byte (same Pillow/libjpeg)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from .writer import write_sequence, write_split


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m anchorseg.synth", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write", help="write val/test/dev/framed splits and sequences")
    w.add_argument("--out", type=Path, required=True)
    w.add_argument("--val", type=int, default=300)
    w.add_argument("--test", type=int, default=600)
    w.add_argument("--dev", type=int, default=300, help="v2, held-out like test: design choices are judged here")
    w.add_argument("--framed", type=int, default=200, help="v2 camera-framed scenes in 640x480 frames, test's queries")
    w.add_argument("--sequences", type=int, default=6)
    w.add_argument("--frames", type=int, default=90)
    w.add_argument("--switch-sequences", type=int, default=2, help="sequences whose goal's answer changes (sequences-switch/)")
    w.add_argument("--switch-frames", type=int, default=120)
    w.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    for split, count in (("val", args.val), ("test", args.test), ("dev", args.dev), ("framed", args.framed)):
        folder = args.out / split
        if folder.exists():
            shutil.rmtree(folder)  # stale files from a larger earlier run must not survive
        write_split(folder, split, count, args.seed)
        print(f"{split}: {count} samples -> {folder}")
    for folder, count, frames, switch in (
        ("sequences", args.sequences, args.frames, False),
        ("sequences-switch", args.switch_sequences, args.switch_frames, True),
    ):
        seq_root = args.out / folder
        if seq_root.exists():
            shutil.rmtree(seq_root)
        for i in range(count):
            write_sequence(seq_root / f"seq{i:02d}", i, frames, args.seed, switch=switch)
        print(f"{folder}: {count} x {frames} frames -> {seq_root}")


if __name__ == "__main__":
    main()
