"""Output records from rows and briefs: an item the engine refused is an error record, never an empty brief."""

from __future__ import annotations

from newsbrief.infer.engine import Brief
from newsbrief.infer.readers import Row
from newsbrief.infer.records import rows_records


def test_a_brief_the_engine_refused_is_written_as_an_error_record():
    rows = [Row("news.jsonl:1", "a", "Text one."), Row("news.jsonl:2", "b", "Text two.")]
    briefs = [Brief("a", "", [], error="item 1: 'text' is empty"), Brief("b", "A summary", [("business", 0.9)])]

    refused, briefed = rows_records(rows, briefs)

    assert refused == {"id": "a", "error": "news.jsonl:1: item 1: 'text' is empty"}
    assert briefed["summary"] == "A summary" and "error" not in briefed
