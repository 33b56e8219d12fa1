"""Summaries that need no model, scored beside the model's on the same references.

Lead-k (the article's first k sentences) is the standard extractive baseline for news, where the
lead carries the story; the first N words match a headline's length, which is what our references
usually are.
"""

from __future__ import annotations

import re

LEAD_SENTENCES = (1, 3)
FIRST_WORDS = 10

# A sentence ends at a line break, or at . ! ? (maybe closed by a quote or bracket) before a space.
# Cruder than a trained splitter (it cuts after "Mr."), and it needs no NLTK data from the network.
_SENTENCE_END = re.compile(r"\n+|(?<=[.!?])\s+|(?<=[.!?][\"')\]])\s+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def lead(text: str, k: int) -> str:
    """The first k sentences, one per line, so that ROUGE-Lsum sees them as sentences."""
    return "\n".join(sentences(text)[:k])


def first_words(text: str, n: int = FIRST_WORDS) -> str:
    return " ".join(text.split()[:n])


def baseline_summaries(texts: list[str]) -> dict[str, list[str]]:
    """Every baseline's summaries, by the name the report gives it."""
    summaries = {f"lead_{k}": [lead(t, k) for t in texts] for k in LEAD_SENTENCES}
    summaries[f"first_{FIRST_WORDS}_words"] = [first_words(t) for t in texts]
    return summaries
