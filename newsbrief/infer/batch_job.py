"""`newsbrief predict`: brief a JSONL file of articles into a JSONL file, in bounded chunks.

Every input line comes out once: as a briefing, or as an error record naming the line and the reason.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from tqdm.auto import tqdm

from newsbrief.infer.engine import NewsBrief

CHUNK = 256


def read_articles(path: Path) -> Iterator[dict]:
    """Records with id and text, or error records, one per line; the file is never held whole."""
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                yield {"id": f"line-{number}", "error": f"line {number}: invalid JSON ({error.msg})"}
                continue
            if not isinstance(record, dict):
                yield {"id": f"line-{number}", "error": f"line {number}: expected a JSON object"}
                continue
            record_id = str(record.get("id", f"line-{number}"))
            text = record.get("text")
            if not isinstance(text, str) or not text.strip():
                yield {"id": record_id, "error": f"line {number}: missing, empty or non-string 'text'"}
                continue
            yield {"id": record_id, "text": text}


def predict_file(briefer: NewsBrief, input_path: Path, output_path: Path) -> dict:
    counts = {"briefed": 0, "errors": 0}
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with open(output_path, "w", encoding="utf-8") as out, tqdm(desc="briefing", unit=" articles") as progress:
        for chunk in _chunks(read_articles(input_path), CHUNK):
            good = [r for r in chunk if "error" not in r]
            briefs = iter(briefer.predict(good))  # in input order
            for record in chunk:
                if "error" in record:
                    counts["errors"] += 1
                    out.write(json.dumps(record) + "\n")
                else:
                    counts["briefed"] += 1
                    out.write(json.dumps(asdict(next(briefs))) + "\n")
            progress.update(len(chunk))
    return counts


def _chunks(items: Iterator[dict], size: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
