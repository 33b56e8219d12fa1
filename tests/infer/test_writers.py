"""Resumable outputs: what a reopened output says is done, and what a crash at a bad moment leaves."""

from __future__ import annotations

from contextlib import closing

import pyarrow.parquet as pq
import pytest

from newsbrief.infer.job_errors import BatchJobError
from newsbrief.infer.parquet_output import parts_folder
from newsbrief.infer.writers import check_output, open_output

from tests.infer.outputs import read_output

BRIEF = {"id": "a", "summary": "two\nlines", "topics": [["earn", 0.9], ["acq", 0.51]], "truncated": False}
ERROR = {"id": "f:2", "error": "f:2: invalid JSON"}


def write(path, *chunks: list[dict], finish: bool = True) -> set[str]:
    with closing(open_output(path)) as output:
        done = output.done
        for chunk in chunks:
            output.write(chunk)
        if finish:
            output.finish()
    return done


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_a_reopened_output_knows_its_ids_and_keeps_its_records(tmp_path, suffix):
    path = tmp_path / "out" / f"briefs{suffix}"
    assert write(path, [BRIEF], [ERROR]) == set()
    assert write(path, [{**ERROR, "id": "b"}]) == {"a", "f:2"}
    assert write(path) == {"a", "f:2", "b"}
    records = read_output(path)
    assert [r["id"] for r in records] == ["a", "f:2", "b"]
    assert records[0]["summary"] == "two\nlines" and records[1]["error"] == ERROR["error"]
    assert not parts_folder(path).exists()


def test_a_torn_jsonl_line_is_cut_off(tmp_path):
    path = tmp_path / "briefs.jsonl"
    write(path, [BRIEF, ERROR])
    with open(path, "ab") as file:
        file.write(b'{"id": "b", "summ')
    assert write(path, [{**ERROR, "id": "b"}]) == {"a", "f:2"}
    assert [r["id"] for r in read_output(path)] == ["a", "f:2", "b"]


@pytest.mark.parametrize("torn", [b'b,"half a', b'b,"one\n', b'b,"x","[]",False,f:3: inv', b"id,sum"])
def test_a_torn_csv_record_is_cut_off(tmp_path, torn):
    path = tmp_path / "briefs.csv"
    if torn.startswith(b"id"):  # torn in the header: the file starts over
        path.write_bytes(torn)
        assert write(path, [ERROR]) == set()
        assert [r["id"] for r in read_output(path)] == ["f:2"]
        return
    write(path, [BRIEF, ERROR])
    with open(path, "ab") as file:
        file.write(torn)
    assert write(path, [{**ERROR, "id": "b"}]) == {"a", "f:2"}
    assert [r["id"] for r in read_output(path)] == ["a", "f:2", "b"]


def test_a_csv_record_leaves_the_fields_it_lacks_empty(tmp_path):
    path = tmp_path / "briefs.csv"
    with closing(open_output(path, keep=("url",))) as output:
        output.write([{**BRIEF, "guard_fallback": True, "url": "u"}, ERROR])
    assert read_output(path) == [
        {"id": "a", "summary": "two\nlines", "topics": '[["earn", 0.9], ["acq", 0.51]]', "truncated": "False",
         "guard_fallback": "True", "error": "", "url": "u"},
        {"id": "f:2", "summary": "", "topics": "", "truncated": "", "guard_fallback": "", "error": ERROR["error"],
         "url": ""}]


def test_a_csv_that_is_not_ours_is_left_alone(tmp_path):
    path = tmp_path / "briefs.csv"
    path.write_text("name,age\nx,1\n")
    with pytest.raises(BatchJobError, match=f"{path} is not a briefs CSV"):
        open_output(path)
    assert path.read_text() == "name,age\nx,1\n"


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_retry_errors_drops_the_error_records_and_keeps_the_briefs_whole(tmp_path, suffix):
    path = tmp_path / f"briefs{suffix}"
    write(path, [BRIEF, ERROR], [{**BRIEF, "id": "c", "summary": "Zürich\r\nrose"}])
    with closing(open_output(path, retry_errors=True)) as output:
        assert output.done == {"a", "c"}  # f:2 is to be briefed again
    records = read_output(path)
    assert [r["id"] for r in records] == ["a", "c"]
    assert [r["summary"] for r in records] == ["two\nlines", "Zürich\r\nrose"]
    assert write(path) == {"a", "c"}  # and the file is still one of ours


@pytest.mark.parametrize("line", ['{"name": "x"}', '{"id": "a"}', '{"id": 5, "summary": "s"}', '["a"]', "x"])
def test_a_jsonl_that_is_not_ours_is_refused_naming_the_line(tmp_path, line):
    path = tmp_path / "briefs.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(BatchJobError, match=f"{path}:1 is not a brief or error record"):
        check_output(path)
    path.write_text('{"id": "a", "summary": "s"}\n' + line + "\n")
    with pytest.raises(BatchJobError, match=f"{path}:2 is not a brief or error record"):
        open_output(path)


def test_a_jsonl_with_kept_columns_is_reopened_only_with_them(tmp_path):
    path = tmp_path / "briefs.jsonl"
    path.write_text('{"id": "a", "summary": "s", "url": "u"}\n{"id": "b", "error": "e", "url": "v"}\n')
    with pytest.raises(BatchJobError, match=f"{path}:1 has the column 'url'"):
        check_output(path)
    check_output(path, keep=("url",))
    with closing(open_output(path, keep=("url",))) as output:
        assert output.done == {"a", "b"}


def test_a_torn_first_jsonl_line_leaves_an_empty_output(tmp_path):
    path = tmp_path / "briefs.jsonl"
    path.write_bytes(b'{"id": "b", "summ')
    check_output(path)  # cut off on opening, not refused
    assert write(path) == set()
    assert path.read_bytes() == b""


def test_parquet_parts_survive_a_crash_before_the_merge(tmp_path):
    path = tmp_path / "briefs.parquet"
    write(path, [BRIEF], [ERROR], finish=False)
    assert not path.exists() and len(list(parts_folder(path).glob("part-*.parquet"))) == 2
    (parts_folder(path) / "part-000002.parquet.tmp").write_bytes(b"half a part")  # a crash mid-part
    assert write(path, [{**ERROR, "id": "b"}]) == {"a", "f:2"}
    assert [r["id"] for r in read_output(path)] == ["a", "f:2", "b"]
    assert read_output(path)[0]["topics"] == [{"label": "earn", "score": 0.9}, {"label": "acq", "score": 0.51}]


def test_parquet_parts_left_after_a_finished_merge_are_dropped(tmp_path):
    path = tmp_path / "briefs.parquet"
    write(path, [BRIEF], [ERROR])
    parts_folder(path).mkdir()  # as if a crash came between the merge's rename and the folder's removal
    pq.write_table(pq.read_table(path), parts_folder(path) / "part-000000.parquet")
    assert write(path) == {"a", "f:2"}
    assert [r["id"] for r in read_output(path)] == ["a", "f:2"]
