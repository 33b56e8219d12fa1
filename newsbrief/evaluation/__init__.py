"""`newsbrief evaluate` and the evaluation notebooks: run models over a split once, then report.

`evaluate` returns the per-example predictions (for plots) with the report (for tables), so the
command line and the notebooks show the same figures from the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from newsbrief.config import SourceConfig
from newsbrief.evaluation.bootstrap import RESAMPLES
from newsbrief.evaluation.markdown import render_markdown
from newsbrief.evaluation.predictions import Predictions, Split, predict_split
from newsbrief.evaluation.report import build_report
from newsbrief.evaluation.sampling import describe, stratified_sample
from newsbrief.infer.engine import NewsBrief, load_briefer
from newsbrief.infer.loading import LOAD_SETTINGS
from newsbrief.models.model_dir import read_run_config

__all__ = ["Evaluation", "evaluate", "render_markdown"]


@dataclass
class Evaluation:
    predictions: Predictions
    baseline: Predictions | None
    """The baseline model's predictions on the same examples, when one was given."""
    report: dict


def evaluate(model_dir: str | Path | None, source: SourceConfig, split: str | None = "test",
             baseline_model_dir: str | Path | None = None, seed: int = 0, resamples: int = RESAMPLES,
             progress: bool = False, long_articles: str | None = None,
             generation: dict | None = None, trust_remote_code: bool = False,
             baseline_generation: dict | None = None, load: dict | None = None,
             baseline_load: dict | None = None) -> Evaluation:
    """Brief one split of `source` (None: every row of the file) with each model (None: the embedded
    model), score it, and build the seeded report. `source.max_examples` draws that many examples at
    random with `seed`, stratified by topic where the split has topics (evaluation/sampling.py); the
    report says how (`sample`).

    `progress` shows a bar while each model briefs the split; `long_articles` overrides how both
    models read articles longer than their window (inference.long_articles), `generation` how both
    write summaries (generation settings, e.g. {"fact_guard": False}), `load` how both are loaded
    (LOAD_SETTINGS, as `load_briefer` takes them: {"dtype": "bf16"}); `trust_remote_code` lets the model
    directories run their own Python. A baseline is briefed when `baseline_model_dir`, `baseline_generation`
    or `baseline_load` is given; without `baseline_model_dir` it is the model itself. `baseline_generation`
    and `baseline_load` override `generation` and `load` for the baseline alone, so that one model is
    compared with itself under other settings: the fact guard off, or int8 against fp32 (the model takes
    the setting under test, the baseline the reference, and the report's verdict says whether any figure
    drops significantly)."""
    generation, load = generation or {}, checked_load(load or {})
    baseline_load = checked_load(baseline_load or {})
    opening = {"long_articles": long_articles, "trust_remote_code": trust_remote_code}
    briefer = load_briefer(model_dir, **opening, **load)
    trained_on = read_run_config(briefer.source).data.sources
    examples = Split.read(in_model_label_names(replace(source, max_examples=None), trained_on), split)
    stratified = bool(source.topics_column) and any(examples.topics)
    sample = describe(source.max_examples, len(examples.ids), seed, stratified)
    if source.max_examples is not None:
        examples = examples.subset(stratified_sample(examples.topics if stratified else [[]] * len(examples.ids),
                                                     source.max_examples, seed))
    predictions = predict_split(briefer, examples, progress, **generation)
    baseline = None
    about = {"model_path": str(briefer.source), "data": source.path, "split": split, "sample": sample,
             "long_articles": briefer.inference.long_articles,
             "fact_guard": generation.get("fact_guard", briefer.generation.fact_guard),
             "load": loaded_as(briefer, load)}
    if baseline_model_dir is not None or baseline_generation is not None or baseline_load:
        baseline_dir = model_dir if baseline_model_dir is None else baseline_model_dir
        baseline_settings = {**load, **baseline_load}
        baseline_briefer = load_briefer(baseline_dir, **opening, **baseline_settings)
        baseline = predict_split(baseline_briefer, examples, progress,
                                 **{**generation, **(baseline_generation or {})})
        about["baseline_model_path"] = str(baseline_dir or baseline_briefer.source)
        about["baseline_load"] = loaded_as(baseline_briefer, baseline_settings)
        if baseline_generation:
            about["baseline_generation"] = baseline_generation
    return Evaluation(predictions, baseline, build_report(predictions, about, baseline, seed, resamples))


def checked_load(load: dict) -> dict:
    unknown = sorted(set(load) - set(LOAD_SETTINGS))
    if unknown:
        raise ValueError(f"load setting {unknown[0]!r}: unknown; expected one of {', '.join(LOAD_SETTINGS)}")
    return load


def loaded_as(briefer: NewsBrief, load: dict) -> dict:
    """The settings the report states: the device and dtype the weights ended up on (auto resolved), int8, compile."""
    return {"device": str(briefer.device), "dtype": str(next(briefer.model.parameters()).dtype).removeprefix("torch."),
            "int8": bool(load.get("int8")), "compile": bool(load.get("compile"))}


def in_model_label_names(source: SourceConfig, trained_on: list[SourceConfig]) -> SourceConfig:
    """A file the model was trained on (same file name among `trained_on`, the model's training sources) is
    read with that source's label_map, so that its labels match the model's (Reuters' `acq` is the default
    model's `mergers & acquisitions`)."""
    if source.label_map:
        return source
    for trained in trained_on:
        if Path(trained.path).name == Path(source.path).name:
            return replace(source, label_map=trained.label_map)
    return source
