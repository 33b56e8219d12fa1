"""Headline ROUGE-1 of models on one split, apart for the references that the fact guard admits whole and for
the others, which it blocks: mostly a Reuters ticker, an earnings quarter or a figure that the article's first
window lacks. No faithful summary can match those, so ROUGE there rewards invention: this tells a model that
writes better summaries from one that writes what the references invent.

    python scripts/rouge_by_reference_faithfulness.py ../shared/data/reuters21578_modapte.jsonl MODEL [MODEL ...]

MODEL is a model directory, or `default` for the embedded model. Each runs in fp32 on the CPU, as the model
card's figures do, with its own fact-guard setting and, where that is on, without the guard too. References
are judged by the rule of `data.summary_targets: faithful`, under the first model's tokenizer and data config:
the guard's test of a training target, as if the model had written it from the window training reads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from newsbrief.cli import EXIT_CODES
from newsbrief.config import SourceConfig
from newsbrief.evaluation.predictions import Split, predict_split
from newsbrief.faithful_targets import faithful_targets_of_texts
from newsbrief.infer.engine import NewsBrief, load_briefer
from newsbrief.infer.loading import DEFAULT_MODEL
from newsbrief.models.model_dir import read_run_config


def admitted_whole(model_dir: Path, tokenizer, split: Split) -> np.ndarray:
    """Per example: the guard lets its reference through unchanged (not cut, not dropped)."""
    data = read_run_config(model_dir).data
    references = [reference or "" for reference in split.references]
    targets = faithful_targets_of_texts(tokenizer, split.texts, references, data)
    whole = tokenizer(text_target=references, max_length=data.max_target_length, truncation=True)["input_ids"]
    return np.array([bool(target) and target == ids for target, ids in zip(targets, whole)])


def report(name: str, briefer: NewsBrief, split: Split, faithful: np.ndarray) -> None:
    for guard in [True, False] if briefer.generation.fact_guard else [False]:
        rouge1 = predict_split(briefer, split, progress=True, fact_guard=guard).rouge["rouge1"] * 100
        print(f"{name}, fact guard {'on' if guard else 'off'}: ROUGE-1 {np.nanmean(rouge1):.2f} on all; "
              f"{np.nanmean(rouge1[faithful]):.2f} where the reference is admitted whole, "
              f"{np.nanmean(rouge1[~faithful]):.2f} on the others", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", help="a data file in the shared schema (headlines in `title`)")
    parser.add_argument("models", nargs="+", help="model directories, or `default` for the embedded model")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    models = [DEFAULT_MODEL if model == "default" else Path(model) for model in args.models]
    split = Split.read(SourceConfig(path=args.data, summary_column="title"), args.split)
    briefers = [load_briefer(model, device="cpu", dtype="fp32") for model in models]
    faithful = admitted_whole(models[0], briefers[0].tokenizer, split)
    print(f"{args.split} references the fact guard admits whole: {faithful.sum()} of {len(faithful)}")
    for model, briefer in zip(models, briefers):
        report(str(model), briefer, split, faithful)


if __name__ == "__main__":
    try:
        main()
    except tuple(kind for kind, _ in EXIT_CODES) as error:  # bad data or model: one line, as the CLI says it
        sys.exit(f"rouge_by_reference_faithfulness: {error}")
