"""Train AnchorSeg-Tiny on ReasonSeg-Synth (CPU by default, seeded).

    cd models && ../.venv/bin/python -m anchorseg.train --out runs/tiny            # the shipped recipe
    cd models && ../.venv/bin/python -m anchorseg.train --out runs/k1 --latent 1   # an ablation row
    cd models && ../.venv/bin/python -m anchorseg.train --out runs/r2 --init runs/tiny/last.pt --seed 1 --lr 4e-4  # a warm restart

`--device cuda` trains on a GPU (with `--workers` near the CPU count: the samples are drawn on the
CPU). No machine of this project has a GPU, so that path has not been run.

Long runs: every --checkpoint-minutes (default 10) of wall time the whole training state goes to
runs/<name>/resume.pt (model, auxiliary heads, optimiser, step, best val, RNG states; the data
position and the schedule follow from the step). The same command with `--resume` added continues
a stopped run exactly where that checkpoint was, so a stop loses at most that many minutes.

Writes runs/<name>/{config.json, log.jsonl, best.pt, last.pt, resume.pt}. Validation uses the committed val split
and the exact preprocessing/postprocessing the SDK uses; the best checkpoint is chosen by val cIoU
(as the reference does).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, IterableDataset, get_worker_info
from tqdm import tqdm

from . import aux, preprocess
from .losses import total_loss
from .metrics import intersection_union, summarize
from .model import GRID_PARAMS, AnchorSeg, Config, grow_reasoner, resize_grids
from .reasonseg import load_split
from .synth import sample
from .synth.sample import SPLITS
from .tokenizer import WordTokenizer

ROOT = Path(__file__).resolve().parents[1]
VAL_DIR = ROOT / "data" / "reasonseg-synth" / "val"


def encode_sample(rgb: np.ndarray, mask: np.ndarray | None, text: str, tok: WordTokenizer, size: int, letterbox: str):
    pixels, lb = preprocess.to_input(rgb, size, size, letterbox=letterbox)
    ids, goal_mask = tok.encode(text)
    gt = preprocess.mask_to_input(mask, lb) if mask is not None else None
    return pixels[0], ids, goal_mask, gt, lb


class SynthStream(IterableDataset):
    """An endless, seeded stream of fresh training samples (no epoch: every sample is new). Batch b
    is always samples b * batch ... (b + 1) * batch - 1, whichever worker draws it (the DataLoader
    takes the workers' batches in turn), so a run resumed at step s starts at batch `start` = s."""

    def __init__(self, tok: WordTokenizer, cfg: Config, seed: int, splice: bool, batch: int, start: int = 0, every_object: bool = False, **mix: float | None):
        """`every_object`: aux.labels' rule for small objects; `mix`: sample()'s train-only shares
        (framed, group_refs, composition)."""
        self.tok, self.cfg, self.seed, self.splice, self.batch, self.start = tok, cfg, seed, splice, batch, start
        self.every_object, self.mix = every_object, mix

    def __iter__(self):
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        for b in itertools.count(self.start + wid, nw):
            for i in range(b * self.batch, (b + 1) * self.batch):
                s = sample("train", i, seed=self.seed, splice=self.splice, **self.mix)
                text = random.Random(self.seed * 1_000_003 + i).choice(s.texts)
                pixels, ids, gm, gt, lb = encode_sample(s.image, s.mask, text, self.tok, self.cfg.input_size, self.cfg.letterbox)
                y = aux.labels(s.objects, s.image.shape[0], s.image.shape[1], lb, self.cfg.grid, self.cfg.mask_grid, self.every_object)
                yield pixels, ids, gm, gt, y


def load_val(tok: WordTokenizer, size: int, letterbox: str, limit: int | None, folder: Path = VAL_DIR):
    items = load_split(folder)
    if limit:
        items = items[:limit]
    out = []
    for image, gt, texts, is_sentence, _meta in items:
        pixels, ids, gm, _, lb = encode_sample(image, None, texts[0], tok, size, letterbox)
        out.append((pixels, ids, gm, lb, gt, is_sentence))
    return out


@torch.no_grad()
def evaluate(model: AnchorSeg, val, batch: int = 64) -> dict:
    model.eval()
    device = next(model.parameters()).device
    pairs, sentence = [], []
    for k in range(0, len(val), batch):
        chunk = val[k : k + batch]
        px, ids, gm = (torch.from_numpy(np.stack([c[i] for c in chunk])).to(device) for i in range(3))
        _, _, logits, _ = model(px, ids, gm)
        for c, lg in zip(chunk, logits[:, 0].cpu().numpy()):
            gt = c[4]
            pred = preprocess.logits_to_mask(lg, c[3], gt.shape[1], gt.shape[0])
            pairs.append(intersection_union(pred, gt))
            sentence.append(c[5])
    model.train()
    return summarize(pairs, sentence)


def channels_last(model: AnchorSeg, heads: aux.AuxHeads | None) -> None:
    """Trains in channels-last layout: oneDNN's depthwise 5x5 convolutions run much faster in it on
    a CPU (`python -m anchorseg.step_bench` measures the step). Checkpoints and exports do not
    change: load_state_dict copies into any layout."""
    model.to(memory_format=torch.channels_last)
    if heads:
        heads.to(memory_format=torch.channels_last)


def train_step(
    model: AnchorSeg,
    heads: aux.AuxHeads | None,
    opt: torch.optim.Optimizer,
    params: list,
    batch,
    tmcc: bool,
    token_px: float,
    memory_format: torch.memory_format = torch.channels_last,
) -> tuple[torch.Tensor, dict]:
    """One optimiser step on a batch from SynthStream, its images in `memory_format` (the model's,
    see channels_last); returns the loss and its parts."""
    px, ids, gm, gt, y = batch
    px = px.contiguous(memory_format=memory_format)
    out, (tokens, feats, bank) = model(px, ids, gm, return_states=True)
    with torch.no_grad():
        up = F.interpolate(out[2], size=gt.shape[-2:], mode="bilinear", align_corners=False)[:, 0] > 0
        g = gt > 0.5
        inter = (up & g).flatten(1).sum(1).float()
        union = (up | g).flatten(1).sum(1).float()
        iou_target = torch.where(g.flatten(1).any(1), inter / union.clamp(min=1), torch.zeros_like(inter))
    loss, parts = total_loss(out, gt, iou_target, tmcc, token_px)
    if heads:
        aux_loss, aux_parts = heads.loss(tokens, feats, bank[:, -1], y)
        loss = loss + aux_loss
        parts.update({k: float(v.detach()) for k, v in aux_parts.items()})
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    return loss, parts


def to_device(batch, device: torch.device):
    """A SynthStream batch (pixels, ids, goal mask, target, aux labels) on `device`."""
    px, ids, gm, gt, y = batch
    move = lambda t: t.to(device, non_blocking=True)
    return move(px), move(ids), move(gm), move(gt), {k: move(v) for k, v in y.items()}


def lr_at(step: int, total: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, p)))


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=4200)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=8e-4)
    ap.add_argument("--warmup", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--latent", type=int, default=7, help="K latent reasoning tokens")
    ap.add_argument("--input-size", type=int, default=128, help="model input side in pixels, a multiple of 16 (token and mask grids follow)")
    ap.add_argument(
        "--letterbox",
        choices=preprocess.LETTERBOX_MODES,
        default=None,
        help="how a frame fills the square input: keep its aspect ratio and pad (bottom-right) or stretch it (none); default: the --init checkpoint's, else bottom-right",
    )
    ap.add_argument(
        "--reasoner-layers", type=int, default=4, help="reasoner transformer layers (with --init: more than the checkpoint's are appended as identities)"
    )
    ap.add_argument("--single-seg", action="store_true", help="LISA-style single <SEG> baseline")
    ap.add_argument("--no-tmcc", action="store_true")
    ap.add_argument("--image-states", choices=["vision", "reasoner"], default="vision")
    ap.add_argument("--no-aux", action="store_true", help="mask and TMCC losses only (no auxiliary heads, see aux.py)")
    ap.add_argument("--aux-every-object", action="store_true", help="small objects label their best-covered token too (aux.labels: every_object)")
    ap.add_argument(
        "--no-splice", action="store_true", help="train wrappers are the templates only (as rows trained before spliced wrappers, see synth/queries.py)"
    )
    ap.add_argument(
        "--framed", type=float, default=SPLITS["train"].framed, help="share of training scenes that fill only part of their frame (synth/sample.py)"
    )
    ap.add_argument("--group-refs", type=float, default=0.0, help="share of relation references named by their function group (synth/sample.py: sample)")
    ap.add_argument(
        "--composition", type=float, default=None, help="share of compositions among training queries (default: synth/queries.py QTYPE_WEIGHTS, 0.15)"
    )
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--val-limit", type=int, default=None)
    ap.add_argument("--val-dir", type=Path, default=VAL_DIR)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1: see models/README.md)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda (never run here: no GPU)")
    ap.add_argument("--checkpoint-minutes", type=float, default=10.0, help="write resume.pt at least this often in wall time (0: after every step)")
    ap.add_argument("--resume", action="store_true", help="continue the stopped run in --out from its resume.pt (give the run's own flags, plus this one)")
    ap.add_argument(
        "--init",
        type=Path,
        default=None,
        help="start from this checkpoint's weights (a warm restart: fresh optimizer and schedule; use another --seed for unseen samples)",
    )
    return ap


def recipe(run: Path) -> str:
    """The shell command that trains the run folder `run` again (from its config.json; an --init
    run's own run first, or the recovery of the bundle it started from; for anchorseg.soup's folder,
    each member's runs and the soup), with only the flags that differ from their defaults."""
    if not (run / "config.json").exists() and not (run / "soup.json").exists():
        return f"unknown: {run} has no config.json from anchorseg.train"
    return "cd models && " + " && ".join(_commands(run))


def _commands(run: Path) -> list[str]:
    if (run / "recovered.json").exists():  # anchorseg.recover's folder: its command is the start
        return [json.loads((run / "recovered.json").read_text())["recoveredWith"].removeprefix("cd models && ")]
    if (run / "soup.json").exists():  # anchorseg.soup's folder: each member's commands (a shared start once), then the soup
        soup = json.loads((run / "soup.json").read_text())
        members = [c for m in soup["members"] for c in _commands((ROOT / m).parent)]
        return [*dict.fromkeys(members), soup["soupedWith"].removeprefix("cd models && ")]
    given = json.loads((run / "config.json").read_text())["train"]
    defaults = _defaults(given["out"])
    flags = [f"--out {given['out']}"]
    for key, value in given.items():
        if key not in ("out", "resume") and value != defaults.get(key):
            flag = "--" + key.replace("_", "-")
            flags.append(flag if value == "True" else f"{flag} {value}")  # store_true flags
    before = _commands((ROOT / given["init"]).parent) if given.get("init", "None") != "None" else []
    return [*before, "../.venv/bin/python -m anchorseg.train " + " ".join(flags)]


def _defaults(out: str) -> dict[str, str]:
    """Every flag's default as config.json records flags (strings)."""
    return {k: str(v) for k, v in vars(parser().parse_args(["--out", out])).items()}


def recovered_start(run: Path) -> dict | None:
    """recovered.json of the bundle this run's --init chain started from (anchorseg.recover), if any."""
    if (run / "recovered.json").exists():
        return json.loads((run / "recovered.json").read_text())
    if (run / "soup.json").exists():  # the members share their start (anchorseg.soup)
        return recovered_start((ROOT / json.loads((run / "soup.json").read_text())["members"][0]).parent)
    if not (run / "config.json").exists():
        return None
    init = json.loads((run / "config.json").read_text())["train"].get("init", "None")
    return recovered_start((ROOT / init).parent) if init != "None" else None


# Flags that change how a run executes, not what it computes (the batches do not depend on the
# worker count: SynthStream): a resumed run may change them.
RUN_ONLY = ("workers", "threads", "checkpoint_minutes")


def _resume_state(args, config: dict) -> dict:
    """The stopped run's resume.pt, refused when it is missing or was made by other flags."""
    path = args.out / "resume.pt"
    if not path.exists():
        raise SystemExit(f"--resume: expected {path} from an earlier run with the same --out, but there is none")
    state = torch.load(path, map_location="cpu", weights_only=False)
    given, defaults = config["train"], _defaults(config["train"]["out"])
    saved = {**{k: defaults.get(k) for k in given}, **state["config"]["train"]}  # a flag newer than the run: it ran at the default
    diff = {k: (saved.get(k), given.get(k)) for k in sorted(set(given) | set(saved)) if k not in RUN_ONLY and saved.get(k) != given.get(k)}
    if diff or state["config"]["model"] != config["model"] or state["config"]["tmcc"] != config["tmcc"]:
        raise SystemExit(
            f"--resume: expected the flags of the run in {args.out} but received other ones (flag: (run's, given)): {diff or 'model config differs'}"
        )
    return state


def _open_log(path: Path, start: int):
    """log.jsonl for appending from step `start`: records of steps after it (written after the
    checkpoint the run resumes from) are dropped, as those steps run again."""
    if start == 0:
        return path.open("w")
    keep = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] <= start]
    path.write_text("".join(line + "\n" for line in keep))
    return path.open("a")


def main(argv=None) -> None:
    args = parser().parse_args(argv)

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {args.device}: torch {torch.__version__} sees no CUDA device")
    init = torch.load(args.init, map_location="cpu") if args.init else None
    # a restart keeps the framing its weights learned unless told otherwise
    letterbox = args.letterbox or (init["config"].get("letterbox") if init else None) or "bottom-right"
    cfg = Config.for_input(
        args.input_size,
        reasoner_layers=args.reasoner_layers,
        letterbox=letterbox,
        latent=0 if args.single_seg else args.latent,
        single_seg=args.single_seg,
        image_states=args.image_states,
    )
    tok = WordTokenizer.from_train_split(cfg.text_len)
    cfg.vocab_size = len(tok.words)
    tmcc = not (args.no_tmcc or args.single_seg)
    config = {"model": cfg.to_dict(), "train": {k: str(v) for k, v in vars(args).items() if k != "resume"}, "tmcc": tmcc}
    state = _resume_state(args, config) if args.resume else None
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "config.json").write_text(json.dumps(config, indent=2))
    tok.save(args.out / "vocab.txt")

    model = AnchorSeg(cfg)
    heads = None if args.no_aux else aux.AuxHeads(cfg.dim, cfg.mask_dim)
    if init and not state:
        grown = {"input_size", "reasoner_layers", "letterbox", *GRID_PARAMS.values()}
        if {k: v for k, v in init["config"].items() if k not in grown} != {k: v for k, v in cfg.to_dict().items() if k not in grown}:
            raise SystemExit(
                f"--init {args.init}: its model config {init['config']} differs from this run's {cfg.to_dict()} in more than the input size, letterbox and reasoner depth"
            )
        model.load_state_dict(grow_reasoner(resize_grids(init["state"], cfg), cfg))
        if heads and "heads" in init:  # checkpoints written before --init existed hold no heads: theirs start fresh
            heads.load_state_dict(init["heads"])
    model.to(device)
    if heads:
        heads.to(device)
    channels_last(model, heads)
    params = list(model.parameters()) + (list(heads.parameters()) if heads else [])
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    start = 0
    if state:
        model.load_state_dict(state["state"])
        if heads:
            heads.load_state_dict(state["heads"])
        opt.load_state_dict(state["optimizer"])
        start = state["step"]
    loader = DataLoader(
        SynthStream(
            tok,
            cfg,
            args.seed,
            not args.no_splice,
            args.batch,
            start,
            args.aux_every_object,
            framed=args.framed,
            group_refs=args.group_refs,
            composition=args.composition,
        ),
        batch_size=args.batch,
        num_workers=args.workers,
        persistent_workers=args.workers > 0,
        prefetch_factor=4 if args.workers > 0 else None,
        pin_memory=device.type == "cuda",
    )
    val = load_val(tok, cfg.input_size, cfg.letterbox, args.val_limit, args.val_dir)
    token_px = cfg.input_size / cfg.grid

    def save(name: str, step: int, **extra) -> None:
        ckpt = {"config": cfg.to_dict(), "state": model.state_dict(), "step": step, "tmcc": tmcc, **extra}
        if heads:
            ckpt["heads"] = heads.state_dict()
        torch.save(ckpt, args.out / name)

    def save_resume(step: int) -> None:
        """The whole state at `step`, written atomically (a stop while writing keeps the previous one)."""
        ckpt = {
            "config": config,
            "state": model.state_dict(),
            "optimizer": opt.state_dict(),
            "step": step,
            "best": best,
            "elapsed_s": elapsed(),
            "rng": {
                "torch": torch.get_rng_state(),
                "numpy": np.random.get_state(),
                "python": random.getstate(),
                **({"cuda": torch.cuda.get_rng_state_all()} if device.type == "cuda" else {}),
            },
        }
        if heads:
            ckpt["heads"] = heads.state_dict()
        torch.save(ckpt, args.out / "resume.pt.tmp")
        os.replace(args.out / "resume.pt.tmp", args.out / "resume.pt")

    best = state["best"] if state else -1.0
    log = _open_log(args.out / "log.jsonl", start)
    t0 = time.time() - (state["elapsed_s"] if state else 0.0)  # elapsed_s counts the run's training time across resumes
    elapsed = lambda: round(time.time() - t0, 1)
    last_ckpt = time.time()
    bar = tqdm(total=args.steps, initial=start, desc=args.out.name, mininterval=5)
    it = iter(loader)  # draws the loader's base seed from torch's RNG, as the uninterrupted run did here
    if state:  # the RNGs last: nothing above may move them
        torch.set_rng_state(state["rng"]["torch"])
        np.random.set_state(state["rng"]["numpy"])
        random.setstate(state["rng"]["python"])
        if "cuda" in state["rng"]:
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    for step in range(start, args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        loss, parts = train_step(model, heads, opt, params, to_device(next(it), device), tmcc, token_px)
        bar.update(1)
        rec = {"step": step + 1, "loss": float(loss.detach()), **parts, "lr": opt.param_groups[0]["lr"], "elapsed_s": elapsed()}
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            m = evaluate(model, val)
            rec["val"] = m
            bar.set_postfix(loss=f"{rec['loss']:.3f}", gIoU=f"{m['gIoU']:.3f}", cIoU=f"{m['cIoU']:.3f}")
            if m["cIoU"] > best:
                best = m["cIoU"]
                save("best.pt", step + 1, val=m)
        if (step + 1) % 25 == 0 or "val" in rec:
            log.write(json.dumps(rec) + "\n")
            log.flush()
        if time.time() - last_ckpt >= args.checkpoint_minutes * 60 or step + 1 == args.steps:
            save_resume(step + 1)
            last_ckpt = time.time()
    save("last.pt", args.steps)
    bar.close()
    print(json.dumps({"best_val_cIoU": best, "minutes": round((time.time() - t0) / 60, 1)}))


if __name__ == "__main__":
    main()
