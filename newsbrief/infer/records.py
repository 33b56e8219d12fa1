"""The output record of `newsbrief predict`, its schema and its tally: what every writer and both engines share.

A brief is `{"id", "summary", "topics", "truncated", "guard_fallback"}`, with topics as [label, score]
pairs; an error record is `{"id", "error"}`, its error naming the file and line. SCHEMA types them for
Parquet (a brief leaves `error` null, an error record everything but `id`); COLUMNS names them for CSV.
Input columns kept with `--keep-columns` (readers.py reads them as text) follow, in both kinds of
record, so that results join back to the user's rows: `output_schema` adds them as string columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import pyarrow as pa

if TYPE_CHECKING:
    from newsbrief.infer.engine import NewsBrief
    from newsbrief.infer.readers import Row

SCHEMA = pa.schema([
    ("id", pa.string()), ("summary", pa.string()),
    ("topics", pa.list_(pa.struct([("label", pa.string()), ("score", pa.float64())]))),
    ("truncated", pa.bool_()), ("guard_fallback", pa.bool_()), ("error", pa.string()),
])
"""A brief leaves `error` null, an error record everything but `id`."""
COLUMNS = tuple(SCHEMA.names)
"""CSV columns, those of the Parquet output; `topics` is JSON: [[label, probability], ...]."""


def output_schema(keep: tuple[str, ...] = ()) -> pa.Schema:
    """SCHEMA, then the kept input columns, as text (null where a row has none)."""
    return pa.schema([*SCHEMA, *(pa.field(name, pa.string()) for name in keep)])


def brief_records(briefer: NewsBrief, chunk: list[Row]) -> list[dict]:
    """Output records for a chunk, in input order: briefs for articles, error records for the rest.
    Both engines make their records here (the Ray engine in each actor)."""
    articles = [{"id": row.key, "text": row.text} for row in chunk if row.problem is None]
    briefs = iter(briefer.predict(articles) if articles else [])
    records = []
    for row in chunk:
        kept = {name: value for name, value in row.kept.items() if value is not None}
        if row.problem is not None:
            records.append({"id": row.key, "error": f"{row.where}: {row.problem}", **kept})
            continue
        brief = next(briefs)
        records.append({"id": row.key, "summary": brief.summary, "topics": [list(t) for t in brief.topics],
                        "truncated": brief.truncated, "guard_fallback": brief.guard_fallback, **kept})
    return records


def records_table(records: list[dict], keep: tuple[str, ...] = ()) -> pa.Table:
    """Output records (topics as [label, score] pairs) as a table in `output_schema(keep)`."""
    rows = [{**r, "topics": [{"label": label, "score": score} for label, score in r["topics"]]}
            if "topics" in r else r for r in records]
    return pa.Table.from_pylist(rows, schema=output_schema(keep))


def table_records(table: pa.Table) -> list[dict]:
    """The output records of a table in an output schema, as records_table took them."""
    records = []
    for row in table.to_pylist():
        record = {key: value for key, value in row.items() if value is not None}
        if "topics" in record:
            record["topics"] = [[topic["label"], topic["score"]] for topic in record["topics"]]
        records.append(record)
    return records


def jsonl_bytes(records: list[dict]) -> bytes:
    """Records as JSON lines, UTF-8 unescaped, each ending in a newline."""
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


@dataclass
class Counts:
    input_rows: int = 0
    briefed: int = 0
    errors: int = 0
    skipped: int = 0
    """Rows whose id the output already held (a rerun)."""
    truncated: int = 0
    """Briefed articles longer than the model reads (the engine's `Brief.truncated`)."""
    seconds: float = 0.0

    @property
    def articles_per_second(self) -> float:
        return self.briefed / self.seconds if self.seconds > 0 else 0.0

    def count(self, records: Iterable[dict]) -> None:
        """Add output records: briefs, and error records (those with an `error` that is not None)."""
        for record in records:
            if record.get("error") is not None:
                self.errors += 1
            else:
                self.briefed += 1
                self.truncated += bool(record["truncated"])
