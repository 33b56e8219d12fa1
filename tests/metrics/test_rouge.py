"""The shipped ROUGE module: loads offline, and agrees with `rouge_score` and with hand counts."""

import socket

import pytest
from rouge_score import rouge_scorer

from newsbrief.metrics import load_metric

ROUGE_TYPES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]

# Real-looking pairs; the last two have one sentence per line, so ROUGE-Lsum differs from ROUGE-L.
PREDICTIONS = [
    "The central bank raised interest rates by a quarter point on Wednesday.",
    "Storms flooded roads across the coast and cut power to thousands of homes.",
    "The company reported record profits.\nIts shares rose ten percent in early trading.",
    "Officials said the bridge will reopen next month.\nRepairs cost more than planned.",
]
REFERENCES = [
    "On Wednesday the central bank lifted rates by 0.25 percentage points.",
    "Thousands of homes lost power as storms flooded coastal roads.",
    "Shares jumped ten percent after the company posted record quarterly profits.\nAnalysts had expected less.",
    "Repairs ran over budget.\nThe bridge is set to reopen next month, officials said.",
]


def direct_scores(predictions, references, use_stemmer=True):
    """Per-example F-measures from `rouge_score` itself (reference first, as its API wants)."""
    scorer = rouge_scorer.RougeScorer(ROUGE_TYPES, use_stemmer=use_stemmer)
    scores = [scorer.score(ref, pred) for pred, ref in zip(predictions, references)]
    return {key: [score[key].fmeasure for score in scores] for key in ROUGE_TYPES}


@pytest.fixture(scope="module")
def rouge():
    return load_metric("rouge", keep_in_memory=True)


def test_loads_without_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("load_metric tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert load_metric("rouge").name == "rouge"


def test_unknown_metric_names_the_known_ones():
    with pytest.raises(ValueError, match="rouge, topic_f1"):
        load_metric("bleu")


def test_hand_computed_scores(rouge):
    # Unigrams: 2 of 3 predicted ("the", "cat") are among the 4 reference ones: P=2/3, R=2/4, F=4/7.
    # Bigrams: 1 of 2 predicted ("the cat") among 3 reference ones: P=1/2, R=1/3, F=2/5.
    # The LCS is "the cat", so ROUGE-L equals ROUGE-1.
    result = rouge.compute(predictions=["the cat sat"], references=["the cat ran away"])
    assert result["rouge1"] == pytest.approx(4 / 7)
    assert result["rouge2"] == pytest.approx(2 / 5)
    assert result["rougeL"] == pytest.approx(4 / 7)
    assert result["rougeLsum"] == pytest.approx(4 / 7)


def test_mean_matches_rouge_score(rouge):
    expected = direct_scores(PREDICTIONS, REFERENCES)
    result = rouge.compute(predictions=PREDICTIONS, references=REFERENCES)
    assert set(result) == set(ROUGE_TYPES)
    for key in ROUGE_TYPES:
        assert isinstance(result[key], float)
        assert result[key] == pytest.approx(sum(expected[key]) / len(PREDICTIONS))


def test_per_example_scores_match_rouge_score(rouge):
    expected = direct_scores(PREDICTIONS, REFERENCES)
    result = rouge.compute(predictions=PREDICTIONS, references=REFERENCES, use_aggregator=False)
    for key in ROUGE_TYPES:
        assert result[key] == pytest.approx(expected[key])


def test_rouge_lsum_uses_newline_sentences(rouge):
    result = rouge.compute(predictions=PREDICTIONS[2:], references=REFERENCES[2:], use_aggregator=False)
    # Sentence-level LCS can match across the swapped sentence order, so Lsum beats plain L here.
    for lsum, l in zip(result["rougeLsum"], result["rougeL"]):
        assert lsum > l


def test_rouge_lsum_hand_computed(rouge):
    # Reference sentence 1 "the vote passed" shares its whole LCS (3 tokens) with the prediction;
    # sentence 2 "the vote was close" can only reuse tokens already counted, and each predicted token
    # counts once: 3 hits, P=3/4, R=3/7, F=6/11. (Swapping prediction and reference gives 8/11.)
    result = rouge.compute(predictions=["the close vote passed"], references=["the vote passed\nthe vote was close"])
    assert result["rougeLsum"] == pytest.approx(6 / 11)


def test_stemming_is_on_by_default_and_can_be_turned_off(rouge):
    prediction = ["Markets rallied as investors cheered the rate cuts"]
    reference = ["The market rallies when an investor cheers a rate cut"]
    stemmed = rouge.compute(predictions=prediction, references=reference)
    unstemmed = rouge.compute(predictions=prediction, references=reference, use_stemmer=False)
    assert stemmed["rouge1"] == pytest.approx(direct_scores(prediction, reference, use_stemmer=True)["rouge1"][0])
    assert unstemmed["rouge1"] == pytest.approx(direct_scores(prediction, reference, use_stemmer=False)["rouge1"][0])
    assert stemmed["rouge1"] > unstemmed["rouge1"]


def test_empty_input_is_an_error(rouge):
    with pytest.raises(ValueError, match="at least one"):
        rouge.compute(predictions=[], references=[])
