"""Faithful summary targets: a headline the fact guard would block is repaired, or trains topics only."""

import datasets
import pytest

from newsbrief.config import DataConfig, ModelConfig, SourceConfig
from newsbrief.config_parsing import ConfigError
from newsbrief.data import tokenize
from newsbrief.faithful_targets import faithful_targets, faithful_targets_of_texts
from newsbrief.labels import LabelSpace
from newsbrief.models.backbone import load_tokenizer
from newsbrief.models.guard_vocabulary import Vocabulary

ARTICLE = "Acme Corp said it sold 1,500 phones to Initech, and expects to sell more in May."


def targets(summaries: list[str], article: str = ARTICLE) -> list[str]:
    tokenizer = load_tokenizer(ModelConfig())
    texts = [article] * len(summaries)
    encoded = tokenizer(texts, max_length=64, truncation=True, return_offsets_mapping=True)
    ids = faithful_targets(tokenizer, texts, encoded, summaries, 32, Vocabulary.of(tokenizer))
    return [tokenizer.decode(t, skip_special_tokens=True) if t else None for t in ids]


def test_a_supported_headline_is_kept_as_it_is():
    assert targets(["ACME SOLD 1,500 PHONES TO INITECH"]) == ["acme sold 1, 500 phones to initech"]


def test_a_ticker_or_a_trailing_credit_the_article_lacks_is_cut_out():
    assert targets(["ACME CORP <ACM> SOLD PHONES", "Acme sold phones to Initech (Globex)"]) == [
        "acme corp sold phones", "acme sold phones to initech"]


def test_a_headline_with_an_invented_name_or_number_is_no_target():
    assert targets(["Globex sold 1,500 phones", "Acme sold 2,000 phones", "ACME SOLD PHONES IN 4TH QTR",
                    "<ACM>"]) == [None, None, None, None]  # the last: nothing left once its ticker is cut


def test_a_fact_beyond_the_window_the_model_reads_does_not_support_a_headline():
    article = "Acme said it sold phones. " + "It was a good year. " * 40 + "Initech bought them."
    assert targets(["Acme sold phones to Initech"], article) == [None]


def test_articles_as_text_get_the_targets_of_their_window_in_batches_as_in_one():
    tokenizer = load_tokenizer(ModelConfig())
    other = "Acme said it sold phones. " + "It was a good year. " * 40 + "Initech bought them."
    texts, summaries = [ARTICLE, other, ARTICLE], ["ACME SOLD 1,500 PHONES", "Initech bought phones", "Globex sold"]
    encoded = tokenizer(texts, max_length=64, truncation=True, return_offsets_mapping=True)
    whole = faithful_targets(tokenizer, texts, encoded, summaries, 32, Vocabulary.of(tokenizer))
    assert [bool(t) for t in whole] == [True, False, False]  # the second's name lies past its 64-token window
    window = DataConfig(max_source_length=64, max_target_length=32)
    assert faithful_targets_of_texts(tokenizer, texts, summaries, window, batch_size=2) == whole


def test_tokenize_with_faithful_targets_keeps_the_topics_of_an_example_whose_headline_it_drops():
    rows = {"id": ["1", "2"], "text": [ARTICLE, ARTICLE], "summary": ["Acme sold phones", "Globex sold phones"],
            "topics": [["tech"], ["tech"]], "source": ["news", "news"]}
    config = DataConfig(sources=[SourceConfig(path="news.jsonl", name="news")], max_source_length=64,
                        max_target_length=16, summary_targets="faithful")
    labels = LabelSpace(["tech"], {"news": ["tech"]})
    tokenized = tokenize(datasets.Dataset.from_dict(rows), load_tokenizer(ModelConfig()), config, labels)
    assert [bool(ids) for ids in tokenized["labels"]] == [True, False]
    assert tokenized["topic_labels"] == [[1.0], [1.0]] and "offset_mapping" not in tokenized.column_names
    config.summary_targets = "all"
    assert all(tokenize(datasets.Dataset.from_dict(rows), load_tokenizer(ModelConfig()), config, labels)["labels"])


def test_a_tokenizer_without_an_end_token_is_a_config_error_before_any_row_is_read():
    tokenizer = load_tokenizer(ModelConfig())
    tokenizer.sep_token = None  # BERT ends targets on [SEP]; without it and without eos no target can end
    config = DataConfig(sources=[SourceConfig(path="news.jsonl", name="news")], summary_targets="faithful")
    rows = {"id": [], "text": [], "summary": [], "topics": [], "source": []}  # no row: the check comes first
    with pytest.raises(ConfigError, match="^data.summary_targets: faithful needs a tokenizer with an end token"):
        tokenize(datasets.Dataset.from_dict(rows), tokenizer, config, LabelSpace(["tech"], {"news": ["tech"]}))
