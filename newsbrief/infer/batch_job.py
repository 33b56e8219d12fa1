"""`newsbrief predict`: brief every article of some input files into one output file, chunk by chunk.

- Every input record comes out once: as a brief, or as an error record `{"id", "error"}` whose error
  names the file and line ("articles.jsonl:17: invalid JSON ..."). Records without an id get their
  `where` ("articles.jsonl:17") as id; a repeated id is an error under its `where`.
- Memory stays flat in the number of articles: inputs are streamed (readers.py) through one stream of
  the engine, a bounded number of chunks in flight at once. Only the sets of ids seen and done grow.
- Resumable: the same command run again skips the ids its output already holds. Outputs are appended
  to and fsynced a chunk at a time (JSONL, CSV) or written as atomic part files merged at the end
  (Parquet), and opening an output repairs what a crash left (writers.py has the scheme). So after a
  `kill -9` at any moment and a rerun, every input id is in the output exactly once.
- Rows join back: `keep` (--keep-columns, settled by kept_columns.py) names input columns that every
  record carries, errors included.
- `retry_errors` (--retry-errors) briefs again the rows whose record in the output is an error, and
  replaces those records: opening the output drops them (writers.py), and the resume briefs them.
- One run at a time on an output: a second one on the same output stops at once (run_lock.py).
- Only fatal problems stop the job (BatchJobError: no input, an unreadable file, a full disk).
"""

from __future__ import annotations

import errno
import json
import os
import sys
import time
from contextlib import closing
from functools import partial
from dataclasses import asdict
from itertools import islice
from pathlib import Path
from typing import ContextManager, Iterable, Iterator

import torch
from tqdm.auto import tqdm

from newsbrief.infer.background import read_ahead, written_behind
from newsbrief.infer.engine import NewsBrief
from newsbrief.infer.job_errors import OutputError, fatal
from newsbrief.infer.kept_columns import resolve_keep
from newsbrief.infer.parquet_output import ParquetOutput, parts_folder
from newsbrief.infer.readers import InputFile, Row, expand_inputs, flag_duplicates, read_rows
from newsbrief.infer.records import Counts, stream_records
from newsbrief.infer.writers import CsvOutput, JsonlOutput, check_output, open_output, output_format
from newsbrief.run_lock import run_lock

CHUNK = 256
"""Articles sorted into model batches, briefed and written together, on a CPU. A model batch never
holds more. A crash loses the chunk being briefed and at most background.DEPTH chunks waiting to be
written; a rerun briefs them."""
GPU_CHUNK = 4096
"""CHUNK on a GPU: room for batches of 1,024 articles sorted by length from four times as many."""


def default_chunk(device: torch.device) -> int:
    return GPU_CHUNK if device.type == "cuda" else CHUNK


def find_inputs(spec: str, output: Path, keep_columns: str | None = None, id_column: str = "id",
                text_column: str = "text") -> tuple[list[InputFile], tuple[str, ...]]:
    """The input files and the kept columns, checked with the output (its format and kept columns, a
    writable folder, no other run on it) before any model is loaded; the run takes the output's lock
    again when it starts writing."""
    output_format(output)
    files = expand_inputs(spec, exclude=[output, parts_folder(output)])
    keep = resolve_keep(keep_columns, files, lambda file: open(file.path, "rb"), id_column, text_column)
    with _output_lock(output):
        if output.exists() and not os.access(output, os.W_OK):
            raise OutputError(f"cannot write {output}: {os.strerror(errno.EACCES)}")
        check_output(output, keep)
    return files, keep


def predict_files(briefer: NewsBrief, files: list[InputFile], output: Path, id_column: str = "id",
                  text_column: str = "text", chunk_size: int | None = None, *, keep: tuple[str, ...] = (),
                  retry_errors: bool = False) -> Counts:
    """Brief the rows of `files` into `output`, `chunk_size` at a time (default_chunk for the model's
    device). The main thread runs the model, through one stream of the engine, which tokenizes the next
    chunk while the model works on this one; reading the inputs and writing the records run on worker
    threads (background.py)."""
    chunk_size = chunk_size or default_chunk(briefer.device)
    counts = Counts()
    started = time.perf_counter()
    rows = flag_duplicates(read_rows(files, id_column, text_column, keep))
    with _output_lock(output):
        with _writing(output):
            out = open_output(output, keep, retry_errors)
        with closing(out), tqdm(desc="briefing", unit=" articles") as progress:
            with read_ahead(_not_done(rows, out.done, counts)) as pending, \
                    written_behind(partial(_write, out, output)) as writes:
                records = stream_records(briefer, pending, chunk_size)
                while chunk := list(islice(records, chunk_size)):
                    counts.count(chunk)
                    writes.write(chunk)
                    progress.update(len(chunk))
            with _writing(output):
                out.finish()
    counts.seconds = time.perf_counter() - started
    return counts


def print_summary(counts: Counts, output: Path) -> None:
    """One JSON line for machines, one line for people, on stderr (stdout stays free for pipes)."""
    summary = {**asdict(counts), "seconds": round(counts.seconds, 3),
               "articles_per_second": round(counts.articles_per_second, 2), "output": str(output)}
    print(json.dumps(summary), file=sys.stderr)
    print(f"{counts.input_rows} input rows: {counts.briefed} briefed ({counts.truncated} truncated), "
          f"{counts.errors} errors, {counts.skipped} skipped as already done; "
          f"{counts.articles_per_second:.1f} articles/s; output {output}", file=sys.stderr)


def _not_done(rows: Iterable[Row], done: set[str], counts: Counts) -> Iterator[Row]:
    for row in rows:
        counts.input_rows += 1
        if row.key in done:
            counts.skipped += 1
        else:
            yield row


def _write(out: JsonlOutput | CsvOutput | ParquetOutput, output: Path, records: list[dict]) -> None:
    with _writing(output):
        out.write(records)


def _output_lock(output: Path) -> ContextManager[None]:
    return run_lock(output.with_name(output.name + ".lock"), output)


def _writing(output: Path) -> ContextManager[None]:
    """Any OSError on the output (a full disk, a read-only folder) is fatal, and says which file."""
    return fatal(OutputError, f"cannot write {output}")
