"""Topic figures of one model's predictions: F1 at its thresholds, a threshold sweep, calibration, PR curves.

Every figure covers the labels that occur in the evaluated split (`Predictions.labels`), over the
annotated cells only, as `score_briefs` does during training.
"""

from __future__ import annotations

import numpy as np

from newsbrief.evaluation.bootstrap import paired_bootstrap, paired_bootstrap_of
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


def paired_topic_f1(ours: Predictions, theirs: Predictions, seed: int, resamples: int) -> dict[str, dict]:
    """Micro, macro and samples F1 of one model minus another on the same examples, each by paired bootstrap.

    Micro and macro F1 are not means of per-example scores: each resample recomputes them from the
    resampled examples' true positives, false positives and false negatives (per label for macro)."""
    ours_cells, theirs_cells = cell_outcomes(ours), cell_outcomes(theirs)
    if not ours_cells.shape[2]:
        return {}
    labels = ours_cells.shape[2]

    def macro(means: np.ndarray) -> np.ndarray:
        return f1(*np.moveaxis(means.reshape(len(means), 3, labels), 1, 0)).mean(axis=1)

    annotated = (ours.masks[:, ours.labels] > 0).any(axis=1)  # an example without labels carries no evidence
    return {
        "micro_f1": paired_bootstrap_of(lambda means: f1(*means.T), ours_cells.sum(axis=2), theirs_cells.sum(axis=2),
                                        seed, resamples),
        "macro_f1": paired_bootstrap_of(macro, ours_cells.reshape(len(ours_cells), -1),
                                        theirs_cells.reshape(len(theirs_cells), -1), seed, resamples),
        "samples_f1": paired_bootstrap(f1(*ours_cells.sum(axis=2).T, zero_division=1.0)[annotated],
                                       f1(*theirs_cells.sum(axis=2).T, zero_division=1.0)[annotated], seed, resamples),
    }


def cell_outcomes(predictions: Predictions) -> np.ndarray:
    """(examples x 3 x labels) 0/1: true positive, false positive, false negative of each annotated cell of
    the labels the topic figures cover, predicted at the model's thresholds."""
    p = predictions
    predicted, truth = p.predicted[:, p.labels] > 0, p.targets[:, p.labels] > 0
    annotated = p.masks[:, p.labels] > 0
    return np.stack([predicted & truth, predicted & ~truth, ~predicted & truth], axis=1) * annotated[:, None, :]


def f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, zero_division: float = 0.0) -> np.ndarray:
    """F1 from counts (or their means), `zero_division` where there is nothing to count: topic_f1's rule."""
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.full(np.shape(denominator), zero_division),
                     where=denominator != 0)


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
