"""`found` (issue #13): a goal with no known content word is "not there" whatever the score, in the
Python evaluation as in the SDK (sdk/model/result.ts notFoundReason; test/sdk-found-reason.test.ts)."""

from pathlib import Path

import pytest

from anchorseg.evaluate import BundleRunner, Record, _scored
from anchorseg.reasonseg import load_split
from anchorseg.synth import content_words, function_words, normalize_words, sample, train_vocab
from anchorseg.synth.lexicon import CATEGORIES, COLOUR_NAMES
from anchorseg.tokenizer import LOW_SCORE, NO_CONTENT_WORD, WordTokenizer, not_found_reason

MODELS = Path(__file__).resolve().parents[1]
BUNDLE = MODELS / "bundles" / "anchorseg-tiny"
DATA = MODELS / "data" / "reasonseg-synth"
# Everyday words outside the vocabulary (checked below), two or three to a goal, as the SDK test.
WORDS = [
    "umbrella",
    "telescope",
    "giraffe",
    "sandwich",
    "keyboard",
    "quickly",
    "yesterday",
    "wallet",
    "guitar",
    "pillow",
    "bicycle",
    "ocean",
    "tomorrow",
    "ladder",
    "spoon",
    "blanket",
    "zebra",
    "violin",
    "toaster",
    "helmet",
]
UNKNOWN_GOALS = [" ".join([WORDS[i % 20], WORDS[(i * 7 + 3) % 20]] + ([WORDS[(i * 11 + 5) % 20]] if i % 3 == 0 else [])) for i in range(100)]


def test_the_rule():
    assert not_found_reason(False, 0.99, 0.2) == NO_CONTENT_WORD
    assert not_found_reason(True, 0.2, 0.2) is None
    assert not_found_reason(True, 0.19, 0.2) == LOW_SCORE


def test_function_words_describe_nothing_and_every_query_keeps_a_content_word():
    fn = set(function_words())
    assert fn and fn <= set(train_vocab()) and not fn & content_words()
    lexicon = set(COLOUR_NAMES) | set(CATEGORIES) | {v[1] for v in CATEGORIES.values()}
    assert not fn & lexicon
    assert {"find", "the", "please", "show", "where", "thing"} <= fn
    tok = WordTokenizer.from_train_split(40)
    frozen = frozenset(fn)
    # the rule never blanks a real query: every committed and generated query names something
    texts = [t for split in ("val", "test", "dev") for _, _, ts, _, _ in load_split(DATA / split) for t in ts]
    texts += [t for i in range(300) for t in sample("train", i).texts]
    assert all(tok.has_content(t, frozen) for t in texts), [t for t in texts if not tok.has_content(t, frozen)][:5]
    assert not tok.has_content("please find the thing for me", frozen)


@pytest.fixture(scope="module")
def runner():
    return BundleRunner(BUNDLE, threads=1)


def test_all_unknown_goals_are_not_found_on_the_shipped_bundle(runner):
    image, _, _, _, _ = load_split(DATA / "test")[0]
    for goal in UNKNOWN_GOALS:
        assert all(runner.tok.read(w) is None for w in normalize_words(goal)), goal
    records = []
    for goal in UNKNOWN_GOALS:
        full, blank = (5, 10), (0, 10)  # only whether the answer is the empty mask matters here
        _, pool = runner.predict(image, goal)
        records.append(Record(full, blank, float(pool["score"].reshape(-1)[0]), False, "x", runner.has_content(goal)))
    threshold = runner.manifest["score"]["threshold"]
    not_found = [not_found_reason(r.has_content, r.score, threshold) is not None for r in records]
    assert sum(not_found) / len(not_found) >= 0.95
    assert all(not_found)
    # and the metrics count them as empty answers: every pair is the blank one
    assert _scored(records, threshold)["gIoU"] == pytest.approx(0.0)
    assert _scored([r._replace(has_content=True) for r in records], 0.0)["gIoU"] == pytest.approx(0.5, abs=1e-4)
