"""Training data of a user's own: no id or split column, topics in one CSV cell, bad rows named."""

from __future__ import annotations

import csv
import json
import shlex

import pytest

from newsbrief.config import ConfigError, SourceConfig
from newsbrief.data import read_split
from newsbrief.cli import main
from newsbrief.data_errors import DataError
from tests.conftest import ROOT

ARTICLES = [(f"Headline {n}", f"Article number {n} says something. It has a second sentence.",
             "business|markets" if n % 2 else "sport") for n in range(20)]


def write_csv(path, rows, header=("headline", "body", "topics")):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def own(path, **settings) -> SourceConfig:
    return SourceConfig(path=str(path), text_column="body", summary_column="headline", **settings)


def test_a_csv_without_id_and_split_gets_row_ids_and_a_seeded_validation_share(tmp_path):
    path = write_csv(tmp_path / "mine.csv", ARTICLES)
    train = read_split(own(path, validation_fraction=0.25), "train")
    validation = read_split(own(path, validation_fraction=0.25), "validation")
    assert len(validation) == 5 and len(train) == 15
    assert sorted(list(train["id"]) + list(validation["id"]), key=lambda i: int(i.split(":")[1])) == \
        [f"mine.csv:{n}" for n in range(1, 21)]
    # The same draw every run (data.split_seed), another with another seed; no test split is made up.
    drawn = list(validation["id"])
    assert list(read_split(own(path, validation_fraction=0.25), "validation")["id"]) == drawn
    assert list(read_split(own(path, validation_fraction=0.25), "validation", split_seed=1)["id"]) != drawn
    assert read_split(own(path, validation_fraction=0.25), "test") is None


def test_no_split_named_reads_every_row_of_a_file_with_or_without_a_split_column(tmp_path):
    path = write_csv(tmp_path / "mine.csv", ARTICLES)
    assert list(read_split(own(path), None)["id"]) == [f"mine.csv:{n}" for n in range(1, 21)]
    split = write_csv(tmp_path / "split.csv", [(*row, "test" if i % 2 else "train") for i, row in enumerate(ARTICLES)],
                      header=("headline", "body", "topics", "split"))
    assert len(read_split(own(split), None)) == 20 and len(read_split(own(split), "test")) == 10


def test_topics_separator_splits_a_csv_cell_into_labels(tmp_path):
    path = write_csv(tmp_path / "mine.csv", ARTICLES[:2])
    assert list(read_split(own(path, validation_fraction=0.0), "train")["topics"]) == [["sport"], ["business|markets"]]
    split = read_split(own(path, validation_fraction=0.0, topics_separator="|"), "train")
    assert list(split["topics"]) == [["sport"], ["business", "markets"]]


@pytest.mark.parametrize("setting", [{"id_column": "key"}, {"split_column": "part"}])
def test_an_id_or_split_column_named_in_the_config_must_exist(tmp_path, setting):
    path = write_csv(tmp_path / "mine.csv", ARTICLES)
    with pytest.raises(DataError, match=f"mine.csv: no column {next(iter(setting.values()))!r}"):
        read_split(own(path, **setting), "train")


@pytest.mark.parametrize("text", ["", "  ", "\u200b\ufeff"])
def test_an_empty_article_is_an_error_naming_the_file_and_row(tmp_path, text):
    rows = ARTICLES[:3]
    rows[1] = ("Headline", text, "sport")
    path = write_csv(tmp_path / "mine.csv", rows)
    with pytest.raises(DataError, match=r"mine.csv, row 2: 'body' is empty"):
        read_split(own(path, validation_fraction=0.0), "train")


def test_a_topics_cell_that_is_not_names_is_an_error_naming_the_row(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text('{"body": "One. Two.", "headline": "h", "topics": ["sport"]}\n'
                    '{"body": "One. Two.", "headline": "h", "topics": {"sport": 1}}\n')
    with pytest.raises(DataError, match=r"mine.jsonl, row 2: 'topics' is not a topic name or a list"):
        read_split(own(path, validation_fraction=0.0), "train")


def test_a_file_that_does_not_parse_is_one_line_naming_it(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text('{"body": "One. Two.", "headline": "h"}\n{"body": "broken\n')
    with pytest.raises(DataError, match=r"mine.jsonl: cannot read it as json: ") as error:
        read_split(own(path, topics_column=None), "train")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("override, key", [("data.sources.0.validation_fraction=1.0", "validation_fraction"),
                                           ("data.sources.0.topics_separator=''", "topics_separator")])
def test_impossible_own_data_settings_name_the_key(override, key, tiny_config):
    with pytest.raises(ConfigError, match=f"data.sources.0.{key}"):
        tiny_config(override)


def test_without_validation_data_training_warns_and_the_card_says_so(tmp_path, tiny_config, caplog):
    from newsbrief.train.loop import train

    path = write_csv(tmp_path / "mine.csv", ARTICLES)
    config = tiny_config(f"data.sources=[{{path: {path}, text_column: body, summary_column: headline, "
                         "topics_separator: '|', validation_fraction: 0.0}]", "train.max_steps=2",
                         "train.eval_every=2", "train.warmup_steps=1", "train.tensorboard=false")
    with caplog.at_level("WARNING"):
        model_dir = train(config)
    assert "no validation data" in caplog.text
    card = (model_dir / "README.md").read_text()
    assert "None: no source had validation data" in card and "tuned per label" not in card


def readme_commands(section: str) -> list[list[str]]:
    """The `newsbrief ...` lines of a README section's bash block, as argument lists."""
    text = (ROOT / "README.md").read_text()
    body = text[text.index(f"## {section}\n"):]
    body = body[:body.index("\n## ", 1)]
    block = body[body.index("```bash\n") + len("```bash\n"):]
    return [shlex.split(line)[1:] for line in block[:block.index("```")].splitlines() if line.startswith("newsbrief ")]


def test_the_readme_worked_example_trains_on_the_example_csv_and_briefs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the commands' relative paths: examples/ as in a checkout, runs/ here
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    train_args, predict_args = readme_commands("Train on your own news")
    tiny = ["model.random_init=true", "model.config_overrides={hidden_size: 32, num_hidden_layers: 2, "
            "num_attention_heads: 4, intermediate_size: 37}", "train.max_steps=4", "train.eval_every=2", "train.warmup_steps=1",
            "train.tensorboard=false"]
    main(train_args + tiny)
    main(predict_args)
    model_dir = tmp_path / "runs" / "my-news" / "model"
    labels = json.loads((model_dir / "labels.json").read_text())["names"]
    assert labels == ["agriculture", "business", "energy", "politics", "sport", "transport", "weather"]
    card = (model_dir / "README.md").read_text()
    assert "## Validation metrics\nOn a seeded sample" in card
    briefs = [json.loads(line) for line in (tmp_path / "runs/my-news/briefs.jsonl").read_text().splitlines()]
    assert len(briefs) == 7 and all("summary" in b for b in briefs)
