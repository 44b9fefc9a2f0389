"""Forward cost of each engine: FLOPs (PyTorch's FLOP counter) and onnxruntime latency on this CPU.

    cd models && ../.venv/bin/python -m anchorseg.cost --bundle bundles/anchorseg-tiny --checkpoint runs/tiny/best.pt

Prints a table and, as the last line, one JSON object. A benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from .evaluate import BundleRunner
from .export import engine_modules, graph_of
from .model import load_checkpoint


def flops(checkpoint: Path, graph: str = "inference") -> dict[str, int]:
    """Per engine, as `graph` (export.GRAPHS) computes it, the goal at its longest (text_len tokens)."""
    model, _ = load_checkpoint(checkpoint)
    cfg = model.cfg
    _, reasoner, decoder = engine_modules(model, graph)
    px = torch.zeros(1, 3, cfg.input_size, cfg.input_size)
    ids = torch.zeros(1, cfg.text_len, dtype=torch.long)
    gm = torch.ones(1, cfg.text_len)
    out = {}
    # autograd stays on: the FLOP counter's module tracker fails under no_grad (torch 2.15)
    with FlopCounterMode(display=False) as fc:
        tokens, feats = model.vision(px)
    out["vision"] = fc.get_total_flops()
    bank, rstates = model.reasoner(tokens, ids, gm)  # the decoder's inputs, whichever graph counts
    with FlopCounterMode(display=False) as fc:
        reasoner(tokens, ids, gm)
    out["reasoner"] = fc.get_total_flops()
    states = tokens if cfg.image_states == "vision" else rstates
    with FlopCounterMode(display=False) as fc:
        decoder(states, feats, bank)
    out["decoder"] = fc.get_total_flops()
    return out


def latency(bundle: Path, threads: int, runs: int) -> dict[str, float]:
    runner = BundleRunner(bundle, threads=threads)
    rgb = (np.random.default_rng(0).random((120, 160, 3)) * 255).astype(np.uint8)
    _, pool = runner.predict(rgb, "the red cup")
    times: dict[str, list[float]] = {k: [] for k in runner.sessions}
    for _ in range(runs):
        for name in ("vision", "reasoner", "decoder"):
            t = time.perf_counter()
            runner._run(name, pool)
            times[name].append((time.perf_counter() - t) * 1000)
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args(argv)
    f = flops(args.checkpoint, graph_of(json.loads((args.bundle / "anchorseg.json").read_text())))
    ms = latency(args.bundle, args.threads, args.runs)
    print(f"{'engine':10s} {'MFLOPs':>9s} {'ms (median, ORT CPU, ' + str(args.threads) + ' thread)':>36s}")
    for k in ("vision", "reasoner", "decoder"):
        print(f"{k:10s} {f[k] / 1e6:9.1f} {ms[k]:36.2f}")
    per_frame_ms = ms["vision"] + ms["decoder"]
    print(f"per frame (vision + decoder): {(f['vision'] + f['decoder']) / 1e6:.1f} MFLOPs, {per_frame_ms:.2f} ms; reasoner {ms['reasoner']:.2f} ms")
    print(json.dumps({"mflops": {k: round(v / 1e6, 1) for k, v in f.items()}, "ms": {k: round(v, 3) for k, v in ms.items()}, "threads": args.threads}))


if __name__ == "__main__":
    main()
