"""`NewsBrief.predict` takes what users hold, and bad items follow the batch job's rule: an error, named."""

from __future__ import annotations

import json

import datasets
import pandas as pd
import pytest

from newsbrief.infer.batch_job import find_inputs, predict_files
from newsbrief.infer.engine import NewsBrief
from newsbrief.infer.inputs import articles_of

from tests.conftest import ROOT

ROWS = [json.loads(line) for line in (ROOT / "examples/articles.jsonl").read_text().splitlines()][:3]
TEXTS = [row["text"] for row in ROWS]


@pytest.fixture(scope="module")
def briefer(tiny_model_dir) -> NewsBrief:
    return NewsBrief.from_pretrained(tiny_model_dir, device="cpu")


@pytest.fixture(scope="module")
def expected(briefer) -> list[tuple[str, str]]:
    """(id, summary) of the three articles given as a list of records."""
    return [(b.id, b.summary) for b in briefer.predict([{"id": r["id"], "text": r["text"]} for r in ROWS])]


def as_pairs(briefs) -> list[tuple[str, str]]:
    assert all(b.error is None for b in briefs)
    return [(b.id, b.summary) for b in briefs]


def test_a_dataframe_is_briefed_by_its_rows_not_its_column_names(briefer, expected):
    frame = pd.DataFrame({"url": ["u1", "u2", "u3"], "body": TEXTS, "key": [r["id"] for r in ROWS]})
    assert as_pairs(briefer.predict(frame, text_column="body", id_column="key")) == expected


def test_a_dataset_and_an_iterable_dataset_with_a_body_column(briefer, expected):
    table = datasets.Dataset.from_dict({"body": TEXTS, "id": [r["id"] for r in ROWS]})
    assert as_pairs(briefer.predict(table, text_column="body")) == expected
    assert as_pairs(briefer.predict(table.to_iterable_dataset(), text_column="body")) == expected


def test_any_iterable_and_a_generator_of_texts(briefer, expected):
    positions = [(str(i), summary) for i, (_, summary) in enumerate(expected)]
    assert as_pairs(briefer.predict(iter(TEXTS))) == positions
    assert as_pairs(briefer.predict(text for text in TEXTS)) == positions


def test_a_single_string_is_one_article(briefer, expected):
    (brief,) = briefer.predict(TEXTS[0])
    assert (brief.id, brief.summary) == ("0", expected[0][1])


def test_a_table_without_the_text_column_is_one_error_naming_it(briefer):
    with pytest.raises(ValueError, match=r"no column 'text' \(text_column=\); columns are \['body'\]"):
        briefer.predict(pd.DataFrame({"body": TEXTS}))
    with pytest.raises(ValueError, match=r"no column 'content'"):
        briefer.predict(datasets.Dataset.from_dict({"body": TEXTS}), text_column="content")


BAD_ITEMS = [(None, "item 1: not a text or a record (a dict), got NoneType"),
             (42, "item 1: not a text or a record (a dict), got int"),
             ("", "item 1: 'text' is empty"),
             ("  \n", "item 1: 'text' is empty"),
             ("\u200b\u200d", "item 1: 'text' is empty"),
             ("\ufeff", "item 1: 'text' is empty"),
             ({"title": "no text"}, "item 1: no 'text'"),
             ({"text": 7}, "item 1: 'text' is not a string")]


@pytest.mark.parametrize("item, error", BAD_ITEMS, ids=[repr(item) for item, _ in BAD_ITEMS])
def test_a_bad_item_gets_an_error_brief_naming_it_and_the_others_are_briefed(briefer, expected, item, error):
    first, bad, last = briefer.predict([TEXTS[0], item, TEXTS[2]])
    assert bad.error == error and bad.summary == "" and bad.topics == []
    assert (first.summary, last.summary) == (expected[0][1], expected[2][1])


def test_the_api_and_the_batch_job_name_the_same_problems(briefer, tmp_path):
    """One rule: the same records give the same problems, after the item or the file line that holds them."""
    records = [{"id": "a", "text": TEXTS[0]}, {"id": "b", "text": ""}, {"id": "c", "text": "\u200b"},
               {"id": "d"}, {"id": "e", "text": 7}]
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    output = tmp_path / "out.jsonl"
    predict_files(briefer, find_inputs(str(data), output)[0], output)
    job = {r["id"]: r.get("error") for r in map(json.loads, output.read_text().splitlines())}
    api = {b.id: b.error for b in briefer.predict(records)}
    assert job.keys() == api.keys()
    for key in job:
        assert (job[key] is None) == (api[key] is None)
        if job[key] is not None:
            assert job[key].split(": ", 1)[1] == api[key].split(": ", 1)[1]


@pytest.mark.parametrize("setting, message", [
    ({"num_beams": 0}, r"^generation.num_beams: must be positive, got 0$"),
    ({"max_new_tokens": -1}, r"^generation.max_new_tokens: must be positive"),
    ({"min_new_tokens": 99}, r"^generation.min_new_tokens: larger than generation.max_new_tokens$"),
    ({"repetition_penalty": 0.0}, r"^generation.repetition_penalty: must be positive"),
    ({"num_beams": "3"}, r"^generation.num_beams: expected int, got '3'$"),
    ({"beams": 3}, r"^generation.beams: unknown key"),
])
def test_impossible_or_unknown_generation_keywords_are_one_line_errors(briefer, setting, message):
    with pytest.raises(ValueError, match=message):
        briefer.predict(TEXTS[:1], **setting)


def test_progress_shows_a_bar_with_the_total(briefer, capsys):
    briefer.predict(TEXTS, progress=True)
    err = capsys.readouterr().err
    assert "briefing: 100%" in err and "3/3" in err
    briefer.predict(TEXTS)
    assert capsys.readouterr().err == ""


def test_records_without_an_id_get_their_position():
    articles = list(articles_of([{"text": "a b"}, {"id": 5, "text": "c d"}, "e f"]))
    assert [(a.id, a.text, a.error) for a in articles] == [("0", "a b", None), ("5", "c d", None), ("2", "e f", None)]
