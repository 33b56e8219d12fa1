"""score_briefs' ROUGE is the mean of the per-example scores the evaluation report resamples."""

import numpy as np
import pytest

from newsbrief.metrics import load_metric
from newsbrief.metrics.scores import rouge_per_example, score_briefs


def test_per_example_rouge_is_nan_without_a_reference_and_averages_to_score_briefs():
    summaries, references = ["the cat sat", "nothing", "a dog barked"], ["the cat ran away", None, "a dog barked"]
    per_example = rouge_per_example(summaries, references)
    assert np.isnan(per_example["rouge1"][1]) and per_example["rouge1"][2] == 1.0
    no_topics = np.zeros((3, 1))
    scores = score_briefs(summaries, references, no_topics, no_topics, no_topics, np.array([0.5]), ["a"])
    aggregate = load_metric("rouge").compute(predictions=["the cat sat", "a dog barked"],
                                             references=["the cat ran away", "a dog barked"])
    assert scores == pytest.approx(aggregate)
