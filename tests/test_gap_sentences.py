"""Sentences by rule, and the gap sentence an article gives for pretraining."""

from newsbrief.gap_sentences import gap_sentence_example
from newsbrief.sentences import split_sentences


def test_sentences_end_at_stops_but_not_after_abbreviations_initials_or_decimals():
    text = ('The U.S. Agriculture Department said prices rose 2.5 pct. Mr. Smith left on Feb. 3! '
            '"Good," said J. Smith. Sales were $10.9bn. Its shares fell.\nA new paragraph')
    assert split_sentences(text) == [
        "The U.S. Agriculture Department said prices rose 2.5 pct.", "Mr. Smith left on Feb. 3!",
        '"Good," said J. Smith.', "Sales were $10.9bn.", "Its shares fell.", "A new paragraph"]


def test_the_gap_is_the_sentence_that_shares_most_with_the_rest():
    article = ("Acme Corp said profit rose. The weather was mild. Analysts said Acme Corp profit rose on sales. "
               "Acme Corp sales beat forecasts.")
    rest, gap = gap_sentence_example(article, window_words=100)
    assert gap == "Analysts said Acme Corp profit rose on sales."  # ROUGE-1 F1 0.55 against the rest; next 0.45
    assert rest == "Acme Corp said profit rose. The weather was mild. Acme Corp sales beat forecasts."


def test_a_sentence_with_a_name_or_number_the_rest_lacks_is_never_the_gap():
    article = ("Acme Corp profit rose 12 pct on strong sales of phones. "
               "Acme Corp profit rose 12 pct on sales, Initech said. Acme sales of phones rose.")
    rest, gap = gap_sentence_example(article, window_words=100)
    assert "Initech" not in gap  # the most salient sentence, but the rest never names Initech
    assert gap == "Acme Corp profit rose 12 pct on strong sales of phones."


def test_only_the_sentences_the_window_reads_take_part():
    lead = "Acme Corp profit rose. Acme Corp sales rose."
    late = " Acme Corp profit and sales rose, Acme Corp said." + " Filler words here." * 20
    _, gap = gap_sentence_example(lead + late, window_words=8)
    # The window reads the first two sentences and one more (where it ends mid-sentence), no further.
    assert gap in split_sentences(lead + late)[:3]
    assert gap_sentence_example(lead + late, window_words=5) == ("Acme Corp sales rose.", "Acme Corp profit rose.")


def test_an_article_of_one_sentence_gives_no_example():
    assert gap_sentence_example("Acme Corp profit rose 12 pct.", window_words=100) is None
