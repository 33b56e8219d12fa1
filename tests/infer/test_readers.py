"""Reading `newsbrief predict` inputs: which files an --input names, and one row per record, bad ones
included, each with the file and line that error messages and id-less records use."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsbrief.infer.job_errors import BatchJobError
from newsbrief.infer.readers import PARQUET_BATCH, InputFile, Row, expand_inputs, flag_duplicates, read_rows

GOOD = "Acme Corp said quarterly profit rose 28 percent on strong sales."


def rows_of(path, id_column="id", text_column="text", keep=()) -> list[Row]:
    return list(read_rows([InputFile(path, path.name)], id_column, text_column, keep))


def test_jsonl_bad_lines_become_rows_with_their_reason(tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_bytes(b"\n".join([
        b'\xef\xbb\xbf' + json.dumps({"id": "a", "text": GOOD}).encode(),  # 1 a byte order mark
        b'{"id": "b", "text": ',                                          # 2
        b"[1, 2, 3]",                                                     # 3
        b"",                                                              # 4 blank: no row
        json.dumps({"id": "c", "title": "no text"}).encode(),             # 5
        json.dumps({"id": "d", "text": "  "}).encode(),                   # 6
        json.dumps({"id": 5, "text": 42}).encode(),                       # 7
        json.dumps({"text": GOOD}).encode(),                              # 8
        b'{"id": "e", "text": "caf\xe9"}',                                # 9 Latin-1, not UTF-8
        json.dumps({"id": ["x"], "text": GOOD}).encode(),                 # 10
    ]) + b"\n")
    rows = rows_of(source)
    assert [(r.where, r.key) for r in rows] == [
        ("a.jsonl:1", "a"), ("a.jsonl:2", "a.jsonl:2"), ("a.jsonl:3", "a.jsonl:3"), ("a.jsonl:5", "c"),
        ("a.jsonl:6", "d"), ("a.jsonl:7", "5"), ("a.jsonl:8", "a.jsonl:8"), ("a.jsonl:9", "a.jsonl:9"),
        ("a.jsonl:10", "a.jsonl:10")]
    problems = [r.problem for r in rows]
    assert problems[0] is None and rows[0].text == GOOD and problems[6] is None
    assert "invalid JSON" in problems[1] and problems[2] == "not a JSON object"
    assert problems[3:6] == ["no 'text'", "'text' is empty", "'text' is not a string"]
    assert problems[7] == "not UTF-8 (byte 25 of the line)" and problems[8] == "'id' is not a string or a number"


def test_json_nested_too_deeply_for_python_is_one_bad_line(tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_text("[" * 100_000 + "]" * 100_000 + "\n" + json.dumps({"id": "b", "text": GOOD}) + "\n")
    assert [(r.where, r.key, r.problem) for r in rows_of(source)] == [
        ("a.jsonl:1", "a.jsonl:1", "invalid JSON (nested too deeply)"), ("a.jsonl:2", "b", None)]


def test_csv_rows_keep_their_first_line_number_and_flag_bad_bytes(tmp_path):
    source = tmp_path / "a.csv"
    big = "word " * 60_000  # over the csv module's default field limit of 128 KiB
    source.write_bytes(
        b'id,title,text\n'
        b'a,t,"two\nlines"\n'                    # 2-3
        b',t,' + GOOD.encode() + b'\n'          # 4 no id
        b'c,t,\n'                               # 5 empty text
        b'd,t\n'                                # 6 too few fields
        b'\n'                                   # 7 blank
        b'e,t,caf\xe9\n'                        # 8 not UTF-8
        b'f,t,' + big.encode() + b'\n')         # 9
    rows = rows_of(source)
    assert [(r.where, r.key, r.problem) for r in rows] == [
        ("a.csv:2", "a", None), ("a.csv:4", "a.csv:4", None), ("a.csv:5", "c", "'text' is empty"),
        ("a.csv:6", "d", "no 'text'"), ("a.csv:8", "a.csv:8", "not UTF-8"), ("a.csv:9", "f", None)]
    assert rows[0].text == "two\nlines" and rows[-1].text == big


def test_parquet_rows_are_numbered_from_one_and_ids_become_strings(tmp_path):
    source = tmp_path / "a.parquet"
    pq.write_table(pa.table({"key": [7, None, 9], "body": [GOOD, GOOD, None]}), source)
    rows = rows_of(source, id_column="key", text_column="body")
    assert [(r.where, r.key, r.problem) for r in rows] == [
        ("a.parquet:1", "7", None), ("a.parquet:2", "a.parquet:2", None), ("a.parquet:3", "9", "no 'body'")]


def test_parquet_rows_are_numbered_across_record_batches(tmp_path):
    # More rows than one record batch (PARQUET_BATCH), in several row groups: numbering never restarts.
    source = tmp_path / "big.parquet"
    count = 2 * PARQUET_BATCH + 7
    pq.write_table(pa.table({"text": [f"{GOOD} {i}" for i in range(count)]}), source, row_group_size=50)
    rows = rows_of(source)
    assert [r.where for r in rows] == [f"big.parquet:{n}" for n in range(1, count + 1)]
    assert [r.text for r in rows] == [f"{GOOD} {i}" for i in range(count)]


@pytest.mark.parametrize("name, content", [("a.csv", b"id,title\n1,x\n"), ("a.parquet", None)])
def test_a_file_without_the_text_column_is_fatal(tmp_path, name, content):
    source = tmp_path / name
    if content is None:
        pq.write_table(pa.table({"id": [1], "title": ["x"]}), source)
    else:
        source.write_bytes(content)
    with pytest.raises(BatchJobError, match=f"{source}: no column 'text'"):
        rows_of(source)


def test_an_unreadable_file_is_fatal_and_named(tmp_path):
    source = tmp_path / "broken.parquet"
    source.write_bytes(b"not parquet at all")
    with pytest.raises(BatchJobError, match=f"cannot read {source}"):
        rows_of(source)
    gone = InputFile(tmp_path / "gone.jsonl", "gone.jsonl")
    with pytest.raises(BatchJobError, match=f"cannot read {gone.path}"):
        list(read_rows([gone], "id", "text"))


def test_later_rows_with_a_seen_id_are_duplicates_under_their_place():
    rows = [Row("f:1", "a", GOOD), Row("f:2", "b", GOOD), Row("f:3", "a", GOOD), Row("f:4", None, GOOD)]
    flagged = list(flag_duplicates(rows))
    assert [(r.key, r.problem) for r in flagged] == [
        ("a", None), ("b", None), ("f:3", "duplicate id 'a'"), ("f:4", None)]


def test_a_duplicate_keeps_its_kept_columns_so_that_its_error_record_joins_back():
    kept = {"section": "sport"}
    rows = [Row("f:1", "a", GOOD, kept={"section": "world"}), Row("f:2", "a", GOOD, kept=kept)]
    assert list(flag_duplicates(rows))[1].kept == kept


def test_an_id_first_seen_on_an_error_row_is_taken():
    # The error row's record is written under its id, so a later good row with that id would be a second record.
    rows = [Row("f:1", "a", problem="'text' is empty"), Row("f:2", "a", GOOD), Row("f:3", "b", GOOD)]
    flagged = list(flag_duplicates(rows))
    assert [(r.where, r.key, r.problem) for r in flagged] == [
        ("f:1", "a", "'text' is empty"), ("f:2", "f:2", "duplicate id 'a'"), ("f:3", "b", None)]


@pytest.fixture
def tree(tmp_path):
    for name in ("b.jsonl", "a.csv", "c.parquet", "notes.txt", "sub/d.jsonl", "sub/e.JSONL", "out.jsonl"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("")
    return tmp_path


def test_a_folder_gives_its_files_of_known_formats_sorted_without_the_output(tree):
    files = expand_inputs(str(tree), exclude=[tree / "out.jsonl"])
    assert [f.name for f in files] == ["a.csv", "b.jsonl", "c.parquet"]


def test_a_glob_names_files_relative_to_its_folder(tree):
    files = expand_inputs(str(tree / "**" / "*.*"), exclude=[tree / "out.jsonl", tree / "sub"])
    assert [f.name for f in files] == ["a.csv", "b.jsonl", "c.parquet"]
    files = expand_inputs(str(tree / "s*" / "*"))
    assert [f.name for f in files] == ["sub/d.jsonl", "sub/e.JSONL"]
    assert expand_inputs(str(tree / "b.jsonl"))[0].name == "b.jsonl"


@pytest.mark.parametrize("spec, message", [
    ("absent.jsonl", "no such file or folder"), ("*.xml", "no .jsonl, .csv or .parquet files in"),
    ("notes.txt", "not a .jsonl, .csv or .parquet file"), ("sub/missing/", "no such file or folder")])
def test_inputs_that_name_no_file_are_fatal_and_named(tree, spec, message):
    with pytest.raises(BatchJobError, match=message) as raised:
        expand_inputs(str(tree / spec))
    assert str(tree / spec) in str(raised.value)


def test_an_id_of_the_form_file_line_cannot_take_a_record_without_ids_id(tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "a.jsonl:3", "text": GOOD},   # 1: the id that line 3, which has none, gets
        {"id": "a.jsonl:2", "text": GOOD},   # 2: its own where: harmless
        {"text": GOOD},                      # 3
        {"id": "other.csv:9", "text": GOOD},  # 4: the form, in any file's name
    ]))
    rows = list(flag_duplicates(rows_of(source)))
    assert [r.key for r in rows] == ["a.jsonl:1", "a.jsonl:2", "a.jsonl:3", "a.jsonl:4"]
    assert [r.problem is None for r in rows] == [False, True, True, False]
    assert "has the form file:line" in rows[0].problem


@pytest.mark.parametrize("text", ["\u200b", "\ufeff", "\u200b\u200d \u2060\n", "\u00ad", "\u202e\u200e"])
def test_invisible_text_is_empty(tmp_path, text):
    source = tmp_path / "a.jsonl"
    source.write_text(json.dumps({"id": "z", "text": text}) + "\n")
    assert [(r.key, r.problem) for r in rows_of(source)] == [("z", "'text' is empty")]


def test_an_unterminated_csv_quote_is_one_error_and_the_rows_after_it_are_read(tmp_path):
    source = tmp_path / "a.csv"
    source.write_text(f'id,text\n1,{GOOD}\n2,"never closed\n3,{GOOD}\n4,"two\nlines"\n')
    rows = rows_of(source)
    assert [(r.where, r.key) for r in rows] == [("a.csv:2", "1"), ("a.csv:3", "a.csv:3"), ("a.csv:4", "3"),
                                                ("a.csv:5", "4")]
    assert "never closes" in rows[1].problem and rows[2].text == GOOD and rows[3].text == "two\nlines"


def test_a_quote_that_runs_to_the_end_of_the_file_is_one_error(tmp_path):
    source = tmp_path / "a.csv"
    source.write_text(f'id,text\n1,"never closed\n2,{GOOD}\n3,{GOOD}\n')
    rows = rows_of(source)
    assert [(r.key, r.problem is None) for r in rows] == [("a.csv:2", False), ("2", True), ("3", True)]


def test_kept_columns_come_as_text_in_every_format(tmp_path):
    # A string as it is, a missing or null value as None, anything else as JSON (non-ASCII kept as it is).
    records = [{"id": "a", "text": GOOD, "section": "Économie", "tags": ["x", "é"], "score": 3},
               {"id": "b", "text": GOOD, "section": None, "tags": [], "score": 0}]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "a.parquet")
    keep = ("section", "tags", "score", "absent")
    for name in ("a.jsonl", "a.parquet"):
        assert [r.kept for r in rows_of(tmp_path / name, keep=keep)] == [
            {"section": "Économie", "tags": '["x", "é"]', "score": "3", "absent": None},
            {"section": None, "tags": "[]", "score": "0", "absent": None}], name
