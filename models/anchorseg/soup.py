"""One checkpoint from several runs of the same restart: the mean of their weights (a "model soup",
Wortsman et al. 2022).

Runs that start from the same weights and differ only in their sample seed stay close enough in
weight space that their mean is a model of its own, often better than either (models/README.md,
"Two seeds, one soup"). It costs nothing per frame: the soup has the same shapes as each member. Float
tensors are averaged (batch-norm running statistics too); integer ones (batch counters) must agree
and are kept. The auxiliary heads are averaged as well, so the soup can be the `--init` of a later
restart.

    cd models && ../.venv/bin/python -m anchorseg.soup --out runs/tiny-soup runs/tiny-twin3/last.pt runs/tiny-twin4/last.pt

Writes <out>/soup.pt (for export or train --init), vocab.txt and soup.json, which names the members;
a bundle exported from soup.pt records every member's run in its recipe (train.recipe).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch


def _mean(states: list[dict[str, torch.Tensor]], what: str) -> dict[str, torch.Tensor]:
    names = list(states[0])
    for k, s in enumerate(states[1:], start=1):
        if list(s) != names:
            raise ValueError(f"Expected member {k}'s {what} to hold the same tensors as member 0's but received {sorted(set(s) ^ set(names))[:5]} in only one")
    out = {}
    for name in names:
        values = [s[name] for s in states]
        if any(v.shape != values[0].shape for v in values):
            raise ValueError(f"Expected {what} {name} of shape {tuple(values[0].shape)} in every member but received {[tuple(v.shape) for v in values]}")
        if values[0].is_floating_point():
            out[name] = torch.stack(values).mean(0)
        elif all(torch.equal(v, values[0]) for v in values):
            out[name] = values[0]
        else:
            raise ValueError(f"Expected integer tensor {what} {name} to be equal in every member but received different values")
    return out


def soup(checkpoints: list[dict]) -> dict:
    """The checkpoint whose weights (and auxiliary heads) are the mean of `checkpoints`' (see module
    docstring); refused unless every member has the same model config and framing."""
    if len(checkpoints) < 2:
        raise ValueError(f"Expected at least 2 checkpoints to average but received {len(checkpoints)}")
    first = checkpoints[0]
    for k, ck in enumerate(checkpoints[1:], start=1):
        if ck["config"] != first["config"] or ck.get("tmcc") != first.get("tmcc"):
            diff = {key: (first["config"].get(key), ck["config"].get(key)) for key in first["config"] if first["config"].get(key) != ck["config"].get(key)}
            raise ValueError(f"Expected member {k} to have member 0's model config but received differences {diff or 'in tmcc'}")
    out = {"config": first["config"], "state": _mean([ck["state"] for ck in checkpoints], "weight"), "step": first["step"], "tmcc": first.get("tmcc", True)}
    if all("heads" in ck for ck in checkpoints):
        out["heads"] = _mean([ck["heads"] for ck in checkpoints], "head")
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="a run folder: soup.pt, vocab.txt, soup.json")
    ap.add_argument("members", type=Path, nargs="+", help="checkpoints of runs with the same config (two or more)")
    args = ap.parse_args(argv)
    vocabs = [(m.parent / "vocab.txt").read_bytes() for m in args.members]
    if any(v != vocabs[0] for v in vocabs):
        ap.error(f"expected one vocabulary in every member's folder but received different vocab.txt files beside {[str(m) for m in args.members]}")
    ck = soup([torch.load(m, map_location="cpu", weights_only=False) for m in args.members])
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(ck, args.out / "soup.pt")
    (args.out / "vocab.txt").write_bytes(vocabs[0])
    info = {
        "members": [str(m) for m in args.members],
        "soupedWith": f"cd models && ../.venv/bin/python -m anchorseg.soup --out {args.out} " + " ".join(str(m) for m in args.members),
    }
    (args.out / "soup.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info))


if __name__ == "__main__":
    main()
