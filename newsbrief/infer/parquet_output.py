"""The Parquet output of `newsbrief predict`: atomic part files, merged into one file at the end.

Parquet cannot be appended to. Each chunk becomes a part file in `<output>.parts/`, written under a
temporary name and renamed, so that a part is whole or absent after any crash. `finish` merges the
parts into a temporary file, renames it to `<output>` and removes the folder. So `<output>` and the
folder exist together only after a crash between that rename and the removal: opening then drops the
folder, already merged. Opening a finished `<output>` moves it into a new folder as its first part,
so that a rerun with more input adds to it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

from newsbrief.disk import sync_path
from newsbrief.infer.job_errors import OutputError
from newsbrief.infer.records import SCHEMA, records_table

def check_parquet_output(path: Path) -> None:
    """An existing output must be a briefs Parquet file before it is moved or appended to."""
    try:
        names = pq.read_schema(path).names
    except (pa.ArrowException, OSError) as error:
        raise OutputError(f"--output: {path} is not a Parquet file ({error}); not overwriting it") from None
    if names != SCHEMA.names:
        raise OutputError(f"--output: {path} is not a briefs Parquet file (its columns are {names})")


def parts_folder(path: Path) -> Path:
    return path.with_name(path.name + ".parts")


class ParquetOutput:
    def __init__(self, path: Path):
        self.path, self.parts = path, parts_folder(path)
        if self.parts.is_dir() and path.exists():
            shutil.rmtree(self.parts)
        if path.exists():
            check_parquet_output(path)
        self.parts.mkdir(exist_ok=True)
        if path.exists():
            os.replace(path, self._part(0))
        for leftover in [*self.parts.glob("*.tmp"), _temporary(path)]:
            leftover.unlink(missing_ok=True)
        written = self._written()
        self.done = {i for part in written for i in _part_ids(part)}
        self._next = int(written[-1].stem.removeprefix("part-")) + 1 if written else 0

    def write(self, records: list[dict]) -> None:
        table = records_table(records)
        _write_atomically(self._part(self._next), lambda temporary: pq.write_table(table, temporary))
        self._next += 1

    def finish(self) -> None:
        parts = self._written()
        if len(parts) == 1:
            os.replace(parts[0], self.path)
        else:
            _write_atomically(self.path, lambda temporary: _merge(parts, temporary))
        shutil.rmtree(self.parts)

    def close(self) -> None:
        """Nothing stays open between parts."""

    def _written(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet"))

    def _part(self, number: int) -> Path:
        return self.parts / f"part-{number:06d}.parquet"


def _part_ids(part: Path) -> list[str]:
    try:
        return pq.read_table(part, columns=["id"])["id"].to_pylist()
    except (pa.ArrowException, KeyError) as error:  # parts are written whole: this one was changed since
        raise OutputError(f"--output: {part} does not read as a part of it ({error})") from None


def _merge(parts: list[Path], destination: Path) -> None:
    """A record batch at a time, so that merging never holds the whole output."""
    with pq.ParquetWriter(destination, SCHEMA) as merged:
        for part in parts:
            for batch in pq.ParquetFile(part).iter_batches():
                merged.write_batch(batch)


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    temporary = _temporary(path)
    write(temporary)
    sync_path(temporary)  # the data is on disk before the rename makes it visible
    os.replace(temporary, path)


def _temporary(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")
