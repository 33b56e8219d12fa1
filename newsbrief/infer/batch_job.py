"""`newsbrief predict`: brief every article of some input files into one output file, chunk by chunk.

- Every input record comes out once: as a brief, or as an error record `{"id", "error"}` whose error
  names the file and line ("articles.jsonl:17: invalid JSON ..."). Records without an id get their
  `where` ("articles.jsonl:17") as id; a repeated id is an error under its `where`.
- Memory stays flat in the number of articles: inputs are streamed (readers.py), and each chunk is
  briefed and written before the next is read. Only the sets of ids seen and done grow.
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
from dataclasses import asdict
from itertools import islice
from pathlib import Path
from typing import ContextManager, Iterable, Iterator

from tqdm.auto import tqdm

from newsbrief.infer.engine import NewsBrief
from newsbrief.infer.job_errors import OutputError, fatal
from newsbrief.infer.kept_columns import resolve_keep
from newsbrief.infer.parquet_output import parts_folder
from newsbrief.infer.readers import InputFile, Row, expand_inputs, flag_duplicates, read_rows
from newsbrief.infer.records import Counts, brief_records
from newsbrief.infer.writers import check_output, open_output, output_format
from newsbrief.run_lock import run_lock

CHUNK = 256
"""Articles briefed and written together: a crash loses at most one chunk of work."""


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
                  text_column: str = "text", chunk_size: int = CHUNK, *, keep: tuple[str, ...] = (),
                  retry_errors: bool = False) -> Counts:
    counts = Counts()
    started = time.perf_counter()
    rows = flag_duplicates(read_rows(files, id_column, text_column, keep))
    with _output_lock(output):
        with _writing(output):
            out = open_output(output, keep, retry_errors)
        with closing(out), tqdm(desc="briefing", unit=" articles") as progress:
            pending = _not_done(rows, out.done, counts)
            while chunk := list(islice(pending, chunk_size)):
                records = brief_records(briefer, chunk)
                counts.count(records)
                with _writing(output):
                    out.write(records)
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


def _output_lock(output: Path) -> ContextManager[None]:
    return run_lock(output.with_name(output.name + ".lock"), output)


def _writing(output: Path) -> ContextManager[None]:
    """Any OSError on the output (a full disk, a read-only folder) is fatal, and says which file."""
    return fatal(OutputError, f"cannot write {output}")
