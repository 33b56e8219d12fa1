"""The encoder pass against the machine's own limit: its achieved GFLOP/s, and the GFLOP/s torch.matmul
reaches on the same machine, in the same run, for the matrix products of the encoder's own shapes.

The articles (articles.py) are encoded and packed into batches as `NewsBrief.predict` packs them (the
model's inference settings: window, long_articles, batch size, token budget), padded once, untimed.
Then, each round, the encoder's forward pass (`NewsBriefModel.encode`, inference mode) runs over every
batch, and torch.matmul runs one layer's worth of the encoder's matrix products for every batch
(encoder_flops.layer_matmuls: projections, feed-forward, attention; random operands made before each
batch's clock starts). FLOPs come from the shapes (encoder_flops.py), padded tokens included. Prints
each round, then the medians: the encoder's GFLOP/s, matmul's GFLOP/s (overall and by kind), and the
fraction of the matmul limit the encoder reaches. No target: the fraction says how much of the
encoder's time goes to work other than its matrix products (softmax, norms, activations, memory
traffic), or to products that run slower than torch.matmul runs them alone.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch

from articles import real_articles
from bart_model import tiny_model
from encoder_flops import EncoderShape, encoder_flops, layer_matmuls, matmul_flops
from newsbrief.infer.batching import token_budget_batches
from newsbrief.infer.encoding import encode_articles
from newsbrief.infer.engine import NewsBrief


def padded_batches(briefer: NewsBrief, texts: list[str]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(input_ids, attention_mask) of each batch the engine would run the encoder on."""
    windows = encode_articles(briefer.tokenizer, texts, briefer.window, briefer.inference)
    inference = briefer.inference
    batches = token_budget_batches([len(ids) for ids in windows.input_ids], inference.max_batch_tokens,
                                   inference.batch_size)
    padded = [briefer.tokenizer.pad({"input_ids": [windows.input_ids[w] for w in batch]}, return_tensors="pt")
              for batch in batches]
    return [(p["input_ids"].to(briefer.device), p["attention_mask"].to(briefer.device)) for p in padded]


@torch.inference_mode()
def encoder_seconds(briefer: NewsBrief, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    started = time.perf_counter()
    for input_ids, attention_mask in batches:
        briefer.model.encode(input_ids, attention_mask)
    return time.perf_counter() - started


@torch.inference_mode()
def matmul_seconds(shape: EncoderShape, sizes: list[tuple[int, int]], dtype: torch.dtype) -> dict[str, float]:
    """Seconds by kind of torch.matmul doing one layer's products for every (rows, length) batch."""
    seconds: dict[str, float] = defaultdict(float)
    for rows, length in sizes:
        products = [(kind, torch.randn(left, dtype=dtype), torch.randn(right, dtype=dtype))
                    for kind, left, right in layer_matmuls(shape, rows, length)]
        for kind, left, right in products:
            started = time.perf_counter()
            torch.matmul(left, right)
            seconds[kind] += time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a NewsBrief model directory (default: the embedded model)")
    parser.add_argument("--tiny", action="store_true", help="a tiny random BART (bart_model.tiny_model): a smoke run")
    parser.add_argument("--articles", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds after one untimed warm-up round")
    args = parser.parse_args()

    texts = [r["text"] for r in real_articles(args.articles)]
    with tempfile.TemporaryDirectory() as tmp:
        model = tiny_model(Path(tmp)) if args.tiny else args.model
        briefer = NewsBrief.from_pretrained(model, device="cpu")
    briefer.model.eval()
    shape = EncoderShape.of(briefer.model.seq2seq.get_encoder().config)
    dtype = briefer.model.dtype
    batches = padded_batches(briefer, texts)
    sizes = [tuple(input_ids.shape) for input_ids, _ in batches]
    flops = encoder_flops(shape, sizes)
    layer_flops: dict[str, int] = defaultdict(int)
    for rows, length in sizes:
        for kind, left, right in layer_matmuls(shape, rows, length):
            layer_flops[kind] += matmul_flops(left, right)
    real = sum(int(mask.sum()) for _, mask in batches)
    padded = sum(rows * length for rows, length in sizes)
    name = "a tiny random BART" if args.tiny else args.model or "the embedded model"
    print(f"{name}: encoder {shape.layers} layers, hidden {shape.hidden}, intermediate "
          f"{shape.intermediate}, {shape.heads} heads, {dtype}; {len(texts)} articles in {len(batches)} batches, "
          f"{padded} tokens ({100 * (1 - real / padded):.1f}% padding); {flops / 1e9:.2f} GFLOP of matmuls; "
          f"{torch.get_num_threads()} threads")

    encoder, limit = [], []
    by_kind: dict[str, list[float]] = defaultdict(list)
    for round_ in range(args.rounds + 1):  # round 0 warms kernels and the allocator, untimed
        seconds = encoder_seconds(briefer, batches)
        products = matmul_seconds(shape, sizes, dtype)
        if round_ == 0:
            continue
        encoder.append(flops / seconds / 1e9)
        limit.append(sum(layer_flops.values()) / sum(products.values()) / 1e9)
        for kind, spent in products.items():
            by_kind[kind].append(layer_flops[kind] / spent / 1e9)
        print(f"round {round_}: encoder {seconds:.2f} s, {encoder[-1]:.1f} GFLOP/s; torch.matmul on its shapes "
              f"{limit[-1]:.1f} GFLOP/s", flush=True)
    fractions = [e / m for e, m in zip(encoder, limit)]
    kinds = ", ".join(f"{kind} {statistics.median(values):.1f}" for kind, values in by_kind.items())
    print(f"encoder pass: median {statistics.median(encoder):.1f} GFLOP/s; torch.matmul on the encoder's shapes: "
          f"median {statistics.median(limit):.1f} GFLOP/s ({kinds}); fraction of the matmul limit: median "
          f"{statistics.median(fractions):.2f} (range {min(fractions):.2f}-{max(fractions):.2f} over "
          f"{args.rounds} rounds)")


if __name__ == "__main__":
    main()
