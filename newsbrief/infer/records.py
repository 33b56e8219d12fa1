"""The output record of `newsbrief predict`, its schema and its tally: what every writer and both engines share.

A brief is `{"id", "summary", "topics", "truncated", "guard_fallback"}`, with topics as [label, score]
pairs; an error record is `{"id", "error"}`, its error naming the file and line. SCHEMA types them for
Parquet (a brief leaves `error` null, an error record everything but `id`); COLUMNS names them for CSV.
Input columns kept with `--keep-columns` (readers.py reads them as text) follow, in both kinds of
record, so that results join back to the user's rows: `output_schema` adds them as string columns.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator

import pyarrow as pa

if TYPE_CHECKING:
    from newsbrief.infer.engine import Brief, NewsBrief
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


def rows_records(rows: list[Row], briefs: list[Brief]) -> list[dict]:
    """Output records for rows, in input order, given the briefs of those without a problem, in order:
    error records for the rest. The Ray engine's actors make their records here."""
    articles = iter(briefs)
    return [_error_record(row) if row.problem is not None else _brief_record(row, next(articles)) for row in rows]


def stream_records(briefer: NewsBrief, rows: Iterator[Row], chunk_size: int) -> Iterator[dict]:
    """Output records for a stream of rows, in input order, through one stream of the engine
    (`predict_stream`, `chunk_size` articles sorted and batched together), which tokenizes the next chunk
    while the model works on this one: what the local batch job writes."""
    waiting: deque[Row] = deque()  # rows taken by the engine, their records not yet made
    failed: list[Exception] = []

    def articles() -> Iterator[dict]:
        try:
            for row in rows:
                waiting.append(row)
                if row.problem is None:
                    # The text alone: the row's key stays here, as the engine would refuse the key of a row
                    # without an id ("news.jsonl:8") as an id that forges a file:line.
                    yield row.text
        except Exception as error:  # a fatal input error (an unreadable file) ends the stream here, and
            failed.append(error)     # is raised once the rows read before it have their records

    for brief in briefer.predict_stream(articles(), chunk_size=chunk_size):
        while waiting[0].problem is not None:
            yield _error_record(waiting.popleft())
        yield _brief_record(waiting.popleft(), brief)
    while waiting:  # rows with a problem after the last article
        yield _error_record(waiting.popleft())
    if failed:
        raise failed[0]


def _error_record(row: Row, problem: str | None = None) -> dict:
    """The record of a row that has no brief: its reader's problem, or `problem` (the engine's)."""
    return {"id": row.key, "error": f"{row.where}: {problem or row.problem}", **_kept(row)}


def _brief_record(row: Row, brief: Brief) -> dict:
    if brief.error is not None:  # the engine refused the item: an error record says why, never an empty brief
        return _error_record(row, brief.error)
    return {"id": row.key, "summary": brief.summary, "topics": [list(t) for t in brief.topics],
            "truncated": brief.truncated, "guard_fallback": brief.guard_fallback, **_kept(row)}


def _kept(row: Row) -> dict:
    return {name: value for name, value in row.kept.items() if value is not None}


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
    skipped: int = 0  # rows whose id the output already held (a rerun)
    truncated: int = 0  # briefed articles longer than the model reads (the engine's `Brief.truncated`)
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
