"""The batch job's CPU stages on worker threads, so that the main thread keeps the model busy.

`read_ahead` runs an iterator (reading and parsing input files) on a thread that stays a few items
ahead; `written_behind` runs a writer (JSON encoding, fsync) on a thread that takes a few items behind.
Neither can hang the job: queues are bounded and every wait on them also watches the other side, so
a side that stops (by an error, or because the job is over) releases the other within a poll. An
error on the worker thread is raised in the caller as the very exception object, so the command
prints the same one-line message as when the stage ran on the main thread.
"""

from __future__ import annotations

import queue
import threading
from contextlib import contextmanager
from typing import Callable, Generic, Iterable, Iterator, TypeVar

Item = TypeVar("Item")

DEPTH = 2
"""Items a queue holds: enough to hide the stage's time, few enough that memory stays flat."""
POLL = 0.05
"""Seconds a blocked side waits before it looks whether the other side has stopped."""
_END = object()


@contextmanager
def read_ahead(items: Iterable[Item], depth: int = DEPTH) -> Iterator[Iterator[Item]]:
    """`items`, iterated on a worker thread `depth` items ahead of the caller. Leaving the block stops
    the worker (closing a generator there, so its files close) and waits for it."""
    handoff: queue.Queue = queue.Queue(depth)
    stopped = threading.Event()

    def produce() -> None:
        source = iter(items)
        try:
            for item in source:
                if not _put(handoff, (item, None), stopped):
                    return
            _put(handoff, (_END, None), stopped)
        except BaseException as error:  # handed over whole, raised in the caller
            _put(handoff, (_END, error), stopped)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def consume() -> Iterator[Item]:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item

    worker = threading.Thread(target=produce, name="newsbrief-read-ahead", daemon=True)
    worker.start()
    try:
        yield consume()
    finally:
        stopped.set()
        worker.join()


class WrittenBehind(Generic[Item]):
    """`write` hands an item to a worker thread that calls the writer on it, in order; `finish` waits for
    every item to be written. A writer's error is raised by the next `write` or by `finish`."""

    def __init__(self, writer: Callable[[Item], None], depth: int = DEPTH):
        self._writer = writer
        self._handoff: queue.Queue = queue.Queue(depth)
        self._failed = threading.Event()
        self._error: BaseException | None = None
        self._worker = threading.Thread(target=self._consume, name="newsbrief-write-behind", daemon=True)
        self._worker.start()

    def write(self, item: Item) -> None:
        if not _put(self._handoff, item, self._failed):
            self._raise()

    def finish(self) -> None:
        """Every item handed over is written (or the writer's error raised)."""
        _put(self._handoff, _END, self._failed)
        self._worker.join()
        self._raise()

    def _consume(self) -> None:
        while (item := self._handoff.get()) is not _END:
            try:
                self._writer(item)
            except BaseException as error:  # raised in the caller by its next write or finish
                self._error = error
                self._failed.set()
                return

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


@contextmanager
def written_behind(writer: Callable[[Item], None], depth: int = DEPTH) -> Iterator[WrittenBehind[Item]]:
    """A WrittenBehind over `writer`. Leaving the block, by an error too, writes what was handed over
    (the job's work up to there is kept, as when it wrote on the main thread) and waits for the worker."""
    behind = WrittenBehind(writer, depth)
    try:
        yield behind
    except BaseException:
        try:
            behind.finish()
        except BaseException:  # the first error is the one to report
            pass
        raise
    behind.finish()


def _put(handoff: queue.Queue, item: object, stopped: threading.Event) -> bool:
    """Put `item`, waiting while the queue is full; False, without putting it, once `stopped` is set."""
    while not stopped.is_set():
        try:
            handoff.put(item, timeout=POLL)
            return True
        except queue.Full:
            continue
    return False
