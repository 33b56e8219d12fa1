"""The stages of the Ray job between reading and writing: ids made unique, ids done dropped, briefing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from ray.data import Dataset

from newsbrief.infer.engine import load_briefer
from newsbrief.infer.ray_engine.inputs import kept_of, rows_table, table_rows
from newsbrief.infer.readers import Row, as_duplicate
from newsbrief.infer.records import brief_records, records_table


class BriefPredictor:
    """What each actor runs: the model, loaded once, turning blocks of rows into blocks of records."""

    def __init__(self, model: str | Path | None, **load: Any):
        self.briefer = load_briefer(model, **load)

    def __call__(self, rows: pa.Table) -> pa.Table:
        return records_table(brief_records(self.briefer, table_rows(rows)), kept_of(rows))


@dataclass
class IdScan:
    rows: int = 0
    repeated: dict[str, int] = field(default_factory=dict)
    """Ids on more than one row -> the position of the first of them, the one row that keeps the id."""
    skipped: int = 0
    """Rows whose key (after repeats became errors under their `where`) the output already holds."""


def scan_ids(rows: Dataset, done: set[str]) -> IdScan:
    scan = IdScan()
    first: dict[str, int] = {}
    repeated: set[str] = set()
    maybe_done: list[tuple[Row, int]] = []
    for batch in rows.select_columns(["id", "where", "position"]).iter_batches(batch_format="pyarrow"):
        for id_, where, position in zip(*(batch.column(c).to_pylist() for c in ("id", "where", "position"))):
            scan.rows += 1
            if id_ is not None:
                if id_ in first:
                    repeated.add(id_)
                    first[id_] = min(first[id_], position)  # blocks come in any order
                else:
                    first[id_] = position
            if id_ in done or where in done:
                maybe_done.append((Row(where, id_), position))
    scan.repeated = {id_: first[id_] for id_ in repeated}
    scan.skipped = sum(unique(row, position, scan.repeated).key in done for row, position in maybe_done)
    return scan


def unique(row: Row, position: int, repeated: dict[str, int]) -> Row:
    """The row, or its error record when an earlier row holds its id (readers.flag_duplicates' rule)."""
    return as_duplicate(row) if repeated.get(row.id, position) != position else row


def pending_rows(batch: pa.Table, repeated: dict[str, int], done: set[str]) -> pa.Table:
    """The rows left to brief, ids made unique."""
    rows, positions = [], []
    for row, position in zip(table_rows(batch), batch.column("position").to_pylist()):
        row = unique(row, position, repeated)
        if row.key not in done:
            rows.append(row)
            positions.append(position)
    return rows_table(rows, positions, kept_of(batch))
