"""Generator v2 wording: the v1 query pieces plus the train-only extras of templates.MORE /
MORE_WORDS, then synonyms, contractions and typos. Used by the v2 splits only (sample.SPLITS):
val and test keep the v1 wording byte for byte."""

from __future__ import annotations

import re

from . import templates as tp
from .lexicon import CATEGORIES
from .scene import pick

SYNONYM_RATE = 0.3  # per replaceable word
CONTRACTION_RATE = 0.5  # per contractable phrase
TYPO_RATE = 0.1  # per query: one word of 4+ letters mistyped


def _extras() -> dict[int, list]:
    """id(v1 table entry) -> its v2 extras: Wording looks pieces up by the very list it is given."""
    out: dict[int, list] = {}
    for name, extra in tp.MORE.items():
        table, _, key = name.partition(".")
        base = getattr(tp, table)
        out[id(base[key] if key else base)] = extra
    for table, by_key in tp.MORE_WORDS.items():
        base = getattr(tp, table)
        for key, words in by_key.items():
            out[id(base[key])] = words
    return out


EXTRAS = _extras()


def _synonyms() -> dict[str, list[str]]:
    out = {w: list(alts) for w, alts in tp.COLOUR_SYNONYMS.items()}
    for cat, pairs in tp.CATEGORY_SYNONYMS.items():
        out[cat] = [s for s, _ in pairs]
        out[CATEGORIES[cat][1]] = [p for _, p in pairs]
    out.update({w: list(alts) for w, alts in tp.WORD_SYNONYMS.items()})
    return out


SYNONYMS = _synonyms()
_SYNONYM_RE = re.compile(r"\b(" + "|".join(sorted(SYNONYMS, key=len, reverse=True)) + r")\b")
_CONTRACTION_RE = re.compile(r"\b(" + "|".join(sorted(tp.CONTRACTIONS, key=len, reverse=True)) + r")\b")
_TYPO_WORD = re.compile(r"\b[a-z]{4,}\b")


def typo(word: str, rng) -> str:
    """One slip of the keyboard: two letters swapped, one dropped or one doubled."""
    i = int(rng.integers(len(word) - 1))
    kind = int(rng.integers(3))
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def restyle(text: str, rng) -> str:
    """`text` with some colour, object, head and texture words swapped for synonyms, some
    phrases contracted ("that isn't", "can't", "i'm") and sometimes one typo."""
    text = _SYNONYM_RE.sub(lambda m: pick(rng, SYNONYMS[m[0]]) if rng.random() < SYNONYM_RATE else m[0], text)
    text = _CONTRACTION_RE.sub(lambda m: pick(rng, tp.CONTRACTIONS[m[0]]) if rng.random() < CONTRACTION_RATE else m[0], text)
    if rng.random() < TYPO_RATE:
        words = list(_TYPO_WORD.finditer(text))
        if words:
            m = words[int(rng.integers(len(words)))]
            text = text[: m.start()] + typo(m[0], rng) + text[m.end() :]
    return text
