"""The report dict and its Markdown, from hand-made predictions."""

import json

from newsbrief.evaluation.markdown import render_markdown
from newsbrief.evaluation.report import build_report
from newsbrief.metrics.scores import rouge_per_example

from tests.evaluation.synthetic import predictions

ABOUT = {"model_path": "runs/a/model", "data": "news.jsonl", "split": "test"}


def test_the_report_holds_every_section_and_is_json():
    report = build_report(predictions(), ABOUT, seed=3, resamples=200)
    json.dumps(report)
    assert report["examples"] == 5 and report["with_reference"] == 4 and report["seed"] == 3
    model = report["model"]
    assert set(model["rouge"]) == {"rouge1", "rouge2", "rougeL", "rougeLsum"}
    assert model["rouge"]["rouge1"]["low"] <= model["rouge"]["rouge1"]["mean"] <= model["rouge"]["rouge1"]["high"]
    assert set(report["rouge_baselines"]) == {"lead_1", "lead_3", "first_10_words"}
    topics = model["topics"]
    assert set(topics["per_label"]) == {"acq", "crude", "earn"}  # grain never occurs in the split
    assert {"micro_f1", "macro_f1", "samples_f1", "threshold_sweep", "calibration"} <= topics.keys()
    assert topics["per_label"]["acq"]["threshold"] == 0.5
    assert model["truncation"] == {"articles_truncated": 1, "summaries_at_max_new_tokens": 1, "max_new_tokens": 12}
    assert model["lengths"]["summary_tokens"]["max"] == 12
    assert [e["id"] for e in model["examples"]["best"]][0] == "a"
    assert "comparison" not in report


def test_the_report_is_reproducible_with_its_seed():
    first, second = (build_report(predictions(), ABOUT, seed=3, resamples=200) for _ in range(2))
    assert first == second


def test_a_baseline_model_adds_a_paired_comparison():
    other = predictions(["buy", "oil", "net", "acme", "nothing"])
    report = build_report(predictions(), {**ABOUT, "baseline_model_path": "runs/b/model"}, other, resamples=200)
    comparison = report["comparison"]
    assert comparison["rouge"]["rouge1"]["difference"] > 0
    assert {"difference", "low", "high", "p_value"} == comparison["rouge"]["rougeL"].keys()
    assert comparison["topics"]["micro_f1"]["difference"] == 0  # same topic scores
    assert len(comparison["disagreements"]) == 3 and "baseline_summary" in comparison["disagreements"][0]


def test_markdown_has_a_table_per_section():
    other = predictions(["buy", "oil", "net", "acme", "nothing"])
    report = build_report(predictions(), {**ABOUT, "baseline_model_path": "runs/b/model"}, other, resamples=200)
    markdown = render_markdown(report)
    for heading in ("# Evaluation of runs/a/model", "## Summaries: ROUGE F1", "## Model against baseline model",
                    "### Where their ROUGE-L differs most", "## Topics at the model's thresholds", "### Per label",
                    "### One threshold for every label", "### Calibration", "## Lengths",
                    "## Best and worst examples"):
        assert heading in markdown
    assert "| lead 3 |" in markdown and "| baseline model |" in markdown and "| first 10 words |" in markdown
    assert "| acq |" in markdown


def test_markdown_names_every_row_and_the_baseline_settings_when_the_baseline_is_the_model_itself():
    about = {**ABOUT, "split": None, "baseline_model_path": "runs/a/model",
             "baseline_generation": {"fact_guard": False}}
    markdown = render_markdown(build_report(predictions(), about, predictions(), resamples=200))
    assert "news.jsonl, every row: 5 examples" in markdown
    assert "## Model against baseline model (runs/a/model, fact_guard=False)" in markdown


def test_data_without_reference_summaries_still_reports_topics_and_lengths():
    unreferenced = predictions()
    unreferenced.split.references = [None] * 5
    unreferenced.rouge = rouge_per_example(unreferenced.summaries, unreferenced.split.references)
    report = build_report(unreferenced, ABOUT, resamples=200)
    assert report["model"]["rouge"] == {} and "rouge_baselines" not in report
    assert report["model"]["topics"]["micro_f1"] > 0
    markdown = render_markdown(report)
    assert "## Summaries" not in markdown and "## Topics at the model's thresholds" in markdown
