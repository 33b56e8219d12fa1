"""Topic figures of one model's predictions: F1 at its thresholds, a threshold sweep, calibration, PR curves.

Every figure covers the labels that occur in the evaluated split (`Predictions.labels`), over the
annotated cells only, as `score_briefs` does during training.
"""

from __future__ import annotations

import numpy as np

from newsbrief.evaluation.predictions import Predictions
from newsbrief.metrics.scores import score_topics

SWEEP = np.round(np.linspace(0.05, 0.95, 19), 2)
CALIBRATION_BINS = 10


def topic_report(predictions: Predictions) -> dict:
    """F1 figures at the stored thresholds (each label with its threshold), the sweep and calibration."""
    p = predictions
    scores = score_topics(p.probs, p.targets, p.masks, p.thresholds, p.label_names)
    if not scores:
        return {}
    report = {key.removeprefix("topic_"): value for key, value in scores.items()}
    for label in p.labels:
        report["per_label"][p.label_names[label]]["threshold"] = float(p.thresholds[label])
    report["threshold_sweep"] = threshold_sweep(p)
    annotated = p.masks[:, p.labels] > 0
    report["calibration"] = calibration(p.probs[:, p.labels][annotated], p.targets[:, p.labels][annotated])
    report["labels_unknown_to_model"] = [p.label_names[i] for i in p.labels if np.isinf(p.thresholds[i])]
    accuracy = top1_accuracy(p)
    if accuracy is not None:
        report["accuracy"] = accuracy
    return report


def top1_accuracy(predictions: Predictions) -> float | None:
    """For single-label data (BBC, AG News): how often the most probable of the split's labels is the
    article's own. None when some example has no label or several."""
    truth = predictions.targets[:, predictions.labels]
    if not (truth.sum(axis=1) == 1).all():
        return None
    return float((predictions.probs[:, predictions.labels].argmax(axis=1) == truth.argmax(axis=1)).mean())


def threshold_sweep(predictions: Predictions, thresholds: np.ndarray = SWEEP) -> list[dict]:
    """Micro precision, recall and F1 with one global threshold for every label, at each of `thresholds`."""
    p = predictions
    sweep = []
    for threshold in thresholds:
        scores = score_topics(p.probs, p.targets, p.masks, float(threshold), p.label_names)
        sweep.append({"threshold": float(threshold), **{key: scores[f"topic_micro_{key}"]
                                                         for key in ("precision", "recall", "f1")}})
    return sweep


def calibration(probs: np.ndarray, truth: np.ndarray, bins: int = CALIBRATION_BINS) -> dict:
    """Expected calibration error of probabilities against 0/1 outcomes, with its reliability bins.

    Each annotated (example, label) cell is one forecast. ECE is the count-weighted mean gap between
    a bin's mean probability and its share of positives, over equal-width bins on [0, 1].
    """
    probs = np.asarray(probs, dtype=np.float64).ravel()
    truth = np.asarray(truth, dtype=np.float64).ravel()
    which = np.minimum((probs * bins).astype(int), bins - 1)  # a probability of 1.0 joins the top bin
    count = np.bincount(which, minlength=bins)
    filled = count > 0
    confidence = np.bincount(which, weights=probs, minlength=bins)[filled] / count[filled]
    frequency = np.bincount(which, weights=truth, minlength=bins)[filled] / count[filled]
    ece = float(np.sum(count[filled] * np.abs(confidence - frequency)) / max(len(probs), 1))
    edges = np.linspace(0, 1, bins + 1)
    return {"ece": ece, "bins": [
        {"low": float(edges[b]), "high": float(edges[b + 1]), "count": int(count[b]),
         "mean_probability": float(c), "positive_rate": float(f)}
        for b, c, f in zip(np.flatnonzero(filled), confidence, frequency)]}


def precision_recall_curve(probs: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall of "predict when the probability is at least t", at every distinct t, from high to low."""
    order = np.argsort(-np.asarray(probs), kind="stable")
    probs, truth = np.asarray(probs)[order], np.asarray(truth)[order] > 0
    last_of_each = np.r_[np.flatnonzero(np.diff(probs)), len(probs) - 1]  # ties are predicted together
    true_positives = np.cumsum(truth)[last_of_each]
    precision = true_positives / (last_of_each + 1)
    recall = true_positives / max(truth.sum(), 1)
    return precision, recall
