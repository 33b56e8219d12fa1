"""Calibration error, precision-recall curves and the threshold sweep on synthetic topic scores."""

import numpy as np
import pytest

from newsbrief.evaluation.predictions import split_topic_targets
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
    targets, masks = split_topic_targets([["a"], ["a", "c"], ["unknown"]], ["a", "b", "c"])
    assert targets.tolist() == [[1, 0, 0], [1, 0, 1], [0, 0, 0]]
    assert masks.tolist() == [[1, 0, 1]] * 3


def test_the_sweep_scores_each_global_threshold():
    from newsbrief.evaluation.topics import threshold_sweep

    sweep = threshold_sweep(predictions())
    assert [s["threshold"] for s in sweep][:3] == [0.05, 0.1, 0.15] and len(sweep) == 19
    assert sweep[-1]["recall"] <= sweep[0]["recall"]
    assert all(0 <= s["f1"] <= 1 for s in sweep)


def test_single_label_data_reports_how_often_the_top_label_is_right():
    from newsbrief.evaluation.topics import topic_report

    p = predictions()
    expected = np.mean(p.probs[:, p.labels].argmax(axis=1) == p.targets[:, p.labels].argmax(axis=1))
    assert topic_report(p)["accuracy"] == pytest.approx(expected)

    p.targets[0, :] = 1.0  # one article with several labels: accuracy no longer applies
    assert "accuracy" not in topic_report(p)


def test_labels_the_model_never_learned_count_as_misses(tiny_model_dir):
    from newsbrief.evaluation.predictions import Split, predict_split
    from newsbrief.evaluation.topics import topic_report
    from newsbrief.infer.engine import NewsBrief

    briefer = NewsBrief.from_pretrained(tiny_model_dir, device="cpu")
    known = briefer.labels.names[0]
    split = Split(["a", "b"], ["Stocks fell.", "The team won."], [None, None], [[known], ["never-seen"]])
    report = topic_report(predict_split(briefer, split))
    assert report["labels_unknown_to_model"] == ["never-seen"]
    assert report["per_label"]["never-seen"]["recall"] == 0.0


def test_a_file_the_model_was_trained_on_is_read_with_its_label_names():
    from newsbrief.config import SourceConfig
    from newsbrief.evaluation import in_model_label_names

    trained_on = [SourceConfig(path="../data/reuters.jsonl", label_map={"acq": "mergers & acquisitions"})]
    assert in_model_label_names(SourceConfig(path="/elsewhere/reuters.jsonl"), trained_on).label_map == {
        "acq": "mergers & acquisitions"}
    assert in_model_label_names(SourceConfig(path="other.jsonl"), trained_on).label_map == {}
