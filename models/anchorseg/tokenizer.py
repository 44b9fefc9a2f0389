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


class WordTokenizer:
    def __init__(self, words: list[str], max_tokens: int):
        self.words = words
        self.ids = {w: i for i, w in enumerate(words)}
        self.max_tokens = max_tokens

    @classmethod
    def from_train_split(cls, max_tokens: int) -> WordTokenizer:
        return cls([PAD, UNK, *train_vocab()], max_tokens)

    @classmethod
    def load(cls, path: Path, max_tokens: int) -> WordTokenizer:
        return cls(path.read_text().splitlines(), max_tokens)

    def save(self, path: Path) -> None:
        path.write_text("\n".join(self.words) + "\n")

    def has_content(self, text: str, function_words: frozenset[str]) -> bool:
        """Some word of the goal (within max_tokens) is in the vocabulary and not a function word."""
        return any(w in self.ids and w not in function_words for w in normalize_words(text)[: self.max_tokens])

    def encode(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """-> (ids int64 [max_tokens], mask float32 [max_tokens]); over-long goals are cut here, refused by the SDK."""
        words = normalize_words(text)[: self.max_tokens]
        ids = np.zeros(self.max_tokens, dtype=np.int64)
        mask = np.zeros(self.max_tokens, dtype=np.float32)
        for i, w in enumerate(words):
            ids[i] = self.ids.get(w, 1)
            mask[i] = 1.0
        return ids, mask
