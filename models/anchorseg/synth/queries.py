"""Query specs (what is asked, resolved against the scene) and their wording.

A spec is a dict: {"kind", "qtype", "d" (descriptor of the target's class), kind-specific keys,
"target": index into the scene's objects or None for "not there"}. Descriptors are dicts over
the keys category / group / colour / texture / size; an object matches when all agree.
Every spec is checked against the scene so that exactly one object (or none) is meant.
"""

from __future__ import annotations

import itertools
import re

import numpy as np

from . import style
from . import templates as tp
from .lexicon import CATEGORIES, GROUPS, HELDOUT_FUNCTION_COLOUR
from .scene import Obj, pick

QTYPES = ["attribute", "function", "spatial", "comparative", "negation", "composition"]
QTYPE_WEIGHTS = [0.22, 0.22, 0.15, 0.13, 0.13, 0.15]
EMPTY_QTYPES = ["attribute", "function", "spatial", "comparative"]
EMPTY_WEIGHTS = [0.35, 0.35, 0.2, 0.1]
ATTR_KEYS = ["colour", "texture", "size"]


def matches(o: Obj, d: dict) -> bool:
    return all(o.attr(k) == v for k, v in d.items())


def members(objs, d, exclude=None):
    return [o for o in objs if o is not exclude and matches(o, d)]


def novelty(spec: dict) -> list[str]:
    """Held-out compositions in this spec (empty list: allowed in train)."""
    out = []
    for key in ("d", "ref"):
        d = spec.get(key)
        if d and "group" in d and "colour" in d and (d["group"], d["colour"]) in HELDOUT_FUNCTION_COLOUR:
            out.append("function-colour")
    neg = spec.get("not")
    if neg and neg[0] == "group" and (neg[1], spec["d"].get("colour")) in HELDOUT_FUNCTION_COLOUR:
        out.append("function-colour")
    if spec["kind"] == "super" and "group" in spec["d"]:
        out.append("function-superlative")
    if spec["kind"] == "same" and "group" in spec["ref"]:
        out.append("function-reference")
    return sorted(set(out))


# ---------------------------------------------------------------- descriptors


def unique_desc(rng, objs, t: Obj, head: str | None, exclude_keys=(), min_attrs=1) -> dict | None:
    """A descriptor with head key `head` (category/group/None) plus attributes that picks
    exactly `t` among `objs`; small attribute sets are preferred, sometimes one redundant.
    Size classes are relative to a category, so only a category head may carry a size."""
    keys = [k for k in ATTR_KEYS if k not in exclude_keys and (k != "size" or head == "category")]
    base = {head: t.attr(head)} if head else {}
    subsets = []
    for n in range(min_attrs, len(keys) + 1):
        combos = list(itertools.combinations(keys, n))
        rng.shuffle(combos)
        subsets.extend(combos)
    for sub in subsets:
        d = dict(base, **{k: t.attr(k) for k in sub})
        if members(objs, d) == [t]:
            spare = [k for k in keys if k not in d]
            if spare and rng.random() < 0.2:
                k = pick(rng, spare)
                d[k] = t.attr(k)
            return d
    return None


def class_desc(rng, t: Obj, function_class: bool) -> dict:
    """The class a spatial/size query picks from; a function class makes it a composition."""
    if function_class:
        return {"group": t.group}
    opts = ["category", "colour", "all"]
    k = pick(rng, opts)
    return {} if k == "all" else {k: t.attr(k)}


def ref_desc(rng, objs, r: Obj, exclude_keys=(), group_share=0.0) -> dict | None:
    """A descriptor that picks exactly the reference `r`; with `group_share` > 0, that share of
    references names `r` by its function group where the group is unique ("the thing you can eat")."""
    if group_share and rng.random() < group_share and members(objs, {"group": r.group}) == [r]:
        return {"group": r.group}
    if "category" not in exclude_keys and rng.random() < 0.5 and members(objs, {"category": r.category}) == [r]:
        return {"category": r.category}
    head = "category" if rng.random() < 0.8 else None
    return unique_desc(rng, objs, r, head, exclude_keys, min_attrs=0 if head else 1)


# ---------------------------------------------------------------- geometry


def rel_truth(rel: str, o: Obj, r: Obj) -> str:
    """ "yes", "no" or "unclear" for `o <rel> r` (left/right/above/below)."""
    ox0, oy0, ox1, oy1 = o.bbox
    rx0, ry0, rx1, ry1 = r.bbox
    rcx, rcy = (rx0 + rx1) / 2, (ry0 + ry1) / 2
    if rel == "left":
        return "yes" if ox1 <= rx0 else ("no" if o.cx >= rcx else "unclear")
    if rel == "right":
        return "yes" if ox0 >= rx1 else ("no" if o.cx <= rcx else "unclear")
    if rel == "above":
        return "yes" if oy1 <= ry0 else ("no" if o.cy >= rcy else "unclear")
    return "yes" if oy0 >= ry1 else ("no" if o.cy <= rcy else "unclear")


def gap(a: Obj, b: Obj) -> float:
    ax0, ay0, ax1, ay1 = a.bbox
    bx0, by0, bx1, by1 = b.bbox
    dx = max(0.0, bx0 - ax1, ax0 - bx1)
    dy = max(0.0, by0 - ay1, ay0 - by1)
    return float(np.hypot(dx, dy))


def coord_xy(cx: float, cy: float, direction: str) -> float:
    """Larger = further in `direction`."""
    return {"left": -cx, "right": cx, "top": -cy, "bottom": cy}[direction]


def _coord(o, direction):
    return coord_xy(o.cx, o.cy, direction)


# ---------------------------------------------------------------- builders (target)


def build_attribute(rng, objs, t):
    head = "category" if rng.random() < 0.85 else None
    d = unique_desc(rng, objs, t, head)
    return d and {"kind": "attr", "qtype": "attribute", "d": d}


def build_function(rng, objs, t):
    d = unique_desc(rng, objs, t, "group", min_attrs=0)
    return d and {"kind": "func", "qtype": "function", "d": d}


def build_extreme(rng, objs, t, function_class=False):
    d = class_desc(rng, t, function_class)
    ms = members(objs, d)
    if len(ms) < 2:
        return None
    for direction in rng.permutation(["left", "right", "top", "bottom"]):
        vals = sorted((_coord(o, direction), i) for i, o in enumerate(ms))
        if ms[vals[-1][1]] is t and vals[-1][0] - vals[-2][0] >= 10:
            qtype = "composition" if "group" in d else "spatial"
            return {"kind": "extreme", "qtype": qtype, "d": d, "dir": str(direction)}
    return None


def build_relation(rng, objs, t, function_class=False, group_refs=0.0):
    d = class_desc(rng, t, function_class)
    others = [o for o in objs if o is not t]
    for r in [others[i] for i in rng.permutation(len(others))]:
        ms = members(objs, d, exclude=r)
        if len(ms) < 2:
            continue
        for rel in rng.permutation(["left", "right", "above", "below", "next"]):
            if rel == "next":
                gt = gap(t, r)
                ok = gt <= 18 and all(gap(o, r) >= gt + 15 for o in ms if o is not t)
            else:
                ok = rel_truth(rel, t, r) == "yes" and all(rel_truth(rel, o, r) == "no" for o in ms if o is not t)
            if ok:
                rd = ref_desc(rng, objs, r, group_share=group_refs)
                if rd is None:
                    continue
                qtype = "composition" if "group" in d else "spatial"
                return {"kind": "rel", "qtype": qtype, "d": d, "rel": str(rel), "ref": rd}
    return None


def build_superlative(rng, objs, t, function_class=False):
    d = class_desc(rng, t, function_class)
    ms = members(objs, d)
    if len(ms) < 2:
        return None
    mixed = len({o.category for o in ms}) > 1
    ratio = 1.5 if mixed else 1.3
    areas = sorted((o.area, i) for i, o in enumerate(ms))
    which = None
    if ms[areas[-1][1]] is t and areas[-1][0] >= ratio * areas[-2][0]:
        which = "big"
    elif ms[areas[0][1]] is t and areas[1][0] >= ratio * areas[0][0]:
        which = "small"
    if which is None:
        return None
    qtype = "composition" if "group" in d else "comparative"
    return {"kind": "super", "qtype": qtype, "d": d, "which": which, "two": len(ms) == 2}


def build_negation(rng, objs, t):
    options = ["attr", "cat", "group"]
    rng.shuffle(options)
    for opt in options:
        if opt == "attr":
            d = {"category": t.category}
            ms = members(objs, d)
            others = [o for o in ms if o is not t]
            if not others:
                continue
            for k in rng.permutation(ATTR_KEYS):
                vals = {o.attr(k) for o in others}
                if len(vals) == 1 and t.attr(k) not in vals:
                    return {"kind": "neg", "qtype": "negation", "d": d, "not": (str(k), vals.pop())}
        else:
            d = {"colour": t.colour}
            others = [o for o in members(objs, d) if o is not t]
            key = "category" if opt == "cat" else "group"
            vals = {o.attr(key) for o in others}
            if others and len(vals) == 1 and t.attr(key) not in vals:
                return {"kind": "neg", "qtype": "negation", "d": d, "not": (key, vals.pop())}
    return None


def build_same(rng, objs, t, allow_group_ref=False):
    k = pick(rng, ["colour", "colour", "texture"])
    d = {} if rng.random() < 0.6 else {"category": t.category}
    others = [o for o in objs if o is not t and o.attr(k) == t.attr(k)]
    for r in [others[i] for i in rng.permutation(len(others))]:
        ms = members(objs, d, exclude=r)
        if len(ms) < 2 or [o for o in ms if o.attr(k) == r.attr(k)] != [t]:
            continue
        rd = ref_desc(rng, objs, r, exclude_keys=(k,), group_share=0.5 if allow_group_ref else 0.0)
        if rd is None:
            continue
        return {"kind": "same", "qtype": "composition", "d": d, "key": k, "ref": rd}
    return None


def build_for(rng, objs, t, qtype, allow_novel, group_refs=0.0):
    """A spec asking for `t`; `group_refs`: the share of relation references that may name a
    function group (sample.sample's `group_refs`)."""
    if qtype == "attribute":
        return build_attribute(rng, objs, t)
    if qtype == "function":
        return build_function(rng, objs, t)
    if qtype == "spatial":
        return build_extreme(rng, objs, t) if rng.random() < 0.4 else build_relation(rng, objs, t, group_refs=group_refs)
    if qtype == "comparative":
        return build_superlative(rng, objs, t)
    if qtype == "negation":
        return build_negation(rng, objs, t)
    r = rng.random()
    if r < 0.4:
        return build_same(rng, objs, t, allow_group_ref=allow_novel)
    if r < 0.6:
        return build_extreme(rng, objs, t, function_class=True)
    if r < 0.85 or not allow_novel:
        return build_relation(rng, objs, t, function_class=True, group_refs=group_refs)
    return build_superlative(rng, objs, t, function_class=True)


# ---------------------------------------------------------------- builders (empty)


def build_empty(rng, objs, qtype):
    present_colours = sorted({o.colour for o in objs})
    if qtype == "attribute":
        o = pick(rng, objs)
        cols = [c for c in present_colours if not members(objs, {"category": o.category, "colour": c})]
        if not cols:
            return None
        return {"kind": "attr", "qtype": qtype, "d": {"category": o.category, "colour": pick(rng, cols)}}
    if qtype == "function":
        absent = [g for g in GROUPS if not members(objs, {"group": g})]
        if absent and rng.random() < 0.5:
            return {"kind": "func", "qtype": qtype, "d": {"group": pick(rng, absent)}}
        g = pick(rng, objs).group
        cols = [c for c in present_colours if not members(objs, {"group": g, "colour": c})]
        return cols and {"kind": "func", "qtype": qtype, "d": {"group": g, "colour": pick(rng, cols)}}
    if qtype == "comparative":
        absent = [c for c in CATEGORIES if not members(objs, {"category": c}) and members(objs, {"group": CATEGORIES[c][0]})]
        if not absent:
            return None
        return {"kind": "super", "qtype": qtype, "d": {"category": pick(rng, absent)}, "which": pick(rng, ["big", "small"]), "two": False}
    # spatial: the class exists, the reference exists, nothing stands in that relation
    for r in [objs[i] for i in rng.permutation(len(objs))]:
        o = pick(rng, [x for x in objs if x is not r])
        d = {"category": o.category} if rng.random() < 0.7 else {"colour": o.colour}
        ms = members(objs, d, exclude=r)
        for rel in rng.permutation(["left", "right", "above", "below"]):
            if ms and all(rel_truth(rel, m, r) == "no" for m in ms):
                rd = ref_desc(rng, objs, r)
                if rd is not None:
                    return {"kind": "rel", "qtype": qtype, "d": d, "rel": str(rel), "ref": rd}
    return None


# ---------------------------------------------------------------- wording

WRAPPER_POOLS = {"{q}": (tp.SHORT_WRAP, tp.LONG_WRAP), "{need}": (tp.NEED_SHORT, tp.NEED_LONG)}
SPLICE_RATE = 0.5  # train only: share of wrappers cut from pieces of the train wrappers


def held_out_wrapper(text: str) -> bool:
    """`text` (with its slot still in it, or filled) is worded like a held-out ("X") wrapper."""
    return any(p.match(text) for p in _HELD_OUT_WRAPPERS)


_HELD_OUT_WRAPPERS = [
    re.compile(re.escape(s).replace(r"\{q\}", ".+").replace(r"\{need\}", ".+") + "$")
    for pools in WRAPPER_POOLS.values()
    for pool in pools
    for s, tag in pool
    if tag == tp.X
]
_TRAIN_WRAPPER_WORDS = [
    w for pools in WRAPPER_POOLS.values() for pool in pools for s, tag in pool if tag == tp.T and (w := s.replace("{q}", " ").replace("{need}", " ").split())
]


class Wording:
    """Turns a spec into text. `novel` = test phrasing: wrappers always come from the held-out
    ("X") pool and inner pieces do half of the time; otherwise only "T" pieces are used.
    `splice` (train only): half of the wrappers are new ones cut from pieces of the "T" wrappers."""

    def __init__(self, rng, novel: bool, splice: bool = False):
        self.rng, self.novel, self.splice = rng, novel, splice

    def pick(self, options, force=False):
        held = [s for s, tag in options if tag == tp.X]
        if self.novel and held and (force or self.rng.random() < 0.5):
            return pick(self.rng, held)
        return pick(self.rng, [s for s, tag in options if tag == tp.T])

    def word(self, seq):
        return pick(self.rng, seq)

    def vp(self, group):
        return self.word(tp.FUNCTION_VPS[group])

    def np(self, d: dict, det: str = "the", plural: bool = False, clause: bool = False) -> str:
        """Noun phrase for descriptor `d`. `clause`: a test wording may put the adjectives in a
        relative clause ("the cup that is red"), only where nothing follows the phrase."""
        adjs, post = [], []
        if "size" in d:
            adjs.append(self.word(tp.SIZE_WORDS[d["size"]]))
        if "colour" in d:
            adjs.append(d["colour"])
        if "texture" in d:
            if not plural and self.rng.random() < 0.3:
                post.append(tp.TEXTURE_WITH[d["texture"]])
            else:
                adjs.append(tp.TEXTURE_ADJ[d["texture"]])
        if "category" in d:
            head = CATEGORIES[d["category"]][1] if plural else d["category"]
        else:
            head = tp.HEAD_WORDS[self.word(["thing", "object"])][1 if plural else 0]
        if "group" in d:
            post.append(self.pick(tp.FUNC_CLAUSE).format(vp=self.vp(d["group"])))
        elif clause and adjs and not post and self.novel and self.rng.random() < 0.5:
            return f"the {head} that is {' and '.join(adjs)}"
        return " ".join(p for p in [det, *adjs, head, *post] if p)

    def core(self, spec) -> tuple[str, bool]:
        """(core phrase, is a need sentence that carries its own wrapper)"""
        kind, d = spec["kind"], spec["d"]
        if kind == "attr":
            return self.np(d, clause=True), False
        if kind == "func":
            if set(d) == {"group"}:
                if self.rng.random() < 0.45:
                    return self.word(tp.NEEDS[d["group"]]), True
                return self.pick(tp.FUNC_BARE).format(vp=self.vp(d["group"])), False
            return self.np(d), False
        if kind == "extreme":
            return self.pick(tp.EXTREME[spec["dir"]]).format(np=self.np(d, det="")), False
        if kind == "rel":
            rel = self.word(tp.RELATION[spec["rel"]])
            return self.pick(tp.REL_FORM).format(t=self.np(d), rel=rel, r=self.np(spec["ref"])), False
        if kind == "super":
            if spec["two"]:
                return self.pick(tp.SUPER_TWO[spec["which"]]).format(pl=self.np(d, det="", plural=True)), False
            return self.pick(tp.SUPER[spec["which"]]).format(np=self.np(d, det="")), False
        if kind == "neg":
            key, val = spec["not"]
            if key == "category":
                return self.pick(tp.NEG_CAT).format(np=self.np(d, det=""), cat=val), False
            if key == "group":
                return self.pick(tp.NEG_GROUP).format(np=self.np(d, det=""), vp=self.vp(val)), False
            if key == "size":
                w = self.word(tp.SIZE_WORDS[val])
            else:
                w = tp.TEXTURE_ADJ[val] if key == "texture" else val
            return self.pick(tp.NEG_ATTR).format(np=self.np(d, det=""), pl=self.np(d, det="", plural=True), w=w), False
        if kind == "same":
            return self.pick(tp.SAME).format(np=self.np(d, det=""), k=self.word(tp.SAME_KEY[spec["key"]]), r=self.np(spec["ref"])), False
        raise ValueError(kind)

    def spliced(self, pool, slot: str) -> str | None:
        """A wrapper no template spells out: the tail of one train wrapper's words before the slot,
        the head of another's after it, sometimes with a span of any train wrapper in front or
        behind. The only wrappers the 0.2.0 model saw were the templates themselves, and it scored
        0.38 on held-out long wrappers against 0.61 on train ones; this teaches it that the words
        around a query do not move its target. None when the cut looks like a held-out wrapper."""
        rng = self.rng
        templates = [s for s, tag in pool if tag == tp.T]
        before = pick(rng, templates).split(slot)[0].split()
        after = pick(rng, templates).split(slot)[1].split()
        words = before[int(rng.integers(len(before) + 1)) :] + [slot] + after[: int(rng.integers(len(after) + 1))]
        for at_end in (False, True):
            if rng.random() < (0.25 if at_end else 0.5):
                source = pick(rng, _TRAIN_WRAPPER_WORDS)
                a = int(rng.integers(len(source)))
                span = source[a : a + 1 + int(rng.integers(8))]
                words = words + span if at_end else span + words
        text = " ".join(words)
        return None if held_out_wrapper(text) else text

    def wrapper(self, pool, slot: str) -> str:
        if self.splice and self.rng.random() < SPLICE_RATE:
            cut = self.spliced(pool, slot)
            if cut:
                return cut
        return self.pick(pool, force=True)

    def text(self, spec, is_sentence: bool) -> str:
        core, need = self.core(spec)
        if need:
            pool = tp.NEED_LONG if is_sentence else tp.NEED_SHORT
            return self.wrapper(pool, "{need}").format(need=core)
        pool = tp.LONG_WRAP if is_sentence else tp.SHORT_WRAP
        return self.wrapper(pool, "{q}").format(q=core)


class WideWording(Wording):
    """Generator v2 (style.py): every v1 piece plus its train-only extras, then synonyms,
    contractions and typos in the query itself (the wrapper's held-out wording stays intact)."""

    def pick(self, options, force=False):
        return super().pick(options + style.EXTRAS.get(id(options), []), force)

    def word(self, seq):
        return super().word(seq + style.EXTRAS.get(id(seq), []))

    def core(self, spec) -> tuple[str, bool]:
        core, need = super().core(spec)
        return style.restyle(core, self.rng), need
