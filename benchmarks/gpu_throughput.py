"""GPU briefing speed on the real path: NewsBrief against Hugging Face `generate`, same model, GPU and run.

Made to run in one call through the `device` tool (`bash benchmarks/gpu.sh`), where there is no corpus
and no Hub: the articles are synthetic (synthetic_news.py) with news' spread of lengths (up to 512 of
the model's tokens, the longer ones truncated), the tokenizer a byte-level BPE trained on them as
BART's is (so the engine takes a BART's path), the model a random BART of bart-base shape
(bart_model.py) whose end-of-summary logit is raised so that rows end at different steps, as real
summaries do (greedy, 8 to 64 new tokens, 36 on average).

For each batch size (up to 1,024), on bf16: NewsBrief eager, NewsBrief with torch.compile, and the
Hugging Face way (vs_pipeline.hf_loop_briefs: batches in input order, `model.generate`, a second pass
for topics), each warmed up, then timed over every article. Prints one JSON line per run with articles/s,
the mean summary length and, for NewsBrief, its ratio to the Hugging Face way at that batch size and how
many summaries are the same; writes them all to --out. --smoke: a tiny model on the CPU, to check the
script on any machine (the minimum-versions CI runs it in a venv like the GPU machine's image).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from bart_model import build_bart, end_rows_early, make_newsbrief_dir
from newsbrief.infer.engine import NewsBrief
from synthetic_news import bpe_tokenizer, synthetic_texts
from vs_pipeline import hf_loop_briefs

NEW_TOKENS = 64
MAX_LENGTH = 512
MIN_NEW_TOKENS = 8
MEAN_NEW_TOKENS = 36
"""The summaries' mean length the model is tuned to (end_rows_early): rows end between 8 and 64 tokens."""
BART_VOCAB = 50265
FULL = {"device": "cuda", "dtype": "bf16", "d_model": 768, "layers": 6, "vocab": BART_VOCAB,
        "articles": 8192, "batch_sizes": "64,256,1024", "compile": (False, True)}
SMOKE = {"device": "cpu", "dtype": "fp32", "d_model": 64, "layers": 1, "vocab": 2000,
         "articles": 24, "batch_sizes": "8,16", "compile": (False,)}
RECOMPILE_LIMIT = 64
"""torch.compile's recompiles allowed per function (default 8): the decoder sees a new shape for each
cache length until dynamic shapes settle, and the engine's batches differ in rows and lengths."""


def timed(run, warm_up, texts: list[str]):
    """Seconds for `run(texts)` after `run(warm_up)` (kernels, allocator, compiled graphs), and its result."""
    run(warm_up)
    _synchronize()
    started = time.perf_counter()
    result = run(texts)
    _synchronize()
    return time.perf_counter() - started, result


def _synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, help=f"default: {FULL['articles']}, {SMOKE['articles']} with --smoke")
    parser.add_argument("--batch-sizes", help=f"default: {FULL['batch_sizes']}, {SMOKE['batch_sizes']} with --smoke")
    parser.add_argument("--out", default="gpu_throughput.json")
    parser.add_argument("--smoke", action="store_true", help="a tiny model on the CPU: checks the script runs")
    args = parser.parse_args()
    setting = SMOKE if args.smoke else FULL
    if setting["device"] == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_throughput: no CUDA device (use --smoke to check the script on a CPU)")
    torch._dynamo.config.recompile_limit = RECOMPILE_LIMIT
    texts = synthetic_texts(args.articles or setting["articles"], seed=1)
    device = torch.cuda.get_device_name(0) if setting["device"] == "cuda" else "cpu"
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tokenizer = bpe_tokenizer(synthetic_texts(min(len(texts), 3000), seed=0), setting["vocab"], tmp / "bpe")
        build_bart(tokenizer, tmp / "bart", setting["d_model"], setting["layers"], NEW_TOKENS, MAX_LENGTH, seed=0,
                   vocab_size=setting["vocab"], min_new_tokens=MIN_NEW_TOKENS, varied_output=True)
        end_rows_early(tmp / "bart", texts[:64], MEAN_NEW_TOKENS, MAX_LENGTH, setting["device"])
        for batch_size in [int(b) for b in (args.batch_sizes or setting["batch_sizes"]).split(",")]:
            folder = tmp / f"nb{batch_size}"
            make_newsbrief_dir(tmp / "bart", folder, NEW_TOKENS, batch_size, MAX_LENGTH, seed=0,
                               min_new_tokens=MIN_NEW_TOKENS)
            warm_up = texts[:2 * batch_size]
            base = {"device": device, "dtype": setting["dtype"], "d_model": setting["d_model"],
                    "batch_size": batch_size, "articles": len(texts), "max_input_tokens": MAX_LENGTH,
                    "max_new_tokens": NEW_TOKENS}
            briefer = NewsBrief.from_pretrained(folder, device=setting["device"], dtype=setting["dtype"])
            seconds, (hf_summaries, _) = timed(lambda t: hf_loop_briefs(briefer, t, batch_size), warm_up, texts)
            hf_rate = len(texts) / seconds
            results.append(_report({**base, "engine": "hf-generate", "articles_per_second": round(hf_rate, 1),
                                    "mean_summary_words": _mean_words(hf_summaries)}))
            for compiled in setting["compile"]:
                if compiled:
                    briefer = NewsBrief.from_pretrained(folder, device=setting["device"], dtype=setting["dtype"],
                                                        compile=True)
                seconds, reading = timed(briefer.read, warm_up, texts)
                rate = len(texts) / seconds
                same = sum(a == b for a, b in zip(reading.summaries, hf_summaries))
                results.append(_report({
                    **base, "engine": "newsbrief+compile" if compiled else "newsbrief",
                    "articles_per_second": round(rate, 1), "ratio_to_hf": round(rate / hf_rate, 2),
                    "mean_summary_words": _mean_words(reading.summaries),
                    "mean_summary_tokens": round(float(reading.summary_tokens.mean()), 1),
                    "same_summaries_as_hf": f"{same}/{len(texts)}"}))
            del briefer
            if setting["device"] == "cuda":
                torch.cuda.empty_cache()
    Path(args.out).write_text(json.dumps(results, indent=1))


def _report(row: dict) -> dict:
    print(json.dumps(row), flush=True)
    return row


def _mean_words(summaries: list[str]) -> float:
    return round(statistics.fmean(len(s.split()) for s in summaries), 1)


if __name__ == "__main__":
    main()
