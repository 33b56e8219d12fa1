"""`newsbrief predict --keep-columns`: the input columns every output record carries, to join back on.

The columns are settled before any model loads, from each input file's columns (a CSV's header, a
Parquet schema, the keys of a JSONL file's first record): a named column that a file lacks stops the
job with a message naming both; `all` is every column of any file but the text and id columns. Values
are kept as text (strings as they are, other values as JSON), so that the kept columns have one type
in every output format and every file, whatever the inputs' formats.
"""

from __future__ import annotations

import csv
import io
import json
from typing import BinaryIO, Callable, ContextManager

import pyarrow.parquet as pq

from newsbrief.infer.job_errors import InputError, UsageError
from newsbrief.infer.readers import CSV_FIELD_LIMIT, InputFile, reading
from newsbrief.infer.records import COLUMNS

ALL = "all"


def resolve_keep(spec: str | None, files: list[InputFile], open_file: Callable[[InputFile], ContextManager[BinaryIO]],
                 id_column: str, text_column: str) -> tuple[str, ...]:
    """The kept columns, in order: those `spec` names ("a,b" or "all"), checked against every file."""
    if not spec:
        return ()
    named = [] if spec == ALL else [name.strip() for name in spec.split(",")]
    if "" in named:
        raise UsageError(f"--keep-columns: {spec!r}: an empty column name (give names separated by commas, or all)")
    found: dict[str, None] = {}
    for file in files:
        with reading(file), open_file(file) as stream:
            columns = file_columns(file, stream)
        missing = [name for name in named if name not in columns]
        if missing:
            raise InputError(f"{file.path}: no column {missing[0]!r} (--keep-columns); columns are {columns}")
        found.update(dict.fromkeys(columns))
    keep = named or [name for name in found if name not in (id_column, text_column)]
    clashing = [name for name in keep if name in COLUMNS]
    if clashing:
        raise UsageError(f"--keep-columns: {clashing[0]!r} is also a column of the output records; "
                         f"name the columns to keep without it")
    return tuple(dict.fromkeys(keep))


def file_columns(file: InputFile, stream: BinaryIO) -> list[str]:
    suffix = file.path.suffix.lower()
    if suffix == ".parquet":
        return pq.ParquetFile(stream).schema_arrow.names
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    if suffix == ".csv":
        csv.field_size_limit(CSV_FIELD_LIMIT)
        return next(csv.reader(text), [])
    for line in text:  # JSONL: the first record that is a JSON object names the columns
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            return list(record)
    return []

