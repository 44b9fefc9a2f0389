"""ReasonSeg-Synth: procedurally generated reasoning-segmentation data (see models/DATA.md)."""

from .motion import sequence
from .sample import SCENE_H, SCENE_W, Sample, all_vocab, content_words, function_words, sample, train_vocab
from .text import normalize_words

__all__ = ["SCENE_H", "SCENE_W", "Sample", "all_vocab", "content_words", "function_words", "normalize_words", "sample", "sequence", "train_vocab"]
