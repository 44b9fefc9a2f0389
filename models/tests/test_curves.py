"""`python -m anchorseg.curves`: a run's log.jsonl as the CSV committed beside its weights."""

import csv
import json

import pytest

from anchorseg import curves, train


def _rec(step, loss, val=None):
    rec = {"step": step, "loss": loss, "mask_dice": loss / 10, "lr": 1e-3, "elapsed_s": step * 6.0}
    return {**rec, "val": val} if val else rec


def test_rows_average_each_window_and_keep_val_where_the_run_evaluated():
    records = [_rec(25, 4.0), _rec(50, 2.0, {"gIoU": 0.31234, "cIoU": 0.2}), _rec(75, 3.0), _rec(100, 1.0), _rec(110, 5.0, {"gIoU": 0.5, "cIoU": 0.4})]
    rows = curves.curve_rows(records, every=50)
    assert [r["step"] for r in rows] == [50, 100, 110]
    assert [r["loss"] for r in rows] == [3.0, 2.0, 5.0]
    assert rows[0]["val_gIoU"] == 0.3123 and rows[1]["val_gIoU"] == "" and rows[2]["val_cIoU"] == 0.4
    assert rows[2]["elapsed_min"] == 11.0


def test_a_log_that_is_not_one_run_is_refused(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in [_rec(25, 1.0), _rec(25, 1.0)]))
    with pytest.raises(ValueError, match="strictly increasing"):
        curves.read_log(log)
    log.write_text('{"step": 25, "loss": 1.0, "mask_dice": 0.1}\nnot json\n')
    with pytest.raises(ValueError, match=r"log.jsonl:2: expected one JSON record"):
        curves.read_log(log)
    log.write_text('{"step": "25", "loss": 1.0}\n')
    with pytest.raises(ValueError, match="integer step"):
        curves.read_log(log)


def test_the_csv_of_a_real_run(tmp_path):
    out = tmp_path / "run"
    train.main(["--out", str(out), "--steps", "2", "--batch", "2", "--workers", "0", "--val-limit", "4", "--eval-every", "1"])
    curves.main([str(out / "log.jsonl"), "--out", str(tmp_path / "c.csv"), "--every", "1"])
    rows = list(csv.DictReader((tmp_path / "c.csv").open()))
    assert [r["step"] for r in rows] == ["1", "2"]
    assert list(rows[0]) == list(curves.COLUMNS)
    for r in rows:
        assert 0.0 <= float(r["val_gIoU"]) <= 1.0 and float(r["loss"]) > 0
