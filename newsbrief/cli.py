"""`newsbrief train|evaluate|predict`: a thin layer over importable functions."""

from __future__ import annotations

import argparse
import json
import sys
import typing
from pathlib import Path

from newsbrief.config import ConfigError, RunConfig, field_docs, load_config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="newsbrief", description="Brief news: summaries and topics.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="fine-tune a model from a YAML config",
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_config_help())
    train.add_argument("config", help="YAML file (see configs/)")
    train.add_argument("overrides", nargs="*", help="key.sub=value settings applied after the file")

    evaluate = commands.add_parser("evaluate", help="metrics of a model on a data file, as JSON")
    evaluate.add_argument("--model", required=True, help="model directory")
    evaluate.add_argument("--data", required=True, help="JSONL, CSV or Parquet file")
    evaluate.add_argument("--split", default="test", help="value of the split column to evaluate")
    evaluate.add_argument("--text-column", default="text")
    evaluate.add_argument("--summary-column", default="title", help="reference summaries (default: headlines)")
    evaluate.add_argument("--topics-column", default="topics")
    evaluate.add_argument("--split-column", default="split")
    evaluate.add_argument("--max-examples", type=int, default=None)
    evaluate.add_argument("--out", default=None, help="also write the JSON report here")

    predict = commands.add_parser("predict", help="brief every article of a JSONL file")
    predict.add_argument("--model", required=True, help="model directory")
    predict.add_argument("--input", required=True, help="JSONL with 'text' (and optionally 'id') per line")
    predict.add_argument("--output", required=True, help="JSONL of briefings and error records")
    predict.add_argument("--device", default="auto")

    args = parser.parse_args(argv)
    try:
        {"train": _train, "evaluate": _evaluate, "predict": _predict}[args.command](args)
    except (ConfigError, FileNotFoundError) as error:
        sys.exit(f"newsbrief {args.command}: {error}")


def _train(args: argparse.Namespace) -> None:
    from newsbrief.train.loop import train

    model_dir = train(load_config(args.config, args.overrides))
    print(f"model saved to {model_dir}")


def _evaluate(args: argparse.Namespace) -> None:
    from newsbrief.config import SourceConfig
    from newsbrief.evaluation import evaluate_model
    from newsbrief.infer.engine import NewsBrief

    source = SourceConfig(path=args.data, text_column=args.text_column, summary_column=args.summary_column,
                          topics_column=args.topics_column, split_column=args.split_column,
                          max_examples=args.max_examples)
    report = evaluate_model(NewsBrief.from_pretrained(args.model), source, args.split)
    text = json.dumps(report, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)


def _predict(args: argparse.Namespace) -> None:
    from newsbrief.infer.batch_job import predict_file
    from newsbrief.infer.engine import NewsBrief

    if not Path(args.input).is_file():
        raise FileNotFoundError(f"--input: no such file: {args.input}")
    counts = predict_file(NewsBrief.from_pretrained(args.model, device=args.device), Path(args.input),
                          Path(args.output))
    print(json.dumps(counts), file=sys.stderr)


def _config_help() -> str:
    """Every config key with its docstring, so that `newsbrief train --help` documents the overrides."""
    lines = ["config keys (override any with key.sub=value):"]
    for section, section_type in typing.get_type_hints(RunConfig).items():
        lines.extend(f"  {section}.{name}: {doc}" for name, doc in field_docs(section_type).items())
    return "\n".join(lines)
