"""The word tokenizer the bundle ships (`type: "word"` in docs/bundle-format.md)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .synth import normalize_words, train_vocab

PAD, UNK = "[PAD]", "[UNK]"


class WordTokenizer:
    def __init__(self, words: list[str], max_tokens: int):
        self.words = words
        self.ids = {w: i for i, w in enumerate(words)}
        self.max_tokens = max_tokens

    @classmethod
    def from_train_split(cls, max_tokens: int) -> "WordTokenizer":
        return cls([PAD, UNK, *train_vocab()], max_tokens)

    @classmethod
    def load(cls, path: Path, max_tokens: int) -> "WordTokenizer":
        return cls(path.read_text().splitlines(), max_tokens)

    def save(self, path: Path) -> None:
        path.write_text("\n".join(self.words) + "\n")

    def encode(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """-> (ids int64 [max_tokens], mask float32 [max_tokens]); over-long goals are cut here, refused by the SDK."""
        words = normalize_words(text)[: self.max_tokens]
        ids = np.zeros(self.max_tokens, dtype=np.int64)
        mask = np.zeros(self.max_tokens, dtype=np.float32)
        for i, w in enumerate(words):
            ids[i] = self.ids.get(w, 1)
            mask[i] = 1.0
        return ids, mask
