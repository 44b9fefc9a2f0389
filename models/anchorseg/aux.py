"""Auxiliary training signals from the generator's object list (training only; nothing here is exported).

The reference starts from pretrained CLIP, SAM and an LLM: its image tokens already know what
objects are, and its mask features already know where they end. Our modules start from random
weights and, with the mask loss alone, must discover colour, category and outline through the whole
reasoner-decoder chain, which is why learning was slow. These heads give each role the signal its
pretraining would have given it:
- vision tokens (CLIP role): category, colour and texture of the object covering each token;
- mask features (SAM-encoder role): objectness per mask-feature cell;
- the anchor (the LLM's <SEG> role): category, colour and texture of the target ("none" when absent).
The heads are dropped at export; the engines and the bundle format do not change.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import preprocess
from .reasonseg import rasterize_polygons
from .synth.lexicon import CATEGORY_NAMES, COLOUR_NAMES, TEXTURES

FIELDS = {"category": CATEGORY_NAMES, "colour": COLOUR_NAMES, "texture": TEXTURES}
IGNORE = -100
TOKEN_HIT = 0.3  # a token is labelled with the object covering at least this much of it
TOKEN_MISS = 0.05  # and labelled background when all objects together cover less than this
WEIGHT = 0.5  # per head; the mask and TMCC losses stay the main objective


def _pool(x: np.ndarray, grid: int) -> np.ndarray:
    n = x.shape[0] // grid
    return x.reshape(grid, n, grid, n).mean(axis=(1, 3))


def labels(objects: list[dict], h: int, w: int, lb: preprocess.Letterbox, grid: int, mask_grid: int, every_object: bool = False) -> dict[str, np.ndarray]:
    """Per-token attribute labels [grid*grid] (0 = background, IGNORE = partly covered), objectness
    [mask_grid, mask_grid] (area fraction) and the target's attributes (0 = no target).

    `every_object`: an object that covers no token up to TOKEN_HIT (a third of the objects at 176
    pixels, small ones) also labels the token it covers most, where it covers more of it than any
    other object and at least TOKEN_MISS; without it such objects never reach the token heads."""
    covers = np.stack([preprocess.mask_to_input(rasterize_polygons([o["polygon"]], h, w), lb) for o in objects])
    token_cover = np.stack([_pool(c, grid) for c in covers]).reshape(len(objects), -1)
    best = token_cover.argmax(0)
    hit = token_cover.max(0) >= TOKEN_HIT
    if every_object:
        for k, row in enumerate(token_cover):
            t = row.argmax()
            if TOKEN_MISS <= row[t] < TOKEN_HIT and best[t] == k:
                hit[t] = True
    miss = token_cover.sum(0) < TOKEN_MISS
    out: dict[str, np.ndarray] = {}
    target = next((o for o in objects if o["is_target"]), None)
    for field, names in FIELDS.items():
        ids = np.array([names.index(o[field]) + 1 for o in objects], dtype=np.int64)
        tok = np.full(grid * grid, IGNORE, dtype=np.int64)
        tok[hit] = ids[best[hit]]
        tok[miss] = 0
        out[f"token_{field}"] = tok
        out[f"target_{field}"] = np.int64(names.index(target[field]) + 1 if target else 0)
    out["objectness"] = _pool(np.clip(covers.sum(0), 0, 1), mask_grid).astype(np.float32)
    return out


class AuxHeads(nn.Module):
    def __init__(self, dim: int, mask_dim: int):
        super().__init__()
        self.token = nn.ModuleDict({f: nn.Linear(dim, len(n) + 1) for f, n in FIELDS.items()})
        self.target = nn.ModuleDict({f: nn.Linear(dim, len(n) + 1) for f, n in FIELDS.items()})
        self.objectness = nn.Conv2d(mask_dim, 1, 1)

    def loss(self, tokens: torch.Tensor, feats: torch.Tensor, anchor: torch.Tensor, y: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        parts = {}
        for f in FIELDS:
            parts[f"aux_token_{f}"] = F.cross_entropy(self.token[f](tokens).flatten(0, 1), y[f"token_{f}"].flatten(), ignore_index=IGNORE)
            parts[f"aux_target_{f}"] = F.cross_entropy(self.target[f](anchor), y[f"target_{f}"])
        parts["aux_objectness"] = F.binary_cross_entropy_with_logits(self.objectness(feats)[:, 0], y["objectness"])
        return WEIGHT * sum(parts.values()), parts
