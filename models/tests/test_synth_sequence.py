"""Moving-scene sequences: constant goal, smooth motion, the same visible target every frame."""

import json
from pathlib import Path

import numpy as np

from anchorseg.reasonseg import rasterize_polygons
from anchorseg.synth import normalize_words, sequence, train_vocab
from anchorseg.synth.__main__ import main as synth_main
from anchorseg.synth.motion import SWITCH_MIN_RUN, make_sequence, make_switch_sequence


def test_sequence_frames_follow_one_target_smoothly():
    seq = make_sequence(1, 30)
    assert seq.is_sentence and len(normalize_words(seq.goal)) >= 15
    assert set(normalize_words(seq.goal)) <= set(train_vocab())
    centres, areas = [], []
    for (image, mask), poly in zip(seq.frames, seq.polygons):
        assert image.shape == (240, 320, 3) and mask.shape == (240, 320)
        assert np.array_equal(mask, rasterize_polygons([poly], 240, 320))
        ys, xs = np.nonzero(mask)
        assert xs.min() > 0 and xs.max() < 319  # the target stays in view
        centres.append((xs.mean(), ys.mean()))
        areas.append(len(xs))
    steps = np.linalg.norm(np.diff(np.array(centres), axis=0), axis=1)
    assert steps.max() < 3.0  # px per frame at 320x240, 15 fps (the pan moves in whole pixels)
    assert max(areas) - min(areas) <= 0.1 * max(areas)  # the same rigid object


def test_switch_sequence_changes_its_answer_between_two_objects_of_the_goal_class():
    seq = make_switch_sequence(0, 120)
    assert seq.qtype == "spatial" and set(normalize_words(seq.goal)) <= set(train_vocab())
    centres, areas = [], []
    for (image, mask), poly in zip(seq.frames, seq.polygons):
        assert np.array_equal(mask, rasterize_polygons([poly], 240, 320))
        ys, xs = np.nonzero(mask)
        centres.append((xs.mean(), ys.mean()))
        areas.append(len(xs))
    jumps = np.linalg.norm(np.diff(np.array(centres), axis=0), axis=1)
    switches = np.flatnonzero(jumps > 5.0) + 1  # the target became another object
    assert len(switches) >= 1
    assert np.diff([0, *switches, len(centres)]).min() >= SWITCH_MIN_RUN
    assert (jumps[jumps <= 5.0] < 3.0).all()  # otherwise smooth motion, no pan


def test_sequence_api_matches_make_sequence():
    goal, frames = sequence(0, 5, width=160, height=120)
    seq = make_sequence(0, 5, width=160, height=120)
    assert goal == seq.goal and len(frames) == 5
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(frames, seq.frames))


def test_write_is_byte_reproducible(tmp_path):
    args = ["write", "--val", "4", "--test", "4", "--dev", "4", "--framed", "2", "--sequences", "2", "--frames", "3", "--switch-sequences", "0"]
    synth_main(args + ["--out", str(tmp_path / "a")])
    synth_main(args + ["--out", str(tmp_path / "b")])
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == (4 + 4 + 4 + 2) * 2 + 2 * (3 + 1)
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    meta = json.loads((tmp_path / "a" / "sequences" / "seq00" / "sequence.json").read_text())
    assert meta["fps"] == 15 and meta["width"] == 320 and meta["height"] == 240
    assert [f["stamp_ms"] for f in meta["frames"]] == [0, 67, 133]
    assert meta["frames"][0]["shapes"][0]["shape_type"] == "polygon"


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_committed_data_layout_and_sizes():
    root = Path(__file__).resolve().parents[1] / "data" / "reasonseg-synth"
    assert len(list((root / "val").glob("*.jpg"))) == 300 and len(list((root / "test").glob("*.jpg"))) == 600
    assert _bytes(root / "val") + _bytes(root / "test") <= 10_000_000
    assert len(list((root / "dev").glob("*.jpg"))) == 300 and len(list((root / "framed").glob("*.jpg"))) == 200
    assert _bytes(root / "dev") <= 3_000_000 and _bytes(root / "framed") <= 14_000_000  # 640x480 frames: ~65 kB each
    assert _bytes(root / "sequences") <= 6_000_000
    assert _bytes(root / "sequences-switch") <= 3_500_000
    assert len(list((root / "sequences-switch").iterdir())) == 2
    seqs = sorted((root / "sequences").iterdir())
    assert len(seqs) == 6
    for d in seqs:
        meta = json.loads((d / "sequence.json").read_text())
        assert len(meta["frames"]) == 90 and meta["fps"] == 15
        centres = []
        for f in meta["frames"]:
            assert (d / f["file"]).exists()
            ys, xs = np.nonzero(rasterize_polygons([f["shapes"][0]["points"]], meta["height"], meta["width"]))
            assert xs.min() > 0 and xs.max() < meta["width"] - 1
            centres.append((xs.mean(), ys.mean()))
        assert np.linalg.norm(np.diff(np.array(centres), axis=0), axis=1).max() < 3.0
