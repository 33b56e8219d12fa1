"""Outputs of `newsbrief predict`, one per format, that a rerun continues instead of starting over.

Each output knows, once opened, the ids it already holds (`done`), takes records a chunk at a time
(`write`), is completed by `finish` and released by `close`. JSONL and CSV (here) are appended to,
and every chunk is flushed and fsynced, so a `kill -9` at any moment loses at most the chunk being
written and can leave a torn last record. Opening cuts a torn record off (JSONL: back to the last
newline; CSV: back to the end of the last whole record) before reading the ids. Parquet cannot be
appended to: parquet_output.py writes it as atomic part files merged at the end.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import IO

from newsbrief.infer.job_errors import OutputError
from newsbrief.infer.parquet_output import SCHEMA, ParquetOutput

COLUMNS = tuple(SCHEMA.names)
"""CSV columns, those of the Parquet output; `topics` is JSON: [[label, probability], ...]."""
BACKWARD_READ = 1 << 16
"""Bytes read at a time when looking for the last newline from the end of a file."""


def open_output(path: Path) -> JsonlOutput | CsvOutput | ParquetOutput:
    path.parent.mkdir(parents=True, exist_ok=True)
    return OUTPUTS[output_format(path)](path)


def jsonl_bytes(records: list[dict]) -> bytes:
    """Records as JSON lines, UTF-8 unescaped, each ending in a newline."""
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


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
            for line in lines:
                try:
                    self.done.add(str(json.loads(line)["id"]))
                except (ValueError, KeyError, TypeError):
                    pass  # not a record of ours: nothing to skip for it
        self._file = open(path, "ab")

    def write(self, records: list[dict]) -> None:
        self._file.write(jsonl_bytes(records))
        _sync(self._file)

    def finish(self) -> None:
        """Each chunk was whole once written."""

    def close(self) -> None:
        self._file.close()


class CsvOutput:
    def __init__(self, path: Path):
        whole_records_end, self.done = _read_csv_ids(path)
        with open(path, "ab") as file:
            file.truncate(whole_records_end)
        self._file = open(path, "a", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file, lineterminator="\n")
        if whole_records_end == 0:
            self._csv.writerow(COLUMNS)

    def write(self, records: list[dict]) -> None:
        self._csv.writerows([r["id"], r.get("summary", ""), json.dumps(r["topics"]) if "topics" in r else "",
                             r.get("truncated", ""), r.get("error", "")] for r in records)
        _sync(self._file)

    def finish(self) -> None:
        """Each chunk was whole once written."""

    def close(self) -> None:
        self._file.close()


OUTPUTS = {".jsonl": JsonlOutput, ".csv": CsvOutput, ".parquet": ParquetOutput}


def _sync(file: IO) -> None:
    file.flush()
    os.fsync(file.fileno())


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
            for fields in reader:
                if whole_end == 0 and read["line_ended"] and fields != list(COLUMNS):
                    raise OutputError(f"--output: {path} is not a briefs CSV (its header is {fields})")
                if len(fields) != len(COLUMNS) or not read["line_ended"]:
                    break
                if whole_end > 0:
                    ids.add(fields[0])
                whole_end = read["bytes"]
        except csv.Error:
            pass  # a torn quoted field at the end
    return whole_end, ids
