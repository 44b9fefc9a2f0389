"""ReasonSeg-format data: the ground-truth rasteriser and a reader for sample folders.

A ReasonSeg folder holds `<id>.jpg` + `<id>.json` pairs; the JSON has `text` (list of
queries), `is_sentence` and `shapes` (polygons labelled "target" or "...ignore...").
ReasonSeg-Synth adds `qtype`, `empty` and `objects`; readers ignore keys they do not know.

Rasterisation rule (the SDK implements the identical rule): pixel (x, y) belongs to a polygon
when its centre (x + 0.5, y + 0.5) is inside by the even-odd rule, computed in float64 as

    inside = False
    for each edge (xi, yi) -> (xj, yj), j = i - 1 (the previous vertex, wrapping):
        if (yi > py) != (yj > py) and px < xi + (py - yi) * (xj - xi) / (yj - yi):
            inside = not inside

A mask of several polygons is their union. LISA fills polygons with cv2.fillPoly and draws a
1 px outline, so its masks differ from this rule only in pixels on polygon borders.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

IGNORE = 255


def _polygon_inside(poly: np.ndarray, h: int, w: int) -> tuple[np.ndarray, int, int] | None:
    """Even-odd inside test over the polygon's bounding box clipped to the image: a pixel centre
    is inside when an odd number of edges cross its row to its right.

    Returns (boolean box mask, x0, y0) or None when the box is empty."""
    xs, ys = poly[:, 0], poly[:, 1]
    x0 = max(0, int(np.floor(xs.min() - 0.5)))
    x1 = min(w, int(np.ceil(xs.max() + 0.5)) + 1)
    y0 = max(0, int(np.floor(ys.min() - 0.5)))
    y1 = min(h, int(np.ceil(ys.max() + 0.5)) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    px = np.arange(x0, x1, dtype=np.float64) + 0.5
    py = np.arange(y0, y1, dtype=np.float64)[:, None] + 0.5
    prev = np.arange(-1, len(poly) - 1)  # edge i runs from vertex i - 1 to vertex i
    xj, yj = xs[prev], ys[prev]
    keep = ys != yj  # a horizontal edge never satisfies (yi > py) != (yj > py)
    xi, yi, xj, yj = xs[keep], ys[keep], xj[keep], yj[keep]
    crosses = (yi > py) != (yj > py)  # [rows, edges]
    x_at = xi + (py - yi) * (xj - xi) / (yj - yi)
    # a crossing edge lies right of the first searchsorted(px, x_at) pixel centres of its row:
    # count those ends per row, then sum them from the right for every pixel (no per-edge pass)
    rows, cols = np.nonzero(crosses)
    width = x1 - x0 + 1
    ends = np.bincount(rows * width + np.searchsorted(px, x_at[rows, cols], side="left"), minlength=(y1 - y0) * width)
    past = np.cumsum(ends.reshape(y1 - y0, width)[:, :0:-1], axis=1)[:, ::-1]  # [r, c]: edges right of pixel c's centre
    return (past & 1).astype(bool), x0, y0


def rasterize_polygons(polys, h: int, w: int) -> np.ndarray:
    """uint8 [h, w] mask, 1 inside the union of `polys` (each a sequence of [x, y]), else 0."""
    out = np.zeros((h, w), dtype=np.uint8)
    for poly in polys:
        arr = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
        if len(arr) < 3:
            continue
        hit = _polygon_inside(arr, h, w)
        if hit is None:
            continue
        inside, x0, y0 = hit
        out[y0 : y0 + inside.shape[0], x0 : x0 + inside.shape[1]][inside] = 1
    return out


def gt_mask(shapes: list[dict], h: int, w: int) -> np.ndarray:
    """Ground truth from ReasonSeg shapes, painted as LISA does: labels containing "ignore" are
    255, others 1; shapes labelled "flag" are skipped; larger shapes are painted first so a
    smaller shape on top of a larger one wins."""
    layers = []
    for s in shapes:
        label = s.get("label", "")
        if label.lower() == "flag":
            continue
        m = rasterize_polygons([s["points"]], h, w)
        layers.append((int(m.sum()), IGNORE if "ignore" in label else 1, m))
    gt = np.zeros((h, w), dtype=np.uint8)
    for _, value, m in sorted(layers, key=lambda t: -t[0]):  # stable: ties keep file order
        gt[m == 1] = value
    return gt


def load_split(folder) -> list[tuple[np.ndarray, np.ndarray, list[str], bool, dict]]:
    """Every sample of a ReasonSeg-format folder, sorted by id:
    (image uint8 [H,W,3] RGB, gt uint8 [H,W] in {0,1,255}, texts, is_sentence, meta).
    `meta` is the JSON without `text`/`is_sentence`/`shapes`, plus `id`."""
    folder = Path(folder)
    out = []
    for js in sorted(folder.glob("*.json")):
        img_path = js.with_suffix(".jpg")
        if not img_path.exists():
            continue
        data = json.loads(js.read_text())
        with Image.open(img_path) as im:
            image = np.asarray(im.convert("RGB"), dtype=np.uint8)
        h, w = image.shape[:2]
        gt = gt_mask(data.get("shapes", []), h, w)
        texts = data["text"] if isinstance(data["text"], list) else [data["text"]]
        meta = {k: v for k, v in data.items() if k not in ("text", "is_sentence", "shapes")}
        meta["id"] = js.stem
        out.append((image, gt, list(texts), bool(data.get("is_sentence", False)), meta))
    return out
