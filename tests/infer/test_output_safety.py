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


NOT_OURS = {  # an existing output that some other program wrote, and the start of the error it gives
    "data.jsonl": ('{"id": "x", "text": "A user\'s own article."}\n', "data.jsonl:1 is not a brief or error record"),
    "held-csv.jsonl": ("id,text\nx,An article.\n", "held-csv.jsonl:1 is not a brief or error record"),
    "names.csv": ("name,age\nx,1\n", "names.csv is not a briefs CSV"),
    "text.parquet": ("not parquet at all", "text.parquet is not a Parquet file"),
}


@pytest.mark.parametrize("name", NOT_OURS)
def test_an_output_that_is_not_ours_is_refused_and_left_alone_every_time(tiny_model_dir, tmp_path, name):
    source, output = tmp_path / "articles.jsonl", tmp_path / name
    write_input(source, articles(2))
    content, message = NOT_OURS[name]
    output.write_text(content)
    for _ in range(2):  # a rerun says the same
        exited = exits(predict(tiny_model_dir, source, output))
        assert exited.code == 5 and message in str(exited)
        assert output.read_text() == content and not list(tmp_path.glob(f"{name}.parts"))


def test_an_input_file_named_as_the_output_is_refused(tiny_model_dir, tmp_path):
    (tmp_path / "data").mkdir()
    write_input(tmp_path / "data" / "a.jsonl", articles(2))
    write_input(tmp_path / "data" / "b.jsonl", [{"id": "b", "text": articles(1)[0]["text"]}])
    before = (tmp_path / "data" / "a.jsonl").read_text()
    exited = exits(predict(tiny_model_dir, tmp_path / "data", tmp_path / "data" / "a.jsonl"))
    assert exited.code == 5 and "a.jsonl:1 is not a brief or error record" in str(exited)
    assert (tmp_path / "data" / "a.jsonl").read_text() == before


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_full_disk_is_one_line_and_a_rerun_loses_nothing(tiny_model_dir, tmp_path, suffix):
    source, output = tmp_path / "articles.jsonl", tmp_path / f"briefs{suffix}"
    write_input(source, articles(40))
    command = predict(tiny_model_dir, source, output, "--chunk-size", "4")
    # A file-size limit fails writes past 3000 bytes with EFBIG, as a full disk fails them with ENOSPC.
    script = ("import resource, signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
              "resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))\n"
              f"from newsbrief.cli import main\nmain({command!r})\n")
    full = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert full.returncode == 5 and "Traceback" not in full.stderr
    assert full.stderr.rstrip().splitlines()[-1] == f"newsbrief predict: cannot write {output}: File too large"
    main(command)
    assert sorted(r["id"] for r in read_output(output)) == sorted(f"n{i}" for i in range(40))
