"""The ground-truth rasteriser and the ReasonSeg folder reader."""

import json

import numpy as np
import pytest
from PIL import Image

from anchorseg.reasonseg import gt_mask, load_split, rasterize_polygons
from anchorseg.synth import sample
from anchorseg.synth.writer import write_split


def test_square_on_pixel_corners_covers_exactly_its_pixels():
    m = rasterize_polygons([[[1, 1], [3, 1], [3, 3], [1, 3]]], 5, 5)
    want = np.zeros((5, 5), np.uint8)
    want[1:3, 1:3] = 1
    assert np.array_equal(m, want)


def test_centres_on_edges_count_for_top_and_left_edges_only():
    # edges through pixel centres: x = 0.5 and y = 0.5 include, x = 2.5 and y = 2.5 exclude
    m = rasterize_polygons([[[0.5, 0.5], [2.5, 0.5], [2.5, 2.5], [0.5, 2.5]]], 4, 4)
    want = np.zeros((4, 4), np.uint8)
    want[0:2, 0:2] = 1
    assert np.array_equal(m, want)


def test_triangle_by_hand():
    # right triangle (0,0) (4,0) (0,4): centre (x+.5, y+.5) inside iff x + y + 1 < 4
    m = rasterize_polygons([[[0, 0], [4, 0], [0, 4]]], 4, 4)
    want = np.array([[int(x + y + 1 < 4) for x in range(4)] for y in range(4)], np.uint8)
    assert np.array_equal(m, want)


def test_even_odd_leaves_a_hole():
    outer_then_inner = [[0, 0], [6, 0], [6, 6], [0, 6], [0, 0], [2, 2], [2, 4], [4, 4], [4, 2], [2, 2]]
    m = rasterize_polygons([outer_then_inner], 6, 6)
    assert m.sum() == 36 - 4
    assert m[2:4, 2:4].sum() == 0


def test_union_of_polygons_clipped_to_the_image():
    m = rasterize_polygons([[[-5, -5], [2, -5], [2, 2], [-5, 2]], [[3, 3], [9, 3], [9, 9], [3, 9]]], 4, 4)
    want = np.zeros((4, 4), np.uint8)
    want[0:2, 0:2] = 1
    want[3, 3] = 1
    assert np.array_equal(m, want)
    assert rasterize_polygons([[[10, 10], [12, 10], [12, 12]]], 4, 4).sum() == 0
    assert rasterize_polygons([[[0, 0], [1, 1]]], 4, 4).sum() == 0  # fewer than 3 points


def _even_odd_by_pixel(poly: np.ndarray, h: int, w: int) -> np.ndarray:
    """The rule itself, one pixel centre at a time: inside when an odd number of edges cross its
    row strictly to its right (a horizontal edge crosses no row)."""
    out = np.zeros((h, w), np.uint8)
    for y in range(h):
        for x in range(w):
            cx, cy, n = x + 0.5, y + 0.5, 0
            for (xi, yi), (xj, yj) in zip(poly, np.roll(poly, 1, axis=0)):
                if (yi > cy) != (yj > cy) and cx < xi + (cy - yi) * (xj - xi) / (yj - yi):
                    n += 1
            out[y, x] = n % 2
    return out


def test_random_polygons_match_the_even_odd_rule_pixel_by_pixel():
    # star-like, self-crossing, half-pixel (ties on centres) and flat-edged polygons, partly off the image
    rng = np.random.default_rng(7)
    for k in range(60):
        n, h, w = int(rng.integers(3, 12)), int(rng.integers(1, 14)), int(rng.integers(1, 14))
        poly = rng.uniform(-4, 18, (n, 2))
        if k % 3 == 1:
            poly = np.round(poly * 2) / 2
        if k % 4 == 2:
            poly[:, 1] = np.round(poly[:, 1])
        assert np.array_equal(rasterize_polygons([poly], h, w), _even_odd_by_pixel(poly, h, w)), k


def test_gt_mask_paints_like_lisa():
    shapes = [
        {"label": "target", "points": [[0, 0], [4, 0], [4, 4], [0, 4]]},
        {"label": "ignore", "points": [[1, 1], [2, 1], [2, 2], [1, 2]]},  # smaller: painted on top
        {"label": "flag", "points": [[0, 0], [4, 0], [4, 4], [0, 4]]},  # skipped
    ]
    gt = gt_mask(shapes, 5, 5)
    assert gt[1, 1] == 255 and gt[0, 0] == 1 and gt[4, 4] == 0
    assert (gt == 1).sum() == 15


def test_reader_round_trip(tmp_path):
    write_split(tmp_path, "val", 6)
    items = load_split(tmp_path)
    assert [m["id"] for *_, m in items] == [f"{i:05d}" for i in range(6)]
    for i, (image, gt, texts, is_sentence, meta) in enumerate(items):
        s = sample("val", i)
        assert image.dtype == np.uint8 and image.shape == s.image.shape
        assert np.array_equal(image, s.image)  # sample() images are the decoded JPEG
        assert np.array_equal(gt, s.mask)
        assert texts == s.texts and is_sentence == s.is_sentence
        assert meta["qtype"] == s.qtype and meta["empty"] == s.empty
        assert len(meta["objects"]) == len(s.objects)


def test_reader_reads_plain_reasonseg(tmp_path):
    Image.fromarray(np.full((8, 10, 3), 90, np.uint8)).save(tmp_path / "a.jpg")
    (tmp_path / "a.json").write_text(
        json.dumps(
            {"text": "the thing", "is_sentence": True, "shapes": [{"label": "target", "points": [[2, 2], [6, 2], [6, 6], [2, 6]], "shape_type": "polygon"}]}
        )
    )
    (tmp_path / "orphan.json").write_text("{}")  # no image: skipped
    [(image, gt, texts, is_sentence, meta)] = load_split(tmp_path)
    assert image.shape == (8, 10, 3) and texts == ["the thing"] and is_sentence
    assert gt.sum() == 16 and meta == {"id": "a"}


@pytest.mark.parametrize("split", ["val", "test"])
def test_every_object_polygon_is_its_painted_pixels(split):
    s = sample(split, 3)
    masks = [rasterize_polygons([o["polygon"]], *s.mask.shape) for o in s.objects]
    assert sum(int(m.sum()) for m in masks) == int(np.any(np.stack(masks), 0).sum())  # no overlaps
    target = [m for m, o in zip(masks, s.objects) if o["is_target"]]
    assert np.array_equal(s.mask, target[0] if target else np.zeros_like(s.mask))
