"""Inputs of the Ray engine: the files an --input names, read by Ray Data into the rows batch_job reads.

Local inputs are the files `expand_inputs` finds (a file, a folder or a glob); object-store URIs
(s3://bucket/news/, gs://...) name a file or a folder, listed through pyarrow's filesystems. Each file
is read by readers.file_rows, so that a row's `where`, id and problem are those of the local engine,
and streamed in blocks, never held whole. A row also carries its `position` (file, then row), which
tells which of two rows with the same id came first.
"""

from __future__ import annotations

import io
import posixpath
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, ContextManager, Iterator

import pyarrow as pa
import pyarrow.fs as pafs
from ray.data.datasource import FileBasedDatasource

from newsbrief.infer.job_errors import InputError
from newsbrief.infer.readers import INPUT_SUFFIXES, InputFile, Row, expand_inputs, file_rows, reading

ROWS_PER_BLOCK = 1024
"""Rows a read task hands on at a time: small blocks keep the actors busy from the start."""
ROWS_SCHEMA = pa.schema([("id", pa.string()), ("where", pa.string()), ("text", pa.string()),
                         ("problem", pa.string()), ("position", pa.int64())])
"""A Row (its own id, or null) and its position: file index * 2**40 + the row's number in its file;
the kept columns follow (rows_schema)."""
FILE_STRIDE = 2**40


def find_ray_inputs(spec: str, output: str) -> tuple[pafs.FileSystem, list[InputFile]]:
    """The filesystem and the input files, sorted, with names relative to the --input's folder."""
    if "://" not in spec:
        files = expand_inputs(spec, exclude=[Path(output)])
        # Absolute: Ray's workers need not share the driver's working directory.
        return pafs.LocalFileSystem(), [InputFile(f.path.resolve(), f.name) for f in files]
    filesystem, root = pafs.FileSystem.from_uri(spec)
    found = filesystem.get_file_info(root)
    if found.type == pafs.FileType.File:
        root, listed = posixpath.dirname(root), [found]
    elif found.type == pafs.FileType.Directory:
        listed = filesystem.get_file_info(pafs.FileSelector(root))  # not recursive, as for a local folder
    else:
        raise InputError(f"--input: no such file or folder: {spec}")
    excluded = output.split("://", 1)[-1].rstrip("/")
    chosen = sorted(i.path for i in listed if i.type == pafs.FileType.File
                    and PurePosixPath(i.path).suffix.lower() in INPUT_SUFFIXES
                    and i.path != excluded and not i.path.startswith(excluded + "/"))
    if not chosen:
        raise InputError(f"--input: no {', '.join(INPUT_SUFFIXES)} files in {spec}")
    return filesystem, [InputFile(PurePosixPath(p), posixpath.relpath(p, root)) for p in chosen]


def open_for_columns(filesystem: pafs.FileSystem) -> Callable[[InputFile], ContextManager[BinaryIO]]:
    """How kept_columns.resolve_keep opens an input on its filesystem: Parquet with random access."""
    def open_file(file: InputFile) -> ContextManager[BinaryIO]:
        if file.path.suffix.lower() == ".parquet":
            return filesystem.open_input_file(str(file.path))
        return io.BufferedReader(filesystem.open_input_stream(str(file.path)))
    return open_file


def rows_schema(keep: tuple[str, ...]) -> pa.Schema:
    return pa.schema([*ROWS_SCHEMA, *(pa.field(f"kept:{name}", pa.string()) for name in keep)])


def rows_table(rows: list[Row], positions: list[int], keep: tuple[str, ...] = ()) -> pa.Table:
    return pa.table({"id": [r.id for r in rows], "where": [r.where for r in rows], "text": [r.text for r in rows],
                     "problem": [r.problem for r in rows], "position": positions,
                     **{f"kept:{name}": [r.kept.get(name) for r in rows] for name in keep}}, schema=rows_schema(keep))


def table_rows(table: pa.Table) -> list[Row]:
    """The rows of a table, their texts empty once the CPU stage has replaced them by tokens (encoded.py)."""
    texts = table.column("text").to_pylist() if "text" in table.column_names else [""] * table.num_rows
    columns = [table.column("where").to_pylist(), table.column("id").to_pylist(), texts,
               table.column("problem").to_pylist()]
    kept = {name.removeprefix("kept:"): table.column(name).to_pylist()
            for name in table.column_names if name.startswith("kept:")}
    return [Row(*values, kept={name: kept[name][i] for name in kept}) for i, values in enumerate(zip(*columns))]


def kept_of(table: pa.Table) -> tuple[str, ...]:
    """The kept columns that a table of rows carries."""
    return tuple(name.removeprefix("kept:") for name in table.column_names if name.startswith("kept:"))


class ArticleRows(FileBasedDatasource):
    """A Ray Data source of the rows of input files: `ray.data.read_datasource(ArticleRows(...))`."""

    def __init__(self, files: list[InputFile], filesystem: pafs.FileSystem, id_column: str, text_column: str,
                 keep: tuple[str, ...] = ()):
        super().__init__([str(f.path) for f in files], filesystem=filesystem)
        self._files = {str(f.path): (index, f) for index, f in enumerate(files)}
        self._columns = (id_column, text_column, keep)

    def _open_input_source(self, filesystem, path: str, **open_args):
        if path.lower().endswith(".parquet"):
            return filesystem.open_input_file(path)  # Parquet reads its footer first: random access
        return super()._open_input_source(filesystem, path, **open_args)

    def _read_stream(self, f: pa.NativeFile, path: str) -> Iterator[pa.Table]:
        index, file = self._files[path]
        # readers.file_rows iterates JSONL and CSV line by line, which Arrow's streams do not offer.
        stream = f if file.path.suffix.lower() == ".parquet" else io.BufferedReader(f)
        number = index * FILE_STRIDE
        with reading(file):
            rows = file_rows(file, stream, *self._columns)
            while block := list(islice(rows, ROWS_PER_BLOCK)):
                yield rows_table(block, list(range(number, number + len(block))), self._columns[2])
                number += len(block)
