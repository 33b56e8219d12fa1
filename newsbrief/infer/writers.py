"""Outputs of `newsbrief predict`, one per format, that a rerun continues instead of starting over.

Each output knows, once opened, the ids it already holds (`done`), takes records a chunk at a time
(`write`), is completed by `finish` and released by `close`. JSONL and CSV (here) are appended to,
and every chunk is flushed and fsynced, so a `kill -9` at any moment loses at most the chunk being
written and can leave a torn last record. Opening cuts a torn record off (JSONL: back to the last
newline; CSV: back to the end of the last whole record) before reading the ids. Parquet cannot be
appended to: parquet_output.py writes it as atomic part files merged at the end.

An existing output is appended to only when it is one (its records, header or schema are the ones
written here), so that a user's own data file named as --output is refused, never appended to.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import IO

from newsbrief.disk import sync_file
from newsbrief.infer.job_errors import OutputError
from newsbrief.infer.parquet_output import ParquetOutput, check_parquet_output
from newsbrief.infer.records import COLUMNS, jsonl_bytes

BACKWARD_READ = 1 << 16
"""Bytes read at a time when looking for the last newline from the end of a file."""
CSV_HEADER = ",".join(COLUMNS).encode() + b"\n"


def open_output(path: Path) -> JsonlOutput | CsvOutput | ParquetOutput:
    path.parent.mkdir(parents=True, exist_ok=True)
    return OUTPUTS[output_format(path)](path)


def check_output(path: Path) -> None:
    """Before any model loads: an existing output is refused unless it starts as one of ours."""
    if path.exists():
        CHECKS[output_format(path)](path)


def output_format(path: Path) -> str:
    if path.suffix.lower() not in OUTPUTS:
        raise OutputError(f"--output: {path}: not a .jsonl, .csv or .parquet file")
    return path.suffix.lower()


class JsonlOutput:
    def __init__(self, path: Path):
        _cut_after_last_newline(path)
        self.done = set()
        with open(path, "ab+") as lines:
            lines.seek(0)
            for number, line in enumerate(lines, start=1):
                self.done.add(_record_id(line, path, number))
        self._file = open(path, "ab")

    def write(self, records: list[dict]) -> None:
        self._file.write(jsonl_bytes(records))
        sync_file(self._file)

    def finish(self) -> None:
        """Each chunk was whole once written."""

    def close(self) -> None:
        _close(self._file)


class CsvOutput:
    def __init__(self, path: Path):
        check_output(path)
        whole_records_end, self.done = _read_csv_ids(path)
        with open(path, "ab") as file:
            file.truncate(whole_records_end)
        self._file = open(path, "a", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file, lineterminator="\n")
        if whole_records_end == 0:
            self._csv.writerow(COLUMNS)

    def write(self, records: list[dict]) -> None:
        self._csv.writerows([r["id"], r.get("summary", ""), json.dumps(r["topics"]) if "topics" in r else "",
                             r.get("truncated", ""), r.get("guard_fallback", ""), r.get("error", "")]
                            for r in records)
        sync_file(self._file)

    def finish(self) -> None:
        """Each chunk was whole once written."""

    def close(self) -> None:
        _close(self._file)


OUTPUTS = {".jsonl": JsonlOutput, ".csv": CsvOutput, ".parquet": ParquetOutput}


def _check_jsonl(path: Path) -> None:
    with open(path, "rb") as lines:
        first = lines.readline()
    if first.endswith(b"\n"):  # a first line without one is torn, and cut off on opening
        _record_id(first, path, 1)


def _check_csv(path: Path) -> None:
    with open(path, "rb") as lines:
        first = lines.readline()
    whole = first if first.endswith(b"\n") else first + CSV_HEADER[len(first):]  # a torn header starts over
    if whole != CSV_HEADER:
        raise OutputError(f"--output: {path} is not a briefs CSV (its header is {first[:200]!r})")


CHECKS = {".jsonl": _check_jsonl, ".csv": _check_csv, ".parquet": check_parquet_output}


def _record_id(line: bytes, path: Path, number: int) -> str:
    """The id of a JSONL output line: one of the records written here, or the file is not ours."""
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not (isinstance(record, dict) and isinstance(record.get("id"), str) and set(record) <= set(COLUMNS)
            and ("summary" in record or "error" in record)):
        raise OutputError(f"--output: {path}:{number} is not a brief or error record; not appending "
                          "to a file that is not a briefs output")
    return record["id"]


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


def _read_csv_ids(path: Path) -> tuple[int, set[str]]:
    """The byte offset where the last whole record ends, and the ids of the records before it.

    A record is whole when it has every column and its last line ended: summaries may hold newlines
    inside quotes, so a torn record can end with a newline but not with all columns, and the last
    column (error) never holds one.
    """
    if not path.exists():
        return 0, set()
    ids: set[str] = set()
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
                if len(fields) != len(COLUMNS) or not read["line_ended"]:
                    break
                if whole_end > 0:
                    ids.add(fields[0])
                whole_end = read["bytes"]
        except csv.Error:
            pass  # a torn quoted field at the end
    return whole_end, ids
