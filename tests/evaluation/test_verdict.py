"""A speed setting is judged by quality: the paired comparison's verdict flags only significant drops."""

import numpy as np
import pytest

from newsbrief.evaluation.markdown import render_markdown
from newsbrief.evaluation.report import build_report
from newsbrief.evaluation.topics import topic_report
from newsbrief.evaluation.verdict import verdict

from tests.evaluation.synthetic import predictions

ABOUT = {"model_path": "runs/a/model", "data": "news.jsonl", "split": "test", "baseline_model_path": "runs/a/model",
         "load": {"device": "cpu", "dtype": "float32", "int8": True, "compile": False},
         "baseline_load": {"device": "cpu", "dtype": "float32", "int8": False, "compile": False}}
REPEAT = 20  # 100 examples: a real drop is significant


def worse():
    """The same model gone wrong: a summary that says nothing and topic probabilities turned upside down."""
    p = predictions(["nothing to say"] * 5, repeat=REPEAT)
    p.probs = 1 - p.probs
    return p


def test_a_setting_with_the_same_outputs_is_acceptable_with_zero_differences():
    report = build_report(predictions(repeat=REPEAT), ABOUT, predictions(repeat=REPEAT), resamples=200)
    comparison = report["comparison"]
    assert comparison["verdict"]["acceptable"] and not comparison["verdict"]["significant_drops"]
    assert set(comparison["verdict"]["compared"]) >= {"rouge.rougeL", "topics.micro_f1", "topics.macro_f1",
                                                     "topics.samples_f1", "faithfulness.summaries_with_unsupported"}
    for section in ("rouge", "topics", "faithfulness"):
        for result in comparison[section].values():
            assert result["difference"] == result["low"] == result["high"] == 0


def test_a_broken_setting_is_flagged_by_each_figure_that_drops():
    report = build_report(worse(), ABOUT, predictions(repeat=REPEAT), resamples=200)
    comparison = report["comparison"]
    drops = comparison["verdict"]["significant_drops"]
    assert not comparison["verdict"]["acceptable"]
    assert {"rouge.rouge1", "rouge.rougeL", "topics.micro_f1", "topics.macro_f1", "topics.samples_f1"} <= set(drops)
    assert comparison["topics"]["micro_f1"]["high"] < 0 and comparison["topics"]["micro_f1"]["p_value"] < 0.05
    markdown = render_markdown(report)
    assert "**Verdict: not acceptable: significant drops (95%) in rouge.rouge1" in markdown
    assert "## Model against baseline model (runs/a/model, int8=False)" in markdown
    assert "Loaded: float32 on cpu, int8 linear layers." in markdown


def test_topic_differences_are_the_topic_reports_differences_with_an_interval():
    ours, theirs = worse(), predictions(repeat=REPEAT)
    topics = build_report(ours, ABOUT, theirs, resamples=200)["comparison"]["topics"]
    for key in ("micro_f1", "macro_f1", "samples_f1"):  # the metric's own figures, not a second formula's
        assert topics[key]["difference"] == pytest.approx(topic_report(ours)[key] - topic_report(theirs)[key])
        assert topics[key]["low"] <= topics[key]["difference"] <= topics[key]["high"]


@pytest.mark.parametrize("figure, low, high, drops", [
    ("rougeL", -0.02, -0.01, True), ("rougeL", -0.02, 0.01, False), ("rougeL", 0.01, 0.02, False),
    ("summaries_with_unsupported", 0.01, 0.02, True),  # more summaries that invent: worse
    ("summaries_with_unsupported", -0.02, -0.01, False),
    ("name_number_precision", -0.02, -0.01, True), ("name_number_precision", 0.01, 0.02, False)])
def test_a_drop_is_an_interval_wholly_on_the_worse_side_of_zero(figure, low, high, drops):
    section = "rouge" if figure.startswith("rouge") else "faithfulness"
    comparison = {section: {figure: {"difference": (low + high) / 2, "low": low, "high": high, "p_value": 0.01}}}
    assert verdict(comparison)["significant_drops"] == ([f"{section}.{figure}"] if drops else [])


def test_an_improvement_everywhere_is_acceptable():
    report = build_report(predictions(repeat=REPEAT), ABOUT, worse(), resamples=200)
    assert report["comparison"]["verdict"]["acceptable"]
    assert np.all([r["low"] > 0 for r in report["comparison"]["topics"].values()])
