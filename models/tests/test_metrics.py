"""LISA's gIoU / cIoU, hand-computed cases, and the pairs-file CLI."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from anchorseg.metrics import intersection_union, summarize

MODELS = Path(__file__).resolve().parents[1]


def test_intersection_union_by_hand():
    pred = np.array([[1, 1, 0], [0, 1, 0]], np.uint8)
    gt = np.array([[1, 0, 0], [1, 1, 0]], np.uint8)
    assert intersection_union(pred, gt) == (2, 4)
    assert intersection_union(pred.astype(bool), gt) == (2, 4)
    assert intersection_union(pred * 255, gt) == (2, 4)


def test_ignored_pixels_count_neither_way():
    pred = np.array([[1, 1, 1, 0]], np.uint8)
    gt = np.array([[1, 255, 0, 255]], np.uint8)
    assert intersection_union(pred, gt) == (1, 2)


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="same shape"):
        intersection_union(np.zeros((2, 2)), np.zeros((2, 3), np.uint8))


def test_summarize_by_hand():
    pairs = [(2, 4), (0, 0), (0, 5), (3, 3)]
    out = summarize(pairs, [False, False, True, True])
    assert out["n"] == 4
    # per sample: 2/(4+1e-5), empty union -> 1.0, 0, 3/(3+1e-5)
    assert out["gIoU"] == pytest.approx((2 / (4 + 1e-5) + 1.0 + 0.0 + 3 / (3 + 1e-5)) / 4, abs=1e-12)
    assert out["cIoU"] == pytest.approx(5 / (12 + 1e-10), abs=1e-12)
    assert out["short"]["n"] == 2 and out["short"]["gIoU"] == pytest.approx((2 / (4 + 1e-5) + 1.0) / 2)
    assert out["long"]["cIoU"] == pytest.approx(3 / 8)
    assert "short" not in summarize(pairs)
    assert summarize([]) == {"gIoU": 0.0, "cIoU": 0.0, "n": 0}


def test_empty_target_with_a_prediction_scores_zero():
    out = summarize([intersection_union(np.ones((2, 2)), np.zeros((2, 2), np.uint8))])
    assert out["gIoU"] == 0.0 and out["cIoU"] == 0.0


def test_cli_reads_pairs_and_prints_summary(tmp_path):
    items = [
        {"width": 3, "height": 2, "pred": [1, 1, 0, 0, 1, 0], "gt": [1, 0, 0, 1, 1, 0], "is_sentence": False},
        {"width": 2, "height": 1, "pred": [0, 0], "gt": [0, 255], "is_sentence": True},
    ]
    f = tmp_path / "pairs.json"
    f.write_text(json.dumps(items))
    res = subprocess.run([sys.executable, "-m", "anchorseg.metrics", "--pairs", str(f)], cwd=MODELS, capture_output=True, text=True, check=True)
    out = json.loads(res.stdout)
    assert out["n"] == 2 and out["cIoU"] == pytest.approx(0.5)
    assert out["gIoU"] == pytest.approx((2 / (4 + 1e-5) + 1.0) / 2)
    assert out["long"]["gIoU"] == 1.0


def test_cli_refuses_a_wrong_length(tmp_path):
    f = tmp_path / "pairs.json"
    f.write_text(json.dumps([{"width": 2, "height": 2, "pred": [0, 1, 0], "gt": [0, 0, 0, 0]}]))
    res = subprocess.run([sys.executable, "-m", "anchorseg.metrics", "--pairs", str(f)], cwd=MODELS, capture_output=True, text=True, check=False)
    assert res.returncode != 0 and "Expected 4 values" in res.stderr


def test_score_threshold_blanks_not_there_answers_and_is_chosen_where_it_pays():
    from anchorseg.evaluate import Record, _scored, best_score_threshold

    records = [
        Record((0, 30), (0, 0), 0.12, False, "empty", True),  # nothing to find, a wrong mask with a low score
        Record((80, 100), (0, 90), 0.60, True, "attribute", True),  # a good mask
        Record((10, 100), (0, 50), 0.25, False, "spatial", True),  # a poor mask, score between the two
    ]
    keep_all = _scored(records, 0.0, by_type=True)
    assert keep_all["gIoU"] == pytest.approx((0 + 0.8 + 0.1) / 3, abs=1e-6)
    blanked = _scored(records, 0.2, by_type=True)
    assert blanked["gIoU"] == pytest.approx((1 + 0.8 + 0.1) / 3, abs=1e-6)
    assert blanked["byType"]["empty"]["gIoU"] == 1.0
    # above 0.25 the poor mask becomes empty: 0.1 -> 0, so 0.15, 0.2 and 0.25 tie: the middle one
    assert best_score_threshold(records) == 0.2
    # a goal without a content word answers "not there" whatever its score, even at threshold 0
    wordless = [Record((0, 30), (0, 0), 0.9, False, "empty", False)]
    assert _scored(wordless, 0.0)["gIoU"] == 1.0
    assert "byScale" not in keep_all  # no framed scene


def test_missed_union_splits_what_cIoU_loses_among_the_groups():
    from anchorseg.evaluate import Record, _scored

    records = [
        Record((0, 30), (0, 0), 0.12, False, "empty", True),  # misses 30 of its 30
        Record((80, 100), (0, 90), 0.60, True, "attribute", True),  # misses 20
        Record((10, 100), (0, 50), 0.25, False, "spatial", True),  # misses 90
    ]
    out = _scored(records, 0.0, by_type=True)
    missed = {k: v["missedUnion"] for k, v in out["byType"].items()}
    assert missed == pytest.approx({"empty": 30 / 230, "attribute": 20 / 230, "spatial": 90 / 230})
    assert sum(missed.values()) == pytest.approx(1 - out["cIoU"])
    # answered "not there", the empty sample adds nothing to the union, and the others' shares grow
    blanked = _scored(records, 0.2, by_type=True)["byType"]
    assert [blanked[k]["missedUnion"] for k in ("empty", "attribute", "spatial")] == pytest.approx([0.0, 20 / 200, 90 / 200])


def test_framed_scenes_are_scored_by_scale():
    from anchorseg.evaluate import Record, _scored

    records = [
        Record((10, 100), (0, 50), 0.9, False, "attribute", True, 0.3),  # the smallest scale opens the first bin
        Record((40, 100), (0, 50), 0.9, False, "attribute", True, 0.49),
        Record((90, 100), (0, 50), 0.9, False, "attribute", True, 1.0),  # the largest closes the last
        Record((50, 100), (0, 50), 0.9, False, "attribute", True),  # a scene that fills its frame
    ]
    by_scale = _scored(records, 0.5, by_type=True)["byScale"]
    assert set(by_scale) == {"0.30-0.50", "0.85-1.00", "unframed"}
    assert by_scale["0.30-0.50"]["gIoU"] == pytest.approx(0.25, abs=1e-6) and by_scale["0.30-0.50"]["n"] == 2
    assert by_scale["0.85-1.00"]["gIoU"] == pytest.approx(0.9, abs=1e-6)
