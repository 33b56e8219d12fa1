"""Peak resident memory of `newsbrief predict` on 1,000 to 60,000 articles: it should stay flat.

Each job runs in a fresh process; its peak RSS is read with getrusage(RUSAGE_CHILDREN) in a small
wrapper process that runs only that job. The articles are real ones (../shared/data), repeated with
new ids to reach the larger counts. Targets: the 20,000-article job within +15% of the 1,000-article one,
and at most 2 MB of growth per thousand more articles from 20,000 to 40,000 and from 40,000 to 60,000.
The ratio alone would hide a leak behind the model's and the interpreter's fixed cost (hundreds of MB);
the growth per thousand articles is what a job of millions multiplies. It is taken past 20,000 articles,
in two steps so that growth that speeds up shows: from 1,000 to 20,000, printed too, RSS rises faster,
once, than after. One thing grows with a job by design: the set of ids that the duplicate check keeps
(every id, so that none comes out twice: infer/readers.py), some 100 bytes for a short id.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from articles import real_articles

REPO = Path(__file__).resolve().parents[1]
MAX_GROWTH_MB_PER_1000 = 2.0
"""At this rate a job of a million articles would hold about 2 GB more than a small one."""
WRAPPER = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, "
           "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def write_articles(path: Path, count: int, pool: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for i in range(count):
            out.write(json.dumps({"id": f"a{i}", "text": pool[i % len(pool)]["text"]}) + "\n")


def peak_rss_mb(model: Path, articles: Path, output: Path) -> float:
    job = [sys.executable, "-m", "newsbrief", "predict", "--model", str(model), "--input", str(articles),
           "--output", str(output), "--device", "cpu"]
    kilobytes = subprocess.run([sys.executable, "-c", WRAPPER, *job], check=True, capture_output=True,
                               text=True, cwd=REPO).stdout.strip()
    return int(kilobytes) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a NewsBrief model directory (default: train configs/tiny.yaml)")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=20_000)
    parser.add_argument("--larger", type=int, default=40_000)
    parser.add_argument("--largest", type=int, default=60_000)
    args = parser.parse_args()
    pool = real_articles(1_000)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = Path(args.model) if args.model else tmp / "tiny" / "model"
        if not args.model:
            subprocess.run([sys.executable, "-m", "newsbrief", "train", "configs/tiny.yaml",
                            f"train.output_dir={tmp / 'tiny'}"], check=True, cwd=REPO, capture_output=True)
        peaks = {}
        for count in (args.small, args.large, args.larger, args.largest):
            write_articles(tmp / f"in-{count}.jsonl", count, pool)
            peaks[count] = peak_rss_mb(model, tmp / f"in-{count}.jsonl", tmp / f"out-{count}.jsonl")
            lines = sum(1 for _ in open(tmp / f"out-{count}.jsonl"))
            print(f"{count:>7} articles: peak RSS {peaks[count]:8.1f} MB ({lines} output lines)")
    print(f"ratio peak {args.large}/{args.small}: {peaks[args.large] / peaks[args.small]:.3f} (target <= 1.15)")
    print(f"growth from {args.small} to {args.large}, warm-up included: {growth(peaks, args.small, args.large):.2f} "
          "MB per 1,000 more articles (information)")
    for fewer, more in ((args.large, args.larger), (args.larger, args.largest)):
        print(f"growth from {fewer} to {more}: {growth(peaks, fewer, more):.2f} MB per 1,000 more articles "
              f"(target <= {MAX_GROWTH_MB_PER_1000})")


def growth(peaks: dict[int, float], fewer: int, more: int) -> float:
    """MB of peak RSS per thousand more articles, from the job of `fewer` to the job of `more`."""
    return (peaks[more] - peaks[fewer]) / ((more - fewer) / 1000)


if __name__ == "__main__":
    main()
