"""Real articles for the inference benchmarks: the same ones for every script and every peer."""

from __future__ import annotations

import json
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SOURCES = (("bbc_news_summary.jsonl", ("test", "validation")), ("reuters21578_modapte.jsonl", ("test",)))


def real_articles(count: int) -> list[dict]:
    """The first `count` records by id, with a non-empty body, of BBC News Summary test+validation and
    Reuters-21578 test: full-length articles (BBC ~400 words), none seen in training."""
    records = []
    for name, splits in SOURCES:
        path = DATA / name
        if not path.is_file():
            sys.exit(f"benchmark: {path} is missing; the benchmarks read the shared corpora in {DATA}")
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                if record["split"] in splits and record["text"].strip():
                    records.append({"id": record["id"], "text": record["text"]})
    records.sort(key=lambda r: r["id"])
    if len(records) < count:
        sys.exit(f"benchmark: only {len(records)} articles available, {count} asked for")
    return records[:count]
