"""Scene layout: 4-6 non-overlapping objects with distractors that share the target's
category, colour or function."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..reasonseg import rasterize_polygons
from .lexicon import CATEGORIES, CATEGORY_NAMES, COLOUR_NAMES, GROUP_MEMBERS, SIZE_SCALE, SIZES, TEXTURES
from .shapes import outline

GAP = 3.0  # px between object boxes, so no two objects ever touch


@dataclass
class Obj:
    category: str
    colour: str
    texture: str
    size: str
    poly: np.ndarray = None  # [n, 2] float64, scene pixels
    mask: np.ndarray = None  # uint8 [H, W]
    area: int = 0

    @property
    def group(self) -> str:
        return CATEGORIES[self.category][0]

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        (x0, y0), (x1, y1) = self.poly.min(axis=0), self.poly.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    @property
    def cx(self) -> float:
        x0, _, x1, _ = self.bbox
        return (x0 + x1) / 2

    @property
    def cy(self) -> float:
        _, y0, _, y1 = self.bbox
        return (y0 + y1) / 2

    def attr(self, key: str) -> str:
        return self.group if key == "group" else getattr(self, key)


def pick(rng, seq):
    """One element of `seq`, uniformly."""
    return seq[int(rng.integers(len(seq)))]


def random_attrs(rng, category=None, colour=None) -> Obj:
    return Obj(category or pick(rng, CATEGORY_NAMES), colour or pick(rng, COLOUR_NAMES), pick(rng, TEXTURES), pick(rng, SIZES))


def plan_objects(rng: np.random.Generator) -> list[Obj]:
    """Attributes of 4-6 objects; objs[0] is the intended target (queries may pick another)."""
    n = int(rng.integers(4, 7))
    t = random_attrs(rng)
    objs = [t]
    same_cat = random_attrs(rng, category=t.category)
    if (same_cat.colour, same_cat.texture, same_cat.size) == (t.colour, t.texture, t.size):
        same_cat.colour = pick(rng, [c for c in COLOUR_NAMES if c != t.colour])
    objs.append(same_cat)
    if rng.random() < 0.8:
        objs.append(random_attrs(rng, category=pick(rng, [c for c in CATEGORY_NAMES if c != t.category]), colour=t.colour))
    if rng.random() < 0.5 and len(objs) < n:
        objs.append(random_attrs(rng, category=pick(rng, GROUP_MEMBERS[t.group])))
    while len(objs) < n:
        objs.append(random_attrs(rng))
    return objs


def shape_polygon(category: str, size_px: float, x: float, y: float, mirror: bool) -> np.ndarray:
    pts = outline(category) * size_px
    if mirror:
        pts[:, 0] = pts[:, 0].max() - pts[:, 0]
    pts += (x, y)
    return np.round(pts * 8) / 8  # eighths of a pixel: exact in binary and short in JSON


def place(rng: np.random.Generator, objs: list[Obj], w: int, h: int, scale: float = 1.0) -> list[Obj]:
    """Give each object a polygon and mask without overlaps; objects that do not fit shrink,
    then are dropped (never objs[0]). Returns the placed objects (objs[0] first) or [] on failure."""
    boxes: list[tuple[float, float, float, float]] = []
    placed = []
    for k, o in enumerate(objs):
        ok = False
        for size in SIZES[: SIZES.index(o.size) + 1][::-1]:
            size_px = CATEGORIES[o.category][2] * SIZE_SCALE[size] * rng.uniform(0.95, 1.05) * scale
            unit = outline(o.category)
            bw, bh = unit[:, 0].max() * size_px, unit[:, 1].max() * size_px
            for _ in range(40):
                x = rng.uniform(2 * scale, w - 2 * scale - bw)
                y = rng.uniform(2 * scale, h - 2 * scale - bh)
                if all(x + bw + GAP * scale <= b[0] or b[2] + GAP * scale <= x or y + bh + GAP * scale <= b[1] or b[3] + GAP * scale <= y for b in boxes):
                    ok = True
                    break
            if ok:
                o.size = size
                mirror = CATEGORIES[o.category][3] and rng.random() < 0.5
                o.poly = shape_polygon(o.category, size_px, x, y, mirror)
                boxes.append(o.bbox)
                break
        if not ok:
            if k == 0:
                return []
            continue
        placed.append(o)
    for o in placed:
        o.mask = rasterize_polygons([o.poly], h, w)
        o.area = int(o.mask.sum())
    return placed if len(placed) >= 4 else []
