"""Write ReasonSeg-format folders (val/test/dev/framed) and sequence folders to disk, byte-reproducibly."""

from __future__ import annotations

import json
from pathlib import Path

from .motion import FPS, make_sequence, make_switch_sequence
from .render import jpeg_encode
from .sample import SPLITS, Sample, sample

DATA_VERSION = "reasonseg-synth v2"  # the data set; each file records the rules that made it:
SEQUENCE_GENERATOR = "reasonseg-synth v1"  # sequences are drawn by the v1 rules (motion.py)


def generator(split: str) -> str:
    """The generator version a split's files record: val and test are made by the v1 rules
    (byte-identical to their committed v1 files), dev, framed and train by v2."""
    sp = SPLITS[split]
    return f"reasonseg-synth v{max(sp.wording, sp.render)}"


SEQUENCE_JPEG_QUALITY = 85  # keeps 6 x 90 frames at 320x240 within ~6 MB


def _shape(poly, category: str, label: str = "target") -> dict:
    return {"label": label, "labelme_class": category, "points": poly, "shape_type": "polygon"}


def sample_json(s: Sample, split: str, index: int, seed: int) -> dict:
    target = [o for o in s.objects if o["is_target"]]
    return {
        "text": s.texts,
        "is_sentence": s.is_sentence,
        "shapes": [_shape(p, target[0]["category"]) for p in s.polygons],
        "qtype": s.qtype,
        "kind": s.kind,
        "empty": s.empty,
        "novel": s.novel,
        "objects": s.objects,
        **({"framing": s.framing} if s.framing else {}),
        "source": {"generator": generator(split), "split": split, "index": index, "seed": seed},
    }


def write_split(out: Path, split: str, count: int, seed: int = 0) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        s = sample(split, i, seed)
        name = f"{i:05d}"
        (out / f"{name}.jpg").write_bytes(s.jpeg)
        (out / f"{name}.json").write_bytes((json.dumps(sample_json(s, split, i, seed), separators=(",", ":")) + "\n").encode())


def write_sequence(
    out: Path, index: int, n_frames: int, seed: int = 0, width: int = 320, height: int = 240, quality: int = SEQUENCE_JPEG_QUALITY, switch: bool = False
) -> None:
    """One moving sequence (`switch`: one whose goal's answer changes, motion.make_switch_sequence)."""
    seq = (make_switch_sequence if switch else make_sequence)(index, n_frames, seed, width, height)
    out.mkdir(parents=True, exist_ok=True)
    frames = []
    for k, ((image, _mask), poly) in enumerate(zip(seq.frames, seq.polygons)):
        name = f"{k:04d}.jpg"
        (out / name).write_bytes(jpeg_encode(image, quality))
        frames.append({"file": name, "stamp_ms": round(k * 1000 / FPS), "shapes": [_shape(poly, "target")]})
    meta = {
        "goal": seq.goal,
        "is_sentence": seq.is_sentence,
        "qtype": seq.qtype,
        "width": width,
        "height": height,
        "fps": FPS,
        "frames": frames,
        "source": {"generator": SEQUENCE_GENERATOR, "sequence": index, "seed": seed, **({"switch": True} if switch else {})},
    }
    (out / "sequence.json").write_bytes((json.dumps(meta, separators=(",", ":")) + "\n").encode())
