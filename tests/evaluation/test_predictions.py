"""Predictions keep the settings the split was briefed with, a call's generation overrides included."""

from newsbrief.evaluation.predictions import Split, predict_split
from newsbrief.infer.engine import NewsBrief


def test_summaries_at_the_cap_are_counted_against_the_cap_the_call_used(tiny_model_dir):
    briefer = NewsBrief.from_pretrained(tiny_model_dir, device="cpu")
    split = Split(["a", "b"], ["Stocks fell 3 percent on Tuesday.", "The home team won the final 2-1."],
                  [None, None], [[], []])
    capped = predict_split(briefer, split, max_new_tokens=2)
    assert capped.max_new_tokens == 2 != briefer.generation.max_new_tokens
    assert (capped.summary_tokens <= 2).all()
