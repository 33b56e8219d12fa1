"""The readability rules on hand-made summaries: each defect the issue names, and clean text left alone."""

import pytest

from newsbrief.readability import defects


@pytest.mark.parametrize("summary, kind", [
    ("China industrial output rises 1. 0 pct in 1987", "spacing"),
    ("U. s, Aids crisis", "spacing"),
    ("Girl's child abuse charges for 18 -year", "spacing"),
    ("Aids't aid crisis", "spacing"),
    ("Profit rose 5 % on sales", "spacing"),
    ("Stock split for <Bb > holders", "spacing"),
    ("Japan ' s shares up", "spacing"),
    ("Shares rise in in Tokyo", "repeated_word"),
    ("Oil prices rise (OPEC", "unbalanced"),
    ('Minister says "no deal', "unbalanced"),
    ("Prime election' set for general elections", "unbalanced"),
])
def test_each_defect_is_found(summary, kind):
    assert kind in defects(summary)


@pytest.mark.parametrize("summary", [
    "China industrial output rises 1.0 pct in 1987",
    "U.S. stocks rose 2.5% on Monday",
    "J. Smith named chief of Acme Corp",
    "Four-year deal for Chelsea's Mourinho",
    "Japan's exports can't keep up, minister says",
    'Minister says "no deal" on trade (Reuters)',
    "Acme <ACM> sets two-for-one split",
    "Sales of 1,500 cars in May",
    "U.S. M-1 money supply falls in week",
    "F. W. Woolworth sales up",
    "SA unveils 'more for all' budget",              # a single quote, closed
    "Board doubles shareholders' payout",           # a plural's possessive
])
def test_clean_summaries_are_not_flagged(summary):
    assert defects(summary) == set()


@pytest.mark.parametrize("summary, article", [
    ("Bank of England offers 8 ml n-112 pct", "The Bank of England offered 400 mln stg."),
    ("Uk hunting ban upheld", "The U.K. ban on hunting was upheld."),
    ("Zayre opens ze float stores", "Zayre plans to open 50 stores."),
    ("Zayre to open 50 ze stores", "Zayre plans to open 50 stores."),  # after a number, only a scale is spared
])
def test_a_word_piece_or_abbreviation_the_article_lacks_is_a_fragment(summary, article):
    assert "fragment" in defects(summary, article)
    assert "fragment" not in defects(summary)  # read against an article only


@pytest.mark.parametrize("summary, article", [
    ("Acme Co sets quarterly dividend", "Acme Co said its board set a dividend."),
    ("U.S. M-1 money supply up 2.1 bn", "U.S. M-1 money supply rose 2.1 billion dlrs."),
    ("Japan's exports of cars up in May", "Japan said exports rose."),
    ("J. Smith named chief", "J. Smith was named chief."),
])
def test_english_words_clitics_scales_and_the_articles_own_are_no_fragments(summary, article):
    assert defects(summary, article) == set()
