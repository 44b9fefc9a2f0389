"""Frame -> network input and logits -> mask, exactly as docs/bundle-format.md defines them.

The TypeScript reference kernels and the native kernels implement the same definitions, so the
numbers the model card reports are the numbers the SDK reproduces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def _round_half_away(x: float) -> int:
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


# images[].letterbox in the bundle manifest: "bottom-right" keeps the frame's aspect ratio and pads
# the rest of the input; "none" stretches the frame over the whole input (no padding)
LETTERBOX_MODES = ("bottom-right", "none")


@dataclass(frozen=True)
class Letterbox:
    content_width: int
    content_height: int
    input_width: int
    input_height: int


def letterbox_for(w: int, h: int, in_w: int, in_h: int, mode: str = "bottom-right") -> Letterbox:
    if mode == "none":
        return Letterbox(in_w, in_h, in_w, in_h)
    if mode != "bottom-right":
        raise ValueError(f"Expected a letterbox mode in {LETTERBOX_MODES} but received {mode!r}")
    s = min(in_w / w, in_h / h)
    nw = max(1, _round_half_away(w * s))
    nh = max(1, _round_half_away(h * s))
    return Letterbox(nw, nh, in_w, in_h)


@lru_cache(maxsize=64)
def filter_matrix(n_in: int, n_out: int) -> np.ndarray:
    """[n_out, n_in] antialiased triangle-filter weights (Pillow BILINEAR's rule)."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    m = np.zeros((n_out, n_in), dtype=np.float64)
    for i in range(n_out):
        center = (i + 0.5) * scale
        lo = max(0, int(math.floor(center - support + 0.5)))
        hi = min(n_in, int(math.floor(center + support + 0.5)))
        js = np.arange(lo, hi)
        w = np.maximum(0.0, 1.0 - np.abs((js + 0.5 - center) / support))
        total = w.sum()
        if total > 0:
            m[i, lo:hi] = w / total
    return m.astype(np.float32)


def resize(img: np.ndarray, nw: int, nh: int) -> np.ndarray:
    """Separable antialiased bilinear resize of an [h, w, c] float32 image, horizontal pass first."""
    h, w = img.shape[:2]
    chw = np.ascontiguousarray(img.astype(np.float32).transpose(2, 0, 1))
    tmp = chw @ filter_matrix(w, nw).T  # [c, h, nw]
    return (filter_matrix(h, nh) @ tmp).transpose(1, 2, 0)  # [nh, nw, c]


def to_input(rgb: np.ndarray, in_w: int, in_h: int, mean=MEAN, std=STD, letterbox: str = "bottom-right") -> tuple[np.ndarray, Letterbox]:
    """uint8 RGB [h, w, 3] -> normalised NCHW float32 [1, 3, in_h, in_w]; any padding (bottom-right) is 0."""
    h, w = rgb.shape[:2]
    lb = letterbox_for(w, h, in_w, in_h, letterbox)
    content = resize(rgb.astype(np.float32), lb.content_width, lb.content_height)
    out = np.zeros((3, in_h, in_w), dtype=np.float32)
    for c in range(3):
        out[c, : lb.content_height, : lb.content_width] = (content[..., c] / np.float32(255.0) - np.float32(mean[c])) / np.float32(std[c])
    return out[None], lb


def mask_to_input(mask: np.ndarray, lb: Letterbox) -> np.ndarray:
    """Ground-truth 0/1 mask -> [in_h, in_w] float32 soft mask on the letterboxed grid (training only)."""
    content = resize(mask[..., None].astype(np.float32), lb.content_width, lb.content_height)[..., 0]
    out = np.zeros((lb.input_height, lb.input_width), dtype=np.float32)
    out[: lb.content_height, : lb.content_width] = content
    return out


def logits_to_mask(logits: np.ndarray, lb: Letterbox, w: int, h: int, threshold: float = 0.0) -> np.ndarray:
    """[Lh, Lw] logits over the input square -> bool [h, w] frame mask (crop padding + bilinear upsample)."""
    lh, lw = logits.shape
    xs = (np.arange(w, dtype=np.float64) + 0.5) * lb.content_width / w * lw / lb.input_width - 0.5
    ys = (np.arange(h, dtype=np.float64) + 0.5) * lb.content_height / h * lh / lb.input_height - 0.5
    xs = np.clip(xs, 0, lw - 1)
    ys = np.clip(ys, 0, lh - 1)
    x0 = np.floor(xs).astype(np.int64)
    y0 = np.floor(ys).astype(np.int64)
    x1 = np.minimum(x0 + 1, lw - 1)
    y1 = np.minimum(y0 + 1, lh - 1)
    ax = (xs - x0)[None, :]
    ay = (ys - y0)[:, None]
    L = logits.astype(np.float64)
    top = L[y0][:, x0] * (1 - ax) + L[y0][:, x1] * ax
    bot = L[y1][:, x0] * (1 - ax) + L[y1][:, x1] * ax
    return (top * (1 - ay) + bot * ay) > threshold
