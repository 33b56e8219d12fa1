"""Faults around the output of `newsbrief predict`: a second run on it, an output that is not ours, a
full disk. Each stops the job with one line that names the file, before anything is written twice."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from newsbrief.cli import main
from newsbrief.run_lock import run_lock

from tests.conftest import ROOT
from tests.infer.outputs import read_output
from tests.infer.test_batch_job import articles, write_input


def predict(model, source, output, *extra):
    return ["predict", "--model", str(model), "--input", str(source), "--output", str(output), "--device", "cpu",
            *extra]


def exits(command) -> SystemExit:
    with pytest.raises(SystemExit) as exited:
        main(command)
    assert "\n" not in str(exited.value)
    return exited.value


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_a_second_run_on_a_locked_output_stops_at_once(tiny_model_dir, tmp_path, suffix):
    source, output = tmp_path / "articles.jsonl", tmp_path / "out" / f"briefs{suffix}"
    write_input(source, articles(3))
    with run_lock(output.with_name(output.name + ".lock"), output):  # as a running job holds it
        exited = exits(predict(tiny_model_dir, source, output))
    assert exited.code == 5 and f"{output}: another run is writing it" in str(exited)
    assert not output.exists()
    main(predict(tiny_model_dir, source, output))  # released: the next run goes ahead
    assert len(read_output(output)) == 3


def test_two_concurrent_runs_write_every_record_once(tiny_model_dir, tmp_path):
    source, output = tmp_path / "articles.jsonl", tmp_path / "briefs.jsonl"
    write_input(source, articles(200))
    first = subprocess.Popen([sys.executable, "-m", "newsbrief", *predict(tiny_model_dir, source, output,
                                                                          "--chunk-size", "5")],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while not output.exists() or output.read_bytes().count(b"\n") < 5:
        assert first.poll() is None and time.monotonic() < deadline, "the first run ended too soon"
        time.sleep(0.01)
    second = exits(predict(tiny_model_dir, source, output))
    assert second.code == 5 and "another run is writing it" in str(second)
    assert first.wait(timeout=300) == 0, first.stderr.read().decode()
    assert sorted(r["id"] for r in read_output(output)) == sorted(f"n{i}" for i in range(200))


def test_an_unwritable_output_folder_stops_before_the_model_loads(tmp_path):
    source = tmp_path / "articles.jsonl"
    write_input(source, articles(1))
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    exited = exits(predict(tmp_path / "no-model", source, blocked / "briefs.jsonl"))  # no model: not reached
    assert exited.code == 5 and f"cannot write {blocked / 'briefs.jsonl'}" in str(exited)
