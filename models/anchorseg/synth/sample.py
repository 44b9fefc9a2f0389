"""`sample(split, index, seed)`: one ReasonSeg-Synth sample, deterministic and fast."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from ..reasonseg import rasterize_polygons
from . import templates as tp
from .lexicon import CATEGORIES, COLOUR_NAMES, GROUP_MEMBERS, HELDOUT_FUNCTION_COLOUR
from .queries import EMPTY_QTYPES, EMPTY_WEIGHTS, QTYPE_WEIGHTS, QTYPES, WideWording, Wording, build_empty, build_for, held_out_wrapper, novelty
from .render import background, distractors, finish, jpeg_decode, jpeg_encode, paint_object, pattern
from .scene import Obj, place, plan_objects
from .text import normalize_words

SCENE_W, SCENE_H = 160, 120


@dataclass(frozen=True)
class Split:
    key: int  # seed stream: no two splits share a scene
    held_out: bool  # held-out phrasings and compositions, recorded in `novel` (as test)
    wording: int  # 1: the v1 templates; 2: queries.WideWording (extras, synonyms, contractions, typos)
    render: int  # 1: v1 scenes; 2: textured surfaces, distractor shapes, stripes both ways, framing
    framed: float = 0.0  # render 2: share of samples whose scene fills only part of the frame
    frame: tuple[int, int] = (SCENE_W, SCENE_H)  # output width, height


# val and test are generator v1 exactly (their committed bytes regenerate unchanged: no v2 code
# path draws from their random streams); train, dev and framed are v2.
SPLITS = {
    "train": Split(1, held_out=False, wording=2, render=2, framed=0.5),
    "val": Split(2, held_out=False, wording=1, render=1),
    "test": Split(3, held_out=True, wording=1, render=1),
    "dev": Split(4, held_out=True, wording=2, render=2, framed=0.5),
    "framed": Split(5, held_out=True, wording=1, render=2, framed=1.0, frame=(640, 480)),
}
FRAME_SCALE = (0.3, 1.0)  # framed scenes: scene width / the most that fits the frame
DISTRACTOR_TRIES = (4, 14)  # render 2: tries at muted distractor shapes per frame
PATTERN_RATE = 0.6  # render 2: share of surfaces with a texture
EMPTY_RATE = 0.07
SENTENCE_RATE = 0.4
NOVEL_COMPOSITION_RATE = 0.35  # test only: share asked with a held-out composition
NOVEL_QTYPES = ["function", "negation", "composition"]
JPEG_QUALITY = 90  # samples are JPEG round-tripped, so train pixels look like committed val/test
MAX_WORDS = 36  # the tiny bundle's tokenizer takes at most 40 tokens
MIN_SENTENCE_WORDS = 15  # long sentences have at least this many words, short phrases fewer


@dataclass
class Sample:
    image: np.ndarray  # uint8 [H, W, 3] RGB (decoded from `jpeg`); H, W = the split's frame
    mask: np.ndarray  # uint8 [H, W], 1 = target
    texts: list[str]  # 1-3 paraphrases; evaluation uses texts[0]
    is_sentence: bool
    qtype: str
    empty: bool
    objects: list[dict]  # every object: category, group, colour, texture, size, polygon, is_target
    polygons: list[list[list[float]]]  # the target's polygons (empty list when empty)
    kind: str = ""  # the spec kind inside qtype (attr, func, extreme, rel, super, neg, same)
    novel: list[str] = field(default_factory=list)  # test: what is held out ("phrasing", "function-colour", ...)
    jpeg: bytes = b""  # the image as written to disk (quality JPEG_QUALITY)
    framing: dict | None = None  # render 2: {"scale", "x", "y", "width", "height"} of the scene in the frame


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(list(key)))


def _choice(rng, items, weights):
    return items[int(np.searchsorted(np.cumsum(weights), rng.random() * sum(weights), side="right"))]


def _object_dict(o: Obj, is_target: bool) -> dict:
    return {
        "category": o.category,
        "group": o.group,
        "colour": o.colour,
        "texture": o.texture,
        "size": o.size,
        "area": o.area,
        "polygon": o.poly.tolist(),
        "is_target": is_target,
    }


def _has_distractor(objs, t: Obj) -> bool:
    """Another object shares the target's category or colour."""
    return any(o is not t and (o.category == t.category or o.colour == t.colour) for o in objs)


def _find_spec(rng, held_out: bool, qtype, empty, want_novel, group_refs=0.0):
    """Scene + spec satisfying the split's composition rules; retries with fresh scenes."""
    for attempt in range(300):
        plan = plan_objects(rng)
        if want_novel and attempt < 250 and qtype in ("function", "negation", "composition"):
            # steer the target towards a held-out (function, colour) pair
            g, c = sorted(HELDOUT_FUNCTION_COLOUR)[int(rng.integers(len(HELDOUT_FUNCTION_COLOUR)))]
            plan[0].category = GROUP_MEMBERS[g][int(rng.integers(len(GROUP_MEMBERS[g])))]
            plan[0].colour = c
        objs = place(rng, plan, SCENE_W, SCENE_H)
        if not objs:
            continue
        if empty:
            spec = build_empty(rng, objs, qtype)
            candidates = [spec] if spec else []
        else:
            order = [0] + [int(i) + 1 for i in rng.permutation(len(objs) - 1)]
            candidates = []
            for i in order:
                spec = build_for(rng, objs, objs[i], qtype, allow_novel=held_out, group_refs=group_refs)
                if spec:
                    spec["target"] = i
                    candidates.append(spec)
                    break
        for spec in candidates:
            nov = novelty(spec)
            if not held_out and nov:
                continue
            if want_novel and not nov and attempt < 290:
                continue
            if spec.get("target") is not None and not _has_distractor(objs, objs[spec["target"]]):
                continue
            spec.setdefault("target", None)
            return objs, spec, nov
    raise RuntimeError(f"no {qtype} query found (held_out={held_out})")  # never seen; keeps failure loud


def _texts(rng, spec, is_sentence, novel_phrasing, splice, wording=Wording) -> list[str]:
    """1-3 distinct wordings of `spec`, each within the length rules; a v2 text that happens
    to read like a held-out wrapper is never used outside the held-out phrasings."""
    texts: list[str] = []
    for _ in range(1 + int(rng.integers(3))):
        for _try in range(20):
            t = wording(rng, novel_phrasing, splice).text(spec, is_sentence)
            if wording is not Wording and not novel_phrasing and held_out_wrapper(t):
                continue
            n_words = len(normalize_words(t))
            if (MIN_SENTENCE_WORDS <= n_words <= MAX_WORDS) if is_sentence else n_words < MIN_SENTENCE_WORDS:
                if t not in texts:
                    texts.append(t)
                break
    return texts


def composition_weights(share: float) -> list[float]:
    """QTYPE_WEIGHTS with composition (the last type) at `share`, the others scaled to the rest."""
    rest = sum(QTYPE_WEIGHTS[:-1])
    return [w * (1.0 - share) / rest for w in QTYPE_WEIGHTS[:-1]] + [share]


def sample(
    split: str, index: int, seed: int = 0, splice: bool = True, framed: float | None = None, group_refs: float = 0.0, composition: float | None = None
) -> Sample:
    """Sample `index` of `split` (SPLITS: "train", "val", "test", "dev", "framed"); the same
    arguments always give byte-identical output. `splice=False` (train): only the wrapper
    templates themselves, no spliced wrappers (for ablation rows trained without them).
    `framed` (render 2 splits): the share of framed scenes instead of the split's own.
    `group_refs` (train): the share of relation references named by their function group ("left
    of the thing you can eat"), which teaches groups as references; otherwise only the held-out
    composition ("same" with a group reference, queries.novelty) names a reference by its group.
    `composition` (train): the share of compositions among the asked query types instead of
    QTYPE_WEIGHTS' (the other types keep their proportions), for the type that costs most."""
    if split not in SPLITS:
        raise ValueError(f"Expected split in {sorted(SPLITS)} but received {split!r}")
    sp = SPLITS[split]
    if framed is not None:
        if sp.render != 2 or not 0.0 <= framed <= 1.0:
            raise ValueError(f"Expected a share in [0, 1] of framed scenes for a render 2 split but received {framed!r} for {split!r}")
        sp = replace(sp, framed=framed)
    if group_refs and (split != "train" or not 0.0 <= group_refs <= 1.0):
        raise ValueError(f"Expected a share in [0, 1] of group references for the train split but received {group_refs!r} for {split!r}")
    if composition is not None and (split != "train" or not 0.0 < composition < 1.0):
        raise ValueError(f"Expected a share in (0, 1) of compositions for the train split but received {composition!r} for {split!r}")
    rng = _rng(sp.key, int(index), int(seed))
    empty = rng.random() < EMPTY_RATE
    want_novel = sp.held_out and not empty and rng.random() < NOVEL_COMPOSITION_RATE
    if want_novel:
        qtype = _choice(rng, NOVEL_QTYPES, [0.4, 0.2, 0.4])
    elif empty:
        qtype = _choice(rng, EMPTY_QTYPES, EMPTY_WEIGHTS)
    else:
        qtype = _choice(rng, QTYPES, QTYPE_WEIGHTS if composition is None else composition_weights(composition))
    is_sentence = bool(rng.random() < SENTENCE_RATE)
    objs, spec, nov = _find_spec(rng, sp.held_out, qtype, empty, want_novel, group_refs)

    novel_phrasing = sp.held_out and (not nov or rng.random() < 0.5)
    spliced = splice and split == "train"
    wording = WideWording if sp.wording == 2 else Wording
    texts = _texts(rng, spec, is_sentence, novel_phrasing, spliced, wording)
    if not texts:  # no wording fits the asked length class: use the other one
        is_sentence = not is_sentence
        texts = _texts(rng, spec, is_sentence, novel_phrasing, spliced, wording)

    framing = None
    if sp.render == 1:
        img = background(rng, SCENE_H, SCENE_W)
        for o in objs:
            paint_object(img, o.mask, o.colour, o.texture, rng)
    else:
        img, framing = _render_v2(rng, objs, sp)
    jpeg = jpeg_encode(finish(img, rng), JPEG_QUALITY)
    ti = spec["target"]
    mask = objs[ti].mask.copy() if ti is not None else np.zeros(img.shape[:2], np.uint8)
    return Sample(
        image=jpeg_decode(jpeg),
        mask=mask,
        texts=texts,
        is_sentence=is_sentence,
        qtype=spec["qtype"],
        empty=ti is None,
        objects=[_object_dict(o, i == ti) for i, o in enumerate(objs)],
        polygons=[objs[ti].poly.tolist()] if ti is not None else [],
        kind=spec["kind"],
        novel=(["phrasing"] if novel_phrasing else []) + nov,
        jpeg=jpeg,
        framing=framing,
    )


def _surface(rng, h: int, w: int, scale: float) -> np.ndarray:
    img = background(rng, h, w, max(1, round(scale)))
    if rng.random() < PATTERN_RATE:
        pattern(img, rng, scale)
    return img


def _render_v2(rng, objs: list[Obj], sp: Split) -> tuple[np.ndarray, dict | None]:
    """Generator v2 pixels (float32 [H, W, 3], before `finish`). A framed scene is the 160x120
    scene scaled to FRAME_SCALE of the most that fits the frame, anywhere in it, on its own
    surface, with distractor shapes around it; otherwise the scene fills the frame and distractor
    shapes sit between the objects. The objects' polygons, masks and areas move to frame pixels
    (a uniform scale and shift: every relation a query was resolved on still holds)."""
    w, h = sp.frame
    fit = min(w / SCENE_W, h / SCENE_H)
    framed = rng.random() < sp.framed
    s = float(rng.uniform(*FRAME_SCALE)) if framed else 1.0
    k = fit * s
    sw, sh = SCENE_W * k, SCENE_H * k
    ox, oy = (float(rng.uniform(0, w - sw)), float(rng.uniform(0, h - sh))) if framed else ((w - sw) / 2, (h - sh) / 2)
    for o in objs:
        o.poly = np.round((o.poly * k + (ox, oy)) * 8) / 8
        o.mask = rasterize_polygons([o.poly], h, w)
        o.area = int(o.mask.sum())
    img = _surface(rng, h, w, fit)
    box = (int(round(ox)), int(round(oy)), int(round(ox + sw)), int(round(oy + sh)))
    if framed:
        img[box[1] : box[3], box[0] : box[2]] = _surface(rng, box[3] - box[1], box[2] - box[0], k)
        keep_out = [box]
    else:
        keep_out = [o.bbox for o in objs]
    distractors(img, rng, keep_out, int(rng.integers(*DISTRACTOR_TRIES)), fit)
    for o in objs:
        paint_object(img, o.mask, o.colour, o.texture, rng, scale=k, stripe=1 if rng.random() < 0.5 else -1)
    return img, ({"scale": round(s, 4), "x": box[0], "y": box[1], "width": box[2] - box[0], "height": box[3] - box[1]} if framed else None)


_SLOT = re.compile(r"\{[a-z]+\}")


def _template_words(obj, tags=(tp.T,)) -> set[str]:
    if isinstance(obj, str):
        return set(normalize_words(_SLOT.sub(" ", obj)))
    if isinstance(obj, tuple) and len(obj) == 2 and obj[1] in (tp.T, tp.X):
        return _template_words(obj[0], tags) if obj[1] in tags else set()
    if isinstance(obj, dict):
        return set().union(*(_template_words(v, tags) for v in obj.values()))
    if isinstance(obj, (list, tuple)):
        return set().union(*(_template_words(v, tags) for v in obj))
    return set()


@lru_cache(maxsize=1)
def _vocab(tags: tuple[str, ...]) -> tuple[str, ...]:
    words = set()
    for name in dir(tp):
        value = getattr(tp, name)
        if name.isupper() and isinstance(value, (dict, list)):  # the tables, not the tags T / X
            words |= _template_words(value, tags)
    for cat, (_, plural, _, _) in CATEGORIES.items():
        words |= {cat, plural}
    words |= set(COLOUR_NAMES)
    return tuple(sorted(words))


def train_vocab() -> list[str]:
    """Every word a train (or val) query can contain, after tokenizer normalisation, sorted."""
    return list(_vocab((tp.T,)))


# Words that never describe a target on their own (articles, pronouns, modal verbs, negation,
# head nouns): a goal made of these and wrapper words names nothing to look for.
GLUE = frozenset(
    """a an the this that which it its one of to with and or as i you me my can could would
    is are am be not cannot t s m d isn don please thing things object objects item items in on at for from""".split()
)
# The tables whose words describe a target (attribute, function, need, position, size relation).
_DESCRIPTIVE = (
    "SIZE_WORDS",
    "TEXTURE_ADJ",
    "TEXTURE_WITH",
    "FUNCTION_VPS",
    "NEEDS",
    "EXTREME",
    "RELATION",
    "SUPER",
    "SUPER_TWO",
    "SAME_KEY",
    "MORE_WORDS",
    "COLOUR_SYNONYMS",
    "CATEGORY_SYNONYMS",
    "WORD_SYNONYMS",
)


@lru_cache(maxsize=1)
def content_words() -> frozenset[str]:
    """Vocabulary words that describe a target: every word of the descriptive tables (and their v2
    extras), category and colour names, less GLUE. The rest of the vocabulary are function words."""
    words = set().union(*(_template_words(getattr(tp, name), (tp.T, tp.X)) for name in _DESCRIPTIVE))
    words |= _template_words({k: v for k, v in tp.MORE.items() if k.split(".")[0] in _DESCRIPTIVE}, (tp.T, tp.X))
    for cat, (_, plural, _, _) in CATEGORIES.items():
        words |= {cat, plural}
    return frozenset((words | set(COLOUR_NAMES)) - GLUE)


def function_words() -> list[str]:
    """Train words that describe nothing (wrapper and glue words), sorted: the bundle manifest's
    `tokenizer.functionWords`. A goal with no known word outside them gives found = false."""
    return sorted(set(train_vocab()) - content_words())


def all_vocab() -> list[str]:
    """Train words plus the words only held-out test phrasings use."""
    return list(_vocab((tp.T, tp.X)))
