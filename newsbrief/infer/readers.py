"""Inputs of `newsbrief predict`: the files an --input names, read as a stream of rows.

A row is an article to brief or a record that cannot be briefed, with the reason. Its `where`
("articles.jsonl:17": the file, relative to the input's folder, then the line number, or the row
number for Parquet) starts its error message and is its id when the record has none, so that every
run gives a record the same id. Files are read line by line or batch by batch, never held whole.
"""

from __future__ import annotations

import csv
import glob
import json
import re
from dataclasses import dataclass, field
from itertools import takewhile
from pathlib import Path, PurePath
from typing import Any, BinaryIO, Callable, ContextManager, Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from newsbrief.infer.article_text import EMPTY, is_blank
from newsbrief.infer.job_errors import InputError, fatal

INPUT_SUFFIXES = (".jsonl", ".csv", ".parquet")
PARQUET_BATCH = 64
"""Rows per Parquet record batch: articles can be megabytes each."""
CSV_FIELD_LIMIT = 2**31 - 1
"""The csv module refuses fields over 128 KiB by default; an article can be megabytes."""
WHERE_FORM = re.compile(r".+\.(jsonl|csv|parquet):[0-9]+", re.IGNORECASE)
"""The form of a `where`, the id of a record without one: no other record may take such an id."""


@dataclass
class InputFile:
    path: PurePath
    """A local path, or for the Ray engine one on the filesystem of an object-store URI."""
    name: str
    """The path relative to the --input's folder: the start of every row's `where`."""


@dataclass
class Row:
    where: str
    id: str | None = None
    """The record's own id; None when it has none."""
    text: str = ""
    problem: str | None = None
    """Why the row cannot be briefed; None for an article."""
    kept: dict[str, str | None] = field(default_factory=dict)
    """The input columns that --keep-columns names, as text (`as_text`); None where the row has none."""

    @property
    def key(self) -> str:
        return self.id if self.id is not None else self.where


def expand_inputs(spec: str, exclude: Iterable[Path] = ()) -> list[InputFile]:
    """The files of known formats that --input names (a file, a folder, or a glob), sorted.

    Files in `exclude` (or under it) are left out, so that an output inside an input folder is
    never read back as input.
    """
    excluded = [p.resolve() for p in exclude]
    if _is_glob(spec):
        root = Path(*takewhile(lambda part: not _is_glob(part), Path(spec).parts))
        paths = [Path(p) for p in glob.glob(spec, recursive=True)]
    elif Path(spec).is_dir():
        root, paths = Path(spec), list(Path(spec).iterdir())
    elif Path(spec).is_file():
        if Path(spec).suffix.lower() not in INPUT_SUFFIXES:
            raise InputError(f"--input: {spec}: not a {_formats()} file")
        root, paths = Path(spec).parent, [Path(spec)]
    else:
        raise InputError(f"--input: no such file or folder: {spec}")
    chosen = sorted(p for p in paths if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES
                    and not any(p.resolve() == e or e in p.resolve().parents for e in excluded))
    if not chosen:
        raise InputError(f"--input: no {_formats()} files in {spec}")
    return [InputFile(p, p.relative_to(root).as_posix()) for p in chosen]


def read_rows(files: list[InputFile], id_column: str, text_column: str, keep: tuple[str, ...] = ()) -> Iterator[Row]:
    """Every row of every file, in order; a file that cannot be opened or read stops the job."""
    for file in files:
        with reading(file), open(file.path, "rb") as stream:
            yield from file_rows(file, stream, id_column, text_column, keep)


def file_rows(file: InputFile, stream: BinaryIO, id_column: str, text_column: str,
              keep: tuple[str, ...] = ()) -> Iterator[Row]:
    """The rows of one opened file (Parquet needs a seekable stream), with the `keep` columns (kept_columns.py
    settled them): the Ray engine's readers open files on other filesystems and call this too, so that
    both engines see the same rows."""
    return _READERS[file.path.suffix.lower()](file, stream, id_column, text_column, keep)


def reading(file: InputFile) -> ContextManager[None]:
    """An error reading a file (Arrow's for Parquet included) is fatal, and names the file."""
    return fatal(InputError, f"cannot read {file.path}", also=(pa.ArrowException,))


def flag_duplicates(rows: Iterable[Row]) -> Iterator[Row]:
    """Rows whose id came earlier become errors, under their `where`, so that ids stay unique."""
    seen: set[str] = set()
    for row in rows:
        if row.id is not None:
            if row.id in seen:
                row = as_duplicate(row)
            else:
                seen.add(row.id)
        yield row


def as_duplicate(row: Row) -> Row:
    """A row whose id an earlier row holds: an error record under its own `where`."""
    return Row(row.where, problem=f"duplicate id {row.id!r}", kept=row.kept)


def read_jsonl(file: InputFile, lines: BinaryIO, id_column: str, text_column: str,
               keep: tuple[str, ...]) -> Iterator[Row]:
    # Bytes, decoded line by line: one undecodable line is an error record, not the end of the file.
    for number, raw in enumerate(lines, start=1):
        where = f"{file.name}:{number}"
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            yield Row(where, problem=f"not UTF-8 (byte {error.start + 1} of the line)")
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield Row(where, problem=f"invalid JSON ({error.msg}, column {error.colno})")
            continue
        except RecursionError:
            yield Row(where, problem="invalid JSON (nested too deeply)")
            continue
        if not isinstance(record, dict):
            yield Row(where, problem="not a JSON object")
            continue
        row = checked_row(where, record.get(id_column), record.get(text_column), id_column, text_column)
        row.kept = {name: as_text(record.get(name)) for name in keep}
        yield row


def read_csv(file: InputFile, stream: BinaryIO, id_column: str, text_column: str,
             keep: tuple[str, ...]) -> Iterator[Row]:
    csv.field_size_limit(CSV_FIELD_LIMIT)
    lines = _CsvLines(stream)
    # strict: a quote that never closes is an error at the end of the file, not a last field that
    # swallowed every row after it (and a stray character after a closing quote is an error too).
    reader = csv.reader(lines, strict=True)
    header = next(reader, None)
    if header is None:
        return
    if text_column not in header:
        raise _no_text_column(file, text_column, header)
    lines.undecodable.clear()  # bad bytes in the header are not a record's
    text_at = header.index(text_column)
    id_at = header.index(id_column) if id_column in header else None
    kept_at = {name: header.index(name) if name in header else None for name in keep}
    while True:
        start, start_offset = lines.number + 1, lines.offset
        where = f"{file.name}:{start}"
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            lines.undecodable.clear()
            if lines.number > start and stream.seekable():
                # A quote opened on line `start` ran on, over line ends, into an error (or the end of the
                # file): that line is the error, and the lines after it are read again as the records
                # they look like.
                yield Row(where, problem=f"invalid CSV (a quote opened on this line never closes: {error})")
                stream.seek(start_offset)
                lines = _CsvLines(stream, start, start_offset + len(stream.readline()))
                reader = csv.reader(lines, strict=True)
            else:
                yield Row(where, problem=f"invalid CSV ({error})")
            continue
        if lines.undecodable:
            lines.undecodable.clear()
            yield Row(where, problem="not UTF-8")
        elif fields:  # an empty list is a blank line
            row = checked_row(where, _field(fields, id_at), _field(fields, text_at), id_column, text_column)
            row.kept = {name: _field(fields, at) for name, at in kept_at.items()}
            yield row


class _CsvLines:
    """A CSV file's lines, decoded one by one, counted in lines and bytes (where a record starts), with
    the numbers of the lines that were not UTF-8 in the record being parsed."""

    def __init__(self, stream: BinaryIO, number: int = 0, offset: int = 0):
        self.stream, self.number, self.offset = stream, number, offset
        self.undecodable: set[int] = set()

    def __iter__(self) -> "_CsvLines":
        return self

    def __next__(self) -> str:
        raw = self.stream.readline()
        if not raw:
            raise StopIteration
        self.number += 1
        self.offset += len(raw)
        try:
            return raw.decode("utf-8-sig" if self.number == 1 else "utf-8")
        except UnicodeDecodeError:
            self.undecodable.add(self.number)
            return raw.decode("utf-8", errors="replace")


def read_parquet(file: InputFile, source: BinaryIO, id_column: str, text_column: str,
                 keep: tuple[str, ...]) -> Iterator[Row]:
    parquet = pq.ParquetFile(source)
    names = parquet.schema_arrow.names
    if text_column not in names:
        raise _no_text_column(file, text_column, names)
    columns = list(dict.fromkeys(c for c in (id_column, text_column, *keep) if c in names))
    number = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH, columns=columns):
        texts = batch.column(text_column).to_pylist()
        ids = batch.column(id_column).to_pylist() if id_column in names else [None] * len(texts)
        kept = [[(name, as_text(v)) for v in batch.column(name).to_pylist()] if name in names
                else [(name, None)] * len(texts) for name in keep]
        for record_id, text, *values in zip(ids, texts, *kept):
            number += 1
            row = checked_row(f"{file.name}:{number}", record_id, text, id_column, text_column)
            row.kept = dict(values)
            yield row


_READERS: dict[str, Callable[[InputFile, BinaryIO, str, str, tuple[str, ...]], Iterator[Row]]] = {
    ".jsonl": read_jsonl, ".csv": read_csv, ".parquet": read_parquet}


def checked_row(where: str, record_id: Any, text: Any, id_column: str, text_column: str) -> Row:
    """The checks every format shares: a usable id (or none) and a non-empty string text."""
    if record_id is not None and (isinstance(record_id, bool) or not isinstance(record_id, (str, int, float))):
        return Row(where, problem=f"{id_column!r} is not a string or a number")
    own_id = None if record_id is None or record_id == "" else str(record_id)
    if own_id is not None and own_id != where and WHERE_FORM.fullmatch(own_id):
        return Row(where, problem=f"{id_column!r} {own_id!r} has the form file:line that records without an id "
                                  "get as theirs; give it another")
    if text is None:
        return Row(where, own_id, problem=f"no {text_column!r}")
    if not isinstance(text, str):
        return Row(where, own_id, problem=f"{text_column!r} is not a string")
    if is_blank(text):
        return Row(where, own_id, problem=f"{text_column!r} {EMPTY}")
    return Row(where, own_id, text)


def as_text(value: Any) -> str | None:
    """A kept value as text: a string as it is, None as None, anything else as JSON (dates as their str)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _no_text_column(file: InputFile, text_column: str, columns: list[str]) -> InputError:
    return InputError(f"{file.path}: no column {text_column!r} (--text-column); columns are {columns}")


def _field(fields: list[str], at: int | None) -> str | None:
    return fields[at] if at is not None and at < len(fields) else None


def _is_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def _formats() -> str:
    return ", ".join(INPUT_SUFFIXES[:-1]) + " or " + INPUT_SUFFIXES[-1]
