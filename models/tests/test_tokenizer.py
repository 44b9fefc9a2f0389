"""The word tokenizer's inflection fallback (`tokenizer.inflections`, docs/bundle-format.md); the SDK's
side is test/sdk-tokenizer-goals.test.ts, which also compares both implementations' base forms."""

import pytest

from anchorseg.tokenizer import PAD, UNK, WordTokenizer, base_forms

VOCAB = [PAD, UNK, "find", "the", "write", "chop", "little", "colour", "berry", "cup", "pour", "glass"]


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("writing", ["writ", "write"]),
        ("chopping", ["chopp", "choppe", "chop"]),
        ("berries", ["berry", "berri", "berrie"]),
        ("littler", ["littl", "little"]),
        ("coloured", ["colour", "coloure"]),
        ("cups", ["cup", "cupe"]),
        ("glasses", ["glass", "glasse", "glas"]),
        ("glass", []),  # -ss is not a plural
        ("bus", []),  # a stem needs 3 letters
        ("cup", []),
    ],
)
def test_base_forms(word, forms):
    assert base_forms(word) == forms


def test_inflections_read_unknown_words_as_vocabulary_words_only_when_asked():
    on, off = WordTokenizer(VOCAB, 8, inflections=True), WordTokenizer(VOCAB, 8)
    assert [on.read(w) for w in ("writing", "cups", "glasses", "cup", "pouring", "umbrella")] == ["write", "cup", "glass", "cup", "pour", None]
    assert [off.read(w) for w in ("writing", "cup")] == [None, "cup"]
    ids, mask = on.encode("Writing cups, umbrellas!")
    assert ids.tolist() == [4, 9, 1, 0, 0, 0, 0, 0] and mask.tolist() == [1, 1, 1, 0, 0, 0, 0, 0]
    assert off.encode("writing cups")[0].tolist()[:2] == [1, 1]


def test_an_inflected_function_word_is_no_content():
    tok = WordTokenizer(VOCAB, 8, inflections=True)
    fn = frozenset({"find", "the"})
    assert not tok.has_content("finding the umbrellas", fn)
    assert tok.has_content("finding the writing things", fn)
    assert not WordTokenizer(VOCAB, 8).has_content("writing", fn)
