"""Score briefings against references: ROUGE on summaries, F1 on topics, per-label thresholds."""

from __future__ import annotations

import numpy as np

from newsbrief.metrics import load_metric


def score_briefs(summaries: list[str], references: list[str | None], probs: np.ndarray, targets: np.ndarray,
                 masks: np.ndarray, thresholds: np.ndarray, label_names: list[str]) -> dict:
    """ROUGE over the examples that have a reference, topic F1 over the annotated (example, label) cells.

    Topic figures cover the labels this data annotates at least once and that occur in it, which for a
    test split equals the usual "labels seen in train and test" convention.
    """
    scores: dict = {}
    pairs = [(s, r) for s, r in zip(summaries, references) if r]
    if pairs:
        rouge = load_metric("rouge").compute(predictions=[s for s, _ in pairs], references=[r for _, r in pairs])
        scores.update({key: float(value) for key, value in rouge.items()})
    columns = np.flatnonzero((masks * targets).sum(axis=0) > 0)
    if len(columns):
        predicted = (probs >= thresholds).astype(int)[:, columns]
        topic = load_metric("topic_f1").compute(
            predictions=predicted.tolist(), references=targets[:, columns].astype(int).tolist(),
            label_mask=masks[:, columns].astype(int).tolist(), label_names=[label_names[i] for i in columns])
        scores.update({f"topic_{key}": value for key, value in topic.items()})
    return scores


def tune_thresholds(probs: np.ndarray, targets: np.ndarray, masks: np.ndarray,
                    candidates: np.ndarray = np.linspace(0.05, 0.95, 19), default: float = 0.5) -> np.ndarray:
    """Per label, the candidate threshold with the best F1 on annotated cells (ties: the one nearest 0.5).

    A label with no positive example in the data keeps `default`: nothing supports any other value.
    """
    thresholds = np.full(probs.shape[1], default, dtype=np.float32)
    order = np.argsort(np.abs(candidates - default), kind="stable")
    for label in range(probs.shape[1]):
        annotated = masks[:, label] > 0
        truth = targets[annotated, label] > 0
        if not truth.any():
            continue
        predicted = probs[annotated, label][:, None] >= candidates[None, :]
        tp = (predicted & truth[:, None]).sum(axis=0)
        f1 = 2 * tp / (predicted.sum(axis=0) + truth.sum())
        thresholds[label] = candidates[order[np.argmax(f1[order])]]
    return thresholds
