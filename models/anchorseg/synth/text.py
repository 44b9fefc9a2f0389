"""Tokenizer normalisation shared by the data generator, training and Python evaluation.

bundle-format.md (tokenizer type "word"): Unicode NFKC, lowercase, every character that is
not a-z or 0-9 becomes a space, split on whitespace. The SDK implements the same rule.
"""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]")


def normalize_words(text: str) -> list[str]:
    """Words of `text` after the bundle tokenizer's normalisation."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).lower()).split()
