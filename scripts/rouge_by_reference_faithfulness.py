"""Headline ROUGE-1 of models on one split, apart for the references that the fact guard admits whole from the
window the model reads, and for the others, which state a name or number that window lacks (a Reuters ticker,
an earnings quarter its table leaves out). No faithful summary can match those, so ROUGE there rewards
invention: this tells a model that writes better summaries from one that writes what the references invent.

    python scripts/rouge_by_reference_faithfulness.py ../shared/data/reuters21578_modapte.jsonl MODEL [MODEL ...]

MODEL is a model directory, or `default` for the embedded model. Each runs in fp32 on the CPU, as the model
card's figures do, with its own fact-guard setting and, where that is on, without the guard too. The references
are judged by the first model's tokenizer and window (`data.summary_targets: faithful`'s rule).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from newsbrief.config import SourceConfig
from newsbrief.evaluation.predictions import Split, predict_split
from newsbrief.faithful_targets import faithful_targets_of_texts
from newsbrief.infer.engine import load_briefer
from newsbrief.infer.loading import DEFAULT_MODEL
from newsbrief.models.model_dir import read_run_config


def admitted_whole(model_dir: Path, split: Split) -> np.ndarray:
    """Per example: the guard lets its reference through unchanged, from the window the model reads."""
    data = read_run_config(model_dir).data
    tokenizer = load_briefer(model_dir, device="cpu", dtype="fp32").tokenizer
    references = [reference or "" for reference in split.references]
    targets = faithful_targets_of_texts(tokenizer, split.texts, references, data.max_source_length,
                                        data.max_target_length)
    whole = tokenizer(text_target=references, max_length=data.max_target_length, truncation=True)["input_ids"]
    return np.array([bool(target) and target == ids for target, ids in zip(targets, whole)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", help="a data file in the shared schema (headlines in `title`)")
    parser.add_argument("models", nargs="+", help="model directories, or `default` for the embedded model")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    models = [DEFAULT_MODEL if model == "default" else Path(model) for model in args.models]
    split = Split.read(SourceConfig(path=args.data, summary_column="title"), args.split)
    faithful = admitted_whole(models[0], split)
    print(f"{args.split} references the fact guard admits whole from the model's window: {faithful.sum()} of "
          f"{len(faithful)}")
    for model in models:
        briefer = load_briefer(model, device="cpu", dtype="fp32")
        for guard in [True, False] if briefer.generation.fact_guard else [False]:
            rouge1 = predict_split(briefer, split, progress=True, fact_guard=guard).rouge["rouge1"] * 100
            print(f"{model}, fact guard {'on' if guard else 'off'}: ROUGE-1 {np.nanmean(rouge1):.2f} on all; "
                  f"{np.nanmean(rouge1[faithful]):.2f} where the reference is admitted whole, "
                  f"{np.nanmean(rouge1[~faithful]):.2f} on the others", flush=True)


if __name__ == "__main__":
    main()
