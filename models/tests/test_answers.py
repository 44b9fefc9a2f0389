"""The answer breakdown (`evaluate --answers`): which object an answer picked, by query type."""

from pathlib import Path

import numpy as np

from anchorseg.evaluate import ANSWERS, DATA, answer_kind, answers_by_type
from anchorseg.reasonseg import load_split

BUNDLE = Path(__file__).resolve().parents[1] / "bundles" / "anchorseg-tiny"


def _square(x: int, y: int) -> list[list[float]]:
    return [[x, y], [x + 10, y], [x + 10, y + 10], [x, y + 10]]


OBJECTS = [
    {"category": "cup", "colour": "red", "polygon": _square(0, 0), "is_target": True},
    {"category": "cup", "colour": "blue", "polygon": _square(20, 0), "is_target": False},
    {"category": "pen", "colour": "red", "polygon": _square(40, 0), "is_target": False},
    {"category": "lamp", "colour": "green", "polygon": _square(60, 0), "is_target": False},
]


def _mask(*boxes: tuple[int, int, int, int]) -> np.ndarray:
    m = np.zeros((40, 80), dtype=bool)
    for x0, y0, x1, y1 in boxes:
        m[y0:y1, x0:x1] = True
    return m


def test_each_answer_is_named_by_the_object_that_covers_it():
    assert answer_kind(_mask((1, 1, 9, 9)), True, OBJECTS) == "target"
    assert answer_kind(_mask((21, 1, 29, 9)), True, OBJECTS) == "same category"
    assert answer_kind(_mask((41, 1, 49, 9)), True, OBJECTS) == "target's colour"
    assert answer_kind(_mask((61, 1, 69, 9)), True, OBJECTS) == "other object"
    assert answer_kind(_mask((1, 20, 30, 40)), True, OBJECTS) == "background"
    assert answer_kind(_mask((1, 1, 9, 9)), False, OBJECTS) == "not found"
    assert answer_kind(_mask(), True, OBJECTS) == "not found"
    # the object covering the most wins, if it covers at least half of the mask
    assert answer_kind(_mask((1, 1, 9, 9), (61, 1, 66, 9)), True, OBJECTS) == "target"


def test_the_shipped_bundle_answers_every_present_target_of_a_split_once():
    rows = answers_by_type(BUNDLE, DATA / "dev", limit=40)
    present = [meta for *_, meta in load_split(DATA / "dev")[:40] if not meta.get("empty")]
    assert sum(sum(r.values()) for r in rows.values()) == len(present)
    assert {t: sum(r.values()) for t, r in rows.items()} == {t: sum(m["qtype"] == t for m in present) for t in {m["qtype"] for m in present}}
    assert all(list(r) == list(ANSWERS) for r in rows.values())
    assert sum(r["target"] for r in rows.values()) > 0
