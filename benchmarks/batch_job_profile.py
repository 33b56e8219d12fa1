"""Where `newsbrief predict`'s main thread spends its time: the share inside model calls, and the top items.

Runs the real command (cli.main) on real articles (articles.py) and samples the main thread's Python
stack every few milliseconds from a second thread (sys._current_frames). A sampler rather than
cProfile: cProfile's cost per Python call inflates the Python-heavy stages (the fact guard, WordPiece
respelling) several-fold and would skew the shares. Work moved to other threads (reading, tokenizing,
writing) leaves the main thread's profile, which is the point. Run it on an idle machine: on a loaded one,
each small op's parallel region waits for a descheduled torch thread (a 32 x 384 index_add_ took 2-8 ms
with 2 threads against 0.03 ms with 1, at load 9 on 2 cores), which inflates the small items.

"Model calls" are NewsBriefModel.brief (encoder, greedy or beam decoding with the fact guard, pooling),
pooled_states and topic_probs; issue 21's target is a share of at least 80% of the job (predict_files,
the command less loading the model). Top items: by samples whose innermost frame is that function
(its own time, C calls included), and the stages of the job by the innermost newsbrief function.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType

from articles import real_articles
from bart_model import tiny_model
from newsbrief.cli import main as newsbrief_main

MODEL_CALLS = {"brief", "pooled_states", "topic_probs"}
"""NewsBriefModel's methods that run the network (newsbrief/models/multitask.py)."""
INTERVAL = 0.005


class MainThreadSampler:
    def __init__(self) -> None:
        self.own: Counter[str] = Counter()
        self.stages: Counter[str] = Counter()
        self.samples = self.in_job = self.in_model = 0
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "MainThreadSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(INTERVAL):
            frame = sys._current_frames().get(self._main)
            if frame is not None:
                self._record(frame)

    def _record(self, leaf: FrameType) -> None:
        stack = []
        frame: FrameType | None = leaf
        while frame is not None:
            stack.append(frame.f_code)
            frame = frame.f_back
        self.samples += 1
        self.own[_name(stack[0])] += 1
        if not any(code.co_name == "predict_files" and code.co_filename.endswith("batch_job.py") for code in stack):
            return
        self.in_job += 1
        self.in_model += any(code.co_name in MODEL_CALLS and code.co_filename.endswith("multitask.py")
                             for code in stack)
        stage = next((code for code in stack if "/newsbrief/" in code.co_filename), stack[0])
        self.stages[_name(stage)] += 1


def _name(code) -> str:
    path = Path(code.co_filename)
    return f"{path.parent.name}/{path.name}:{code.co_name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=2000, help="real articles briefed (default 2000)")
    parser.add_argument("--model", help="model directory (default: the embedded model)")
    parser.add_argument("--tiny", action="store_true",
                        help="a tiny random BART (d_model 64, 1+1 layers, MiniLM's WordPiece, 32 new tokens): the "
                             "CPU stages' share at its largest, issue 21's setting")
    parser.add_argument("--top", type=int, default=12, help="items listed in each table")
    parser.add_argument("--chunk-size", type=int, help="newsbrief predict --chunk-size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        articles = Path(tmp) / "articles.jsonl"
        articles.write_text("".join(json.dumps(r) + "\n" for r in real_articles(args.articles)))
        argv = ["predict", "--input", str(articles), "--output", str(Path(tmp) / "briefs.jsonl")]
        if args.tiny:
            args.model = str(tiny_model(Path(tmp)))
        argv += ["--model", args.model] if args.model else []
        argv += ["--chunk-size", str(args.chunk_size)] if args.chunk_size else []
        started = time.perf_counter()
        with MainThreadSampler() as sampler:
            newsbrief_main(argv)
        wall = time.perf_counter() - started
    print(f"{args.model or 'the embedded model'}: main thread {wall:.1f} s for {args.articles} articles; {sampler.samples} samples, {sampler.in_job} in the "
          f"job (predict_files), {sampler.in_model} in model calls: "
          f"{100 * sampler.in_model / max(sampler.in_job, 1):.1f}% of the job")
    for title, counter, total in (("own time (innermost frame)", sampler.own, sampler.samples),
                                  ("job stages (innermost newsbrief frame)", sampler.stages, sampler.in_job)):
        print(f"\ntop {args.top} by {title}, % of {total} samples:")
        for name, hits in counter.most_common(args.top):
            print(f"  {100 * hits / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
