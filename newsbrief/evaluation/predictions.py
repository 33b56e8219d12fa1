"""Run a model over one split once and keep what every report figure and plot is computed from."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from newsbrief.config import SourceConfig
from newsbrief.data import read_split
from newsbrief.data_errors import DataError
from newsbrief.infer.article_text import EMPTY, is_blank
from newsbrief.infer.engine import NewsBrief
from newsbrief.infer.inputs import generation_settings
from newsbrief.metrics.scores import evaluated_labels, rouge_per_example


@dataclass
class Split:
    """The examples of one split of one data file, in the canonical schema."""

    ids: list[str]
    texts: list[str]
    references: list[str | None]
    topics: list[list[str]]

    @classmethod
    def read(cls, source: SourceConfig, split: str | None) -> "Split":
        """The rows of `split`, or every row of the file when it is None."""
        dataset = read_split(source, split)
        if dataset is None:
            raise DataError(f"{source.path}: " + (f"no {split!r} split" if split is not None else "no rows"))
        return cls(list(dataset["id"]), list(dataset["text"]), list(dataset["summary"]), list(dataset["topics"]))

    def subset(self, indices: list[int]) -> "Split":
        return Split(*([values[i] for i in indices] for values in (self.ids, self.texts, self.references, self.topics)))


@dataclass
class Predictions:
    """One model's outputs on a split, with per-example scores, in the split's order."""

    split: Split
    summaries: list[str]
    rouge: dict[str, np.ndarray]
    """rouge1, rouge2, rougeL, rougeLsum F-measure of each example; NaN where it has no reference."""
    probs: np.ndarray
    """(examples x labels) topic probabilities."""
    targets: np.ndarray
    masks: np.ndarray
    """1 where a cell counts: the labels that occur in this split, for every example (see `split_topic_targets`)."""
    label_names: list[str]
    """The model's labels, then any label of the split that the model lacks (never predicted)."""
    thresholds: np.ndarray
    truncated: np.ndarray
    """Per example: part of the article fell outside the text the model read."""
    guard_fallbacks: np.ndarray
    """Per example: the fact guard blocked its summary, which is unguarded (`Brief.guard_fallback`)."""
    summary_tokens: np.ndarray
    max_new_tokens: int
    seconds: float

    @property
    def labels(self) -> np.ndarray:
        """Indices of the labels every topic figure covers: those that occur in this split."""
        return evaluated_labels(self.targets, self.masks)

    @property
    def predicted(self) -> np.ndarray:
        """0/1 topic decisions at the model's stored per-label thresholds."""
        return (self.probs >= self.thresholds).astype(int)


def predict_split(briefer: NewsBrief, split: Split, progress: bool = False, **generation) -> Predictions:
    """`progress` shows a bar over the articles while the model briefs them; `generation` overrides the
    model's generation settings."""
    blank = next((id_ for id_, text in zip(split.ids, split.texts) if is_blank(text)), None)
    if blank is not None:  # the engine's rule for briefs: an error, never a brief of nothing
        raise ValueError(f"article {blank}: text {EMPTY}")
    # The settings of this call: a summary at its max_new_tokens was cut by that cap, not the model's.
    settings = generation_settings(briefer.generation, generation)
    started = time.perf_counter()
    reading = briefer.read(split.texts, progress=progress, **generation)
    seconds = time.perf_counter() - started
    summaries, probs = reading.summaries, reading.probs.astype(np.float32)
    # Labels of the split that the model never learned still count: each of their positives is a miss.
    known = set(briefer.labels.names)
    unknown = sorted({t for topics in split.topics for t in topics} - known)
    label_names = briefer.labels.names + unknown
    probs = np.hstack([probs, np.zeros((len(probs), len(unknown)), dtype=probs.dtype)])
    thresholds = np.concatenate([briefer.thresholds, np.full(len(unknown), np.inf, dtype=np.float32)])
    targets, masks = split_topic_targets(split.topics, label_names)
    rouge = rouge_per_example(summaries, split.references)
    return Predictions(split, summaries, rouge, probs, targets, masks, label_names, thresholds, reading.truncated,
                       reading.guard_fallback, reading.summary_tokens,
                       settings.max_new_tokens, seconds)


def split_topic_targets(topics: list[list[str]], label_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Multi-hot targets over the model's labels, and masks that count the labels occurring in the split.

    A data file does not say which labels it annotates; the labels it uses are taken as annotated for
    every example, which for a test split is the usual "labels seen in train and test" convention.
    """
    index = {name: i for i, name in enumerate(label_names)}
    targets = np.zeros((len(topics), len(label_names)), dtype=np.float32)
    for row, example_topics in enumerate(topics):
        for topic in example_topics:
            if topic in index:
                targets[row, index[topic]] = 1.0
    masks = np.ones_like(targets) * (targets.sum(axis=0, keepdims=True) > 0)
    return targets, masks
