"""The batch job's worker threads: items in order, a worker's error raised in the caller as itself, and
no hang whichever side stops first."""

from __future__ import annotations

import threading

import pytest

from newsbrief.infer.background import read_ahead, written_behind
from newsbrief.infer.job_errors import InputError, OutputError


def test_read_ahead_gives_every_item_in_order_from_another_thread():
    threads = set()

    def numbers():
        for i in range(50):
            threads.add(threading.current_thread())
            yield i

    with read_ahead(numbers()) as items:
        assert list(items) == list(range(50))
    assert threading.main_thread() not in threads


def test_read_ahead_raises_the_sources_error_itself_after_the_items_before_it():
    error = InputError("cannot read b.parquet: not a Parquet file")

    def failing():
        yield 1
        yield 2
        raise error

    seen = []
    with pytest.raises(InputError) as raised, read_ahead(failing()) as items:
        for item in items:
            seen.append(item)
    assert raised.value is error and seen == [1, 2]


def test_leaving_read_ahead_early_stops_the_worker_and_closes_the_source():
    closed = threading.Event()

    def endless():
        try:
            while True:
                yield 0
        finally:
            closed.set()

    with pytest.raises(RuntimeError, match="the model failed"), read_ahead(endless(), depth=1) as items:
        next(items)
        raise RuntimeError("the model failed")  # the worker is blocked on a full queue here
    assert closed.is_set()
    assert not any(t.name == "newsbrief-read-ahead" for t in threading.enumerate())


def test_written_behind_writes_in_order_on_another_thread():
    written, threads = [], set()

    def write(item):
        threads.add(threading.current_thread())
        written.append(item)

    with written_behind(write) as behind:
        for i in range(20):
            behind.write(i)
    assert written == list(range(20)) and threading.main_thread() not in threads


def test_a_writers_error_is_raised_itself_by_the_next_write_or_at_the_end():
    error = OutputError("cannot write briefs.jsonl: No space left on device")

    def full_disk(item):
        raise error

    with pytest.raises(OutputError) as raised, written_behind(full_disk, depth=1) as behind:
        for i in range(100):  # more than the queue holds: a write must notice the stopped writer
            behind.write(i)
    assert raised.value is error


def test_the_callers_error_wins_and_what_it_handed_over_is_written():
    written = []
    with pytest.raises(RuntimeError, match="the model failed"), written_behind(written.append) as behind:
        behind.write("chunk 1")
        behind.write("chunk 2")
        raise RuntimeError("the model failed")
    assert written == ["chunk 1", "chunk 2"]
