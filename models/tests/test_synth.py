"""ReasonSeg-Synth generator: determinism, query types, empty share, lengths, split design."""
import hashlib
import re
import subprocess
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from anchorseg.synth import SCENE_H, SCENE_W, all_vocab, normalize_words, sample, train_vocab
from anchorseg.synth import templates as tp
from anchorseg.synth.lexicon import COLOUR_NAMES, HELDOUT_FUNCTION_COLOUR
from anchorseg.synth.queries import QTYPES

MODELS = Path(__file__).resolve().parents[1]
N = 600


@lru_cache(maxsize=None)
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


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_scenes(split):
    for s in many(split)[:300]:
        assert 4 <= len(s.objects) <= 6
        assert sum(o["is_target"] for o in s.objects) == (0 if s.empty else 1)
        assert s.empty == (s.mask.sum() == 0) and len(s.polygons) == (0 if s.empty else 1)
        for o in s.objects:
            p = np.asarray(o["polygon"])
            assert 15 <= (p.max(0) - p.min(0)).max() <= 42
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


def test_train_and_val_words_are_the_train_vocabulary():
    vocab = set(train_vocab())
    used = {w for split in ("train", "val") for s in many(split) for t in s.texts for w in normalize_words(t)}
    assert used <= vocab
    assert len(vocab - used) <= 5, sorted(vocab - used)   # only rare need sentences may go unseen here
    assert 150 <= len(vocab) <= 300
    assert train_vocab() == sorted(train_vocab())
    assert set(all_vocab()) >= vocab


def _wrapper_patterns(tag):
    pools = (tp.SHORT_WRAP, tp.LONG_WRAP, tp.NEED_SHORT, tp.NEED_LONG)
    return [re.compile(re.escape(s).replace(r"\{q\}", ".+").replace(r"\{need\}", ".+") + "$")
            for pool in pools for s, t in pool if t == tag]


def test_held_out_phrasings_never_in_train_and_always_in_test():
    held = _wrapper_patterns(tp.X)
    for s in many("train") + many("val"):
        assert s.novel == []
        for t in s.texts:
            assert not any(p.match(t) for p in held), t
    for s in many("test"):
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
    assert not any(_names_held_out_pair(s) for s in many("train") + many("val"))
    test = many("test")
    assert sum(_names_held_out_pair(s) for s in test) >= 0.05 * N
    novel = Counter(n for s in test for n in s.novel)
    assert novel["function-colour"] >= 0.15 * N
    assert novel["function-superlative"] > 0 and novel["function-reference"] > 0


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
