"""NewsBrief against the way users brief articles with Hugging Face today: batched `generate` in input
order, then a second pass for topics. Same model, same 512 real articles, same greedy settings, one run
on CPU.

  hf-loop    what `pipeline("summarization", batch_size=B)` did (transformers 5 removed that task: "The
             task summarization has been removed from transformers"): batches of B articles in input
             order, each padded to its longest article, `model.generate(**inputs)`, decode; then a second
             encoder pass in batches of B for the topic head, as a text-classification pipeline runs it;
             fp32
  newsbrief  `NewsBrief.predict` in fp32, as the peer: articles sorted by length and packed to a token
             budget, one encoder pass feeding both the topic head and generation; without the fact guard,
             which the peer lacks. Its summaries should match the peer's
  +guard     the same with `fact_guard=True` (names and numbers from the article only)
  fast       `NewsBrief.predict` loaded with `dtype="auto"`, NewsBrief's fast setting (bf16 on a CPU with
             bf16 instructions, else fp32; the line at the top says which), without the guard. Its
             summaries may differ from fp32's: reduced precision is judged by quality, `newsbrief evaluate
             --dtype bf16 --baseline-dtype fp32`, not by identical tokens

Each side first briefs `--warmup` articles untimed (kernels, allocator and caches warm), then the
four are timed over `--rounds` rounds (default 6): the peer first in each round, then NewsBrief's three
sides in an order that changes every round. On an idle 2-core machine the guard's cost came out 20-23%
in rounds where it ran right after the peer and 5-16% in the others (two runs, session 12): whichever
side follows the peer is slowed. So the rounds go through the six orders of the three sides: over six
rounds (or three) each takes the slot after the peer equally often, and over six each pair runs in
either order equally often. Prints articles/s for each per round; the median ratio with its range of
newsbrief (identical outputs, target at least 3x) and of fast (issue 19's target: at least 2.5x), each
against hf-loop in fp32; how many summaries (up to case and spacing) and topic sets differ, newsbrief
against the peer and fast against newsbrief; the ceiling on the fp32 ratio that the encoder pass alone
sets (timed once per round, after the others), and what the fact guard costs (target: at most 10% of
articles/s).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from articles import real_articles
from newsbrief.infer.engine import NewsBrief

ORDERS = [("newsbrief", "+guard", "fast"), ("+guard", "fast", "newsbrief"), ("fast", "newsbrief", "+guard"),
          ("newsbrief", "fast", "+guard"), ("fast", "+guard", "newsbrief"), ("+guard", "newsbrief", "fast")]
"""The order of NewsBrief's sides after the peer, round by round: each three rounds put every side right after
the peer once, and the six together run every pair in either order three times."""


@torch.no_grad()
def hf_loop_briefs(briefer: NewsBrief, texts: list[str], batch_size: int) -> tuple[list[str], np.ndarray]:
    settings = briefer.generation
    model, tokenizer = briefer.model, briefer.tokenizer

    def batches():  # input order, each padded to its longest article
        for start in range(0, len(texts), batch_size):
            yield tokenizer(texts[start:start + batch_size], truncation=True, padding=True,
                            max_length=briefer.window.max_length, return_tensors="pt",
                            return_token_type_ids=False).to(briefer.device)

    summaries = []
    for batch in batches():
        generated = model.seq2seq.generate(**batch, max_new_tokens=settings.max_new_tokens,
                                           min_new_tokens=settings.min_new_tokens, num_beams=settings.num_beams,
                                           no_repeat_ngram_size=settings.no_repeat_ngram_size,
                                           repetition_penalty=settings.repetition_penalty, do_sample=False)
        summaries.extend(s.strip() for s in tokenizer.batch_decode(generated, skip_special_tokens=True))
    probs = [model.topic_probs(model.pooled_states(batch["input_ids"], batch["attention_mask"])).float().cpu().numpy()
             for batch in batches()]
    return summaries, np.concatenate(probs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a NewsBrief model directory")
    parser.add_argument("--articles", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=6,
                        help="timed rounds; NewsBrief's three sides take turns at the slot after the peer, balanced "
                             "over 3 or 6 rounds (default 6)")
    parser.add_argument("--warmup", type=int, default=32, help="articles each side briefs untimed first")
    args = parser.parse_args()

    texts = [r["text"] for r in real_articles(args.articles)]
    # the peer reads each article's first window only; fp32 for the peer and for the identical-output side,
    # dtype="auto" (bf16 on a CPU with bf16 instructions) for the fast side
    inference = {"batch_size": args.batch_size, "long_articles": "truncate"}
    briefer = NewsBrief.from_pretrained(Path(args.model), device="cpu", dtype="fp32", inference=inference)
    fast = NewsBrief.from_pretrained(Path(args.model), device="cpu", dtype="auto", inference=inference)
    print(f"model {args.model}; {len(texts)} articles; fp32, and dtype=\"auto\" = {fast.model.dtype} for the fast "
          f"side; batch {args.batch_size}; greedy, max {briefer.generation.max_new_tokens} new tokens; "
          f"{torch.get_num_threads()} threads")

    sides = {"newsbrief": lambda batch: briefer.predict(batch, fact_guard=False),
             "+guard": lambda batch: briefer.predict(batch, fact_guard=True),
             "fast": lambda batch: fast.predict(batch, fact_guard=False),
             "hf-loop": lambda batch: hf_loop_briefs(briefer, batch, args.batch_size)}
    for brief in sides.values():
        brief(texts[:args.warmup])
    seconds: dict[str, list[float]] = {name: [] for name in [*sides, "encoder"]}
    outputs = {}
    for round_ in range(args.rounds):
        for name in ("hf-loop", *ORDERS[round_ % len(ORDERS)]):
            started = time.perf_counter()
            outputs[name] = sides[name](texts)
            seconds[name].append(time.perf_counter() - started)
            print(f"round {round_} {name:10s} {seconds[name][-1]:8.1f} s  {len(texts) / seconds[name][-1]:8.2f} "
                  f"articles/s", flush=True)
        started = time.perf_counter()
        briefer.topic_scores(texts)  # the encoder pass alone: what any engine with exact outputs must still run
        seconds["encoder"].append(time.perf_counter() - started)
    ours, guarded, faster, (theirs, their_probs) = (outputs["newsbrief"], outputs["+guard"], outputs["fast"],
                                                    outputs["hf-loop"])

    differ = [i for i, (b, s) in enumerate(zip(ours, theirs)) if same_words(b.summary) != same_words(s)]
    their_topics = [{briefer.labels.names[j] for j in np.flatnonzero(p >= briefer.thresholds)} for p in their_probs]
    topics_differ = sum({label for label, _ in b.topics} != t for b, t in zip(ours, their_topics))
    print(f"summaries that differ: {len(differ)} of {len(texts)} ({100 * len(differ) / len(texts):.1f}%)"
          + (f"; first: #{differ[0]}: {ours[differ[0]].summary!r} vs {theirs[differ[0]]!r}" if differ else ""))
    print(f"topic sets that differ: {topics_differ} of {len(texts)}")
    fast_differ = sum(same_words(a.summary) != same_words(b.summary) for a, b in zip(faster, ours))
    fast_topics_differ = sum({label for label, _ in a.topics} != {label for label, _ in b.topics}
                             for a, b in zip(faster, ours))
    print(f"fast ({fast.model.dtype}) against newsbrief fp32: {fast_differ} of {len(texts)} summaries and "
          f"{fast_topics_differ} topic sets differ (allowed: quality is judged by `newsbrief evaluate --dtype bf16 "
          f"--baseline-dtype fp32`, not by identical tokens)")
    for side, target in (("newsbrief", "fp32, identical outputs; target >= 3"),
                         ("fast", f"{fast.model.dtype}; target >= 2.5")):
        ratios = [hf / mine for hf, mine in zip(seconds["hf-loop"], seconds[side])]
        print(f"ratio {side}/hf-loop: median {statistics.median(ratios):.2f} (range {min(ratios):.2f}-"
              f"{max(ratios):.2f} over {args.rounds} rounds; {target})")
    ceilings = [hf / encoder for hf, encoder in zip(seconds["hf-loop"], seconds["encoder"])]
    encoder_share = statistics.median(e / n for e, n in zip(seconds["encoder"], seconds["newsbrief"]))
    print(f"encoder pass alone: median {statistics.median(seconds['encoder']):.1f} s, {100 * encoder_share:.0f}% of "
          f"newsbrief; with decoding free, the ratio could reach {statistics.median(ceilings):.2f}")
    guard_costs = [1 - nb / guard for nb, guard in zip(seconds["newsbrief"], seconds["+guard"])]
    changed = sum(a.summary != b.summary for a, b in zip(ours, guarded))
    print(f"fact guard: median {100 * statistics.median(guard_costs):.1f}% fewer articles/s (range "
          f"{100 * min(guard_costs):.1f}-{100 * max(guard_costs):.1f}); {changed} of {len(texts)} summaries changed, "
          f"{sum(b.guard_fallback for b in guarded)} fell back")


def same_words(summary: str) -> str:
    """A summary with case and spaces removed: NewsBrief gives a WordPiece model's summary the article's own
    case and spacing (infer/spelling.py), which plain decoding lacks; the tokens are what must match."""
    return "".join(summary.lower().split())


if __name__ == "__main__":
    main()
