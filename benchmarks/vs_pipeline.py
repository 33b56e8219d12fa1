"""NewsBrief against the way users brief articles today: a Hugging Face summarization pipeline, then a
second pass for topics. Same model, same 512 real articles, same greedy settings, one run on CPU.

  pipeline   `pipeline("summarization", batch_size=B)` over the articles in input order (each batch
             padded to its longest article), then a second encoder pass in batches of B for the topic
             head, as a text-classification pipeline would run it
  newsbrief  `NewsBrief.predict`: articles sorted by length and packed to a token budget, one encoder
             pass feeding both the topic head and generation

Prints articles/s for both, the ratio (target: at least 3x), and how many summaries differ.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from transformers import pipeline

from articles import real_articles
from newsbrief import NewsBrief


def pipeline_briefs(briefer: NewsBrief, texts: list[str], batch_size: int) -> tuple[list[str], np.ndarray]:
    settings = briefer.config.generation
    summarizer = pipeline("summarization", model=briefer.model.seq2seq, tokenizer=briefer.tokenizer,
                          device=briefer.device, batch_size=batch_size)
    outputs = summarizer(texts, truncation=True, max_length=None, max_new_tokens=settings.max_new_tokens,
                         min_new_tokens=settings.min_new_tokens, num_beams=settings.num_beams,
                         no_repeat_ngram_size=settings.no_repeat_ngram_size, do_sample=False)
    summaries = [o["summary_text"].strip() for o in outputs]
    probs = []
    for start in range(0, len(texts), batch_size):
        batch = briefer.tokenizer(texts[start:start + batch_size], truncation=True, padding=True,
                                  max_length=briefer.config.data.max_source_length, return_tensors="pt",
                                  return_token_type_ids=False)
        probs.append(briefer.model.topic_probs(batch["input_ids"], batch["attention_mask"]).numpy())
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
    print(f"model {args.model}; {len(texts)} articles; batch {args.batch_size}; greedy, "
          f"max {briefer.config.generation.max_new_tokens} new tokens; {torch.get_num_threads()} threads")

    started = time.perf_counter()
    ours = briefer.predict(texts)
    newsbrief_seconds = time.perf_counter() - started
    started = time.perf_counter()
    theirs, their_probs = pipeline_briefs(briefer, texts, args.batch_size)
    pipeline_seconds = time.perf_counter() - started

    differ = [i for i, (b, s) in enumerate(zip(ours, theirs)) if b.summary != s]
    their_topics = [{briefer.labels.names[j] for j in np.flatnonzero(p >= briefer.thresholds)} for p in their_probs]
    topics_differ = sum({label for label, _ in b.topics} != t for b, t in zip(ours, their_topics))
    for name, seconds in (("newsbrief", newsbrief_seconds), ("pipeline", pipeline_seconds)):
        print(f"{name:10s} {seconds:8.1f} s  {len(texts) / seconds:8.2f} articles/s")
    print(f"summaries that differ: {len(differ)} of {len(texts)} ({100 * len(differ) / len(texts):.1f}%)"
          + (f"; first: #{differ[0]}: {ours[differ[0]].summary!r} vs {theirs[differ[0]]!r}" if differ else ""))
    print(f"topic sets that differ: {topics_differ} of {len(texts)}")
    print(f"ratio newsbrief/pipeline: {pipeline_seconds / newsbrief_seconds:.2f}")


if __name__ == "__main__":
    main()
