"""`newsbrief predict --retry-errors` killed with SIGKILL while it rewrites the output without its error
records, or while it briefs those rows again: a rerun of the same command gives every id exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from newsbrief.cli import main

from tests.conftest import ROOT
from tests.infer.outputs import read_output
from tests.infer.test_batch_job import GOOD, articles, write_input
from tests.infer.test_keep_and_retry import write_rows

ROWS = 120


def predict(model: Path, source: Path, output: Path, chunk_size: int, *options: str) -> list[str]:
    return ["predict", "--model", str(model), "--input", str(source), "--output", str(output),
            "--chunk-size", str(chunk_size), "--device", "cpu", *options]


def start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "newsbrief", *command], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_when(job: subprocess.Popen, ready, seconds: float = 180) -> None:
    """SIGKILL the job as soon as `ready()` holds, as the batch job's kill -9 test does."""
    deadline = time.monotonic() + seconds
    while not ready():
        assert job.poll() is None and time.monotonic() < deadline, "the job ended before it could be killed"
        time.sleep(0.01)
    job.kill()
    job.wait()


def briefs_written(output: Path) -> int:
    """Re-briefed records in the output; every record of the failed run was an error."""
    if output.suffix == ".jsonl":
        return output.read_bytes().count(b'"summary"') if output.exists() else 0
    return len(list((output.parent / f"{output.name}.parts").glob("part-*.parquet")))


def finished(output: Path) -> bool:
    if output.suffix == ".jsonl":
        return briefs_written(output) == ROWS
    return not (output.parent / f"{output.name}.parts").exists()


def error_records_left(output: Path) -> int:
    if output.suffix == ".jsonl":
        return output.read_bytes().count(b'"error"')
    parts = (output.parent / f"{output.name}.parts").glob("part-*.parquet")
    return sum(len(pq.read_table(part, columns=["error"])["error"].drop_null()) for part in parts)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_kill_9_while_retrying_errors_then_a_rerun_gives_every_id_once(tiny_model_dir, tmp_path, suffix):
    source, output = tmp_path / "articles.jsonl", tmp_path / f"briefs{suffix}"
    write_input(source, articles(ROWS))
    main(predict(tiny_model_dir, source, output, 100, "--text-column", "body"))  # every row an error
    assert all(r["error"] for r in read_output(output))

    retry = predict(tiny_model_dir, source, output, 5, "--retry-errors")
    job = start(retry)
    kill_when(job, lambda: briefs_written(output) >= 5)  # rewritten without the errors, some rows briefed again
    assert not finished(output) and error_records_left(output) == 0

    main(predict(tiny_model_dir, source, output, 100, "--retry-errors"))  # larger chunks only to save test time
    records = read_output(output)
    assert sorted(r["id"] for r in records) == sorted(f"n{i}" for i in range(ROWS))
    assert all(r["summary"] and not r.get("error") for r in records)


def test_kill_9_after_the_rewrite_is_written_but_before_it_is_renamed(tiny_model_dir, tmp_path):
    """The rewrite goes to `<output>.tmp`, made a FIFO here: the job blocks on it, so the test knows the
    exact moment the job has written the whole rewrite and not yet renamed it over the output, and kills
    it there. The FIFO then becomes the plain file that a crash at that moment leaves on disk."""
    source, output = tmp_path / "news.jsonl", tmp_path / "briefs.jsonl"
    rows = [{"id": f"n{i}", "text": " " if i % 4 == 0 else f"{GOOD} Item {i}."} for i in range(20)]
    write_rows(source, rows)
    main(predict(tiny_model_dir, source, output, 100))
    old = {r["id"]: r for r in read_output(output)}
    assert sorted(i for i, r in old.items() if r.get("error")) == sorted(f"n{i}" for i in range(0, 20, 4))
    write_rows(source, [{**r, "text": f"{GOOD} Item {r['id']}."} for r in rows])  # the empty rows fixed

    temporary = output.with_name(output.name + ".tmp")
    os.mkfifo(temporary)
    job = start(predict(tiny_model_dir, source, output, 100, "--retry-errors"))
    rewrite = []
    reading = threading.Thread(target=lambda: rewrite.append(temporary.read_bytes()), daemon=True)
    reading.start()  # opens the FIFO when the job opens it to write, reads until the job closes it
    reading.join(timeout=180)
    assert not reading.is_alive() and job.poll() is None, "the job never wrote its rewrite"
    job.kill()  # the rewrite is whole and not renamed: the job waits to open it again, to fsync it
    job.wait()
    kept = [json.loads(line) for line in rewrite[0].splitlines()]
    assert [r["id"] for r in kept] == [i for i, r in old.items() if not r.get("error")]
    assert read_output(output) == list(old.values())  # the old output, untouched
    temporary.unlink()
    temporary.write_bytes(rewrite[0])

    main(predict(tiny_model_dir, source, output, 100, "--retry-errors"))
    records = read_output(output)
    assert sorted(r["id"] for r in records) == sorted(r["id"] for r in rows)
    assert all(r["summary"] and not r.get("error") for r in records)
    assert [r for r in records if r["id"] in old and not old[r["id"]].get("error")] == kept  # briefs kept as they were
    assert not temporary.exists()
