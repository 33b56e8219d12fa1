"""The `newsbrief predict` batch job: every input line comes out once, as a brief or as an error record."""

from __future__ import annotations

import json

import pytest

from newsbrief.cli import main
from newsbrief.infer import batch_job
from newsbrief.infer.batch_job import predict_file
from newsbrief.infer.engine import NewsBrief

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
]
EXPECTED = [  # (id, line number of an error or None), one per non-blank line
    ("a", None), ("line-2", 2), ("line-3", 3), ("c", 5), ("d", 6), ("5", 7), ("line-8", None), ("e", None),
]


@pytest.fixture(scope="module")
def briefer(tiny_model_dir) -> NewsBrief:
    return NewsBrief.from_pretrained(tiny_model_dir, device="cpu")


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def check_output(records: list[dict]) -> None:
    assert [r["id"] for r in records] == [record_id for record_id, _ in EXPECTED]
    for record, (_, line) in zip(records, EXPECTED):
        if line is None:
            assert set(record) >= {"id", "summary", "topics"} and "error" not in record
            assert isinstance(record["summary"], str) and isinstance(record["topics"], list)
        else:
            assert set(record) == {"id", "error"}
            assert record["error"].startswith(f"line {line}: ")


@pytest.mark.parametrize("chunk", [256, 4], ids=["one-chunk", "chunks-of-4"])
def test_every_line_gives_one_record_in_order(briefer, tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(batch_job, "CHUNK", chunk)
    source = tmp_path / "articles.jsonl"
    source.write_text("\n".join(LINES) + "\n")
    counts = predict_file(briefer, source, tmp_path / "out" / "briefs.jsonl")
    records = read_jsonl(tmp_path / "out" / "briefs.jsonl")
    check_output(records)
    assert counts == {"briefed": 3, "errors": 5}


def test_a_chunk_of_only_bad_lines(briefer, tmp_path):
    source = tmp_path / "articles.jsonl"
    source.write_text("not json\n[1]\n")
    assert predict_file(briefer, source, tmp_path / "briefs.jsonl") == {"briefed": 0, "errors": 2}


def test_error_records_say_why(briefer, tmp_path):
    source = tmp_path / "articles.jsonl"
    source.write_text("\n".join(LINES) + "\n")
    predict_file(briefer, source, tmp_path / "briefs.jsonl")
    errors = {r["id"]: r["error"] for r in read_jsonl(tmp_path / "briefs.jsonl") if "error" in r}
    assert "invalid JSON" in errors["line-2"]
    assert "JSON object" in errors["line-3"]
    assert all("'text'" in errors[key] for key in ("c", "d", "5"))


def test_cli_predict_writes_briefs(tiny_model_dir, tmp_path):
    source = tmp_path / "articles.jsonl"
    source.write_text("\n".join(LINES) + "\n")
    main(["predict", "--model", str(tiny_model_dir), "--input", str(source),
          "--output", str(tmp_path / "briefs.jsonl"), "--device", "cpu"])
    check_output(read_jsonl(tmp_path / "briefs.jsonl"))


def test_cli_predict_names_a_missing_input(tmp_path):
    missing = tmp_path / "absent.jsonl"
    with pytest.raises(SystemExit) as exited:
        main(["predict", "--model", str(tmp_path), "--input", str(missing), "--output", str(tmp_path / "o.jsonl")])
    assert str(missing) in str(exited.value.code)
    assert not (tmp_path / "o.jsonl").exists()
