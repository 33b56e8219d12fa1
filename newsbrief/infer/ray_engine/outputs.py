"""The output folder of the Ray engine: Ray writes each block of records as its own file in it.

A folder, local or an object-store URI, of .parquet files (SCHEMA, as the local engine's Parquet) or of
.jsonl files (the lines of the local engine's JSONL). Every run adds files; a rerun skips the ids the
folder already holds. A file is written by one Ray task in one go. On object stores it appears whole
or not at all; on a local disk a job killed mid-write can leave a torn file, which stops the next run
with a message naming it (delete it, and its records are briefed again).
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.json as pajson
import pyarrow.parquet as pq
from ray.data import Dataset
from ray.data.block import BlockAccessor
from ray.data.datasource import BlockBasedFileDatasink

from newsbrief.disk import sync_path
from newsbrief.infer.job_errors import OutputError
from newsbrief.infer.records import SCHEMA, jsonl_bytes, table_records

FOLDER_FORMATS = ("parquet", "jsonl")
TALLIED = pa.schema([SCHEMA.field(name) for name in ("id", "truncated", "error")])
"""The columns read back: ids to skip on a rerun, and what counts a run's records."""


class OutputFolder:
    def __init__(self, spec: str, output_format: str):
        if output_format not in FOLDER_FORMATS:
            raise OutputError(f"--output-format: {output_format!r} is not one of {', '.join(FOLDER_FORMATS)}")
        if "://" in spec:
            self.filesystem, self.path = pafs.FileSystem.from_uri(spec)
        else:
            self.filesystem, self.path = pafs.LocalFileSystem(), str(Path(spec).resolve())
        self.spec, self.format = spec, output_format
        if self.filesystem.get_file_info(self.path).type == pafs.FileType.File:
            raise OutputError(f"--output: {spec} is a file; the Ray engine writes files into a folder")

    def files(self) -> set[str]:
        listed = self.filesystem.get_file_info(pafs.FileSelector(self.path, allow_not_found=True))
        return {i.path for i in listed if i.type == pafs.FileType.File and i.path.endswith("." + self.format)}

    def records(self, files: set[str]) -> list[dict]:
        """The id, truncated and error of every record in these files."""
        return [record for path in sorted(files) for record in self._read(path).to_pylist()]

    def drop_errors(self) -> None:
        """--retry-errors: each file holding error records is rewritten without them (removed when nothing
        is left), so that the rerun briefs those rows as not done. The new file is written under a name
        that is not an output file's and moved over the old one: where the move is atomic (a local disk),
        a crash leaves the old file or the new one, whole; on object stores a failed move leaves the old."""
        for path in sorted(self.files()):
            tallied = self._read(path)
            if tallied["error"].null_count == tallied.num_rows:
                continue
            if tallied["error"].null_count == 0:
                self.filesystem.delete_file(path)
                continue
            temporary = path + ".tmp"
            if self.format == "parquet":
                table = pq.read_table(path, filesystem=self.filesystem)
                pq.write_table(table.filter(pc.is_null(table["error"])), temporary, filesystem=self.filesystem)
            else:
                with self.filesystem.open_input_stream(path) as stream:
                    lines = stream.read().splitlines(keepends=True)
                with self.filesystem.open_output_stream(temporary) as kept:
                    kept.write(b"".join(line for line in lines if "error" not in json.loads(line)))
            if isinstance(self.filesystem, pafs.LocalFileSystem):
                sync_path(Path(temporary))  # on disk before the move makes it the output file
            self.filesystem.move(temporary, path)

    def write(self, records: Dataset) -> None:
        if self.format == "parquet":
            records.write_parquet(self.path, filesystem=self.filesystem)
        else:
            records.write_datasink(JsonlDatasink(self.path, filesystem=self.filesystem))

    def _read(self, path: str) -> pa.Table:
        try:
            if self.format == "parquet":
                return pq.read_table(path, filesystem=self.filesystem, columns=TALLIED.names)
            with self.filesystem.open_input_stream(path) as stream:
                # Only the tallied fields are parsed: topics are [label, score] lists that Arrow cannot type.
                return pajson.read_json(stream, parse_options=pajson.ParseOptions(
                    explicit_schema=TALLIED, unexpected_field_behavior="ignore"))
        except (OSError, pa.ArrowException) as error:
            name = posixpath.join(self.spec, posixpath.basename(path))
            raise OutputError(f"--output: {name} does not read whole ({error}); a job killed while writing "
                                f"leaves such a file: delete it and run again") from error


class JsonlDatasink(BlockBasedFileDatasink):
    """Blocks of records in SCHEMA as .jsonl files, line for line what the local engine writes."""

    def __init__(self, path: str, **file_datasink_kwargs):
        super().__init__(path, file_format="jsonl", **file_datasink_kwargs)

    def write_block_to_file(self, block: BlockAccessor, file: pa.NativeFile) -> None:
        file.write(jsonl_bytes(table_records(block.to_arrow())))
