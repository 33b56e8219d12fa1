"""Lines of page furniture go before the model reads an article; sentences that mention them stay."""

from newsbrief.infer.boilerplate import strip_boilerplate


def test_furniture_lines_are_dropped_and_the_story_kept_in_order():
    page = ("Loading...\nAdvertisement\nShares fell on Tuesday.\nREAD MORE: How tariffs hit carmakers\n"
            "Photo: Reuters / file\nImage credit: company handout\nSHARE THIS ARTICLE\nAnalysts were surprised.\n"
            "Sign up for our morning briefing\nRelated: Okafor signs new contract\n  — Advertisement —  ")
    assert strip_boilerplate(page) == "Shares fell on Tuesday.\nAnalysts were surprised."


def test_sentences_that_merely_mention_furniture_words_stay():
    story = ("Photographers were loading their cameras as the advertisement campaign began.\n"
             "Readers can read more about it in Sunday's paper, the editor said.")
    assert strip_boilerplate(story) == story
