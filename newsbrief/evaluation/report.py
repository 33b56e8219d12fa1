"""The evaluation report as a JSON-ready dict: one section per model, the baselines, the paired comparison."""

from __future__ import annotations

import numpy as np

from newsbrief.evaluation.baselines import baseline_summaries
from newsbrief.evaluation.bootstrap import RESAMPLES, bootstrap_ci, paired_bootstrap
from newsbrief.evaluation.faithfulness import faithfulness_section, paired_faithfulness
from newsbrief.evaluation.predictions import Predictions
from newsbrief.evaluation.topics import paired_topic_f1, topic_report
from newsbrief.evaluation.verdict import verdict
from newsbrief.metrics.rouge import ROUGE_TYPES
from newsbrief.metrics.scores import rouge_per_example

EXAMPLES_SHOWN = 3
RANKED_BY = "rougeL"
"""The per-example score that picks the best, worst and most disputed examples."""
TOPIC_HEADLINES = ("micro_f1", "macro_f1", "samples_f1")


def build_report(predictions: Predictions, about: dict, baseline: Predictions | None = None, seed: int = 0,
                 resamples: int = RESAMPLES) -> dict:
    """`about` (model, data, split ...) heads the report; every interval and test draws from `seed`."""
    split = predictions.split
    report = {**about, "examples": len(split.ids), "with_reference": int(sum(bool(r) for r in split.references)),
              "seed": seed, "bootstrap_resamples": resamples,
              "model": model_section(predictions, seed, resamples)}
    if report["with_reference"]:
        report["rouge_baselines"] = {
            name: rouge_intervals(rouge_per_example(summaries, split.references), seed, resamples)
            for name, summaries in baseline_summaries(split.texts).items()}
    if baseline is not None:
        report["baseline_model"] = model_section(baseline, seed, resamples)
        report["comparison"] = {
            "rouge": paired_rouge(predictions, baseline, seed, resamples),
            "faithfulness": paired_faithfulness((predictions.summaries, split.texts), (baseline.summaries, split.texts),
                                                seed, resamples),
            "topics": topic_differences(report["model"]["topics"], report["baseline_model"]["topics"],
                                        paired_topic_f1(predictions, baseline, seed, resamples)),
            "disagreements": largest_disagreements(predictions, baseline),
        }
        report["comparison"]["verdict"] = verdict(report["comparison"])
    return report


def model_section(predictions: Predictions, seed: int, resamples: int) -> dict:
    p = predictions
    has_reference = not np.isnan(p.rouge[RANKED_BY]).all()
    return {
        "articles_per_second": len(p.summaries) / p.seconds,  # timing: the one figure a rerun changes
        "rouge": rouge_intervals(p.rouge, seed, resamples) if has_reference else {},
        "topics": topic_report(p),
        "faithfulness": faithfulness_section(p.split.ids, p.summaries, p.split.texts, p.split.references, seed,
                                             resamples, int(p.guard_fallbacks.sum())),
        "lengths": {
            "article_words": length_stats([len(t.split()) for t in p.split.texts]),
            "summary_words": length_stats([len(s.split()) for s in p.summaries]),
            "reference_words": length_stats([len(r.split()) for r in p.split.references if r]),
            "summary_tokens": length_stats(p.summary_tokens),
        },
        "truncation": {
            "articles_truncated": int(p.truncated.sum()),
            "summaries_at_max_new_tokens": int((p.summary_tokens >= p.max_new_tokens).sum()),
            "max_new_tokens": p.max_new_tokens,
        },
        "examples": best_and_worst(p) if has_reference else {},
    }


def rouge_intervals(per_example: dict[str, np.ndarray], seed: int, resamples: int) -> dict:
    return {key: bootstrap_ci(per_example[key], seed, resamples) for key in ROUGE_TYPES}


def length_stats(lengths) -> dict:
    lengths = np.asarray(lengths, dtype=np.float64)
    if not len(lengths):
        return {}
    return {"mean": float(lengths.mean()), "median": float(np.median(lengths)),
            "p95": float(np.percentile(lengths, 95)), "max": int(lengths.max())}


def paired_rouge(predictions: Predictions, baseline: Predictions, seed: int, resamples: int) -> dict:
    """Model minus baseline model on the same examples: paired bootstrap per ROUGE type."""
    if np.isnan(predictions.rouge[RANKED_BY]).all():
        return {}
    return {key: paired_bootstrap(predictions.rouge[key], baseline.rouge[key], seed, resamples) for key in ROUGE_TYPES}


def topic_differences(ours: dict, theirs: dict, paired: dict[str, dict]) -> dict:
    """Topic headline figures of both models side by side (topic_report dicts) with model minus baseline
    (`paired`: paired_topic_f1)."""
    return {key: {"model": ours[key], "baseline_model": theirs[key], **paired[key]}
            for key in TOPIC_HEADLINES if key in ours and key in theirs}


def best_and_worst(predictions: Predictions, k: int = EXAMPLES_SHOWN) -> dict[str, list[dict]]:
    """The k highest and k lowest scoring examples with a reference (ties: input order)."""
    scores = predictions.rouge[RANKED_BY]
    scored = np.flatnonzero(~np.isnan(scores))
    ranked = scored[np.argsort(-scores[scored], kind="stable")]
    return {"best": [_example(predictions, i) for i in ranked[:k]],
            "worst": [_example(predictions, i) for i in ranked[::-1][:k]]}


def largest_disagreements(predictions: Predictions, baseline: Predictions, k: int = EXAMPLES_SHOWN) -> list[dict]:
    difference = predictions.rouge[RANKED_BY] - baseline.rouge[RANKED_BY]
    scored = np.flatnonzero(~np.isnan(difference))
    ranked = scored[np.argsort(-np.abs(difference[scored]), kind="stable")]
    return [{**_example(predictions, i), "baseline_summary": baseline.summaries[i],
             f"baseline_{RANKED_BY}": float(baseline.rouge[RANKED_BY][i])} for i in ranked[:k]]


def _example(predictions: Predictions, index: int) -> dict:
    split = predictions.split
    return {"id": split.ids[index], RANKED_BY: float(predictions.rouge[RANKED_BY][index]),
            "summary": predictions.summaries[index], "reference": split.references[index]}
