"""The committed paraphrase set (issue #13) and `evaluate --paraphrases`."""

import json
from pathlib import Path

import pytest

from anchorseg.evaluate import Record, _bootstrap_drop, evaluate_paraphrases
from anchorseg.synth import normalize_words, sample

MODELS = Path(__file__).resolve().parents[1]
DATA = MODELS / "data" / "reasonseg-synth"
SET = DATA / "paraphrases" / "test.jsonl"
TEST = DATA / "test"


@pytest.mark.parametrize("split", ["test", "dev"])
def test_each_paraphrase_rewords_its_sample_and_is_not_a_generator_text(split):
    rows = [json.loads(line) for line in (DATA / "paraphrases" / f"{split}.jsonl").read_text().splitlines()]
    assert 100 <= len(rows) <= 200 and len({r["sample"] for r in rows}) == len(rows)
    for r in rows:
        meta = json.loads((DATA / split / f"{r['sample']}.json").read_text())
        assert r["original"] == meta["text"][0]
        assert normalize_words(r["paraphrase"]) != normalize_words(r["original"])
        # not one of the wordings the generator gives this sample, nor a train wording of it
        assert r["paraphrase"] not in meta["text"]
    generated = {t for i in range(300) for t in sample("train", i).texts}
    assert not generated & {r["paraphrase"] for r in rows}


def test_evaluate_paraphrases_compares_the_same_images(tmp_path):
    rows = [json.loads(line) for line in SET.read_text().splitlines()][:3]
    same = tmp_path / "same.jsonl"  # a "paraphrase" identical to the original drops nothing
    same.write_text("".join(json.dumps({**r, "paraphrase": r["original"]}) + "\n" for r in rows))
    m = evaluate_paraphrases(MODELS / "bundles" / "anchorseg-tiny", same, TEST)
    assert m["n"] == 3 and m["drop"] == {"gIoU": 0.0, "cIoU": 0.0} and m["withUnknownWords"] == 0
    assert m["known"]["n"] == 3 and m["unknown"]["n"] == 0
    # identical pairs drop nothing under any resampling
    assert m["dropSpread"] == {"resamples": 1000, "sd": 0.0, "interval95": [0.0, 0.0]}
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(json.dumps({**rows[0], "original": "find the cup"}) + "\n")
    with pytest.raises(ValueError, match="Expected original"):
        evaluate_paraphrases(MODELS / "bundles" / "anchorseg-tiny", wrong, TEST)


def test_the_drop_spread_is_a_seeded_bootstrap_of_the_pairs():
    # 10 pairs: every original right (IoU 1), half the paraphrases wrong (IoU 0): the drop is 0.5 and
    # a resampling of n pairs moves it by about sqrt(0.25 / n) = 0.16
    def rec(i):
        return Record((i, 10), (0, 10), 1.0, False, None, True)

    original = [rec(10)] * 10
    paraphrase = [rec(10)] * 5 + [rec(0)] * 5
    spread = _bootstrap_drop(original, paraphrase, 0.2)
    lo, hi = spread["interval95"]
    assert 0.12 < spread["sd"] < 0.2 and lo < 0.5 < hi and spread["resamples"] == 1000
    assert _bootstrap_drop(original, paraphrase, 0.2) == spread  # the same figure on every run
