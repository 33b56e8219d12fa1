"""NewsBrief against the way users brief articles with Hugging Face today: batched `generate` in input
order, then a second pass for topics. Same model, same 512 real articles, same greedy settings, one run
on CPU.

  hf-loop    what `pipeline("summarization", batch_size=B)` did (transformers 5 removed that task: "The
             task summarization has been removed from transformers"): batches of B articles in input
             order, each padded to its longest article, `model.generate(**inputs)`, decode; then a second
             encoder pass in batches of B for the topic head, as a text-classification pipeline runs it
  newsbrief  `NewsBrief.predict`: articles sorted by length and packed to a token budget, one encoder
             pass feeding both the topic head and generation; without the fact guard, which the peer lacks
  +guard     the same with `fact_guard=True` (names and numbers from the article only)

Each side first briefs `--warmup` articles untimed (kernels, allocator and caches warm), then the
three are timed over `--rounds` rounds (default 4): the peer first in each round, then NewsBrief without
and with the guard, in turns first. On an idle 2-core machine the guard's cost came out 20-23% in rounds
where it ran right after the peer and 5-16% in the others (two runs, session 12): whichever side follows
the peer is slowed, so both take that slot equally often. Prints articles/s for each per
round, the median ratio with its range (target: at least 3x), how many summaries (up to case and
spacing) and topic sets differ, the ceiling on the ratio that the encoder pass alone sets (timed once
per round, after the others), and what the fact guard costs (target: at most 10% of articles/s).
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
    parser.add_argument("--rounds", type=int, default=4,
                        help="timed rounds; NewsBrief's two sides take turns at the slot after the peer (default 4)")
    parser.add_argument("--warmup", type=int, default=32, help="articles each side briefs untimed first")
    args = parser.parse_args()

    texts = [r["text"] for r in real_articles(args.articles)]
    # the peer reads each article's first window only
    # fp32, as the recorded figures were: dtype="auto" would be bf16 on a CPU with bf16 instructions
    briefer = NewsBrief.from_pretrained(Path(args.model), device="cpu", dtype="fp32",
                                        inference={"batch_size": args.batch_size, "long_articles": "truncate"})
    print(f"model {args.model}; {len(texts)} articles; fp32; batch {args.batch_size}; greedy, "
          f"max {briefer.generation.max_new_tokens} new tokens; {torch.get_num_threads()} threads")

    sides = {"newsbrief": lambda batch: briefer.predict(batch, fact_guard=False),
             "+guard": lambda batch: briefer.predict(batch, fact_guard=True),
             "hf-loop": lambda batch: hf_loop_briefs(briefer, batch, args.batch_size)}
    for brief in sides.values():
        brief(texts[:args.warmup])
    seconds: dict[str, list[float]] = {name: [] for name in [*sides, "encoder"]}
    outputs = {}
    for round_ in range(args.rounds):
        for name in ("hf-loop", *(("newsbrief", "+guard") if round_ % 2 == 0 else ("+guard", "newsbrief"))):
            started = time.perf_counter()
            outputs[name] = sides[name](texts)
            seconds[name].append(time.perf_counter() - started)
            print(f"round {round_} {name:10s} {seconds[name][-1]:8.1f} s  {len(texts) / seconds[name][-1]:8.2f} "
                  f"articles/s", flush=True)
        started = time.perf_counter()
        briefer.topic_scores(texts)  # the encoder pass alone: what any engine with exact outputs must still run
        seconds["encoder"].append(time.perf_counter() - started)
    ours, guarded, (theirs, their_probs) = outputs["newsbrief"], outputs["+guard"], outputs["hf-loop"]

    differ = [i for i, (b, s) in enumerate(zip(ours, theirs)) if same_words(b.summary) != same_words(s)]
    their_topics = [{briefer.labels.names[j] for j in np.flatnonzero(p >= briefer.thresholds)} for p in their_probs]
    topics_differ = sum({label for label, _ in b.topics} != t for b, t in zip(ours, their_topics))
    print(f"summaries that differ: {len(differ)} of {len(texts)} ({100 * len(differ) / len(texts):.1f}%)"
          + (f"; first: #{differ[0]}: {ours[differ[0]].summary!r} vs {theirs[differ[0]]!r}" if differ else ""))
    print(f"topic sets that differ: {topics_differ} of {len(texts)}")
    ratios = [hf / nb for hf, nb in zip(seconds["hf-loop"], seconds["newsbrief"])]
    ceilings = [hf / encoder for hf, encoder in zip(seconds["hf-loop"], seconds["encoder"])]
    print(f"ratio newsbrief/hf-loop: median {statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f} "
          f"over {args.rounds} rounds)")
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
