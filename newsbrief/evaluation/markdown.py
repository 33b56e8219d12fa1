"""The evaluation report as Markdown: one table per section, for report.md and the notebooks."""

from __future__ import annotations

from newsbrief.evaluation.verdict import verdict_line
from newsbrief.metrics.rouge import ROUGE_TYPES

ROUGE_NAMES = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "rougeLsum": "ROUGE-Lsum"}


def render_markdown(report: dict) -> str:
    head = (f"# Evaluation of {report['model_path']}\n\n{report['data']}, "
            + (f"split {report['split']!r}" if report["split"] is not None else "every row") + ": "
            f"{report['examples']} examples"
            + (f" ({report['sample']})" if "sample" in report else "")
            + f", {report['with_reference']} with a reference summary. "
            f"Intervals: 95% bootstrap over examples, {report['bootstrap_resamples']} resamples, "
            f"seed {report['seed']}."
            + (f" Long articles: {report['long_articles']} (inference.long_articles)." if "long_articles" in report
               else "")
            + (f" Fact guard: {'on' if report['fact_guard'] else 'off'} (generation.fact_guard)."
               if "fact_guard" in report else "")
            + (f" Loaded: {load_text(report['load'])}." if "load" in report else ""))
    sections = [head, rouge_table(report), faithfulness_table(report), comparison_table(report),
                disagreements_table(report.get("comparison", {}).get("disagreements")), topic_table(report),
                per_label_table(report["model"]["topics"]), sweep_table(report["model"]["topics"]),
                calibration_table(report["model"]["topics"]), length_table(report["model"]),
                examples_table(report["model"]["examples"])]
    return "\n\n".join(section for section in sections if section) + "\n"


def load_text(load: dict) -> str:
    return (f"{load['dtype']} on {load['device']}" + (", int8 linear layers" if load["int8"] else "")
            + (", compiled" if load["compile"] else ""))


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def rouge_table(report: dict) -> str:
    systems = {"model": report["model"]["rouge"]}
    if "baseline_model" in report:
        systems["baseline model"] = report["baseline_model"]["rouge"]
    systems.update({name.replace("_", " "): scores for name, scores in report.get("rouge_baselines", {}).items()})
    rows = [[name] + [_interval(scores[key]) for key in ROUGE_TYPES] for name, scores in systems.items() if scores]
    if not rows:
        return ""
    return "## Summaries: ROUGE F1, mean [95% CI]\n\n" + table(["system"] + list(ROUGE_NAMES.values()), rows)


FAITHFULNESS_NAMES = {"name_number_precision": "names and numbers the article supports (precision-source)",
                      "summaries_with_unsupported": "summaries with an unsupported name or number",
                      "summaries_with_defects": "summaries with a readability defect"}


def faithfulness_table(report: dict) -> str:
    section = report["model"].get("faithfulness")
    if not section:
        return ""
    rows = [[FAITHFULNESS_NAMES[key], _interval(section[key])] for key in FAITHFULNESS_NAMES if key in section]
    rows += [[f"defect: {kind.replace('_', ' ')}", count] for kind, count in section["defects_by_kind"].items()]
    if "guard_fallbacks" in section:
        rows.append(["summaries the guard could not complete (unguarded, flagged)", section["guard_fallbacks"]])
    novel = section["novel_ngrams"]
    rows += [[f"novel {n}-grams, {who}s", _interval(novel[who][n])] for n in novel["summary"] for who in novel
             if n in novel[who]]
    examples = [[e["id"], e["summary"], ", ".join(e["unsupported"])] for e in section["unsupported_examples"]]
    examples += [[e["id"], e["summary"], ", ".join(e["defects"])] for e in section["defect_examples"]]
    return ("## Faithfulness and readability, mean [95% CI]\n\n"
            "Rules: newsbrief/faithfulness.py (names, numbers) and newsbrief/readability.py (defects).\n\n"
            + table(["figure", "value"], rows)
            + ("\n\n" + table(["id", "summary", "unsupported or defects"], examples) if examples else ""))


def comparison_table(report: dict) -> str:
    comparison = report.get("comparison")
    if not comparison:
        return ""
    rows = [[ROUGE_NAMES[key], report["model"]["rouge"][key]["mean"], report["baseline_model"]["rouge"][key]["mean"],
             _difference(result), result["p_value"]] for key, result in comparison["rouge"].items()]
    rows += [[FAITHFULNESS_NAMES[key], report["model"]["faithfulness"][key]["mean"],
              report["baseline_model"]["faithfulness"][key]["mean"], _difference(result), result["p_value"]]
             for key, result in comparison.get("faithfulness", {}).items()]
    rows += [[f"topic {key.replace('_', ' ')}", result["model"], result["baseline_model"], _difference(result),
              result["p_value"]] for key, result in comparison["topics"].items()]
    settings = "".join(f", {key}={value}" for key, value in {**changed_load(report),
                                                              **report.get("baseline_generation", {})}.items())
    return (f"## Model against baseline model ({report['baseline_model_path']}{settings})\n\n"
            + f"**{verdict_line(comparison['verdict'])}**\n\n"
            "Differences are model minus baseline; p-values from a paired bootstrap (two-sided).\n\n"
            + table(["metric", "model", "baseline model", "difference [95% CI]", "p-value"], rows))


def changed_load(report: dict) -> dict:
    """The baseline's load settings (device, dtype, int8, compile) that differ from the model's."""
    ours, theirs = report.get("load", {}), report.get("baseline_load", {})
    return {key: value for key, value in theirs.items() if ours.get(key) != value}


def disagreements_table(disagreements: list[dict]) -> str:
    if not disagreements:
        return ""
    rows = [[e["id"], e["rougeL"], e["baseline_rougeL"], e["summary"], e["baseline_summary"], e["reference"]]
            for e in disagreements]
    return ("### Where their ROUGE-L differs most\n\n"
            + table(["id", "model", "baseline model", "model summary", "baseline summary", "reference"], rows))


def topic_table(report: dict) -> str:
    topics = report["model"]["topics"]
    if not topics:
        return ""
    header = ["micro F1", "micro precision", "micro recall", "macro F1", "samples F1", "ECE"]
    row = [topics["micro_f1"], topics["micro_precision"], topics["micro_recall"], topics["macro_f1"],
           topics["samples_f1"], topics["calibration"]["ece"]]
    if "accuracy" in topics:
        header.append("accuracy (top label)")
        row.append(topics["accuracy"])
    unknown = topics["labels_unknown_to_model"]
    missing = f" {len(unknown)} of them the model never learned ({', '.join(unknown)}): always missed." if unknown else ""
    return (f"## Topics at the model's thresholds\n\nOver the {len(topics['per_label'])} labels that occur in "
            f"this split.{missing}\n\n" + table(header, [row]))


def per_label_table(topics: dict) -> str:
    if not topics:
        return ""
    rows = [[name, s["precision"], s["recall"], s["f1"], s["support"], s["threshold"]]
            for name, s in sorted(topics["per_label"].items(), key=lambda item: -item[1]["support"])]
    return "### Per label\n\n" + table(["label", "precision", "recall", "F1", "support", "threshold"], rows)


def sweep_table(topics: dict) -> str:
    if not topics:
        return ""
    rows = [[f"{s['threshold']:.2f}", s["precision"], s["recall"], s["f1"]] for s in topics["threshold_sweep"]]
    return ("### One threshold for every label\n\n"
            + table(["threshold", "micro precision", "micro recall", "micro F1"], rows))


def calibration_table(topics: dict) -> str:
    if not topics:
        return ""
    rows = [[f"{b['low']:.1f}-{b['high']:.1f}", b["count"], b["mean_probability"], b["positive_rate"]]
            for b in topics["calibration"]["bins"]]
    return (f"### Calibration of topic probabilities: ECE {topics['calibration']['ece']:.4f}\n\n"
            + table(["probability", "cells", "mean probability", "share positive"], rows))


def length_table(section: dict) -> str:
    rows = [[name.replace("_", " "), f"{s['mean']:.1f}", f"{s['median']:.1f}", f"{s['p95']:.1f}", s["max"]]
            for name, s in section["lengths"].items() if s]
    truncation = section["truncation"]
    return ("## Lengths\n\n" + table(["length", "mean", "median", "p95", "max"], rows)
            + f"\n\nArticles truncated to the model's input: {truncation['articles_truncated']}. "
            f"Summaries that reached max_new_tokens ({truncation['max_new_tokens']}): "
            f"{truncation['summaries_at_max_new_tokens']}.")


def examples_table(examples: dict[str, list[dict]]) -> str:
    if not examples:
        return ""
    rows = [[kind, e["id"], e["rougeL"], e["summary"], e["reference"]] for kind in ("best", "worst")
            for e in examples[kind]]
    return "## Best and worst examples by ROUGE-L\n\n" + table(["", "id", "ROUGE-L", "summary", "reference"], rows)


def _difference(paired: dict) -> str:
    return f"{paired['difference']:+.4f} [{paired['low']:+.4f}, {paired['high']:+.4f}]"


def _interval(scores: dict) -> str:
    return f"{scores['mean']:.4f} [{scores['low']:.4f}, {scores['high']:.4f}]"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    # A summary may hold pipes and newlines, which would end its table cell or row.
    return str(value).replace("|", "\\|").replace("\n", " ")
