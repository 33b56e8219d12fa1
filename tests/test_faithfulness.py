"""The names and numbers rules on hand-made cases: what must be flagged and what must not."""

import pytest

from newsbrief.faithfulness import ArticleFacts, names, number_value, numbers

ARTICLE = ("NOVARTIS AG <NVS> said it will buy the U.S. drug maker Chiron Corp for 1.5 mln dlrs, or $4.1bn in all. "
           "Its net profit rose 12 pct to 1,200,000 francs in 1987, Daniel Vasella told Reuters. "
           "The deal, approved by the board in Basel, doubles Novartis' share of the vaccine market.")
FACTS = ArticleFacts(ARTICLE)


def unsupported(summary):
    return [m.text for m in FACTS.unsupported(summary)]


@pytest.mark.parametrize("summary, invented", [
    ("Novartis to buy Chiron for $75bn", ["$75bn"]),
    ("Kurinho's Mourinos hit United", ["Kurinho's", "Mourinos", "United"]),
    ("Novartis profit up 13 pct in 1987", ["13"]),
    ("Profit rises 1. 0 pct at Novartis", ["1", "0"]),
    ("Vasella says Sandoz deal approved", ["Sandoz"]),
    ("Chiron bought by IBM", ["IBM"]),
    ("Novartis net profit 1.2 bln francs", ["1.2 bln"]),
    ("Chiron < ch > sold to Novartis", ["< ch >"]),       # a ticker, whatever its case
    ("Novartis buys Chiron-Sandoz unit", ["Sandoz"]),     # each part of a hyphenated word
    ("Novartis buys Chiron in september", ["september"]),  # a month is a name in any case
    ("Thursday's deal for Chiron", ["Thursday's"]),       # a weekday, even first
    ("Novartis profit up thirteen pct", ["thirteen"]),    # a number spelled as a word
    ("Novartis to pay four billion for Chiron", ["four billion"]),
    ("Chiron wins nine-2 vote", ["nine", "2"]),
])
def test_invented_names_and_numbers_are_flagged(summary, invented):
    assert unsupported(summary) == invented


@pytest.mark.parametrize("summary", [
    "Novartis buys Chiron for 1,500,000 dlrs",    # "1.5 mln" in another spelling
    "Novartis buys Chiron for 1.5 million dlrs",
    "Novartis buys US drug maker Chiron",          # "U.S." and "US" are one name
    "Novartis to pay $4.1 billion for Chiron",
    "Board in Basel approves Chiron deal",
    "Novartis profit up 12 pct to 1.2 mln francs",
    "Chiron buy doubles Novartis' vaccine share",
    "Novartis says it will buy Chiron",            # "Novartis" begins the sentence; "NOVARTIS" is in the article
    "Drug maker to be bought",                     # a sentence's first word is no name by its capital alone
    "Vasella's Novartis buys Chiron",
    "Novartis < nvs > buys Chiron",                # the article's ticker, in another case and spacing
    "U.S, Chiron deal approved",                   # "U.S" without its last dot
    "Novartis buys Basel-based drug maker",        # a lower-case part is no name
    "Novartis AG'S deal approved",                 # a clitic in capitals ("NOVARTIS AG'S") is still a clitic
    "Novartis may buy Chiron in march",            # "may" and "march" are names only by their capital
    "Novartis profit up twelve pct",               # "12" spelled as a word
    "One of Novartis' deals approved",             # "one" is a pronoun as often as a number: no number
])
def test_supported_or_unnamed_mentions_are_not_flagged(summary):
    assert unsupported(summary) == []


def test_two_numbers_joined_by_a_dash_are_a_range_or_score_the_article_must_write():
    facts = ArticleFacts("Oil rose more than 3 percent after cuts of 2 million barrels. Riverside won 3-2 "
                         "in the 1987–88 season, its 2-year run going on.")
    assert [m.text for m in facts.unsupported("Oil prices rise to 2-3")] == ["2-3"]  # two of its numbers, joined
    assert [m.text for m in facts.unsupported("Riverside wins 2-3")] == ["2-3"]
    for supported in ("Riverside wins 3-2", "Riverside in 1987-88", "A 2-year run", "Oil up 3 pct"):
        assert facts.unsupported(supported) == [], supported


def test_names_are_capitalised_words_not_only_sentence_initial_and_acronyms():
    assert [m.text for m in names("Shares of Acme rose. Analysts at IBM and U.S. Steel cheered. McDonald's rallied.")] \
        == ["Acme", "IBM", "U.S.", "Steel", "McDonald's"]


def test_numbers_read_scales_and_thousands_separators():
    assert [m.key for m in numbers("1,500,000 or 1.5 mln or 1.5mln or $2bn, 3 pct, 1987")] \
        == [1_500_000, 1_500_000, 1_500_000, 2e9, 3, 1987]
    assert number_value("1,5", None) is None  # a decimal comma or a list: no plain value


def test_an_articles_number_glued_to_letters_still_states_its_value():
    facts = ArticleFacts("The NASD fined 29 firms a total of $US9.22 ($NZ13.04) million.")
    assert facts.unsupported("NASD fines firms $13.04") == []
    assert [m.text for m in facts.unsupported("NASD fines firms $13.05")] == ["$13.05"]


def test_numbers_spelled_as_words_are_compared_by_value_both_ways():
    facts = ArticleFacts("Riverside beat Rovers 3-2 with two late goals before twenty-five thousand fans.")
    assert facts.unsupported("Riverside scores 2 late goals to beat Rovers three-2") == []
    assert facts.unsupported("25,000 fans see Riverside win") == []
    assert [m.text for m in facts.unsupported("Riverside wins nine-2")] == ["nine"]
    assert [(m.text, m.key) for m in numbers("Forty-one held, nine million jobs, ten M&A deals, twenty-first, two-year")] \
        == [("Forty-one", 41), ("nine million", 9_000_000), ("ten", 10), ("two", 2)]
