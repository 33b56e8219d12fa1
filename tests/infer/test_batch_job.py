"""The `newsbrief predict` batch job: every input record comes out exactly once, as a brief or as an
error record, in every format, after a crash and a rerun too; only fatal problems stop it."""

from __future__ import annotations

import csv
import errno
import json
import os
import subprocess
import sys
import threading
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsbrief.cli import main
from newsbrief.infer import batch_job
from newsbrief.infer.batch_job import find_inputs, predict_files
from newsbrief.infer.engine import NewsBrief
from newsbrief.infer.writers import JsonlOutput

from tests.infer.outputs import read_output
from tests.conftest import ROOT

GOOD = "Acme Corp said quarterly profit rose 28 percent on strong sales."
LINES = [
    json.dumps({"id": "a", "text": GOOD}),         # 1
    '{"id": "b", "text": ',                        # 2 invalid JSON
    "[1, 2, 3]",                                   # 3 not an object
    "",                                            # 4 blank: skipped
    json.dumps({"id": "c", "title": "no text"}),   # 5 missing text
    json.dumps({"id": "d", "text": "  "}),         # 6 empty text
    json.dumps({"id": 5, "text": 42}),             # 7 text not a string
    json.dumps({"text": "Celtic beat Arsenal 4-0 in the league match on Saturday."}),  # 8 no id
    "   ",                                         # 9 blank: skipped
    json.dumps({"id": "e", "text": GOOD + " Shares gained."}),  # 10
    json.dumps({"id": "a", "text": GOOD}),         # 11 duplicate id
]
EXPECTED = [  # (id, line number of an error or None), one per non-blank line
    ("a", None), ("articles.jsonl:2", 2), ("articles.jsonl:3", 3), ("c", 5), ("d", 6), ("5", 7),
    ("articles.jsonl:8", None), ("e", None), ("articles.jsonl:11", 11),
]


@pytest.fixture(scope="module")
def briefer(tiny_model_dir) -> NewsBrief:
    return NewsBrief.from_pretrained(tiny_model_dir, device="cpu")


def write_input(path, records: list[dict]) -> None:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    elif path.suffix == ".csv":
        with open(path, "w", newline="") as file:
            writer = csv.DictWriter(file, ["id", "text"])
            writer.writeheader()
            writer.writerows(records)
    else:
        pq.write_table(pa.Table.from_pylist(records), path)


def articles(count: int) -> list[dict]:
    return [{"id": f"n{i}", "text": f"{GOOD} Item {i}."} for i in range(count)]


def run(briefer, source, output, chunk_size=4):
    return predict_files(briefer, find_inputs(str(source), output)[0], output, chunk_size=chunk_size)


@pytest.mark.parametrize("chunk", [256, 4], ids=["one-chunk", "chunks-of-4"])
def test_every_line_gives_one_record_in_order(briefer, tmp_path, chunk):
    source = tmp_path / "articles.jsonl"
    source.write_text("\n".join(LINES) + "\n")
    counts = run(briefer, source, tmp_path / "out" / "briefs.jsonl", chunk)
    records = read_output(tmp_path / "out" / "briefs.jsonl")
    assert [r["id"] for r in records] == [record_id for record_id, _ in EXPECTED]
    for record, (_, line) in zip(records, EXPECTED):
        if line is None:
            assert set(record) == {"id", "summary", "topics", "truncated", "guard_fallback"} and \
                 isinstance(record["summary"], str)
        else:
            assert set(record) == {"id", "error"} and record["error"].startswith(f"articles.jsonl:{line}: ")
    assert (counts.input_rows, counts.briefed, counts.errors, counts.skipped) == (9, 3, 6, 0)
    assert "duplicate id 'a'" in records[-1]["error"]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_each_input_format(briefer, tmp_path, suffix):
    source = tmp_path / f"articles{suffix}"
    write_input(source, articles(5) + [{"id": "empty", "text": ""}])
    run(briefer, source, tmp_path / "briefs.jsonl")
    records = read_output(tmp_path / "briefs.jsonl")
    assert [r["id"] for r in records] == [f"n{i}" for i in range(5)] + ["empty"]
    assert "summary" in records[0] and records[-1]["error"].startswith(f"articles{suffix}:")


def test_a_row_without_an_id_is_briefed_as_one_with_an_id(briefer, tmp_path):
    source = tmp_path / "articles.jsonl"
    write_input(source, [{"text": GOOD}, {"id": "x", "text": GOOD}])
    run(briefer, source, tmp_path / "briefs.jsonl")
    anonymous, named = read_output(tmp_path / "briefs.jsonl")
    assert anonymous["id"] == "articles.jsonl:1" and {**anonymous, "id": "x"} == named
    assert named["summary"] and named["topics"]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_each_output_format_resumes_after_a_crash(briefer, tmp_path, monkeypatch, suffix):
    source, output = tmp_path / "articles.jsonl", tmp_path / f"briefs{suffix}"
    write_input(source, articles(10))
    stream = briefer.predict_stream

    def crash_after_eight_briefs(records, **kwargs):
        for made, brief in enumerate(stream(records, **kwargs)):
            if made == 8:
                raise RuntimeError("the machine went away")
            yield brief

    monkeypatch.setattr(briefer, "predict_stream", crash_after_eight_briefs)
    with pytest.raises(RuntimeError):
        run(briefer, source, output)
    monkeypatch.undo()
    counts = run(briefer, source, output)
    assert (counts.skipped, counts.briefed) == (8, 2)
    assert sorted(r["id"] for r in read_output(output)) == sorted(f"n{i}" for i in range(10))


def test_one_engine_stream_reads_and_writes_off_the_main_thread(briefer, tmp_path, monkeypatch):
    """The engine sees one stream (so it tokenizes the next chunk while the model runs), and reading the
    input and writing the output leave the main thread to the model."""
    source, output = tmp_path / "articles.jsonl", tmp_path / "briefs.jsonl"
    write_input(source, articles(10))
    streams, threads, stream = [], {}, briefer.predict_stream
    read_file, write = batch_job.read_rows, JsonlOutput.write

    def one_stream(records, **kwargs):
        streams.append(kwargs)
        return stream(records, **kwargs)

    def reading(*args):
        for row in read_file(*args):
            threads.setdefault("read", threading.current_thread())
            yield row

    def writing(out, records):
        threads.setdefault("write", threading.current_thread())
        write(out, records)

    monkeypatch.setattr(briefer, "predict_stream", one_stream)
    monkeypatch.setattr(batch_job, "read_rows", reading)
    monkeypatch.setattr(JsonlOutput, "write", writing)
    counts = run(briefer, source, output, chunk_size=3)
    assert counts.briefed == 10 and [r["id"] for r in read_output(output)] == [f"n{i}" for i in range(10)]
    assert len(streams) == 1 and streams[0]["chunk_size"] == 3
    assert threading.main_thread() not in threads.values() and set(threads) == {"read", "write"}


def test_kill_9_mid_run_then_a_rerun_gives_every_id_once(tiny_model_dir, tmp_path):
    source, output = tmp_path / "articles.jsonl", tmp_path / "briefs.jsonl"
    write_input(source, articles(300))
    command = ["predict", "--model", str(tiny_model_dir), "--input", str(source), "--output", str(output),
               "--chunk-size", "5", "--device", "cpu"]
    job = subprocess.Popen([sys.executable, "-m", "newsbrief", *command], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while not output.exists() or output.read_bytes().count(b"\n") < 20:
        assert job.poll() is None and time.monotonic() < deadline, "the job ended before it could be killed"
        time.sleep(0.01)
    job.kill()
    job.wait()
    assert output.read_bytes().count(b"\n") < 300
    main(command[:-3] + ["100", "--device", "cpu"])  # larger chunks only to save test time
    ids = [r["id"] for r in read_output(output)]
    assert sorted(ids) == sorted(f"n{i}" for i in range(300))


def test_a_torn_last_line_is_repaired_on_rerun(briefer, tmp_path):
    source, output = tmp_path / "articles.jsonl", tmp_path / "briefs.jsonl"
    write_input(source, articles(8))
    run(briefer, source, output)
    lines = output.read_bytes().splitlines(keepends=True)
    output.write_bytes(b"".join(lines[:5]) + lines[5][:20])  # a crash in the middle of writing line 6
    counts = run(briefer, source, output)
    assert (counts.skipped, counts.briefed) == (5, 3)
    assert [r["id"] for r in read_output(output)] == [f"n{i}" for i in range(8)]


def test_folder_and_glob_inputs(briefer, tmp_path):
    (tmp_path / "in" / "more").mkdir(parents=True)
    write_input(tmp_path / "in" / "b.jsonl", [{"text": GOOD}])
    write_input(tmp_path / "in" / "a.csv", articles(2))
    write_input(tmp_path / "in" / "more" / "c.parquet", [{"id": "c", "text": GOOD}])
    run(briefer, tmp_path / "in", tmp_path / "in" / "briefs.jsonl")  # the output is not read back
    assert [r["id"] for r in read_output(tmp_path / "in" / "briefs.jsonl")] == ["n0", "n1", "b.jsonl:1"]
    (tmp_path / "in" / "briefs.jsonl").unlink()  # or the glob would read it
    run(briefer, f"{tmp_path}/in/**/*.*", tmp_path / "all.jsonl")
    assert [r["id"] for r in read_output(tmp_path / "all.jsonl")] == ["n0", "n1", "b.jsonl:1", "c"]


def test_a_5_mb_article_is_briefed_and_counted_as_truncated(briefer, tmp_path):
    source = tmp_path / "articles.jsonl"
    write_input(source, [{"id": "huge", "text": (GOOD + " ") * 80_000}, {"id": "short", "text": GOOD}])
    counts = run(briefer, source, tmp_path / "briefs.jsonl")
    assert (counts.briefed, counts.truncated) == (2, 1)
    assert [r["truncated"] for r in read_output(tmp_path / "briefs.jsonl")] == [True, False]


def test_cli_prints_a_json_and_a_human_summary(tiny_model_dir, tmp_path, capsys):
    source = tmp_path / "articles.jsonl"
    source.write_text("\n".join(LINES) + "\n")
    command = ["predict", "--model", str(tiny_model_dir), "--input", str(source),
               "--output", str(tmp_path / "briefs.csv"), "--device", "cpu"]
    main(command)
    main(command)
    err = capsys.readouterr().err
    summaries = [json.loads(line) for line in err.splitlines() if line.startswith('{"input_rows"')]
    assert [(s["briefed"], s["errors"], s["skipped"]) for s in summaries] == [(3, 6, 0), (0, 0, 9)]
    assert "9 input rows: 3 briefed (0 truncated), 6 errors, 0 skipped as already done" in err
    assert len(read_output(tmp_path / "briefs.csv")) == 9


def test_cli_names_a_missing_input_or_model(tmp_path):
    missing = tmp_path / "absent.jsonl"
    for spec in (str(missing), f"{tmp_path}/*.jsonl"):
        with pytest.raises(SystemExit) as exited:
            main(["predict", "--model", str(tmp_path), "--input", spec, "--output", str(tmp_path / "o.jsonl")])
        assert spec in str(exited.value) and exited.value.code == 4
    assert not (tmp_path / "o.jsonl").exists()
    write_input(missing, articles(1))
    with pytest.raises(SystemExit) as exited:
        main(["predict", "--model", str(tmp_path / "no-model"), "--input", str(missing),
              "--output", str(tmp_path / "o.jsonl")])
    assert str(tmp_path / "no-model") in str(exited.value) and exited.value.code == 6


def test_cli_stops_at_an_unreadable_file_and_names_it(tiny_model_dir, tmp_path):
    write_input(tmp_path / "a.jsonl", articles(2))
    (tmp_path / "b.parquet").write_bytes(b"not parquet")
    with pytest.raises(SystemExit) as exited:
        main(["predict", "--model", str(tiny_model_dir), "--input", str(tmp_path), "--output",
              str(tmp_path / "out" / "briefs.jsonl"), "--chunk-size", "2", "--device", "cpu"])
    assert f"cannot read {tmp_path / 'b.parquet'}" in str(exited.value) and exited.value.code == 4
    assert len(read_output(tmp_path / "out" / "briefs.jsonl")) == 2  # chunks written before it are kept


def test_cli_stops_on_a_full_disk_and_names_the_output(tiny_model_dir, tmp_path, monkeypatch):
    write_input(tmp_path / "a.jsonl", articles(2))

    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    output = tmp_path / "briefs.jsonl"
    with pytest.raises(SystemExit) as exited:
        main(["predict", "--model", str(tiny_model_dir), "--input", str(tmp_path / "a.jsonl"), "--output",
              str(output), "--device", "cpu"])
    assert exited.value.code == 5
    assert str(exited.value) == f"newsbrief predict: cannot write {output}: No space left on device"
