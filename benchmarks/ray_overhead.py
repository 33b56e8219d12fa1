"""Ray's overhead: `newsbrief predict --engine ray` with one actor against the local engine, same model,
same 1,000 real articles, same settings, on this machine's CPUs.

  local  batch_job.predict_files: load the model, brief the JSONL input into a JSONL file
  ray    ray_engine.job.predict_with_ray with one actor that has every CPU (so as many torch threads as the
         local engine): read, one pass over the ids, load the model in the actor, brief, write JSONL
         files. Ray itself is started first and not timed, as a cluster serves many jobs; it gets one
         logical CPU more than the machine has, for its read, tokenizing and write tasks, light next
         to the model.

Prints seconds and articles/s of each, the ratio ray seconds / local seconds (the issue sets no target), and how
many records differ (batches can be cut differently, so a near tie in greedy decoding may flip).
The default model is a seeded random BART (bart_model.py), small enough for a CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from articles import real_articles
from bart_model import build_bart, make_newsbrief_dir
from newsbrief.infer.batch_job import find_inputs, predict_files
from newsbrief.infer.engine import load_briefer
from newsbrief.infer.ray_engine.job import predict_with_ray

SMALL = {"d_model": 256, "layers": 2, "new_tokens": 32, "batch_size": 32, "max_length": 512}


def default_model(folder: Path) -> Path:
    from newsbrief.config import ModelConfig
    from newsbrief.models.backbone import load_tokenizer

    build_bart(load_tokenizer(ModelConfig()), folder / "bart", SMALL["d_model"], SMALL["layers"],
               SMALL["new_tokens"], SMALL["max_length"], seed=0)
    make_newsbrief_dir(folder / "bart", folder / "model", SMALL["new_tokens"], SMALL["batch_size"],
                       SMALL["max_length"], seed=0)
    return folder / "model"


def timed(run):
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a NewsBrief model directory (default: a small random BART, built here)")
    parser.add_argument("--n", type=int, default=1_000, help="articles (default 1,000)")
    args = parser.parse_args()

    import ray

    cpus = os.cpu_count()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = Path(args.model) if args.model else default_model(tmp)
        source = tmp / "articles.jsonl"
        source.write_text("".join(json.dumps(a) + "\n" for a in real_articles(args.n)))
        # fp32 on both sides, as printed: dtype="auto" is bf16 on a CPU with bf16 instructions, where the other cut of
        # the batches flips more near ties
        print(f"model {args.model or 'random BART ' + str(SMALL)}; {args.n} articles; {cpus} CPUs, fp32")

        local, local_seconds = timed(lambda: predict_files(
            load_briefer(model, device="cpu", dtype="fp32"), find_inputs(str(source), tmp / "local.jsonl")[0],
            tmp / "local.jsonl"))
        ray.init(num_cpus=cpus + 1, include_dashboard=False, log_to_driver=False)
        try:
            remote, ray_seconds = timed(lambda: predict_with_ray(
                model, str(source), tmp / "ray", output_format="jsonl", actors=1, cpus_per_actor=cpus, device="cpu",
                dtype="fp32"))
        finally:
            ray.shutdown()

        local_lines = set((tmp / "local.jsonl").read_text().splitlines())
        ray_lines = {line for part in (tmp / "ray").glob("*.jsonl") for line in part.read_text().splitlines()}
        for name, counts, seconds in (("local", local, local_seconds), ("ray", remote, ray_seconds)):
            print(f"{name:6s} {seconds:8.1f} s  {counts.briefed / seconds:8.2f} articles/s  "
                  f"({counts.briefed} briefed, {counts.errors} errors)")
        print(f"records that differ: {len(local_lines - ray_lines)} of {len(local_lines)}")
        print(f"ratio ray/local seconds: {ray_seconds / local_seconds:.3f}")


if __name__ == "__main__":
    main()
