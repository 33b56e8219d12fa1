"""Score briefings against references: ROUGE on summaries, F1 on topics, per-label thresholds."""

from __future__ import annotations

import numpy as np

from newsbrief.labels import DEFAULT_THRESHOLD
from newsbrief.metrics import load_metric
from newsbrief.metrics.rouge import ROUGE_TYPES


def score_briefs(summaries: list[str], references: list[str | None], probs: np.ndarray, targets: np.ndarray,
                 masks: np.ndarray, thresholds: np.ndarray, label_names: list[str]) -> dict:
    """ROUGE over the examples that have a reference, topic F1 over the annotated (example, label) cells.

    Topic figures cover the labels this data annotates at least once and that occur in it, which for a
    test split equals the usual "labels seen in train and test" convention.
    """
    scores: dict = {}
    if any(references):
        per_example = rouge_per_example(summaries, references)
        scores.update({key: float(np.nanmean(values)) for key, values in per_example.items()})
    scores.update(score_topics(probs, targets, masks, thresholds, label_names))
    return scores


def rouge_per_example(summaries: list[str], references: list[str | None]) -> dict[str, np.ndarray]:
    """Each example's ROUGE F-measures, NaN where it has no reference; their means are score_briefs' ROUGE."""
    has_reference = np.array([bool(r) for r in references], dtype=bool)
    per_example = {key: np.full(len(references), np.nan) for key in ROUGE_TYPES}
    if has_reference.any():
        rouge = load_metric("rouge").compute(predictions=[s for s, r in zip(summaries, references) if r],
                                             references=[r for r in references if r], use_aggregator=False)
        for key, values in rouge.items():
            per_example[key][has_reference] = values
    return per_example


def evaluated_labels(targets: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Indices of the labels that occur, annotated, in this data: the columns every topic figure covers."""
    return np.flatnonzero((masks * targets).sum(axis=0) > 0)


def score_topics(probs: np.ndarray, targets: np.ndarray, masks: np.ndarray, thresholds: np.ndarray | float,
                 label_names: list[str]) -> dict:
    """topic_f1 (prefixed `topic_`) over `evaluated_labels`, predicting a label at or above its threshold."""
    columns = evaluated_labels(targets, masks)
    if not len(columns):
        return {}
    predicted = (probs >= thresholds).astype(int)[:, columns]
    topic = load_metric("topic_f1").compute(
        predictions=predicted.tolist(), references=targets[:, columns].astype(int).tolist(),
        label_mask=masks[:, columns].astype(int).tolist(), label_names=[label_names[i] for i in columns])
    return {f"topic_{key}": value for key, value in topic.items()}


def tune_thresholds(probs: np.ndarray, targets: np.ndarray, masks: np.ndarray, min_positives: int = 1,
                    candidates: np.ndarray = np.linspace(0.05, 0.95, 19), default: float = DEFAULT_THRESHOLD,
                    rounds: int = 2) -> np.ndarray:
    """Per-label thresholds that maximize micro-F1 over the annotated cells, by coordinate ascent.

    Starting from `default` everywhere, each label in turn takes the candidate that gives the best
    micro-F1 with the others held fixed (ties: the one nearest `default`). Micro-F1, not each label's
    own F1, is the objective: for a label the model is unsure of, its own F1 peaks at a low threshold
    that floods every other label's precision with false positives. A label with fewer than
    `min_positives` positive examples keeps `default`: a threshold fitted to a few examples follows
    their noise.
    """
    annotated = masks > 0
    truth = (targets > 0) & annotated
    labels = probs.shape[1]
    # Per candidate and label: true and false positives if that label used that candidate.
    tp = np.empty((len(candidates), labels))
    fp = np.empty((len(candidates), labels))
    for label in range(labels):
        predicted = (probs[:, label][None, :] >= candidates[:, None]) & annotated[:, label][None, :]
        tp[:, label] = (predicted & truth[:, label][None, :]).sum(axis=1)
        fp[:, label] = predicted.sum(axis=1) - tp[:, label]
    positives = truth.sum()
    order = np.argsort(np.abs(candidates - default), kind="stable")
    choice = np.full(labels, order[0])
    tunable = np.flatnonzero(truth.sum(axis=0) >= max(min_positives, 1))
    for _ in range(rounds):
        for label in tunable:
            other_tp = tp[choice, np.arange(labels)].sum() - tp[choice[label], label]
            other_fp = fp[choice, np.arange(labels)].sum() - fp[choice[label], label]
            all_tp = other_tp + tp[:, label]
            micro_f1 = 2 * all_tp / np.maximum(all_tp + other_fp + fp[:, label] + positives, 1)
            choice[label] = order[np.argmax(micro_f1[order])]
    thresholds = np.full(labels, default, dtype=np.float32)
    thresholds[tunable] = candidates[choice[tunable]]
    return thresholds
