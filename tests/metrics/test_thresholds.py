"""Threshold tuning aims at micro-F1: it may raise recall, but not by flooding other labels with false positives."""

import numpy as np

from newsbrief.metrics.scores import tune_thresholds


def _micro_f1(probs, targets, masks, thresholds):
    predicted = (probs >= thresholds) & (masks > 0)
    truth = (targets > 0) & (masks > 0)
    tp = (predicted & truth).sum()
    return 2 * tp / (predicted.sum() + truth.sum())


def test_an_unsure_label_does_not_flood_the_others_with_false_positives():
    rng = np.random.default_rng(0)
    n = 400
    # Label 0: confident and right. Label 1: the model barely separates it (scores 0.05-0.15),
    # so its own F1 peaks at the lowest threshold, with hundreds of false positives.
    targets = np.zeros((n, 2))
    targets[:200, 0] = 1
    targets[:20, 1] = 1
    probs = np.where(targets[:, :1] > 0, 0.9, 0.1).repeat(2, axis=1)
    probs[:, 1] = rng.uniform(0.05, 0.12, n) + 0.04 * targets[:, 1]
    masks = np.ones_like(targets)
    thresholds = tune_thresholds(probs, targets, masks)
    assert thresholds[1] >= 0.15  # label 1 left effectively off: predicting it costs micro-F1
    assert _micro_f1(probs, targets, masks, thresholds) >= _micro_f1(probs, targets, masks, 0.5)


def test_tuning_lowers_a_threshold_when_that_gains_true_positives_cheaply():
    targets = np.zeros((100, 1))
    targets[:30] = 1
    probs = np.where(targets > 0, 0.35, 0.02)  # positives score 0.35: missed at 0.5
    thresholds = tune_thresholds(probs, targets, np.ones_like(targets))
    assert 0.05 < thresholds[0] <= 0.35
    assert _micro_f1(probs, targets, np.ones_like(targets), thresholds) == 1.0


def test_rare_labels_and_masked_cells_keep_the_default():
    targets = np.zeros((50, 2))
    targets[:3, 0] = 1  # 3 positives: under min_positives
    targets[:30, 1] = 1
    probs = np.where(targets > 0, 0.3, 0.01)
    masks = np.ones_like(targets)
    masks[:, 1] = 0  # label 1 annotated nowhere
    thresholds = tune_thresholds(probs, targets, masks, min_positives=5)
    assert thresholds.tolist() == [0.5, 0.5]


def test_unannotated_cells_count_for_nothing_however_high_they_score():
    # Label 1 is annotated on the first half only, where 0.9 means yes and 0.1 means no: any threshold
    # in (0.1, 0.9] is perfect, so it keeps the default. The unannotated half (target 0, as the data
    # leaves it) scores 0.7: counted as negatives, those cells would push the threshold above 0.7.
    n = 200
    targets = np.zeros((n, 2))
    targets[::2, 0] = 1
    targets[: n // 2: 3, 1] = 1
    probs = np.where(targets > 0, 0.9, 0.1)
    probs[n // 2:, 1] = 0.7
    masks = np.ones_like(targets)
    masks[n // 2:, 1] = 0
    thresholds = tune_thresholds(probs, targets, masks)
    assert thresholds.tolist() == [0.5, 0.5]
    assert _micro_f1(probs, targets, masks, thresholds) == 1.0
