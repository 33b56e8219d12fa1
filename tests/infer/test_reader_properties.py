"""A property of the batch job's readers, on generated files: JSONL, CSV and Parquet with arbitrary text,
bytes that are not UTF-8, a byte order mark, garbage lines, quotes, line ends, ids that repeat or look like
`file:line`, and values of the wrong type. Every input record comes out exactly once, as a brief or an
error record, under an id no other record has; the job never raises; a rerun adds nothing."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from newsbrief.infer.batch_job import find_inputs, predict_files
from newsbrief.infer.engine import NewsBrief
from tests.infer.outputs import read_output

NOT_UTF8 = "\x07"
"""Generated text never holds it: the CSV writer turns it into a byte that is not UTF-8, after quoting."""

texts = st.text(alphabet=st.characters(exclude_characters=NOT_UTF8), max_size=60)
ids = st.one_of(st.none(), texts, st.integers(-5, 5), st.sampled_from(["a", "a", "articles.jsonl:1",
                                                                        "articles.csv:2", "articles.parquet:3"]))
record_texts = st.one_of(st.none(), texts, st.sampled_from(["\u200b\ufeff", "Acme Corp said profit rose.", ""]))
records = st.lists(st.fixed_dictionaries({"id": ids, "text": record_texts}), min_size=1, max_size=8)
garbage = st.binary(max_size=30).map(lambda data: b"#" + data.replace(b"\n", b""))
"""A line that is not a record: a `#` keeps it from being blank, whatever bytes follow."""


@pytest.fixture(scope="module")
def briefer(tiny_model_dir) -> NewsBrief:
    return NewsBrief.from_pretrained(tiny_model_dir, device="cpu")


def jsonl_bytes(rows: list[dict], garbage_at: dict[int, bytes], ascii_only: bool) -> bytes:
    lines = [garbage_at.get(i) or json.dumps(row, ensure_ascii=ascii_only).encode() for i, row in enumerate(rows)]
    return b"\n".join(lines)  # the last line without its line end, as some writers leave it


def csv_bytes(rows: list[dict], not_utf8: set[int]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["id", "text"])
    for i, row in enumerate(rows):
        value = "" if row["text"] is None else str(row["text"])
        writer.writerow(["" if row["id"] is None else row["id"], value + NOT_UTF8 if i in not_utf8 else value])
    return text.getvalue().encode().replace(NOT_UTF8.encode(), b"\xff")


def parquet_bytes(rows: list[dict]) -> bytes:
    # A column holds one type: ids as text (or as numbers when all are), texts as text (or all numbers).
    def column(values):
        return values if all(isinstance(v, int) or v is None for v in values) else \
            [None if v is None else str(v) for v in values]

    sink = io.BytesIO()
    pq.write_table(pa.table({"id": column([r["id"] for r in rows]), "text": column([r["text"] for r in rows])}),
                   sink, row_group_size=3)
    return sink.getvalue()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(rows=records, garbage_lines=st.dictionaries(st.integers(0, 7), garbage, max_size=3),
       not_utf8=st.sets(st.integers(0, 7), max_size=2), ascii_only=st.booleans(), bom=st.booleans(),
       suffix=st.sampled_from([".jsonl", ".csv", ".parquet"]), output_suffix=st.sampled_from([".jsonl", ".csv", ".parquet"]))
# Found by hypothesis: a line separator other than "\n" inside a record ("\x85", "\u2028") is no record's end.
@example(rows=[{"id": "\x85", "text": None}, {"id": "a\u2028b", "text": "Acme sells phones."}], garbage_lines={},
         not_utf8=set(), ascii_only=False, bom=False, suffix=".jsonl", output_suffix=".jsonl")
def test_every_generated_record_comes_out_once_and_a_rerun_adds_nothing(briefer, rows, garbage_lines, not_utf8,
                                                                          ascii_only, bom, suffix, output_suffix):
    data = {".jsonl": lambda: jsonl_bytes(rows, garbage_lines, ascii_only),
            ".csv": lambda: csv_bytes(rows, not_utf8), ".parquet": lambda: parquet_bytes(rows)}[suffix]()
    if bom and suffix != ".parquet":
        data = b"\xef\xbb\xbf" + data
    with tempfile.TemporaryDirectory() as folder:
        source, output = Path(folder) / f"articles{suffix}", Path(folder) / "out" / f"briefs{output_suffix}"
        source.write_bytes(data)
        counts = predict_files(briefer, find_inputs(str(source), output)[0], output, chunk_size=3)
        written = read_output(output)
        assert counts.input_rows == len(rows) == len(written)
        assert len({record["id"] for record in written}) == len(written)
        assert all(record["error"].startswith(f"articles{suffix}:") for record in written if record.get("error"))
        again = predict_files(briefer, find_inputs(str(source), output)[0], output, chunk_size=3)
        assert again.skipped == len(rows) and read_output(output) == written
