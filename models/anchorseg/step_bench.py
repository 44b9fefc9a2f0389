"""Time a training step in channels-last layout (what train.py uses) against the default layout,
alternating the two on the same batches in one run, and print the ratio.

    cd models && ../.venv/bin/python -m anchorseg.step_bench [--steps 8]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from torch.utils.data import DataLoader

from . import aux
from .model import AnchorSeg, Config
from .tokenizer import WordTokenizer
from .train import SynthStream, channels_last, train_step


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=8, help="timed steps per layout")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = Config()
    tok = WordTokenizer.from_train_split(cfg.text_len)
    cfg.vocab_size = len(tok.words)
    batches = iter(DataLoader(SynthStream(tok, cfg, seed=0, splice=True, batch=args.batch), batch_size=args.batch, num_workers=0))
    batches = [next(batches) for _ in range(args.steps + 1)]  # made before the clock: only the steps are timed
    runs = {}
    base = (AnchorSeg(cfg), aux.AuxHeads(cfg.dim, cfg.mask_dim))
    for name, layout in (("contiguous", torch.contiguous_format), ("channels_last", torch.channels_last)):
        model, heads = copy.deepcopy(base)
        if layout == torch.channels_last:
            channels_last(model, heads)
        params = list(model.parameters()) + list(heads.parameters())
        runs[name] = (model, heads, torch.optim.AdamW(params, lr=1e-4), params, layout, [])
    token_px = cfg.input_size / cfg.grid
    for i, batch in enumerate(batches):
        for model, heads, opt, params, layout, times in runs.values():  # alternating: load changes hit both
            t0 = time.perf_counter()
            train_step(model, heads, opt, params, batch, True, token_px, layout)
            if i > 0:  # the first step warms up oneDNN
                times.append(time.perf_counter() - t0)
    med = {name: statistics.median(r[-1]) for name, r in runs.items()}
    for name, m in med.items():
        print(f"{name:14s} {m:.3f} s/step (median of {args.steps}, batch {args.batch}, {args.threads} thread(s))")
    print(f"channels_last / contiguous: {med['channels_last'] / med['contiguous']:.3f}")


if __name__ == "__main__":
    main()
