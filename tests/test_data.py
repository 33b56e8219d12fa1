"""Reading sources into one schema, the label space and its masks, padding, and the epoch order."""

from __future__ import annotations

import json
import random

import datasets
import pandas as pd
import pyarrow as pa
import pytest
import torch

from newsbrief.config import DataConfig, ModelConfig, SourceConfig
from newsbrief.data import (CANONICAL_FEATURES, Collator, concatenate, epoch_batches, read_corpora, read_split,
                            source_repeats, tokenize)
from newsbrief.data_errors import DataError
from newsbrief.gap_sentences import gap_sentence_example
from newsbrief.labels import LabelSpace
from newsbrief.models.backbone import load_tokenizer

ROWS = [
    {"id": "n1", "text": "Celtic won the cup.", "title": "Celtic win", "topics": ["Sports"], "split": "train"},
    {"id": "n2", "text": "Shares fell.", "title": "  ", "topics": ["Business", "Misc"], "split": "train"},
    {"id": "n3", "text": "A new phone.", "title": "Phone", "topics": ["Sci/Tech"], "split": "validation"},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def source(path, **settings) -> SourceConfig:
    return SourceConfig(path=str(path), summary_column="title", **settings)


def test_jsonl_in_the_canonical_schema(tmp_path):
    split = read_split(source(write_jsonl(tmp_path / "news.jsonl", ROWS)), "train")
    assert sorted(split.column_names) == sorted(CANONICAL_FEATURES)
    assert list(split["id"]) == ["n1", "n2"]
    assert list(split["text"]) == ["Celtic won the cup.", "Shares fell."]
    assert list(split["summary"]) == ["Celtic win", None]  # a blank summary trains no summary
    assert list(split["topics"]) == [["Sports"], ["Business", "Misc"]]
    assert list(split["source"]) == ["news", "news"]  # the file's stem when the source has no name


def test_integer_ids_become_strings(tmp_path):
    numbered = read_split(source(write_jsonl(tmp_path / "numbered.jsonl",
                                             [{**row, "id": i} for i, row in enumerate(ROWS)])), "train")
    named = read_split(source(write_jsonl(tmp_path / "named.jsonl", ROWS)), "train")
    assert list(concatenate({"numbered": numbered, "named": named})["id"]) == ["0", "1", "n1", "n2"]


def test_a_split_the_source_lacks_is_none(tmp_path):
    path = write_jsonl(tmp_path / "news.jsonl", ROWS)
    assert read_split(source(path), "test") is None
    assert list(read_split(source(path), "validation")["id"]) == ["n3"]


def test_without_a_split_column_and_no_validation_fraction_everything_is_train(tmp_path):
    path = write_jsonl(tmp_path / "news.jsonl", ROWS)
    assert len(read_split(source(path, split_column=None, validation_fraction=0.0), "train")) == 3
    assert read_split(source(path, split_column=None, validation_fraction=0.0), "validation") is None


def test_csv_without_topics(tmp_path):
    path = tmp_path / "wire.csv"
    pd.DataFrame([{k: v for k, v in row.items() if k != "topics"} for row in ROWS]).to_csv(path, index=False)
    split = read_split(source(path, name="wire", topics_column=None), "train")
    assert sorted(split.column_names) == sorted(CANONICAL_FEATURES)
    assert list(split["id"]) == ["n1", "n2"]
    assert list(split["topics"]) == [[], []]
    assert list(split["source"]) == ["wire", "wire"]


def test_parquet_with_topic_lists(tmp_path):
    path = tmp_path / "news.parquet"
    pd.DataFrame(ROWS).to_parquet(path)
    split = read_split(source(path, max_examples=1), "train")
    assert list(split["id"]) == ["n1"]
    assert list(split["topics"]) == [["Sports"]]


def test_one_topic_as_a_string(tmp_path):
    rows = [{**row, "topics": row["topics"][0]} for row in ROWS]
    rows[0]["topics"], rows[1]["topics"] = "Sports news", None  # without a separator, a space splits nothing
    split = read_split(source(write_jsonl(tmp_path / "news.jsonl", rows)), "train")
    assert list(split["topics"]) == [["Sports news"], []]


def test_label_map_renames_and_drops(tmp_path):
    label_map = {"Sports": "sport", "Business": "business", "Misc": ""}
    split = read_split(source(write_jsonl(tmp_path / "news.jsonl", ROWS), label_map=label_map), "train")
    assert list(split["topics"]) == [["sport"], ["business"]]


@pytest.mark.parametrize("setting", [{"text_column": "body"}, {"summary_column": "headline"},
                                     {"topics_column": "labels"}, {"id_column": "key"},
                                     {"split_column": "part"}])
def test_missing_column_is_named(tmp_path, setting):
    path = write_jsonl(tmp_path / "news.jsonl", ROWS)
    column = next(iter(setting.values()))
    with pytest.raises(ValueError, match=repr(column)) as error:
        read_split(SourceConfig(path=str(path), **{"summary_column": "title", **setting}), "train")
    assert str(error.value).endswith("columns are ['id', 'text', 'title', 'topics', 'split']")


def test_an_article_that_is_not_a_string_is_an_error_naming_the_row(tmp_path):
    path = write_jsonl(tmp_path / "news.jsonl", [ROWS[0], {**ROWS[1], "text": 5}])
    with pytest.raises(DataError, match=r"news.jsonl, row 2: 'text' is not a string$"):
        read_split(source(path), "train")


def two_sources():
    """Source a annotates sport/business/tech, source b annotates earn/acq; c annotates nothing."""
    sources = [SourceConfig(path="a.jsonl", name="a"), SourceConfig(path="b.jsonl", name="b"),
               SourceConfig(path="c.jsonl", name="c", topics_column=None)]
    splits = {
        "a": datasets.Dataset.from_dict({"topics": [["sport"], ["business", "sport"], ["tech"]]}),
        "b": datasets.Dataset.from_dict({"topics": [["earn"], ["acq", "earn"], []]}),
        "c": datasets.Dataset.from_dict({"topics": [[], []]}),
    }
    return splits, sources


def test_label_space_is_the_union_with_masks_per_source():
    labels = LabelSpace.from_training_data(*two_sources(), min_count=1)
    assert labels.names == ["acq", "business", "earn", "sport", "tech"]
    assert labels.annotated_by == {"a": ["business", "sport", "tech"], "b": ["acq", "earn"], "c": []}

    target, mask = labels.encode(["sport", "business"], "a")
    assert target == [0, 1, 0, 1, 0]
    assert mask == [0, 1, 0, 1, 1]
    # An article of b is neither positive nor negative for a's labels.
    target, mask = labels.encode(["earn"], "b")
    assert target == [0, 0, 1, 0, 0]
    assert mask == [1, 0, 1, 0, 0]
    assert labels.encode([], "c") == ([0] * 5, [0] * 5)


def test_a_section_makes_the_other_sources_articles_outside_it_negatives_for_its_labels():
    splits, sources = two_sources()
    sources[1].section = "business"  # b's labels (earn, acq) are finer business topics
    labels = LabelSpace.from_training_data(splits, sources, min_count=1)
    assert labels.sections == {"b": "business"}

    target, mask = labels.encode(["sport"], "a")  # a sport report: surely neither earn nor acq
    assert target == [0, 0, 0, 1, 0]
    assert mask == [1, 1, 1, 1, 1]
    # A business article of a may be about earnings: still neither positive nor negative for b's labels.
    assert labels.encode(["business"], "a")[1] == [0, 1, 0, 1, 1]
    assert labels.encode(["earn"], "b")[1] == [1, 0, 1, 0, 0]  # b's own articles: only its own labels
    assert labels.encode([], "c")[1] == [0] * 5  # c annotates no section


def test_a_section_that_no_other_source_labels_is_named():
    splits, sources = two_sources()
    sources[1].section = "sports"
    with pytest.raises(ValueError, match=r"data.sources.1.section: 'sports'"):
        LabelSpace.from_training_data(splits, sources, min_count=1)


def test_min_label_count_leaves_rare_labels_out():
    labels = LabelSpace.from_training_data(*two_sources(), min_count=2)
    assert labels.names == ["earn", "sport"]
    assert labels.annotated_by == {"a": ["sport"], "b": ["earn"], "c": []}
    assert labels.encode(["tech", "sport"], "a") == ([0, 1], [0, 1])


def test_label_space_round_trip(tmp_path):
    splits, sources = two_sources()
    sources[1].section = "business"
    labels = LabelSpace.from_training_data(splits, sources, min_count=1)
    labels.save(tmp_path / "labels.json", [0.1, 0.2, 0.3, 0.4, 0.5])
    loaded, thresholds = LabelSpace.load(tmp_path / "labels.json")
    assert loaded == labels
    assert thresholds == [0.1, 0.2, 0.3, 0.4, 0.5]
    labels.save(tmp_path / "default.json")
    assert LabelSpace.load(tmp_path / "default.json")[1] == [0.5] * 5


def test_read_corpora_gives_each_split_of_each_source_by_name(tmp_path):
    news = source(write_jsonl(tmp_path / "news.jsonl", ROWS), name="news")
    wire = source(write_jsonl(tmp_path / "wire.jsonl", ROWS[:2]), name="wire")  # no validation rows
    corpora = read_corpora(DataConfig(sources=[news, wire]))
    assert {split: {name: list(d["id"]) for name, d in parts.items()} for split, parts in corpora.items()} == {
        "train": {"news": ["n1", "n2"], "wire": ["n1", "n2"]}, "validation": {"news": ["n3"]}}
    assert list(read_corpora(DataConfig(sources=[news]), splits=("validation",))) == ["validation"]


def test_read_corpora_carves_splits_and_gap_windows_as_the_data_config_says(tmp_path):
    rows = [{"id": f"r{i}", "text": GAP_ARTICLE, "title": "Acme sells phones", "topics": []} for i in range(10)]
    path = write_jsonl(tmp_path / "bodies.jsonl", rows)
    carved = source(path, split_column=None, validation_fraction=0.3)
    gaps = source(path, name="gaps", split_column=None, validation_fraction=0.3, objective="gap_sentences")
    corpora = read_corpora(DataConfig(sources=[carved, gaps], max_source_length=16, split_seed=7))
    for settings, name in ((carved, "bodies"), (gaps, "gaps")):
        expected = read_split(settings, "validation", max_source_length=16, split_seed=7)
        read = corpora["validation"][name]
        assert (list(read["id"]), list(read["text"])) == (list(expected["id"]), list(expected["text"]))
    # So that the seed and the window length are seen to be passed on: with the defaults they differ.
    assert list(read_split(carved, "validation")["id"]) != list(corpora["validation"]["bodies"]["id"])
    assert read_split(gaps, "validation", split_seed=7)["text"] != corpora["validation"]["gaps"]["text"]


def test_a_folder_of_split_files_is_read_by_split_name(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    write_jsonl(folder / "train.jsonl", ROWS[:2])
    write_jsonl(folder / "validation.jsonl", ROWS[2:])
    news = source(folder)
    assert list(read_split(news, "train")["id"]) == ["n1", "n2"]
    assert list(read_split(news, "validation")["id"]) == ["n3"]
    assert read_split(news, "test") is None
    with pytest.raises(DataError, match=r"news: name one of its splits \['train', 'validation'\]$"):
        read_split(news, None)


@pytest.mark.parametrize("fraction, held_out", [(0.1, 1), (0.99, 2)])
def test_a_carved_validation_share_holds_a_row_at_least_and_leaves_one_to_train_on(tmp_path, fraction, held_out):
    path = write_jsonl(tmp_path / "news.jsonl", ROWS)  # three rows
    settings = source(path, split_column=None, validation_fraction=fraction)
    assert (len(read_split(settings, "validation")), len(read_split(settings, "train"))) == (held_out, 3 - held_out)


def test_an_empty_file_is_named_as_such(tmp_path):
    (tmp_path / "news.jsonl").write_bytes(b"")
    with pytest.raises(DataError, match=r"news.jsonl: the file is empty$"):
        read_split(source(tmp_path / "news.jsonl"), "train")


def test_a_path_that_is_no_data_file_nor_a_dataset_is_one_line_naming_it(tmp_path):
    with pytest.raises(DataError, match=r"nowhere: neither a .jsonl, .csv or .parquet file nor a dataset found on "
                                        r"the Hub \((?!None\)).+\)$") as error:
        read_split(source(tmp_path / "nowhere"), "train")
    assert "\n" not in str(error.value)


def test_a_file_that_does_not_parse_is_named_with_the_first_line_of_the_root_cause(tmp_path, monkeypatch):
    """`datasets` raises its own error while handling the parser's (here two levels down): the message gives the
    parser's, the innermost."""
    def fails(*args, **kwargs):
        try:
            try:
                raise pa.ArrowInvalid("JSON parse error: missing a comma in row 2\nwhile reading block 0")
            except pa.ArrowInvalid as parse_error:
                raise ValueError("could not read a block") from parse_error
        except ValueError:
            raise datasets.exceptions.DatasetGenerationError("An error occurred while generating the dataset")

    monkeypatch.setattr(datasets, "load_dataset", fails)
    with pytest.raises(DataError, match=r"news.jsonl: cannot read it as json: JSON parse error: missing a comma "
                                        r"in row 2$"):
        read_split(source(write_jsonl(tmp_path / "news.jsonl", ROWS)), "train")


GAP_ARTICLE = ("Acme sold phones to Initech on Monday in a deal. Initech liked the phones. "
               "Initech said the phones from Acme were good phones. "
               + "The rest of the story runs on and on about the weather. " * 8)


def test_a_gap_sentence_source_cuts_each_articles_most_salient_sentence_into_its_target(tmp_path):
    rows = [{"id": "b", "text": "One sentence only", "topics": ["sport"], "split": "train"},
            {"id": "a", "text": GAP_ARTICLE, "topics": ["tech"], "split": "train"}]
    gaps = read_split(source(write_jsonl(tmp_path / "bodies.jsonl", rows), objective="gap_sentences"), "train",
                      max_source_length=16)
    # 16 tokens: about 12 words, so the gap is chosen from the first two sentences only (one of 10 words, and
    # the one that the window ends in); an article of one sentence gives none.
    assert (gaps["text"][0], gaps["summary"][0]) == gap_sentence_example(GAP_ARTICLE, window_words=12)
    assert all(gap_sentence_example(GAP_ARTICLE, window_words=words) != gap_sentence_example(GAP_ARTICLE, 12)
               for words in (9, 16))
    assert list(gaps["id"]) == ["a"] and list(gaps["topics"]) == [["tech"]] and list(gaps["source"]) == ["bodies"]


def test_a_gap_sentence_source_of_one_sentence_articles_is_an_error_naming_it_and_the_split(tmp_path):
    rows = [{"id": "b", "text": "One sentence only", "topics": [], "split": "validation"}]
    path = write_jsonl(tmp_path / "bodies.jsonl", rows)
    with pytest.raises(DataError, match=r"^data source 'short': objective gap_sentences needs articles of two .* "
                                        r"no validation article has them$"):
        read_split(source(path, name="short", objective="gap_sentences"), "validation")


def test_tokenize_gives_inputs_summary_targets_and_topic_targets_with_their_masks():
    rows = {"id": ["1", "2"], "text": ["Celtic won the cup final in Glasgow on a cold Saturday.", "Shares fell."],
            "summary": ["Celtic win the cup final in Glasgow", None], "topics": [["sport"], ["business"]],
            "source": ["news", "wire"]}
    config = DataConfig(sources=[SourceConfig(path="news.jsonl")], max_source_length=8, max_target_length=5,
                        source_prefix="summarize: ")
    labels = LabelSpace(["business", "sport"], {"news": ["sport"], "wire": ["business", "sport"]})
    tokenizer = load_tokenizer(ModelConfig())
    tokenized = tokenize(datasets.Dataset.from_dict(rows), tokenizer, config, labels)
    inputs = tokenizer(["summarize: " + t for t in rows["text"]], max_length=8, truncation=True)
    assert tokenized["input_ids"] == inputs["input_ids"] and len(inputs["input_ids"][0]) == 8
    assert tokenized["attention_mask"] == inputs["attention_mask"]
    assert tokenized["length"] == [8, len(inputs["input_ids"][1])]
    target = tokenizer(text_target=rows["summary"][0], max_length=5, truncation=True)["input_ids"]
    assert tokenized["labels"] == [target, []]  # no summary: the example trains topics only
    assert tokenized["topic_labels"] == [[0.0, 1.0], [1.0, 0.0]]
    assert tokenized["topic_mask"] == [[0.0, 1.0], [1.0, 1.0]]
    assert "token_type_ids" not in tokenized.column_names


def test_collator_pads_inputs_with_the_pad_id_and_labels_with_minus_100():
    examples = [
        {"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1], "labels": [8, 9],
         "topic_labels": [1.0, 0.0], "topic_mask": [1.0, 1.0]},
        {"input_ids": [5], "attention_mask": [1], "labels": [],  # topic-only example
         "topic_labels": [0.0, 0.0], "topic_mask": [0.0, 1.0]},
    ]
    batch = Collator(pad_token_id=3)(examples)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [5, 3, 3]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[8, 9], [-100, -100]]
    assert batch["topic_labels"].dtype == torch.float
    assert batch["topic_mask"].tolist() == [[1.0, 1.0], [0.0, 1.0]]


_rng = random.Random(0)
LENGTHS = [_rng.randint(1, 512) for _ in range(1000)]


@pytest.mark.parametrize("group_by_length", [False, True])
def test_epoch_batches_cover_every_index_once(group_by_length):
    batches = epoch_batches(LENGTHS, 8, seed=1, epoch=0, group_by_length=group_by_length)
    assert sorted(i for batch in batches for i in batch) == list(range(len(LENGTHS)))
    assert sum(len(batch) != 8 for batch in batches) <= 1


@pytest.mark.parametrize("group_by_length", [False, True])
def test_epoch_batches_are_a_function_of_seed_and_epoch(group_by_length):
    def batches(seed, epoch):
        return epoch_batches(LENGTHS, 8, seed=seed, epoch=epoch, group_by_length=group_by_length)

    assert batches(1, 0) == batches(1, 0)
    assert batches(1, 0) != batches(1, 1)
    assert batches(1, 0) != batches(2, 0)


@pytest.mark.parametrize("group_by_length", [False, True])
def test_epoch_batches_draw_each_example_as_often_as_it_repeats(group_by_length):
    repeats = [1 + i % 3 for i in range(len(LENGTHS))]
    batches = epoch_batches(LENGTHS, 8, seed=1, epoch=0, group_by_length=group_by_length, repeats=repeats)
    drawn = [i for batch in batches for i in batch]
    assert sorted(drawn) == sorted(i for i, times in enumerate(repeats) for _ in range(times))


def test_repeats_of_one_leave_the_batches_as_they_were():
    assert epoch_batches(LENGTHS, 8, 1, 0, True, [1] * len(LENGTHS)) == epoch_batches(LENGTHS, 8, 1, 0, True)


def test_each_example_repeats_as_its_source_says():
    config = DataConfig(sources=[SourceConfig(path="a.jsonl", name="big"),
                                 SourceConfig(path="b.jsonl", name="small", repeat=3)])
    train_set = datasets.Dataset.from_dict({"source": ["big", "small", "big"]})
    assert source_repeats(train_set, config) == [1, 3, 1]


def padding(batches, lengths) -> int:
    return sum(len(batch) * max(lengths[i] for i in batch) - sum(lengths[i] for i in batch) for batch in batches)


def test_grouping_by_length_cuts_padding():
    grouped = padding(epoch_batches(LENGTHS, 8, seed=1, epoch=0, group_by_length=True), LENGTHS)
    shuffled = padding(epoch_batches(LENGTHS, 8, seed=1, epoch=0, group_by_length=False), LENGTHS)
    assert grouped < 0.1 * shuffled


class Casing:
    """A stand-in for the package's rules that a mapped function calls (a class, as the fact guard is)."""

    shout = True

    @classmethod
    def apply(cls, text: str) -> str:
        return text.upper() if cls.shout else text.lower()


def test_a_change_to_the_packages_code_is_not_handed_the_old_codes_cached_map(tmp_path, monkeypatch):
    """`datasets` pickles the functions that a mapped function calls by name: without the package's source
    in the cache key, a change to them (say, to the fact guard that filters targets) would go unseen."""
    import newsbrief.data as data

    (tmp_path / "rows.jsonl").write_text('{"text": "Acme"}\n')
    rows = datasets.load_dataset("json", data_files=str(tmp_path / "rows.jsonl"), split="train",
                                 cache_dir=str(tmp_path / "cache"))

    def cased(batch):
        return {"cased": [Casing.apply(t) for t in batch["text"]]}

    assert data._map(rows, cased, batched=True)["cased"] == ["ACME"]
    monkeypatch.setattr(Casing, "shout", False)
    monkeypatch.setattr(data, "_package_source_hash", lambda: "the package's source, edited")
    assert data._map(rows, cased, batched=True)["cased"] == ["acme"]
