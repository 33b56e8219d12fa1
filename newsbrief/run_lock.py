"""One run at a time on an output: an advisory lock on a file beside it.

filelock takes an flock (POSIX) or a Windows lock, which the operating system drops when the process
ends, however it ends (kill -9 included), so a stale lock file never blocks the next run. The file
itself stays, empty: removing it on release would let a run that opened it just before lock a file
that no longer has a name.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout


class RunLocked(Exception):
    """Another run holds the lock, or the lock file cannot be made: one line that names the output."""


@contextmanager
def run_lock(lock_file: Path, target: Path) -> Iterator[None]:
    """Hold `lock_file` while the block runs, or fail at once, naming `target`, if another run holds it
    or its folder cannot be written."""
    lock = FileLock(lock_file, timeout=0)
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:  # an OSError too: first
        raise RunLocked(f"{target}: another run is writing it (it holds {lock_file}); wait for it to end, "
                        "or write elsewhere") from None
    except OSError as error:
        raise RunLocked(f"cannot write {target}: {error.strerror or error}") from None
    try:
        yield
    finally:
        lock.release()
