"""Bytes on disk before they are published (renamed into place) or counted as done: the one fsync."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import sys
from pathlib import Path
from typing import IO, Callable


def sync_file(file: IO) -> None:
    """Python's buffer, then the operating system's, to the disk."""
    file.flush()
    os.fsync(file.fileno())


def sync_path(path: Path) -> None:
    """A file already written and closed, to the disk."""
    with open(path, "rb") as file:
        sync_file(file)


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """`write` a temporary file beside `path`, put it on disk, then rename it over `path`: after a crash,
    `path` is the old file or the new one, whole, never a mix (the temporary may be left behind)."""
    temporary = temporary_path(path)
    write(temporary)
    sync_path(temporary)  # the data is on disk before the rename makes it visible
    os.replace(temporary, path)


def replace_folder(staging: Path, final: Path) -> None:
    """Put a folder written whole at `staging` in the place of `final`. Where the system can swap two
    folders in one step (Linux), it does, so that `final` is the old folder or the new one at every moment.
    Elsewhere a folder cannot be renamed over another, so the old one steps aside first: after a crash,
    `final` is the old folder or the new one, whole, or absent (never a mix of files of both). What a crash
    left beside it is removed next time."""
    for written in staging.rglob("*"):
        if written.is_file():
            sync_path(written)  # the data is on disk before the rename makes it visible
    previous = final.with_name(final.name + ".old")
    shutil.rmtree(previous, ignore_errors=True)
    if final.exists() and exchange_paths(staging, final):
        shutil.rmtree(staging)  # the old folder now
        return
    if final.exists():
        os.replace(final, previous)
    os.replace(staging, final)
    shutil.rmtree(previous, ignore_errors=True)


RENAME_EXCHANGE, AT_FDCWD = 2, -100  # linux/fs.h, fcntl.h


def exchange_paths(first: Path, second: Path) -> bool:
    """Swap two existing paths in one step: renameat2 with RENAME_EXCHANGE, which Python's os does not
    offer. False where the system (not Linux, an old kernel) or the file system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None) if sys.platform == "linux" else None
    if renameat2 is None:
        return False
    if renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS):
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


def temporary_path(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")
