"""Calibration error, precision-recall curves and the threshold sweep on synthetic topic scores."""

import numpy as np
import pytest

from newsbrief.evaluation.predictions import topic_arrays
from newsbrief.evaluation.topics import calibration, precision_recall_curve

from tests.evaluation.synthetic import predictions


def test_calibrated_probabilities_have_a_small_error_and_overconfident_ones_a_large_one():
    rng = np.random.default_rng(0)
    probs = rng.uniform(0, 1, 20000)
    truth = rng.uniform(0, 1, 20000) < probs  # positive exactly as often as predicted
    assert calibration(probs, truth)["ece"] < 0.02
    overconfident = np.where(rng.uniform(0, 1, 20000) < 0.5, 0.99, 0.01)  # sure, but right half the time
    assert calibration(overconfident, rng.uniform(0, 1, 20000) < 0.5)["ece"] > 0.4


def test_calibration_bins_count_every_cell_once_with_one_in_the_top_bin():
    result = calibration(np.array([0.0, 0.05, 0.5, 1.0]), np.array([0, 0, 1, 1]))
    assert [b["count"] for b in result["bins"]] == [2, 1, 1]
    assert result["bins"][-1]["low"] == pytest.approx(0.9)
    assert result["ece"] == pytest.approx((0.025 * 2 + 0.5 + 0.0) / 4)


def test_precision_recall_curve_predicts_ties_together():
    precision, recall = precision_recall_curve(np.array([0.9, 0.8, 0.8, 0.1]), np.array([1, 0, 1, 0]))
    assert precision.tolist() == [1.0, 2 / 3, 0.5]
    assert recall.tolist() == [0.5, 1.0, 1.0]


def test_topic_arrays_count_only_the_labels_the_split_uses():
    targets, masks = topic_arrays([["a"], ["a", "c"], ["unknown"]], ["a", "b", "c"])
    assert targets.tolist() == [[1, 0, 0], [1, 0, 1], [0, 0, 0]]
    assert masks.tolist() == [[1, 0, 1]] * 3


def test_the_sweep_scores_each_global_threshold():
    from newsbrief.evaluation.topics import threshold_sweep

    sweep = threshold_sweep(predictions())
    assert [s["threshold"] for s in sweep][:3] == [0.05, 0.1, 0.15] and len(sweep) == 19
    assert sweep[-1]["recall"] <= sweep[0]["recall"]
    assert all(0 <= s["f1"] <= 1 for s in sweep)
