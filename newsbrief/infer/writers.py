"""Outputs of `newsbrief predict`, one per format, that a rerun continues instead of starting over.

Each output knows, once opened, the ids it already holds (`done`), takes records a chunk at a time
(`write`), is completed by `finish` and released by `close`. JSONL and CSV (here) are appended to,
and every chunk is flushed and fsynced, so a `kill -9` at any moment loses at most the chunk being
written and can leave a torn last record. Opening cuts a torn record off (JSONL: back to the last
newline; CSV: back to the end of the last whole record) before reading the ids. Parquet cannot be
appended to: parquet_output.py writes it as atomic part files merged at the end.

An existing output is appended to only when it is one (its records, header or schema are the ones
written here), so that a user's own data file named as --output is refused, never appended to.

`retry_errors` (--retry-errors) drops the error records when opening, so that the ordinary resume
briefs those rows again and appends their new records. The records kept are written to a new file
that is fsynced and renamed over the old one (disk.write_atomically): a crash leaves the old file or
the new one, and a crash after the rename leaves those rows simply not done yet, which any rerun
briefs. So rewriting is the one new step, and "every id once" rests on the resume it already had.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import IO

from newsbrief.disk import sync_file, write_atomically
from newsbrief.infer.job_errors import OutputError
from newsbrief.infer.parquet_output import ParquetOutput, check_parquet_output
from newsbrief.infer.records import COLUMNS, jsonl_bytes

BACKWARD_READ = 1 << 16
"""Bytes read at a time when looking for the last newline from the end of a file."""
ERROR_AT = COLUMNS.index("error")


def open_output(path: Path, keep: tuple[str, ...] = (), retry_errors: bool = False
                ) -> JsonlOutput | CsvOutput | ParquetOutput:
    """The output, its `done` ids known; with `retry_errors`, its error records dropped and not done."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return OUTPUTS[output_format(path)](path, keep, retry_errors)


def check_output(path: Path, keep: tuple[str, ...] = ()) -> None:
    """Before any model loads: an existing output is refused unless it starts as one of ours (with the
    same kept columns, where a format fixes its columns)."""
    if path.exists():
        CHECKS[output_format(path)](path, keep)


def output_format(path: Path) -> str:
    if path.suffix.lower() not in OUTPUTS:
        raise OutputError(f"--output: {path}: not a .jsonl, .csv or .parquet file")
    return path.suffix.lower()


class JsonlOutput:
    def __init__(self, path: Path, keep: tuple[str, ...], retry_errors: bool):
        _cut_after_last_newline(path)
        self.done, errors = set(), set()
        with open(path, "ab+") as lines:
            lines.seek(0)
            for number, line in enumerate(lines, start=1):
                record_id, is_error = _record_id(line, path, number, keep)
                (errors if is_error else self.done).add(record_id)
        if retry_errors and errors:
            write_atomically(path, lambda new: _copy_jsonl_briefs(path, new))
        else:
            self.done |= errors
        self._file = open(path, "ab")

    def write(self, records: list[dict]) -> None:
        self._file.write(jsonl_bytes(records))
        sync_file(self._file)

    def finish(self) -> None:
        """Each chunk was whole once written."""

    def close(self) -> None:
        _close(self._file)


class CsvOutput:
    def __init__(self, path: Path, keep: tuple[str, ...], retry_errors: bool):
        check_output(path, keep)
        self.keep = keep
        whole_records_end, self.done, errors = _read_csv_ids(path, len(COLUMNS) + len(keep))
        with open(path, "ab") as file:
            file.truncate(whole_records_end)
        if retry_errors and errors:
            write_atomically(path, lambda new: _copy_csv_briefs(path, new))
        else:
            self.done |= errors
        self._file = open(path, "a", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file, lineterminator="\n")
        if whole_records_end == 0:
            self._csv.writerow(COLUMNS + keep)

    def write(self, records: list[dict]) -> None:
        self._csv.writerows([r["id"], r.get("summary", ""), json.dumps(r["topics"]) if "topics" in r else "",
                             r.get("truncated", ""), r.get("guard_fallback", ""), r.get("error", ""),
                             *(r.get(name, "") for name in self.keep)]
                            for r in records)
        sync_file(self._file)

    def finish(self) -> None:
        """Each chunk was whole once written."""

    def close(self) -> None:
        _close(self._file)


OUTPUTS = {".jsonl": JsonlOutput, ".csv": CsvOutput, ".parquet": ParquetOutput}


def _check_jsonl(path: Path, keep: tuple[str, ...]) -> None:
    with open(path, "rb") as lines:
        first = lines.readline()
    if first.endswith(b"\n"):  # a first line without one is torn, and cut off on opening
        _record_id(first, path, 1, keep)


def _check_csv(path: Path, keep: tuple[str, ...]) -> None:
    header = _csv_header(keep)
    with open(path, "rb") as lines:
        first = lines.readline()
    whole = first if first.endswith(b"\n") else first + header[len(first):]  # a torn header starts over
    if whole == header:
        return
    if whole.startswith(_csv_header(()).rstrip(b"\n")):
        raise OutputError(f"--output: {path} keeps other input columns (its header is {first[:200]!r}); "
                          f"give the --keep-columns it was written with")
    raise OutputError(f"--output: {path} is not a briefs CSV (its header is {first[:200]!r})")


def _csv_header(keep: tuple[str, ...]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(COLUMNS + keep)
    return text.getvalue().encode()


CHECKS = {".jsonl": _check_jsonl, ".csv": _check_csv, ".parquet": check_parquet_output}


def _record_id(line: bytes, path: Path, number: int, keep: tuple[str, ...]) -> tuple[str, bool]:
    """The id of a JSONL output line, and whether it is an error record: one of the records written
    here (a record leaves out kept columns that its row had no value for), or the file is not ours."""
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not (isinstance(record, dict) and isinstance(record.get("id"), str) and "id" in record
            and ("summary" in record or "error" in record)):
        raise OutputError(f"--output: {path}:{number} is not a brief or error record; not appending "
                          "to a file that is not a briefs output")
    other = [name for name in record if name not in COLUMNS and name not in keep]
    if other:
        raise OutputError(f"--output: {path}:{number} has the column {other[0]!r}, which --keep-columns does "
                          "not name; give the --keep-columns it was written with")
    return record["id"], "error" in record


def _copy_jsonl_briefs(path: Path, destination: Path) -> None:
    with open(path, "rb") as lines, open(destination, "wb") as kept:
        kept.writelines(line for line in lines if "error" not in json.loads(line))


def _copy_csv_briefs(path: Path, destination: Path) -> None:
    with open(path, encoding="utf-8", newline="") as old, open(destination, "w", encoding="utf-8", newline="") as new:
        rows = csv.reader(old, strict=True)
        writer = csv.writer(new, lineterminator="\n")
        writer.writerow(next(rows))
        writer.writerows(fields for fields in rows if not fields[ERROR_AT])


def _close(file: IO) -> None:
    """Every write was flushed, so a close can only fail after a failed write, which was reported: a
    second error about the same bytes would only bury the first."""
    try:
        file.close()
    except OSError:
        pass


def _cut_after_last_newline(path: Path) -> None:
    """A torn last line (a crash mid-write) goes; JSON lines hold no raw newline, so each ends one."""
    if not path.exists():
        return
    with open(path, "r+b") as file:
        end = file.seek(0, os.SEEK_END)
        keep = 0
        while end > 0:
            start = max(0, end - BACKWARD_READ)
            file.seek(start)
            newline = file.read(end - start).rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            end = start
        file.truncate(keep)


def _read_csv_ids(path: Path, columns: int) -> tuple[int, set[str], set[str]]:
    """The byte offset where the last whole record ends, and the ids of the briefs and of the error
    records before it.

    A record is whole when it has every column and its last line ended: summaries may hold newlines
    inside quotes, so a torn record can end with a newline but not with all columns; a kept column last
    may hold one too, but only inside quotes, and a quote left open at the end is a csv.Error.
    """
    if not path.exists():
        return 0, set(), set()
    ids: set[str] = set()
    errors: set[str] = set()
    whole_end = 0
    with open(path, "rb") as file:
        read = {"bytes": 0, "line_ended": False}

        def lines():
            for line in file:
                read["bytes"] += len(line)
                read["line_ended"] = line.endswith(b"\n")
                yield line.decode("utf-8", errors="replace")

        reader = csv.reader(lines(), strict=True)
        try:
            for fields in reader:  # the header was checked (check_output)
                if len(fields) != columns or not read["line_ended"]:
                    break
                if whole_end > 0:
                    (errors if fields[ERROR_AT] else ids).add(fields[0])
                whole_end = read["bytes"]
        except csv.Error:
            pass  # a torn quoted field at the end
    return whole_end, ids, errors
