"""Host syncs and host time per decode step of NewsBrief's greedy loop vs transformers' `generate`.

On a GPU every read of a device value on the host (`.item()`, `int(t)`, `bool(t)`, `nonzero`) waits for
all queued kernels, so the host stops queueing the next step's. On a CPU there is nothing to wait
for, but the same ops run, so the torch profiler counts them: `aten::_local_scalar_dense` (what
`.item()`, `int()` and `bool()` of a tensor come down to) and `aten::nonzero` (its output size is a
device value). Host ms per step: a tiny random BART, so the time is the host's work per step, the
part that a GPU does not shorten. Rows end at staggered steps and the articles have different lengths,
as in real batches (the padding is what sends transformers' mask code to read the mask).
Run: `python benchmarks/greedy_syncs.py` (~1 min on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile
from transformers import BartConfig, BartForConditionalGeneration

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from newsbrief.models import greedy  # noqa: E402

SYNC_OPS = ("aten::_local_scalar_dense", "aten::nonzero")
VOCAB, PAD, START = 512, 0, 2
NGRAM = 3  # NewsBrief's default no_repeat_ngram_size


def tiny_bart() -> BartForConditionalGeneration:
    torch.manual_seed(0)
    config = BartConfig(vocab_size=VOCAB, d_model=64, encoder_layers=1, decoder_layers=2, encoder_attention_heads=4,
                        decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128,
                        max_position_embeddings=256, init_std=0.2, pad_token_id=PAD, bos_token_id=START,
                        eos_token_id=1, decoder_start_token_id=START, forced_eos_token_id=None,
                        forced_bos_token_id=None)
    return BartForConditionalGeneration(config).eval()


def staggered_batch(seq2seq, batch: int, new_tokens: int):
    """Encoder outputs and mask of `batch` articles of 40-128 tokens, and end tokens with which the rows end
    spread over the steps: decode with no end token, then take as end tokens, one by one, tokens that make
    more rows end, none in the first 8 steps (a headline has some words)."""
    generator = torch.Generator().manual_seed(1)
    lengths = torch.randint(40, 129, (batch,), generator=generator)
    ids = torch.randint(3, VOCAB, (batch, int(lengths.max())), generator=generator)
    mask = (torch.arange(ids.shape[1]) < lengths[:, None]).long()
    ids = ids.masked_fill(mask == 0, PAD)
    with torch.no_grad():
        encoded = seq2seq.get_encoder()(input_ids=ids, attention_mask=mask, return_dict=True)
        free = seq2seq.generate(encoder_outputs=encoded, attention_mask=mask, eos_token_id=None, num_beams=1,
                                max_new_tokens=new_tokens, no_repeat_ngram_size=NGRAM)[:, 1:]
    ends: list[int] = []
    for token in sorted(set(free.flatten().tolist())):
        steps, before = end_steps(free, ends + [token]), end_steps(free, ends)
        if min(steps) >= 8 and sum(s < new_tokens for s in steps) > sum(s < new_tokens for s in before):
            ends.append(token)
    return encoded, mask, ends


def end_steps(generated: torch.Tensor, end_tokens: list[int]) -> list[int]:
    """Per row, the step of its first end token, or the number of steps if it has none."""
    ended = torch.isin(generated, torch.tensor(end_tokens, dtype=torch.long))
    return torch.where(ended.any(1), ended.int().argmax(1), generated.shape[1]).tolist()


def count_syncs(seq2seq, decode) -> dict:
    """Decoder steps (forward calls) of one decode, and the sync ops in it, counted by the profiler."""
    steps: list[int] = []
    hook = seq2seq.register_forward_pre_hook(lambda *_: steps.append(1))
    try:
        decode()  # warm-up
        steps.clear()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            decode()
    finally:
        hook.remove()
    counts = {op: sum(event.name == op for event in prof.events()) for op in SYNC_OPS}
    return {"steps": len(steps), "syncs_per_step": sum(counts.values()) / len(steps), **counts}


def host_ms_per_step(peers: dict, steps: dict, rounds: int) -> dict:
    """Median ms per decoder step of each peer, the peers taking turns in every round."""
    times = {name: [] for name in peers}
    for _ in range(rounds):
        for name, decode in peers.items():
            started = time.perf_counter()
            decode()
            times[name].append((time.perf_counter() - started) * 1000 / steps[name])
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    seq2seq = tiny_bart()
    encoded, mask, ends = staggered_batch(seq2seq, args.batch, args.new_tokens)
    settings = {"num_beams": 1, "max_new_tokens": args.new_tokens, "no_repeat_ngram_size": NGRAM,
                "eos_token_id": ends}
    assert greedy.greedy_settings(seq2seq, settings) is not None, "the greedy loop would not run"
    with torch.no_grad():
        ours = greedy.generate(seq2seq, encoded, mask, **settings)
        theirs = seq2seq.generate(encoder_outputs=encoded, attention_mask=mask, **settings)
    assert torch.equal(ours, theirs), "the greedy loop and generate disagree"
    ended = end_steps(ours[:, 1:], ends)
    print(f"tiny random BART, batch {args.batch} (40-128 tokens), up to {args.new_tokens} new tokens, "
          f"no_repeat_ngram_size {NGRAM}; rows end at steps {min(ended)}-{max(ended)} "
          f"(median {statistics.median(ended)}); 1 thread")
    peers = {"newsbrief greedy loop": lambda: greedy.generate(seq2seq, encoded, mask, **settings),
             "transformers generate": lambda: seq2seq.generate(encoder_outputs=encoded, attention_mask=mask,
                                                               **settings)}
    with torch.no_grad():
        counts = {name: count_syncs(seq2seq, decode) for name, decode in peers.items()}
        host_ms = host_ms_per_step(peers, {name: row["steps"] for name, row in counts.items()}, args.rounds)
    for name, row in counts.items():
        print(f"{name:24s} {row['steps']:3d} steps  syncs/step {row['syncs_per_step']:.3f} "
              f"({', '.join(f'{op} {row[op]}' for op in SYNC_OPS)})  host ms/step {host_ms[name]:.2f}")
    ours, theirs = host_ms.values()
    print(f"host ms per step, generate / greedy loop: {theirs / ours:.2f} (median of {args.rounds} rounds, "
          "the peers taking turns)")


if __name__ == "__main__":
    main()
