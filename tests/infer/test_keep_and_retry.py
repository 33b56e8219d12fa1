"""`newsbrief predict --keep-columns` (input columns in every record and format, error records included)
and `--retry-errors` (error records briefed again and replaced, every id once)."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsbrief.cli import CommandError, main
from newsbrief.infer.batch_job import find_inputs, predict_files

from tests.infer.outputs import read_output
from tests.infer.test_batch_job import GOOD, briefer  # noqa: F401 (a fixture)

ROWS = [
    {"id": "a", "text": GOOD, "url": "https://x.test/a", "date": 20260101},
    {"id": "b", "text": " ", "url": "https://x.test/b", "date": 20260102},  # an error record
    {"id": "c", "text": GOOD + " Shares rose.", "url": "https://x.test/c", "date": 20260103},
]


def write_rows(path, rows: list[dict]) -> None:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif path.suffix == ".csv":
        with open(path, "w", newline="") as file:
            writer = csv.DictWriter(file, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)


def run(briefer, source, output, keep_columns=None, text_column="text", retry_errors=False):
    files, keep = find_inputs(str(source), output, keep_columns, text_column=text_column)
    return predict_files(briefer, files, output, text_column=text_column, chunk_size=2, keep=keep,
                         retry_errors=retry_errors)


@pytest.mark.parametrize("output_suffix", [".jsonl", ".csv", ".parquet"])
@pytest.mark.parametrize("input_suffix", [".jsonl", ".csv", ".parquet"])
def test_kept_columns_are_in_every_record_and_format_as_text(briefer, tmp_path, input_suffix, output_suffix):
    source, output = tmp_path / f"news{input_suffix}", tmp_path / f"briefs{output_suffix}"
    write_rows(source, ROWS)
    run(briefer, source, output, "url,date")
    records = read_output(output)
    assert [(r["id"], r["url"], r["date"]) for r in records] == [
        ("a", "https://x.test/a", "20260101"), ("b", "https://x.test/b", "20260102"),
        ("c", "https://x.test/c", "20260103")]
    line = {".jsonl": 2, ".csv": 3, ".parquet": 2}[input_suffix]  # a CSV's header is line 1
    assert records[1]["error"] == f"news{input_suffix}:{line}: 'text' is empty"
    assert records[0]["summary"] and not records[0].get("error")


def test_all_keeps_every_column_but_text_and_id_and_a_rerun_must_keep_the_same(briefer, tmp_path):
    source, output = tmp_path / "news.csv", tmp_path / "briefs.csv"
    write_rows(source, ROWS)
    assert find_inputs(str(source), output, "all")[1] == ("url", "date")
    run(briefer, source, output, "all")
    with open(output, newline="") as file:
        assert next(csv.reader(file))[-2:] == ["url", "date"]
    with pytest.raises(CommandError) as failed:
        main(["predict", "--input", str(source), "--output", str(output), "--keep-columns", "url"])
    assert failed.value.code == 5 and "give the --keep-columns it was written with" in str(failed.value)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_a_kept_column_the_input_lacks_is_one_line_naming_it(tmp_path, capsys, suffix):
    source = tmp_path / f"news{suffix}"
    write_rows(source, ROWS)
    with pytest.raises(CommandError) as failed:
        main(["predict", "--input", str(source), "--output", str(tmp_path / "out.jsonl"),
              "--keep-columns", "url,source"])
    assert failed.value.code == 4
    assert capsys.readouterr().err == (f"newsbrief predict: {source}: no column 'source' (--keep-columns); "
                                       f"columns are {list(ROWS[0])}\n")


def test_a_kept_column_named_as_an_output_column_is_refused(tmp_path):
    source = tmp_path / "news.jsonl"
    write_rows(source, [{**ROWS[0], "summary": "given"}])
    with pytest.raises(CommandError) as failed:
        main(["predict", "--input", str(source), "--output", str(tmp_path / "out.jsonl"), "--keep-columns", "all"])
    assert failed.value.code == 2 and "'summary' is also a column of the output records" in str(failed.value)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_retry_errors_briefs_the_failed_rows_once_each(briefer, tmp_path, suffix):
    source, output = tmp_path / "news.jsonl", tmp_path / f"briefs{suffix}"
    rows = [{"id": f"n{i}", "text": f"{GOOD} Item {i}.", "url": f"u{i}"} for i in range(5)]
    write_rows(source, rows)
    first = run(briefer, source, output, "url", text_column="body")  # the wrong column: every row an error
    assert (first.briefed, first.errors) == (0, 5)
    assert run(briefer, source, output, "url").skipped == 5  # without the flag, errors count as done

    fixed = run(briefer, source, output, "url", retry_errors=True)
    assert (fixed.briefed, fixed.errors, fixed.skipped) == (5, 0, 0)
    records = read_output(output)
    assert Counter(r["id"] for r in records) == Counter(r["id"] for r in rows)
    assert all(r["summary"] and not r.get("error") for r in records)
    assert sorted((r["id"], r["url"]) for r in records) == [(r["id"], r["url"]) for r in rows]

    again = run(briefer, source, output, "url", retry_errors=True)  # nothing failed: nothing to redo
    assert (again.briefed, again.skipped) == (0, 5) and len(read_output(output)) == 5


def test_retry_errors_keeps_the_briefs_and_redoes_only_the_errors(briefer, tmp_path):
    source, output = tmp_path / "news.jsonl", tmp_path / "briefs.parquet"
    write_rows(source, ROWS)
    run(briefer, source, output)
    before = {r["id"]: r for r in read_output(output)}
    counts = run(briefer, source, output, retry_errors=True)
    assert (counts.briefed, counts.errors, counts.skipped) == (0, 1, 2)  # "b" is still empty
    after = read_output(output)
    assert sorted(r["id"] for r in after) == ["a", "b", "c"]
    assert {r["id"]: r for r in after}["a"] == before["a"]


def test_the_readme_batch_commands_keep_the_columns_and_retry(tiny_model_dir, tmp_path, monkeypatch, capsys):
    from tests.conftest import ROOT
    from tests.test_own_data import readme_commands

    monkeypatch.chdir(tmp_path)  # the commands' relative paths: examples/ as in a checkout, runs/ here
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    first, retry = (args + ["--model", str(tiny_model_dir)] for args in
                    readme_commands("Batch jobs: rows that join back, errors retried"))
    with open(tmp_path / "examples/my_news.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    main(first)
    output = tmp_path / "runs/my-briefs.csv"
    records = read_output(output)
    assert [r["headline"] for r in records] == [r["headline"] for r in rows] and not any(r["error"] for r in records)
    lines = output.read_text().splitlines(keepends=True)  # make the first record an error, as a failed run would
    error = next(csv.reader([lines[1]]))
    error[1:6] = ["", "", "", "", "my_news.csv:2: 'body' is empty"]
    output.write_text(lines[0] + ",".join(f'"{f}"' for f in error) + "\n" + "".join(lines[2:]))
    capsys.readouterr()
    main(retry)
    summary = json.loads(capsys.readouterr().err.splitlines()[-2])
    assert (summary["briefed"], summary["errors"], summary["skipped"]) == (1, 0, len(rows) - 1)
    again = read_output(output)
    assert sorted(r["headline"] for r in again) == sorted(r["headline"] for r in rows)
    assert not any(r["error"] for r in again)
