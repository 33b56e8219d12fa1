"""WordPiece summaries come back in the article's case and spacing."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from newsbrief.infer.spelling import ArticleSpelling, is_wordpiece
from newsbrief.models.backbone import resolve_checkpoint

ARTICLE = "WASHINGTON - U.S. stocks rose 2.5% on Monday's news, said Treasury Secretary James Baker in New York."


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(resolve_checkpoint("sentence-transformers/all-MiniLM-L6-v2"))


def spelled(tokenizer, summary: str) -> str:
    article = tokenizer(ARTICLE, return_offsets_mapping=True)
    spelling = ArticleSpelling(ARTICLE, article["input_ids"], article["offset_mapping"])
    return spelling.spell(tokenizer(summary)["input_ids"], tokenizer)


def test_plain_decoding_loses_case_and_spacing(tokenizer):
    assert is_wordpiece(tokenizer)
    ids = tokenizer("u.s. stocks rose 2.5% on monday's news")["input_ids"]
    assert tokenizer.decode(ids, skip_special_tokens=True) != "U.S. stocks rose 2.5% on Monday's news"


def test_words_of_the_article_take_its_case_and_spacing(tokenizer):
    assert spelled(tokenizer, "u.s. stocks rose 2.5% on monday's news") == "U.S. stocks rose 2.5% on Monday's news"
    assert spelled(tokenizer, "baker says stocks rose") == "Baker says stocks rose"


def test_a_clitic_the_article_never_writes_still_joins_its_apostrophe(tokenizer):
    assert spelled(tokenizer, "investors don't think they're done") == "Investors don't think they're done"


def test_words_the_article_lacks_keep_lower_case_with_usual_punctuation_spacing(tokenizer):
    assert spelled(tokenizer, "shares fell, bonds gained (slightly)") == "Shares fell, bonds gained (slightly)"


@pytest.mark.parametrize("article", ["Burundi 's peace talks broke down.", "BURUNDI'S PEACE TALKS broke down."])
def test_a_clitic_reads_as_print_has_it_whatever_the_articles_copy_does(tokenizer, article):
    encoded = tokenizer(article, return_offsets_mapping=True)
    spelling = ArticleSpelling(article, encoded["input_ids"], encoded["offset_mapping"])
    assert spelling.spell(tokenizer("burundi's talks")["input_ids"], tokenizer).lower().startswith("burundi's")
    assert "'S" not in spelling.spell(tokenizer("burundi's talks")["input_ids"], tokenizer)

