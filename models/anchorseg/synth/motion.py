"""Moving scenes for streaming work: objects drift, the view pans, distractors come into view;
the goal stays the same and always means the same (visible) object. Switching sequences
(`make_switch_sequence`) are the exception on purpose: their goal's answer changes mid-clip."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..reasonseg import rasterize_polygons
from .queries import Wording, build_attribute, build_function, build_negation, coord_xy, novelty
from .render import background, finish, paint_object
from .sample import SCENE_H, SCENE_W, _rng
from .scene import GAP, place, plan_objects, random_attrs
from .text import normalize_words

FPS = 15
WORLD_W = 240  # scene units; the view is SCENE_W wide and pans across it
MAX_SPEED = 0.3  # scene units per frame (0.6 px per frame at 320x240)
MAX_PAN = 0.35  # scene units per frame
KINDS = ["attr", "func", "neg", "attr", "func", "attr"]  # goal kind by sequence index
SWITCH_SPEED = (0.25, 0.6)  # scene units per frame: fast enough for two objects to swap places in a clip
SWITCH_MIN_RUN = 20  # frames the answer holds before and after each change


@dataclass
class Sequence:
    goal: str
    is_sentence: bool
    qtype: str
    frames: list[tuple[np.ndarray, np.ndarray]]  # (image uint8 [h,w,3], mask uint8 [h,w])
    polygons: list[list[list[float]]]  # target polygon per frame, frame pixels


def _goal_spec(rng, objs, kind):
    t = objs[0]
    build = {"attr": build_attribute, "func": build_function, "neg": build_negation}[kind]
    spec = build(rng, objs, t)
    if spec is None or novelty(spec):
        return None
    return spec


def _boxes_clear(box, others, gap):
    x0, y0, x1, y1 = box
    return all(x1 + gap <= b[0] or b[2] + gap <= x0 or y1 + gap <= b[1] or b[3] + gap <= y0 for b in others)


def _simulate(rng, objs, n_frames, world_w=WORLD_W, speeds=(0.08, MAX_SPEED)):
    """Per-frame (dx, dy) offsets of every object: slow drift, turning back at the world's
    edges and before touching another object (so objects never overlap)."""
    n = len(objs)
    pos = np.zeros((n, 2))
    ang = rng.uniform(0, 2 * np.pi, size=n)
    speed = rng.uniform(*speeds, size=n)
    vel = np.stack([np.cos(ang), np.sin(ang)], 1) * speed[:, None]
    base = [o.bbox for o in objs]
    out = []
    for _ in range(n_frames):
        out.append(pos.copy())
        for i in range(n):
            for trial in range(3):
                nxt = pos[i] + vel[i]
                box = (base[i][0] + nxt[0], base[i][1] + nxt[1], base[i][2] + nxt[0], base[i][3] + nxt[1])
                inside = box[0] >= 1 and box[2] <= world_w - 1 and box[1] >= 1 and box[3] <= SCENE_H - 1
                others = [(base[j][0] + pos[j][0], base[j][1] + pos[j][1], base[j][2] + pos[j][0], base[j][3] + pos[j][1]) for j in range(n) if j != i]
                if inside and _boxes_clear(box, others, GAP):
                    pos[i] = nxt
                    break
                vel[i] = -vel[i] if trial == 0 else vel[i][::-1] * (1, -1)  # turn back, then sideways
    return out


def _camera(rng, objs, offsets, n_frames):
    """Pan position (scene units) per frame: a slow sweep that always keeps the target in view."""
    t = objs[0]
    start = rng.uniform(0, WORLD_W - SCENE_W)
    amp = rng.uniform(20, 40)
    period = rng.uniform(4, 7) * FPS
    cams, cam = [], None
    for k in range(n_frames):
        want = start + amp * np.sin(2 * np.pi * k / period)
        x0, _, x1, _ = t.bbox
        lo, hi = x1 + offsets[k][0][0] + 4 - SCENE_W, x0 + offsets[k][0][0] - 4
        want = float(np.clip(want, max(0.0, lo), min(WORLD_W - SCENE_W, hi)))
        cam = want if cam is None else float(np.clip(want, cam - MAX_PAN, cam + MAX_PAN))
        # stay inside the world; a target the view cannot hold is rejected by the caller
        cam = float(np.clip(cam, 0.0, WORLD_W - SCENE_W))
        cams.append(cam)
    return cams


def make_sequence(index: int, n_frames: int, seed: int = 0, width: int = 320, height: int = 240) -> Sequence:
    if width * SCENE_H != height * SCENE_W:
        raise ValueError(f"Expected a 4:3 frame size but received {width}x{height}")
    scale = width / SCENE_W
    kind = KINDS[index % len(KINDS)]
    is_sentence = index % 2 == 1
    rng = _rng(4, int(index), int(seed))
    for _ in range(500):
        extra = [random_attrs(rng) for _ in range(2)]  # the wider world holds more objects
        objs = place(rng, plan_objects(rng) + extra, WORLD_W, SCENE_H)
        if not objs:
            continue
        spec = _goal_spec(rng, objs, kind)
        if spec is None:
            continue
        offsets = _simulate(rng, objs, n_frames)
        cams = _camera(rng, objs, offsets, n_frames)
        t = objs[0]
        if all(t.bbox[0] + offsets[k][0][0] - cams[k] >= 1 and t.bbox[2] + offsets[k][0][0] - cams[k] <= SCENE_W - 1 for k in range(n_frames)):
            break
    else:
        raise RuntimeError("no sequence layout found")
    spec["target"] = 0
    for _ in range(20):
        goal = Wording(rng, novel=False).text(spec, is_sentence)
        if not is_sentence or len(normalize_words(goal)) >= 15:
            break
    world = background(rng, height, int(round(WORLD_W * scale)), scale=int(scale))
    gain = rng.uniform(0.9, 1.1)
    frames, polys = _render(world, gain, objs, offsets, cams, [0] * n_frames, (5, 6, index, seed), width, height)
    return Sequence(goal, is_sentence, spec["qtype"], frames, polys)


def _render(world, gain, objs, offsets, cams, targets, keys, width, height):
    """Frames (image, target mask) and target polygons; `targets[k]` is the target's index in frame k."""
    scale = width / SCENE_W
    paint_key, noise_key, index, seed = keys
    frames, polys = [], []
    for k in range(len(offsets)):
        cx = int(round(cams[k] * scale))
        img = world[:, cx : cx + width].copy()
        shift = np.array([cx / scale, 0.0])
        target_mask = None
        for i, o in enumerate(objs):
            poly = np.round((o.poly + offsets[k][i] - shift) * scale * 8) / 8
            mask = rasterize_polygons([poly], height, width)
            paint_object(img, mask, o.colour, o.texture, _rng(paint_key, index, seed, i), scale=int(scale))
            if i == targets[k]:
                target_mask, target_poly = mask, poly
        frames.append((finish(img, _rng(noise_key, index, seed, k), noise=3.0, gain=gain), target_mask))
        polys.append(target_poly.tolist())
    return frames, polys


def _extreme_targets(objs, offsets, members, direction):
    """Per frame: which member is furthest in `direction` once the objects have moved."""

    def coord(i, k):
        x0, y0, x1, y1 = objs[i].bbox
        return coord_xy((x0 + x1) / 2 + offsets[k][i][0], (y0 + y1) / 2 + offsets[k][i][1], direction)

    return [max(members, key=lambda i: coord(i, k)) for k in range(len(offsets))]


def make_switch_sequence(index: int, n_frames: int, seed: int = 0, width: int = 320, height: int = 240) -> Sequence:
    """A goal whose answer changes mid-clip: "the leftmost cup" while two cups drift past each
    other. A query bank made before the change points at the wrong object after it, so these
    clips measure what reusing a bank costs. The whole world is in view (no pan): the goal is
    judged against every object in every frame."""
    if width * SCENE_H != height * SCENE_W:
        raise ValueError(f"Expected a 4:3 frame size but received {width}x{height}")
    rng = _rng(7, int(index), int(seed))
    is_sentence = index % 2 == 1
    for _ in range(2000):
        objs = place(rng, plan_objects(rng), SCENE_W, SCENE_H)
        if not objs:
            continue
        d = {"category": objs[0].category}
        members = [i for i, o in enumerate(objs) if o.category == objs[0].category]
        if len(members) < 2:
            continue
        direction = str(rng.choice(["left", "right", "top", "bottom"]))
        offsets = _simulate(rng, objs, n_frames, world_w=SCENE_W, speeds=SWITCH_SPEED)
        targets = _extreme_targets(objs, offsets, members, direction)
        changes = [k for k in range(1, n_frames) if targets[k] != targets[k - 1]]
        runs = np.diff([0, *changes, n_frames])
        if changes and runs.min() >= SWITCH_MIN_RUN:
            break
    else:
        raise RuntimeError("no switching layout found")
    spec = {"kind": "extreme", "qtype": "spatial", "d": d, "dir": direction, "target": targets[0]}
    for _ in range(20):
        goal = Wording(rng, novel=False).text(spec, is_sentence)
        if not is_sentence or len(normalize_words(goal)) >= 15:
            break
    world = background(rng, height, width, scale=int(width / SCENE_W))
    gain = rng.uniform(0.9, 1.1)
    frames, polys = _render(world, gain, objs, offsets, [0.0] * n_frames, targets, (8, 9, index, seed), width, height)
    return Sequence(goal, is_sentence, spec["qtype"], frames, polys)


def sequence(index: int, n_frames: int, seed: int = 0, width: int = 320, height: int = 240):
    """(goal, [(image, mask), ...]) of moving-scene sequence `index`."""
    seq = make_sequence(index, n_frames, seed, width, height)
    return seq.goal, seq.frames
