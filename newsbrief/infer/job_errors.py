"""The errors that stop `newsbrief predict`; everything else becomes an error record."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


class BatchJobError(Exception):
    """A fatal problem of the batch job (no input, an unreadable file, a full disk), phrased to name
    the file, so that the command line can exit with it as one line."""


class InputError(BatchJobError):
    """An --input that names no file, or a file that cannot be read."""


class OutputError(BatchJobError):
    """An --output that cannot be written: not ours to append to, unwritable, full, or locked by another run."""


class UsageError(BatchJobError):
    """Options that do not go together."""


@contextmanager
def fatal(error: type[BatchJobError], doing: str, also: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """An OSError in the block (a full disk, a vanished file), or an exception of a type in `also`, stops
    the job as `error` with one line that says what it was doing: "cannot write out.jsonl: No space left
    on device"."""
    try:
        yield
    except (OSError, *also) as cause:
        raise error(f"{doing}: {getattr(cause, 'strerror', None) or cause}") from cause
