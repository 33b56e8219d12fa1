"""Predictions made by hand, so that report tests need no model."""

import numpy as np

from newsbrief.evaluation.predictions import Predictions, Split, split_topic_targets
from newsbrief.metrics.scores import rouge_per_example

LABELS = ["acq", "crude", "earn", "grain"]


def predictions(summaries: list[str] | None = None, repeat: int = 1) -> Predictions:
    """Five hand-made examples (`summaries` one per example), each `repeat` times: enough examples for a
    paired test to tell a real difference."""
    split = Split(
        ids=["a", "b", "c", "d", "e"],
        texts=["Acme said it would buy Initech. The deal is worth 5 mln dlrs.\nRegulators must agree.",
               "Oil rose to 25 dlrs a barrel. OPEC meets next week.",
               "Acme reported net income of 21 cts a share.",
               "Initech agreed to be bought by Acme.",
               "No reference for this one."],
        references=["ACME TO BUY INITECH", "OIL RISES TO 25 DLRS", "ACME QTR NET 21 CTS", "INITECH AGREES TO SALE",
                    None],
        topics=[["acq"], ["crude"], ["earn"], ["acq"], ["earn"]],
    )
    summaries = summaries or ["acme to buy initech", "oil prices rise", "acme net income", "acme buys", "nothing"]
    split = split.subset(list(range(5)) * repeat)
    summaries = summaries * repeat
    targets, masks = split_topic_targets(split.topics, LABELS)
    probs = np.clip(targets * 0.7 + np.random.default_rng(0).uniform(0, 0.4, targets.shape), 0, 1)
    thresholds = np.full(len(LABELS), 0.5, dtype=np.float32)
    truncated = np.tile([True, False, False, False, False], repeat)
    return Predictions(split, summaries, rouge_per_example(summaries, split.references), probs, targets, masks,
                       LABELS, thresholds, truncated, guard_fallbacks=np.tile([False, True, False, False, False], repeat),
                       summary_tokens=np.tile([4, 3, 12, 2, 1], repeat), max_new_tokens=12,
                       seconds=0.5)
