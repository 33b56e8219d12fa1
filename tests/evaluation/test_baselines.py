"""Lead-k and first-words baselines."""

from newsbrief.evaluation.baselines import baseline_summaries, lead, sentences


def test_sentences_end_at_line_breaks_and_at_stops_before_a_space():
    text = 'He said "yes." Then (it ended.) Rates fell 2.5 pct!  Why?\nA new line'
    assert sentences(text) == ['He said "yes."', "Then (it ended.)", "Rates fell 2.5 pct!", "Why?", "A new line"]


def test_lead_k_keeps_the_first_k_sentences_one_per_line():
    text = "One. Two.\nThree. Four."
    assert lead(text, 1) == "One."
    assert lead(text, 3) == "One.\nTwo.\nThree."
    assert lead("Short.", 3) == "Short."


def test_every_baseline_is_named_and_covers_every_text():
    summaries = baseline_summaries(["a b c d e f g h i j k l. m", "Only."])
    assert set(summaries) == {"lead_1", "lead_3", "first_10_words"}
    assert summaries["first_10_words"][0] == "a b c d e f g h i j"
    assert all(len(s) == 2 for s in summaries.values())
