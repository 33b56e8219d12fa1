"""Bytes on disk before they are published (renamed into place) or counted as done: the one fsync."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO


def sync_file(file: IO) -> None:
    """Python's buffer, then the operating system's, to the disk."""
    file.flush()
    os.fsync(file.fileno())


def sync_path(path: Path) -> None:
    """A file already written and closed, to the disk."""
    with open(path, "rb") as file:
        sync_file(file)
