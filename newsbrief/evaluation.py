"""Evaluate a model directory on one split of a data file: headline/summary ROUGE and topic F1."""

from __future__ import annotations

import time

import numpy as np

from newsbrief.config import SourceConfig
from newsbrief.data import read_split
from newsbrief.infer.engine import NewsBrief
from newsbrief.metrics import load_metric
from newsbrief.metrics.scores import score_briefs

BASELINE_WORDS = 10


def evaluate_model(briefer: NewsBrief, source: SourceConfig, split: str) -> dict:
    """Metrics as a JSON-ready dict, with the first-10-words ROUGE baseline on the same references.

    The topic figures cover the model's labels that occur in this split: the labels a corpus
    annotates, and for a test split the usual "seen in train and test" set.
    """
    dataset = read_split(source, split)
    if dataset is None:
        raise ValueError(f"{source.path}: no {split!r} split")
    started = time.perf_counter()
    summaries, probs = briefer.summarize_and_score(dataset["text"])
    seconds = time.perf_counter() - started
    index = briefer.labels.index
    targets = np.zeros_like(probs)
    for row, topics in enumerate(dataset["topics"]):
        for topic in topics:
            if topic in index:
                targets[row, index[topic]] = 1.0
    masks = np.ones_like(targets) * (targets.sum(axis=0, keepdims=True) > 0)
    report = {"data": source.path, "split": split, "examples": len(dataset),
              "articles_per_second": len(dataset) / seconds}
    report.update(score_briefs(summaries, dataset["summary"], probs, targets, masks, briefer.thresholds,
                               briefer.labels.names))
    report["baseline_first_words"] = first_words_baseline(dataset["text"], dataset["summary"])
    report["examples_shown"] = [{"id": i, "summary": s, "reference": r}
                                for i, s, r in list(zip(dataset["id"], summaries, dataset["summary"]))[:5]]
    return report


def first_words_baseline(texts: list[str], references: list[str | None]) -> dict:
    pairs = [(" ".join(t.split()[:BASELINE_WORDS]), r) for t, r in zip(texts, references) if r]
    if not pairs:
        return {}
    scores = load_metric("rouge").compute(predictions=[p for p, _ in pairs], references=[r for _, r in pairs])
    return {"words": BASELINE_WORDS, **{k: float(v) for k, v in scores.items()}}
