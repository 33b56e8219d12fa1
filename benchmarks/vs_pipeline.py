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

Prints articles/s for each, the ratio (target: at least 3x), how many summaries (up to case and
spacing) and topic sets differ, the ceiling on the ratio that the encoder pass alone sets, and what
the fact guard costs (target: at most 10% of articles/s).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from articles import real_articles
from newsbrief.infer.engine import NewsBrief


@torch.no_grad()
def hf_loop_briefs(briefer: NewsBrief, texts: list[str], batch_size: int) -> tuple[list[str], np.ndarray]:
    settings = briefer.config.generation
    model, tokenizer = briefer.model, briefer.tokenizer

    def batches():  # input order, each padded to its longest article
        for start in range(0, len(texts), batch_size):
            yield tokenizer(texts[start:start + batch_size], truncation=True, padding=True,
                            max_length=briefer.config.data.max_source_length, return_tensors="pt",
                            return_token_type_ids=False)

    summaries = []
    for batch in batches():
        generated = model.seq2seq.generate(**batch, max_new_tokens=settings.max_new_tokens,
                                           min_new_tokens=settings.min_new_tokens, num_beams=settings.num_beams,
                                           no_repeat_ngram_size=settings.no_repeat_ngram_size,
                                           repetition_penalty=settings.repetition_penalty, do_sample=False)
        summaries.extend(s.strip() for s in tokenizer.batch_decode(generated, skip_special_tokens=True))
    probs = [model.topic_probs(model.pooled_states(batch["input_ids"], batch["attention_mask"])).numpy()
             for batch in batches()]
    return summaries, np.concatenate(probs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a NewsBrief model directory")
    parser.add_argument("--articles", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    texts = [r["text"] for r in real_articles(args.articles)]
    briefer = NewsBrief.from_pretrained(Path(args.model), device="cpu")
    briefer.config.inference.batch_size = args.batch_size
    briefer.config.inference.long_articles = "truncate"  # the peer reads each article's first window only
    print(f"model {args.model}; {len(texts)} articles; batch {args.batch_size}; greedy, "
          f"max {briefer.config.generation.max_new_tokens} new tokens; {torch.get_num_threads()} threads")

    started = time.perf_counter()
    ours = briefer.predict(texts, fact_guard=False)
    newsbrief_seconds = time.perf_counter() - started
    started = time.perf_counter()
    guarded = briefer.predict(texts, fact_guard=True)
    guarded_seconds = time.perf_counter() - started
    started = time.perf_counter()
    theirs, their_probs = hf_loop_briefs(briefer, texts, args.batch_size)
    hf_seconds = time.perf_counter() - started
    started = time.perf_counter()
    briefer.topic_scores(texts)  # the encoder pass alone: what any engine with exact outputs must still run
    encoder_seconds = time.perf_counter() - started

    differ = [i for i, (b, s) in enumerate(zip(ours, theirs)) if same_words(b.summary) != same_words(s)]
    their_topics = [{briefer.labels.names[j] for j in np.flatnonzero(p >= briefer.thresholds)} for p in their_probs]
    topics_differ = sum({label for label, _ in b.topics} != t for b, t in zip(ours, their_topics))
    for name, seconds in (("newsbrief", newsbrief_seconds), ("+guard", guarded_seconds), ("hf-loop", hf_seconds)):
        print(f"{name:10s} {seconds:8.1f} s  {len(texts) / seconds:8.2f} articles/s")
    print(f"summaries that differ: {len(differ)} of {len(texts)} ({100 * len(differ) / len(texts):.1f}%)"
          + (f"; first: #{differ[0]}: {ours[differ[0]].summary!r} vs {theirs[differ[0]]!r}" if differ else ""))
    print(f"topic sets that differ: {topics_differ} of {len(texts)}")
    print(f"ratio newsbrief/hf-loop: {hf_seconds / newsbrief_seconds:.2f}")
    changed = sum(a.summary != b.summary for a, b in zip(ours, guarded))
    print(f"fact guard: {100 * (1 - newsbrief_seconds / guarded_seconds):.1f}% fewer articles/s; "
          f"{changed} of {len(texts)} summaries changed, {sum(b.guard_fallback for b in guarded)} fell back")
    print(f"encoder pass alone: {encoder_seconds:.1f} s, {100 * encoder_seconds / newsbrief_seconds:.0f}% of newsbrief; "
          f"with decoding free, the ratio could reach {hf_seconds / encoder_seconds:.2f}")


def same_words(summary: str) -> str:
    """A summary with case and spaces removed: NewsBrief gives a WordPiece model's summary the article's own
    case and spacing (infer/spelling.py), which plain decoding lacks; the tokens are what must match."""
    return "".join(summary.lower().split())


if __name__ == "__main__":
    main()
