"""The Parquet output of `newsbrief predict`: atomic part files, merged into one file at the end.

Parquet cannot be appended to. Each chunk becomes a part file in `<output>.parts/`, written under a
temporary name and renamed, so that a part is whole or absent after any crash. `finish` merges the
parts into a temporary file, renames it to `<output>` and removes the folder. So `<output>` and the
folder exist together only after a crash between that rename and the removal: opening then drops the
folder, already merged. Opening a finished `<output>` moves it into a new folder as its first part,
so that a rerun with more input adds to it.

With `retry_errors`, opening rewrites each part that holds error records without them (a new part
file renamed over it, or the part removed when nothing is left), rather than marking records as
replaced: parts stay plain records, and a crash at any point leaves each part old or new, whole, the
dropped rows not done, so that any rerun briefs them (writers.py's argument, part by part).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newsbrief.disk import temporary_path, write_atomically
from newsbrief.infer.job_errors import OutputError
from newsbrief.infer.records import SCHEMA, output_schema, records_table


def check_parquet_output(path: Path, keep: tuple[str, ...] = ()) -> None:
    """An existing output must be a briefs Parquet file, with these kept columns, before it is moved or
    appended to."""
    try:
        names = pq.read_schema(path).names
    except (pa.ArrowException, OSError) as error:
        raise OutputError(f"--output: {path} is not a Parquet file ({error}); not overwriting it") from None
    if names[:len(SCHEMA)] != SCHEMA.names:
        raise OutputError(f"--output: {path} is not a briefs Parquet file (its columns are {names})")
    if names != output_schema(keep).names:
        raise OutputError(f"--output: {path} keeps the input columns {names[len(SCHEMA):]}; "
                          f"give the --keep-columns it was written with")


def parts_folder(path: Path) -> Path:
    return path.with_name(path.name + ".parts")


class ParquetOutput:
    def __init__(self, path: Path, keep: tuple[str, ...] = (), retry_errors: bool = False):
        self.path, self.parts, self.schema = path, parts_folder(path), output_schema(keep)
        if self.parts.is_dir() and path.exists():
            shutil.rmtree(self.parts)
        if path.exists():
            check_parquet_output(path, keep)
        self.parts.mkdir(exist_ok=True)
        if path.exists():
            os.replace(path, self._part(0))
        for leftover in [*self.parts.glob("*.tmp"), temporary_path(path)]:
            leftover.unlink(missing_ok=True)
        written = self._written()
        self._next = int(written[-1].stem.removeprefix("part-")) + 1 if written else 0
        if retry_errors:
            for part in written:
                _drop_errors(part)
        self.done = {i for part in self._written() for i in _part_ids(part, self.schema)}

    def write(self, records: list[dict]) -> None:
        table = records_table(records, tuple(self.schema.names[len(SCHEMA):]))
        write_atomically(self._part(self._next), lambda temporary: pq.write_table(table, temporary))
        self._next += 1

    def finish(self) -> None:
        parts = self._written()
        if len(parts) == 1:
            os.replace(parts[0], self.path)
        else:
            write_atomically(self.path, lambda temporary: _merge(parts, temporary, self.schema))
        shutil.rmtree(self.parts)

    def close(self) -> None:
        """Nothing stays open between parts."""

    def _written(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet"))

    def _part(self, number: int) -> Path:
        return self.parts / f"part-{number:06d}.parquet"


def _part_ids(part: Path, schema: pa.Schema) -> list[str]:
    try:
        names = pq.read_schema(part).names
        if names != schema.names:  # a crashed run with other --keep-columns
            raise OutputError(f"--output: {part} keeps the input columns {names[len(SCHEMA):]}; "
                              f"give the --keep-columns it was written with")
        return pq.read_table(part, columns=["id"])["id"].to_pylist()
    except (pa.ArrowException, KeyError) as error:  # parts are written whole: this one was changed since
        raise OutputError(f"--output: {part} does not read as a part of it ({error})") from None


def _drop_errors(part: Path) -> None:
    """The part without its error records: rewritten a batch at a time (a finished output, moved in as a
    part, can be large), or removed when it held nothing else."""
    errors = pq.read_table(part, columns=["error"])["error"]
    if errors.null_count == len(errors):
        return

    def copy_briefs(temporary: Path) -> None:
        with pq.ParquetFile(part) as source, pq.ParquetWriter(temporary, source.schema_arrow) as briefs:
            for batch in source.iter_batches():
                briefs.write_batch(batch.filter(pc.is_null(batch.column("error"))))

    if errors.null_count:  # the briefs
        write_atomically(part, copy_briefs)
    else:
        part.unlink()


def _merge(parts: list[Path], destination: Path, schema: pa.Schema) -> None:
    """A record batch at a time, so that merging never holds the whole output."""
    with pq.ParquetWriter(destination, schema) as merged:
        for part in parts:
            for batch in pq.ParquetFile(part).iter_batches():
                merged.write_batch(batch)
