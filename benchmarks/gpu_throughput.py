"""GPU briefing speed: articles/s of NewsBrief on a BART-base-shaped model, 512 input and 64 output tokens, bf16.

Made to run in one call through the `device` tool (`bash benchmarks/gpu.sh`): the device machine has
no copy of ../shared/data, so the articles are synthetic texts long enough to fill 512 tokens; speed
does not depend on the words. Every article gets exactly 64 new tokens (min = max), greedy.
Prints one line per setting and writes them as JSON to --out.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from transformers import AutoTokenizer

from bart_model import build_bart, make_newsbrief_dir
from newsbrief.infer.engine import DEFAULT_MODEL, NewsBrief

NEW_TOKENS = 64
MAX_LENGTH = 512


def synthetic_articles(count: int) -> list[str]:
    words = "markets rallied as the central bank held rates and investors weighed new data on jobs".split()
    return [" ".join(words[(i + j) % len(words)] for j in range(700)) for i in range(count)]


def measure(briefer: NewsBrief, texts: list[str]) -> float:
    briefer.summarize_and_score(texts[:64])  # warm-up: kernels, allocator, compile
    _synchronize()
    started = time.perf_counter()
    briefer.summarize_and_score(texts)
    _synchronize()
    return len(texts) / (time.perf_counter() - started)


def _synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, help="default: 4096, or 64 with --smoke")
    parser.add_argument("--batch-sizes", default="64,128,256")
    parser.add_argument("--out", default="gpu_throughput.json")
    parser.add_argument("--smoke", action="store_true", help="a tiny model on the CPU: checks the script runs")
    args = parser.parse_args()
    device, dtype, d_model, layers = ("cpu", "fp32", 64, 1) if args.smoke else ("cuda", "bf16", 768, 6)
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_throughput: no CUDA device (use --smoke to check the script on a CPU)")
    texts = synthetic_articles(args.articles or (64 if args.smoke else 4096))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # MiniLM's vocabulary, from the default model inside the package: the device machine has no Hub.
        tokenizer = AutoTokenizer.from_pretrained(DEFAULT_MODEL)
        build_bart(tokenizer, tmp / "bart", d_model=d_model, layers=layers, new_tokens=NEW_TOKENS,
                   max_length=MAX_LENGTH, seed=0)
        for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
            make_newsbrief_dir(tmp / "bart", tmp / f"nb{batch_size}", NEW_TOKENS, batch_size, MAX_LENGTH, seed=0)
            for compiled in ((False,) if args.smoke else (False, True)):
                briefer = NewsBrief.from_pretrained(tmp / f"nb{batch_size}", device=device, dtype=dtype,
                                                    compile=compiled)
                rate = measure(briefer, texts)
                name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
                row = {"device": name, "dtype": dtype, "d_model": d_model, "batch_size": batch_size,
                       "compile": compiled, "input_tokens": MAX_LENGTH, "new_tokens": NEW_TOKENS,
                       "articles": len(texts), "articles_per_second": round(rate, 1)}
                print(json.dumps(row), flush=True)
                results.append(row)
                del briefer
                if device == "cuda":
                    torch.cuda.empty_cache()
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
