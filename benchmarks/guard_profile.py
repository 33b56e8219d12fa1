"""Where the fact guard's cost goes: a cProfile of `NewsBrief.predict` with the guard on, over real articles.

    cd benchmarks && python guard_profile.py --model ../newsbrief/default_model

Prints the share of the guarded run spent in each of the guard's parts: its per-step masking
(`FactGuard.mask`), reading each article's names and numbers (`ArticleUnits`), and the guarded beam-search
second tries at summaries that greedy decoding could not finish (`RETRY_BEAMS`); and how many rows of a
step found no allowed token among the model's best `CANDIDATES` and looked down the vocabulary. cProfile
slows Python code more than the tensor kernels it calls, so the guard's own shares come out somewhat high;
the cost in articles/s is `vs_pipeline.py`'s to state. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from pathlib import Path

from articles import real_articles
from newsbrief.infer.engine import NewsBrief
from newsbrief.models.fact_guard import CANDIDATES, ArticleUnits, FactGuard

PARTS = {
    "masking (FactGuard.mask)": FactGuard.mask,
    "article units (ArticleUnits)": ArticleUnits.__init__,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a NewsBrief model directory")
    parser.add_argument("--articles", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--top", type=int, default=12, help="also print this many functions by own time")
    args = parser.parse_args()

    texts = [r["text"] for r in real_articles(args.articles)]
    # Read as vs_pipeline.py reads them when it measures the guard's cost: fp32, each article's first window.
    briefer = NewsBrief.from_pretrained(Path(args.model), device="cpu", dtype="fp32",
                                        inference={"batch_size": args.batch_size, "long_articles": "truncate"})
    briefer.predict(texts[:32], fact_guard=True)  # warm-up, untimed

    profile = cProfile.Profile()
    profile.enable()
    briefs = briefer.predict(texts, fact_guard=True)
    profile.disable()
    stats = pstats.Stats(profile)
    total = max(stats.total_tt, 1e-9)
    print(f"{len(texts)} articles, guard on: {total:.1f} s under the profiler; "
          f"{sum(b.guard_fallback for b in briefs)} fell back")
    for name, function in PARTS.items():
        print(f"  {name:34s} {100 * profiled(stats, function.__code__)[1] / total:5.1f}%")
    print(f"  {'beam-search retries':34s} {100 * retry_seconds(stats) / total:5.1f}%")
    # Each row a step asks `_allowed` once, and once more after a look down the vocabulary (`_may_fit`).
    look_downs, _ = profiled(stats, FactGuard._may_fit.__code__)
    rows = profiled(stats, FactGuard._allowed.__code__)[0] - look_downs
    print(f"  row-steps whose best {CANDIDATES} candidates held no allowed token: {look_downs} of {rows}")
    stats.sort_stats("tottime").print_stats(args.top)


def profiled(stats: pstats.Stats, code) -> tuple[int, float]:
    """The calls and the cumulative time of the function whose code object is `code` (the profile keys
    functions by file, line and name)."""
    entry = stats.stats.get((code.co_filename, code.co_firstlineno, code.co_name))
    return (entry[1], entry[3]) if entry else (0, 0.0)


def retry_seconds(stats: pstats.Stats) -> float:
    """Time in beam search: only the guard's retries decode with beams when the model's settings are greedy."""
    return sum(entry[3] for (filename, _, name), entry in stats.stats.items()
               if name == "_beam_search" and filename.endswith("utils.py"))


if __name__ == "__main__":
    main()
