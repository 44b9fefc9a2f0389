"""Pixels: backgrounds with clutter and noise, objects painted from their polygons."""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image

from .lexicon import COLOURS

# Desaturated wall/table tones: far from every object colour.
BACKGROUNDS = [
    (150, 140, 125),
    (120, 125, 130),
    (165, 160, 150),
    (110, 100, 90),
    (135, 145, 135),
    (95, 105, 115),
    (175, 165, 145),
    (125, 115, 120),
]


@lru_cache(maxsize=8)
def _interp_matrix(n_out: int, n_in: int) -> np.ndarray:
    """[n_out, n_in] linear interpolation weights (corner aligned)."""
    pos = np.linspace(0, n_in - 1, n_out)
    lo = np.minimum(np.floor(pos).astype(int), n_in - 2)
    frac = pos - lo
    m = np.zeros((n_out, n_in), dtype=np.float32)
    m[np.arange(n_out), lo] = 1 - frac
    m[np.arange(n_out), lo + 1] = frac
    return m


def background(rng: np.random.Generator, h: int, w: int, scale: int = 1) -> np.ndarray:
    """float32 [h, w, 3]: wall + table split, smooth shading, faint clutter shapes."""
    base = np.array(BACKGROUNDS[rng.integers(len(BACKGROUNDS))], dtype=np.float32)
    other = np.array(BACKGROUNDS[rng.integers(len(BACKGROUNDS))], dtype=np.float32)
    img = np.empty((h, w, 3), dtype=np.float32)
    img[:] = base
    if rng.random() < 0.75:  # a table edge / wall line
        y = int(h * rng.uniform(0.2, 0.55))
        img[:y] = other * 0.9 + base * 0.1
        img[y : y + scale] *= 0.8
    # smooth shading: mostly brightness, a little tint (strong tints would fake object colours)
    grid = (rng.normal(0.0, 14.0, size=(4, 5, 1)) + rng.normal(0.0, 5.0, size=(4, 5, 3))).astype(np.float32)
    wy, wx = _interp_matrix(h, 4), _interp_matrix(w, 5)
    for c in range(3):
        img[..., c] += wy @ grid[..., c] @ wx.T
    for _ in range(int(rng.integers(3, 8))):  # faint clutter: never an object colour
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        bw, bh = int(rng.integers(4, 40) * scale), int(rng.integers(2, 30) * scale)
        shade = np.float32(rng.uniform(-28, 28))
        if rng.random() < 0.5:
            img[y0 : y0 + bh, x0 : x0 + bw] += shade
        else:
            ya, yb, xa, xb = max(0, y0 - bh), min(h, y0 + bh + 1), max(0, x0 - bw), min(w, x0 + bw + 1)
            yy, xx = np.ogrid[ya:yb, xa:xb]
            disc = ((yy - y0) / max(bh, 1)) ** 2 + ((xx - x0) / max(bw, 1)) ** 2 <= 1
            img[ya:yb, xa:xb][disc] += shade
    return img


def paint_object(img: np.ndarray, mask: np.ndarray, colour: str, texture: str, rng: np.random.Generator, scale: float = 1, stripe: int = 1) -> None:
    """Paint one object into `img` (float32, in place) over exactly the pixels of `mask`, the
    rasterised polygon, so that the polygon is the object's ground truth. `stripe`: 1 = bands
    running down to the left (v1 draws only these), -1 = mirrored."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    m = mask[y0:y1, x0:x1].astype(bool)
    rgb = np.array(COLOURS[colour], dtype=np.float32) * np.float32(rng.uniform(0.9, 1.08))
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    # soft light from the top-left
    shade = 1.08 - 0.16 * ((yy - y0) / max(y1 - y0, 1) + (xx - x0) / max(x1 - x0, 1)) / 2
    patch = rgb[None, None, :] * shade[..., None]
    if texture != "plain":
        period = 6.0 * scale
        if texture == "striped":
            band = ((xx - x0 + stripe * (yy - y0)) % period) < period / 2  # pattern moves with the object
        else:
            cy = ((yy - y0) % period) - period / 2 + 0.5
            cx = ((xx - x0) % period) - period / 2 + 0.5
            band = cy * cy + cx * cx <= (1.5 * scale) ** 2
        mark = np.array([70, 70, 70] if rgb.mean() > 120 else [200, 200, 200], dtype=np.float32)
        patch[band] = patch[band] * 0.35 + mark * 0.65
    # darker rim so touching shades stay readable
    inner = m.copy()
    inner[1:, :] &= m[:-1, :]
    inner[:-1, :] &= m[1:, :]
    inner[:, 1:] &= m[:, :-1]
    inner[:, :-1] &= m[:, 1:]
    rim = m & ~inner
    patch[rim] *= 0.7
    region = img[y0:y1, x0:x1]
    region[m] = patch[m]


def pattern(img: np.ndarray, rng: np.random.Generator, scale: float = 1) -> None:
    """Generator v2: a faint desaturated surface texture over all of `img` (in place): wood
    grain, tiles, woven checks or blotches, so that an object is not just "anything with edges"."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    amp = np.float32(rng.uniform(5, 14))
    kind = int(rng.integers(4))
    if kind == 0:  # wood grain: wavy bands along x
        period = rng.uniform(5, 12) * scale
        wave = np.sin(2 * np.pi * (yy + 3 * scale * np.sin(xx / (rng.uniform(15, 40) * scale))) / period)
    elif kind == 1:  # tiles: dark grout lines
        cell = rng.uniform(14, 30) * scale
        wave = -((((xx % cell) < max(1.0, scale)) | ((yy % cell) < max(1.0, scale))).astype(np.float32) * 2 - 1)
    elif kind == 2:  # woven checks
        cell = rng.uniform(3, 8) * scale
        wave = ((np.floor(xx / cell) + np.floor(yy / cell)) % 2) * 2 - 1
    else:  # blotches: smooth random field
        grid = rng.normal(0, 1, size=(6, 8)).astype(np.float32)
        wave = _interp_matrix(h, 6) @ grid @ _interp_matrix(w, 8).T
    img += (amp * wave)[..., None]


MUTED = (70, 190)  # grey levels of distractor shapes: never an object colour (white 240, black 30)


def distractors(img: np.ndarray, rng: np.random.Generator, keep_out: list[tuple[float, float, float, float]], count: int, scale: float = 1) -> None:
    """Generator v2: `count` tries at muted, crisp shapes (boxes, discs, wedges) that are no object
    and touch no box of `keep_out` (x0, y0, x1, y1), in place."""
    h, w = img.shape[:2]
    for _ in range(count):
        bw, bh = rng.uniform(6, 40, size=2) * scale
        x0, y0 = rng.uniform(-bw / 2, w - bw / 2), rng.uniform(-bh / 2, h - bh / 2)
        x1, y1 = x0 + bw, y0 + bh
        if any(not (x1 + 2 * scale <= b[0] or b[2] + 2 * scale <= x0 or y1 + 2 * scale <= b[1] or b[3] + 2 * scale <= y0) for b in keep_out):
            continue
        ya, yb, xa, xb = max(0, int(y0)), min(h, int(np.ceil(y1))), max(0, int(x0)), min(w, int(np.ceil(x1)))
        if ya >= yb or xa >= xb:
            continue
        yy, xx = np.mgrid[ya:yb, xa:xb].astype(np.float32)
        u, v = (xx + 0.5 - x0) / bw, (yy + 0.5 - y0) / bh
        kind = int(rng.integers(3))
        inside = ((u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25) if kind == 1 else (v >= u) if kind == 2 else np.ones_like(u, bool)
        grey = rng.uniform(*MUTED)
        tone = np.float32(grey) + rng.normal(0, 8, size=3).astype(np.float32)
        img[ya:yb, xa:xb][inside] = tone


@lru_cache(maxsize=1)
def _noise_bank() -> np.ndarray:
    """Fixed unit Gaussian noise; frames take random crops (much faster than fresh draws)."""
    return np.random.default_rng(20240601).standard_normal((512, 512, 3), dtype=np.float32)


def finish(img: np.ndarray, rng: np.random.Generator, noise: float = 5.0, gain: float | None = None) -> np.ndarray:
    """Exposure (`gain`, random when None) + sensor noise, to uint8."""
    if gain is None:
        gain = rng.uniform(0.85, 1.12)
    h, w = img.shape[:2]
    bank = _noise_bank()
    if h > bank.shape[0] or w > bank.shape[1]:  # v2's 640x480 frames: repeat the bank (v1 frames fit it)
        bank = np.tile(bank, (-(-h // bank.shape[0]), -(-w // bank.shape[1]), 1))
    oy, ox = int(rng.integers(bank.shape[0] - h + 1)), int(rng.integers(bank.shape[1] - w + 1))
    img = img * np.float32(gain) + bank[oy : oy + h, ox : ox + w] * np.float32(noise)
    return np.clip(img, 0, 255).astype(np.uint8)


def jpeg_encode(image: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality, optimize=False)
    return buf.getvalue()


def jpeg_decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)
