"""The stages of the Ray job between reading and writing: ids made unique, ids done dropped, briefing.

Tokenizing runs before, in its own CPU stage (encoded.py); what is left here is the model's part. The
actor also respells WordPiece summaries and makes the records, as these cannot leave it cleanly: the
engine spells each summary inside generation, where the fact guard reads the article's spelling and the
text decides whether to decode again with beam search; a CPU stage after the actors would need the
engine's token ids and that retry logic again. The records themselves are a few dicts per article.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from ray.data import Dataset

from newsbrief.infer.engine import load_briefer
from newsbrief.infer.ray_engine.encoded import block_windows
from newsbrief.infer.ray_engine.inputs import kept_of, rows_table, table_rows
from newsbrief.infer.readers import Row, as_duplicate
from newsbrief.infer.records import records_table, rows_records


class BriefPredictor:
    """What each actor runs: the model, loaded once, turning blocks of encoded rows (encoded.py) into blocks
    of records. The block's articles are one chunk of the engine's stream: sorted by length into the same
    token-budget batches, each padded as the model takes it. Ray Data hands each actor its next block
    while it works on this one (two tasks in flight per actor by default), and Ray's write tasks write
    the records: the work the local job's background threads do is not left here."""

    def __init__(self, model: str | Path | None, **load: Any):
        self.briefer = load_briefer(model, **load)

    def __call__(self, block: pa.Table) -> pa.Table:
        rows = table_rows(block)
        briefs = self.briefer.brief_encoded([row.key for row in rows if row.problem is None], block_windows(block))
        return records_table(rows_records(rows, briefs), kept_of(block))


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
