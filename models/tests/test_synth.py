"""ReasonSeg-Synth generator: determinism, query types, empty share, lengths, split design."""

import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from anchorseg.reasonseg import rasterize_polygons
from anchorseg.synth import SCENE_H, SCENE_W, all_vocab, normalize_words, sample, train_vocab
from anchorseg.synth import templates as tp
from anchorseg.synth.lexicon import COLOUR_NAMES, HELDOUT_FUNCTION_COLOUR
from anchorseg.synth.queries import QTYPE_WEIGHTS, QTYPES, build_relation, novelty
from anchorseg.synth.render import paint_object
from anchorseg.synth.sample import composition_weights
from anchorseg.synth.scene import place, plan_objects
from anchorseg.synth.writer import sample_json

MODELS = Path(__file__).resolve().parents[1]
N = 600


@cache
def many(split: str):
    return [sample(split, i) for i in range(N)]


def digest(split: str, n: int) -> str:
    h = hashlib.sha256()
    for i in range(n):
        s = sample(split, i)
        for part in (s.image.tobytes(), s.mask.tobytes(), s.jpeg, repr((s.texts, s.is_sentence, s.qtype, s.objects)).encode()):
            h.update(part)
    return h.hexdigest()


def test_same_arguments_same_bytes_in_this_and_another_process():
    here = digest("train", 20)
    assert digest("train", 20) == here
    code = "import sys; sys.path.insert(0, 'tests'); from test_synth import digest; print(digest('train', 20))"
    other = subprocess.run([sys.executable, "-c", code], cwd=MODELS, capture_output=True, text=True, check=True)
    assert other.stdout.strip() == here


def test_seed_and_split_change_the_sample():
    a, b, c = sample("train", 5), sample("train", 5, seed=1), sample("val", 5)
    assert not np.array_equal(a.image, b.image) and not np.array_equal(a.image, c.image)


def test_sample_contract():
    s = sample("train", 0)
    assert (SCENE_W, SCENE_H) == (160, 120)
    assert s.image.shape == (120, 160, 3) and s.image.dtype == np.uint8
    assert s.mask.shape == (120, 160) and s.mask.dtype == np.uint8 and set(np.unique(s.mask)) <= {0, 1}
    assert 1 <= len(s.texts) <= 3 and len(set(s.texts)) == len(s.texts)
    with pytest.raises(ValueError, match="split"):
        sample("training", 0)


@pytest.mark.parametrize("split", ["train", "val", "test", "dev"])
def test_scenes(split):
    for s in many(split)[:300]:
        assert 4 <= len(s.objects) <= 6
        assert sum(o["is_target"] for o in s.objects) == (0 if s.empty else 1)
        assert s.empty == (s.mask.sum() == 0) and len(s.polygons) == (0 if s.empty else 1)
        k = s.framing["scale"] if s.framing else 1.0  # a framed scene is scaled down, its objects with it
        for o in s.objects:
            p = np.asarray(o["polygon"])
            assert 15 * k - 0.25 <= (p.max(0) - p.min(0)).max() <= 42 * k + 0.25
        if not s.empty:
            t = next(o for o in s.objects if o["is_target"])
            others = [o for o in s.objects if not o["is_target"]]
            # a distractor shares the target's category or colour
            assert any(o["category"] == t["category"] or o["colour"] == t["colour"] for o in others)


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_qtype_and_the_empty_share(split):
    samples = many(split)
    counts = Counter(s.qtype for s in samples)
    assert set(counts) == set(QTYPES)
    assert all(c / N >= 0.05 for c in counts.values()), counts
    empty = sum(s.empty for s in samples) / N
    assert 0.05 <= empty <= 0.09
    assert {s.qtype for s in samples if s.empty} >= {"attribute", "function", "spatial"}


@pytest.mark.parametrize("split", ["train", "test"])
def test_lengths(split):
    samples = many(split)
    sentences = sum(s.is_sentence for s in samples) / N
    assert 0.3 <= sentences <= 0.5
    for s in samples:
        for t in s.texts:
            n = len(normalize_words(t))
            assert n <= 36
            assert n >= 15 if s.is_sentence else n < 15


def _one_slip(word, vocab):
    """`word` is a vocabulary word with two letters swapped, one dropped or one doubled (style.typo)."""
    for i in range(len(word) + 1):
        for c in "abcdefghijklmnopqrstuvwxyz":
            if word[:i] + c + word[i:] in vocab:
                return True
    return (
        any(word[:i] + word[i + 1] + word[i] + word[i + 2 :] in vocab or word[:i] + word[i + 1 :] in vocab for i in range(len(word) - 1)) or word[:-1] in vocab
    )


def test_train_and_val_words_are_the_train_vocabulary():
    vocab = set(train_vocab())
    assert {w for s in many("val") for t in s.texts for w in normalize_words(t)} <= vocab
    words = [w for s in many("train") for t in s.texts for w in normalize_words(t)]
    slips = [w for w in words if w not in vocab]
    assert all(_one_slip(w, vocab) for w in slips), [w for w in slips if not _one_slip(w, vocab)]
    assert 0.005 < len(slips) / len(words) < 0.02  # typos: about one query in ten has one
    # only rare plurals, synonyms and need sentences may go unseen in 600 samples
    assert len(vocab - set(words)) <= 40, sorted(vocab - set(words))
    assert 300 <= len(vocab) <= 360
    assert train_vocab() == sorted(train_vocab())
    assert set(all_vocab()) >= vocab


def _wrapper_patterns(tag):
    pools = (tp.SHORT_WRAP, tp.LONG_WRAP, tp.NEED_SHORT, tp.NEED_LONG)
    return [re.compile(re.escape(s).replace(r"\{q\}", ".+").replace(r"\{need\}", ".+") + "$") for pool in pools for s, t in pool if t == tag]


def test_held_out_phrasings_never_in_train_and_always_in_test():
    held = _wrapper_patterns(tp.X)
    for s in many("train") + many("val"):
        assert s.novel == []
        for t in s.texts:
            assert not any(p.match(t) for p in held), t
    for s in many("test") + many("dev"):
        assert s.novel
        if "phrasing" in s.novel:
            assert any(p.match(s.texts[0]) for p in held), s.texts[0]


def _names_held_out_pair(s):
    """A function query (one noun phrase) that names the target's colour where the
    (function, colour) pair is held out."""
    if s.kind != "func" or s.empty:
        return False
    t = next(o for o in s.objects if o["is_target"])
    words = set(normalize_words(s.texts[0]))
    return (t["group"], t["colour"]) in HELDOUT_FUNCTION_COLOUR and t["colour"] in words


def test_held_out_function_colour_pairs_only_in_test():
    # v2 swaps colour names for synonyms ("crimson"): a held-out pair named so is still named
    assert not any(_names_held_out_pair(s) or (s.kind == "func" and _names_held_out_synonym(s)) for s in many("train") + many("val"))
    test = many("test")
    assert sum(_names_held_out_pair(s) for s in test) >= 0.05 * N
    novel = Counter(n for s in test for n in s.novel)
    assert novel["function-colour"] >= 0.15 * N
    assert novel["function-superlative"] > 0 and novel["function-reference"] > 0


def _names_held_out_synonym(s):
    if s.empty:
        return False
    t = next(o for o in s.objects if o["is_target"])
    words = set(normalize_words(s.texts[0]))
    return (t["group"], t["colour"]) in HELDOUT_FUNCTION_COLOUR and bool(words & set(tp.COLOUR_SYNONYMS[t["colour"]]))


def test_colour_words_are_the_lexicon():
    assert set(COLOUR_NAMES) <= set(train_vocab())


@pytest.mark.parametrize("pool,slot", [(tp.SHORT_WRAP, "{q}"), (tp.LONG_WRAP, "{q}"), (tp.NEED_LONG, "{need}")])
def test_train_wrappers_are_spliced_from_train_pieces_never_held_out(pool, slot):
    from anchorseg.synth.queries import Wording, held_out_wrapper

    templates = {s for s, tag in pool if tag == tp.T}
    rng = np.random.default_rng(7)
    plain = [Wording(rng, False).wrapper(pool, slot) for _ in range(200)]
    assert set(plain) <= templates
    spliced = [Wording(rng, False, splice=True).wrapper(pool, slot) for _ in range(400)]
    assert all(w.count(slot) == 1 and not held_out_wrapper(w) for w in spliced)
    assert 0.3 < sum(w not in templates for w in spliced) / len(spliced) < 0.6
    words = set(train_vocab())
    assert all(set(normalize_words(w.replace(slot, " "))) <= words for w in spliced)


@pytest.mark.parametrize("split,n", [("val", 300), ("test", 600)])
def test_v1_splits_regenerate_their_committed_bytes(split, n):
    """val and test are made by the v1 rules: generator v2 must not move one of their bytes."""
    folder = MODELS / "data" / "reasonseg-synth" / split
    assert len(list(folder.glob("*.json"))) == n
    for i in range(0, n, 7):
        s = sample(split, i)
        assert (folder / f"{i:05d}.jpg").read_bytes() == s.jpeg, i
        text = json.dumps(sample_json(s, split, i, 0), separators=(",", ":")) + "\n"
        assert (folder / f"{i:05d}.json").read_text() == text, i
        assert '"generator":"reasonseg-synth v1"' in text


@pytest.mark.parametrize("split,n", [("dev", 300), ("framed", 200)])
def test_v2_splits_are_committed_as_generated(split, n):
    folder = MODELS / "data" / "reasonseg-synth" / split
    assert len(list(folder.glob("*.jpg"))) == n
    for i in range(0, n, 25):
        s = sample(split, i)
        assert (folder / f"{i:05d}.jpg").read_bytes() == s.jpeg, i
        text = json.dumps(sample_json(s, split, i, 0), separators=(",", ":")) + "\n"
        assert (folder / f"{i:05d}.json").read_text() == text, i
        assert '"generator":"reasonseg-synth v2"' in text


def test_framed_scenes_fill_part_of_a_640x480_frame():
    scales = []
    for i in range(40):
        s = sample("framed", i)
        assert s.image.shape == (480, 640, 3) and s.mask.shape == (480, 640)
        f = s.framing
        scales.append(f["scale"])
        assert 0.3 <= f["scale"] <= 1.0 and 0 <= f["x"] and f["x"] + f["width"] <= 640 and f["y"] + f["height"] <= 480
        for o in s.objects:  # every object inside the scene's box, the mask its polygon
            p = np.asarray(o["polygon"])
            assert f["x"] - 1 <= p[:, 0].min() and p[:, 0].max() <= f["x"] + f["width"] + 1
            assert f["y"] - 1 <= p[:, 1].min() and p[:, 1].max() <= f["y"] + f["height"] + 1
        if not s.empty:
            assert np.array_equal(s.mask, rasterize_polygons(s.polygons, 480, 640))
    assert min(scales) < 0.45 and max(scales) > 0.85
    framed = [sample("train", i).framing for i in range(200)]
    assert 0.35 < sum(f is not None for f in framed) / 200 < 0.65  # half of train is framed, at 160x120


def test_the_framed_share_of_train_can_be_set():
    assert sample("train", 7, framed=0.5).jpeg == sample("train", 7).jpeg  # the split's own share: the same sample
    assert all(sample("train", i, framed=1.0).framing for i in range(20))
    assert not any(sample("train", i, framed=0.0).framing for i in range(20))
    with pytest.raises(ValueError, match="render 2 split but received 0.5 for 'val'"):
        sample("val", 0, framed=0.5)
    with pytest.raises(ValueError, match="received 1.5"):
        sample("train", 0, framed=1.5)


def test_stripes_run_both_ways():
    mask = np.ones((24, 24), np.uint8)
    for stripe, step in ((1, (1, -1)), (-1, (1, 1))):
        img = np.full((24, 24, 3), 128, np.float32)
        paint_object(img, mask, "red", "striped", np.random.default_rng(0), stripe=stripe)
        marked = img[..., 1] > 60  # the marks are grey, the red body has little green
        # a band is constant along its own diagonal (x + 1, y + step) and not along the other one
        shift = np.roll(np.roll(marked, -step[0], axis=1), -step[1], axis=0)[3:-3, 3:-3]
        assert np.array_equal(shift, marked[3:-3, 3:-3]), stripe
        other = np.roll(np.roll(marked, -step[0], axis=1), step[1], axis=0)[3:-3, 3:-3]
        assert not np.array_equal(other, marked[3:-3, 3:-3]), stripe


def test_v2_wording_reads_contractions_synonyms_and_new_openings():
    texts = [t for s in many("train") for t in s.texts]
    joined = "\n".join(texts)
    for piece in ("isn't", "can't", "i'm", "crimson", "mug", "where's"):
        assert piece in joined, piece
    dev = [s.texts[0] for s in many("dev")]
    assert sum(any(w in tp.COLOUR_SYNONYMS.get(c, []) for c in COLOUR_NAMES for w in normalize_words(t)) for t in dev) > 10


def _relations(group_refs: float) -> list[tuple[dict, list]]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(300):
        objs = place(rng, plan_objects(rng), SCENE_W, SCENE_H)
        spec = objs and build_relation(rng, objs, objs[0], function_class=bool(rng.random() < 0.5), group_refs=group_refs)
        if spec:
            out.append((spec, objs))
    return out


def test_relations_name_references_by_group_only_when_asked():
    assert not any("group" in spec["ref"] for spec, _ in _relations(0.0))
    named = [(spec, objs) for spec, objs in _relations(1.0) if "group" in spec["ref"]]
    assert len(named) > 20
    for spec, objs in named:
        assert [o.group for o in objs].count(spec["ref"]["group"]) == 1  # the group names exactly the reference
        assert "function-reference" not in novelty(spec)  # the held-out composition is "same" with a group reference
    assert all(s.novel == [] for s in (sample("train", i, group_refs=0.5) for i in range(60)))
    with pytest.raises(ValueError, match="train split but received 0.5 for 'dev'"):
        sample("dev", 0, group_refs=0.5)


def test_composition_share_changes_only_the_asked_types_mix():
    assert composition_weights(0.15) == pytest.approx(QTYPE_WEIGHTS)  # the default share is the default mix
    w = composition_weights(0.3)
    assert sum(w) == pytest.approx(1.0) and w[-1] == 0.3
    assert [a / b for a, b in zip(w[:-1], QTYPE_WEIGHTS[:-1])] == pytest.approx([0.7 / 0.85] * 5)
    share = sum(sample("train", i, composition=0.6).qtype == "composition" for i in range(120)) / 120
    assert share > 0.4  # about 0.6 of the non-empty samples (0.15 at the default mix)
    assert all(s.novel == [] for s in (sample("train", i, composition=0.6) for i in range(40)))  # held-out compositions stay held out
    for split, share in (("dev", 0.3), ("train", 1.0), ("train", 0.0)):
        with pytest.raises(ValueError, match=f"share in \\(0, 1\\) of compositions for the train split but received {share!r} for '{split}'"):
            sample(split, 0, composition=share)
