"""`newsbrief train|evaluate|predict`: a thin layer over importable functions."""

from __future__ import annotations

import argparse
import json
import sys
import typing
from pathlib import Path

from newsbrief.config import ConfigError, RunConfig, load_config
from newsbrief.config_parsing import field_docs
from newsbrief.data_errors import DataError
from newsbrief.infer.job_errors import BatchJobError, InputError, OutputError, UsageError
from newsbrief.models.load_errors import ModelLoadError
from newsbrief.run_lock import RunLocked

EXIT_CODES = [  # the first class an error is an instance of gives its code
    (UsageError, 2), (ConfigError, 3), (ModelLoadError, 6), (InputError, 4), (DataError, 4), (FileNotFoundError, 4),
    (OutputError, 5), (RunLocked, 5), (BatchJobError, 1),
]
EXIT_HELP = ("exit codes: 0 done, 1 another fatal problem, 2 bad arguments, 3 bad config, 4 input unreadable, "
             "5 output unwritable or locked by another run, 6 model unloadable, 130 interrupted")


class CommandError(SystemExit):
    """The exit of a command that failed: its code by cause, its message (already on stderr) as str()."""

    def __init__(self, message: str, code: int):
        super().__init__(code)
        self.message = message

    def __str__(self) -> str:
        return self.message


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="newsbrief", description="Brief news: summaries and topics.",
                                     epilog=EXIT_HELP)
    commands = parser.add_subparsers(dest="command", required=True)
    verbosity = argparse.ArgumentParser(add_help=False)
    verbosity.add_argument("--verbose", action="store_true",
                           help="show the libraries' loading bars, warnings and info logs (quiet by default)")
    loading = argparse.ArgumentParser(add_help=False)
    settings = loading.add_argument_group("how the model runs")
    settings.add_argument("--device", default="auto", help="auto (a GPU when there is one), cpu, cuda, cuda:1 ...")
    settings.add_argument("--dtype", default="auto", type=_dtype,
                          help="auto (bf16/fp16 on GPUs; on CPU bf16 where it has AVX512-BF16 or AMX-BF16, else "
                               "fp32, and fp32 with --int8), fp32, bf16, fp16")
    settings.add_argument("--int8", action="store_true", help="dynamic int8 quantization of linear layers (CPU)")
    settings.add_argument("--compile", action="store_true",
                          help="torch.compile the encoder and decoder, for GPUs: on a CPU it briefed about 3x "
                               "slower than without (batch shapes vary, so it recompiles)")

    train = commands.add_parser("train", help="fine-tune a model from a YAML config", parents=[verbosity],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=_config_help() + "\n\n" + EXIT_HELP)
    train.add_argument("config", help="YAML file (see configs/)")
    train.add_argument("overrides", nargs="*", help="key.sub=value settings applied after the file")

    evaluate = commands.add_parser("evaluate", help="a report of a model on a data file: JSON and Markdown",
                                   parents=[verbosity, loading],
                                   description="ROUGE with bootstrap intervals beside Lead-k and first-words "
                                               "baselines, topic F1, threshold sweep, calibration, lengths.",
                                   epilog=EXIT_HELP)
    evaluate.add_argument("--model", default=None,
                          help="model directory or Hub repository id (default: the embedded model)")
    evaluate.add_argument("--data", required=True, help="JSONL, CSV or Parquet file")
    evaluate.add_argument("--split", default="test", help="value of the split column to evaluate")
    evaluate.add_argument("--text-column", default="text")
    evaluate.add_argument("--summary-column", default="title", help="reference summaries (default: headlines)")
    evaluate.add_argument("--topics-column", default="topics")
    evaluate.add_argument("--split-column", default="split")
    evaluate.add_argument("--max-examples", type=_positive_int, default=None,
                          help="a random sample of this many examples (--seed), stratified by topic; "
                               "the report says how it was drawn")
    evaluate.add_argument("--baseline-model", default=None,
                          help="a second model directory, compared with a paired bootstrap on the same examples")
    evaluate.add_argument("--baseline-dtype", default=None, type=_dtype,
                          help="compare the model with itself (or --baseline-model) loaded in this dtype: "
                               "--dtype bf16 --baseline-dtype fp32 judges bf16 against fp32")
    evaluate.add_argument("--baseline-int8", action=argparse.BooleanOptionalAction, default=None,
                          help="compare the model with itself (or --baseline-model) with int8 linear layers or "
                               "without: --int8 --no-baseline-int8 judges int8 against fp32")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resamples and the sample")
    evaluate.add_argument("--long-articles", choices=["truncate", "chunk"], default=None,
                          help="override the models' inference.long_articles")
    evaluate.add_argument("--fact-guard", action=argparse.BooleanOptionalAction, default=None,
                          help="override the models' generation.fact_guard (names and numbers from the article only)")
    evaluate.add_argument("--trust-remote-code", action="store_true", help=TRUST_HELP)
    evaluate.add_argument("--out", default=None,
                          help="folder for report.json and report.md (default: the JSON report on stdout)")

    predict = commands.add_parser("predict", help="brief every article of JSONL, CSV or Parquet files",
                                  parents=[verbosity, loading],
                                  description="Brief every article; run it again after a crash to resume.",
                                  epilog=EXIT_HELP)
    predict.add_argument("--model", default=None, help="model directory (default: the embedded model)")
    predict.add_argument("--input", required=True,
                         help="a .jsonl, .csv or .parquet file, a folder of them, or a glob (quote it); "
                              "with --engine ray also an object-store URI (s3://bucket/news/)")
    predict.add_argument("--output", required=True,
                         help="briefs and error records: a .jsonl, .csv or .parquet file, or with --engine ray "
                              "a folder (or URI); ids already in it are skipped")
    predict.add_argument("--engine", choices=["local", "ray"], default="local",
                         help="local: this process (default); ray: a pool of model actors on a Ray cluster")
    predict.add_argument("--id-column", default="id", help="records without one get file:line as id")
    predict.add_argument("--text-column", default="text")
    predict.add_argument("--keep-columns", default=None, metavar="A,B|all",
                         help="input columns every output record carries, as text, to join results back to "
                              "the input (all: every column but the text and id columns)")
    predict.add_argument("--retry-errors", action="store_true",
                         help="brief again the rows whose record in the output is an error, replacing it")
    predict.add_argument("--chunk-size", type=_positive_int, default=None,
                         help="articles sorted into model batches, briefed and written together: no batch holds more "
                              "(default 256 on a CPU, 4096 on a GPU)")
    predict.add_argument("--trust-remote-code", action="store_true", help=TRUST_HELP)
    predict.add_argument("--long-articles", choices=["truncate", "chunk"], default=None,
                         help="override the model's inference.long_articles")
    predict.add_argument("--batch-size", type=_positive_int, default=None,
                         help="most articles in one model batch (override the model's inference.batch_size)")
    predict.add_argument("--max-batch-tokens", type=_positive_int, default=None,
                         help="most padded input tokens in one model batch, the token budget "
                              "(override the model's inference.max_batch_tokens)")
    on_ray = predict.add_argument_group("with --engine ray")
    on_ray.add_argument("--output-format", choices=["parquet", "jsonl"], default=None,
                        help="the files written into the --output folder (default: parquet)")
    on_ray.add_argument("--actors", type=_positive_int, default=None, help="models running at once (default: 1)")
    on_ray.add_argument("--gpus-per-actor", type=_gpu_share, default=None,
                        help="default: 1 when the cluster has GPUs, else 0; a fraction puts several actors "
                             "on one GPU (0.5: two, 0.25: four), each with its own copy of the model")
    on_ray.add_argument("--cpus-per-actor", type=float, default=None,
                        help="default: 1; on CPUs, each actor's torch threads")
    on_ray.add_argument("--address", default=None,
                        help="the Ray cluster (default: RAY_ADDRESS, else one `ray start` started here, "
                             "else a Ray started for this job)")

    args = parser.parse_args(argv)
    from newsbrief.quiet import set_process_verbosity

    set_process_verbosity(args.verbose)
    try:
        {"train": _train, "evaluate": _evaluate, "predict": _predict}[args.command](args)
    except KeyboardInterrupt:
        _fail(f"newsbrief {args.command}: interrupted", 130)
    except tuple(kind for kind, _ in EXIT_CODES) as error:
        _fail(f"newsbrief {args.command}: {error}", next(code for kind, code in EXIT_CODES if isinstance(error, kind)))


def _fail(message: str, code: int) -> None:
    print(message, file=sys.stderr)
    raise CommandError(message, code) from None


def _train(args: argparse.Namespace) -> None:
    from newsbrief.train.loop import train

    model_dir = train(load_config(args.config, args.overrides))
    print(f"model saved to {model_dir}")


def _evaluate(args: argparse.Namespace) -> None:
    from newsbrief.config import SourceConfig
    from newsbrief.evaluation import evaluate, render_markdown

    source = SourceConfig(path=args.data, text_column=args.text_column, summary_column=args.summary_column,
                          topics_column=args.topics_column, split_column=args.split_column,
                          max_examples=args.max_examples)
    from newsbrief.evaluation.verdict import verdict_line

    generation = {} if args.fact_guard is None else {"fact_guard": args.fact_guard}
    baseline_load = {key: value for key, value in (("dtype", args.baseline_dtype), ("int8", args.baseline_int8))
                     if value is not None}
    report = evaluate(args.model, source, args.split, args.baseline_model, args.seed, progress=True,
                      long_articles=args.long_articles, generation=generation,
                      trust_remote_code=args.trust_remote_code, load=_load_settings(args),
                      baseline_load=baseline_load).report
    text = json.dumps(report, indent=2)
    if not args.out:
        print(text)
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(text + "\n")
    (out / "report.md").write_text(render_markdown(report))
    print(f"report written to {out / 'report.json'} and {out / 'report.md'}")
    if "comparison" in report:
        print(verdict_line(report["comparison"]["verdict"]))


def _predict(args: argparse.Namespace) -> None:
    from newsbrief.infer.batch_job import find_inputs, predict_files, print_summary
    from newsbrief.infer.engine import load_briefer

    load = {**_load_settings(args), "trust_remote_code": args.trust_remote_code,
            "long_articles": args.long_articles, "batch_size": args.batch_size,
            "max_batch_tokens": args.max_batch_tokens}
    on_ray = {name: getattr(args, name) for name in RAY_OPTIONS if getattr(args, name) is not None}
    if args.engine == "ray":
        from newsbrief.infer.ray_engine.job import import_ray, predict_with_ray

        try:
            import_ray()
        except ImportError as error:
            raise BatchJobError(str(error)) from error
        counts = predict_with_ray(args.model, args.input, args.output, id_column=args.id_column,
                                  text_column=args.text_column, chunk_size=args.chunk_size,
                                  keep_columns=args.keep_columns, retry_errors=args.retry_errors, **on_ray, **load)
    else:
        if on_ray:
            raise UsageError(f"--{next(iter(on_ray)).replace('_', '-')}: only with --engine ray")
        output = Path(args.output)
        # before the model loads: a typo fails at once
        files, keep = find_inputs(args.input, output, args.keep_columns, args.id_column, args.text_column)
        briefer = load_briefer(args.model, **load)
        counts = predict_files(briefer, files, output, args.id_column, args.text_column, args.chunk_size,
                               keep=keep, retry_errors=args.retry_errors)
    print_summary(counts, args.output)


TRUST_HELP = ("let the model directory run its own Python code (an auto_map in its config.json); only for "
              "models you trust. A model directory's own files never allow it")

RAY_OPTIONS = ("output_format", "actors", "gpus_per_actor", "cpus_per_actor", "address")
"""`newsbrief predict` options of the Ray engine, by their names in predict_with_ray."""


def _load_settings(args: argparse.Namespace) -> dict:
    """The options of the "how the model runs" group, by their names in load_briefer."""
    from newsbrief.infer.loading import LOAD_SETTINGS  # the model modules, only where a model is loaded

    return {name: getattr(args, name) for name in LOAD_SETTINGS}


def _dtype(text: str) -> str:
    """A dtype name that loading takes: refused as the options are read, not once the model is loading."""
    if text == "auto":
        return text
    from newsbrief.infer.optimize import DTYPES  # torch, only where a dtype is named

    if text not in DTYPES:
        raise argparse.ArgumentTypeError(f"expected auto or one of {', '.join(DTYPES)}, got {text!r}")
    return text


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def _gpu_share(text: str) -> float:
    """Ray's rule for a task's GPUs: a fraction of one GPU, or whole GPUs."""
    try:
        share = float(text)
    except ValueError:
        share = float("nan")  # refused below, as a negative share is
    if not (0 <= share <= 1 or (share > 1 and share.is_integer())):
        raise argparse.ArgumentTypeError(f"expected 0, a fraction of 1 (0.5: two actors per GPU) or whole GPUs, "
                                         f"got {text!r}")
    return share


def _config_help() -> str:
    """Every config key with its docstring, so that `newsbrief train --help` documents the overrides."""
    lines = ["config keys (override any with key.sub=value):"]
    for section, section_type in typing.get_type_hints(RunConfig).items():
        lines.extend(f"  {section}.{name}: {doc}" for name, doc in field_docs(section_type).items())
    return "\n".join(lines)
