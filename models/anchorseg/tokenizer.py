"""The word tokenizer the bundle ships (`type: "word"` in docs/bundle-format.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .synth import normalize_words, train_vocab

PAD, UNK = "[PAD]", "[UNK]"
# Why a result answers "not there" (the SDK's `notFoundReason`, sdk/model/result.ts)
NO_CONTENT_WORD, LOW_SCORE = "no-content-word", "low-score"


def not_found_reason(has_content: bool, score: float, threshold: float) -> str | None:
    """The rule behind `found` (sdk/model/result.ts `notFoundReason`, the same rule): None = found. A goal
    with no known content word is not looked for whatever the score (issue #13: 0.3.0 answered
    found = true to goals made only of unknown words)."""
    if not has_content:
        return NO_CONTENT_WORD
    return None if score >= threshold else LOW_SCORE


# Inflectional endings tried, longest first, on a word outside the vocabulary (`inflections`).
SUFFIXES = ("ies", "est", "ing", "es", "ed", "er", "s")


def base_forms(word: str) -> list[str]:
    """The words `word` may be an inflection of, in the order they are tried ("writing": writ,
    write; "chopping": chopp, choppe, chop; "berries": berry): each ending's stem (3 letters at
    least), the stem + e (unless it ends in e), the stem less a doubled consonant, and y for -ies. sdk/model/tokenizer-word.ts
    `baseForms` is the same rule (test/sdk-tokenizer-goals.test.ts compares them)."""
    out: list[str] = []
    for suffix in SUFFIXES:
        if not word.endswith(suffix) or (suffix == "s" and word.endswith("ss")) or len(word) - len(suffix) < 3:
            continue
        stem = word[: -len(suffix)]
        doubled = stem[-1] == stem[-2] and stem[-1] not in "aeiou"
        for form in [stem + "y"] if suffix == "ies" else [stem, *([] if stem.endswith("e") else [stem + "e"]), *([stem[:-1]] if doubled else [])]:
            if form not in out:
                out.append(form)
    return out


class WordTokenizer:
    def __init__(self, words: list[str], max_tokens: int, inflections: bool = False):
        """`inflections`: a word outside the vocabulary is read as the first of its base_forms in
        it ("writing" as "write"; the manifest's `tokenizer.inflections`, docs/bundle-format.md)."""
        self.words = words
        self.ids = {w: i for i, w in enumerate(words)}
        self.max_tokens = max_tokens
        self.inflections = inflections

    @classmethod
    def from_train_split(cls, max_tokens: int) -> WordTokenizer:
        return cls([PAD, UNK, *train_vocab()], max_tokens)

    @classmethod
    def load(cls, path: Path, max_tokens: int, inflections: bool = False) -> WordTokenizer:
        return cls(path.read_text().splitlines(), max_tokens, inflections)

    def save(self, path: Path) -> None:
        path.write_text("\n".join(self.words) + "\n")

    def read(self, word: str) -> str | None:
        """The vocabulary word the model reads for `word` (itself, or with `inflections` a base
        form), None for an unknown word."""
        if word in self.ids:
            return word
        return next((f for f in base_forms(word) if f in self.ids), None) if self.inflections else None

    def has_content(self, text: str, function_words: frozenset[str]) -> bool:
        """Some word of the goal (within max_tokens), as read, is in the vocabulary and not a function word."""
        return any((r := self.read(w)) is not None and r not in function_words for w in normalize_words(text)[: self.max_tokens])

    def encode(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """-> (ids int64 [max_tokens], mask float32 [max_tokens]); over-long goals are cut here, refused by the SDK."""
        words = normalize_words(text)[: self.max_tokens]
        ids = np.zeros(self.max_tokens, dtype=np.int64)
        mask = np.zeros(self.max_tokens, dtype=np.float32)
        for i, w in enumerate(words):
            r = self.read(w)
            ids[i] = 1 if r is None else self.ids[r]
            mask[i] = 1.0
        return ids, mask
