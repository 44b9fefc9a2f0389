"""The committed paraphrase set (issue #13) and `evaluate --paraphrases`."""

import json
from pathlib import Path

import pytest

from anchorseg.evaluate import evaluate_paraphrases
from anchorseg.synth import normalize_words, sample

MODELS = Path(__file__).resolve().parents[1]
SET = MODELS / "data" / "reasonseg-synth" / "paraphrases" / "test.jsonl"
TEST = MODELS / "data" / "reasonseg-synth" / "test"


def test_each_paraphrase_rewords_its_test_sample_and_is_not_a_generator_text():
    rows = [json.loads(line) for line in SET.read_text().splitlines()]
    assert 100 <= len(rows) <= 200 and len({r["sample"] for r in rows}) == len(rows)
    for r in rows:
        meta = json.loads((TEST / f"{r['sample']}.json").read_text())
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
