"""The report's faithfulness section, from hand-made predictions with invented names and numbers."""

import numpy as np

from newsbrief.evaluation.faithfulness import novel_share
from newsbrief.evaluation.markdown import render_markdown
from newsbrief.evaluation.report import build_report

from tests.evaluation.synthetic import predictions

ABOUT = {"model_path": "runs/a/model", "data": "news.jsonl", "split": "test"}
INVENTING = ["Acme to buy Initech for 9 mln", "Oil rises to 25 dlrs at OPEC", "Acme net income 21 cts",
             "Acme buys Globex", "nothing nothing"]


def test_unsupported_names_and_numbers_and_defects_are_counted():
    section = build_report(predictions(INVENTING), ABOUT, resamples=200)["model"]["faithfulness"]
    assert section["summaries_with_unsupported"]["mean"] == 2 / 5  # "9 mln", "Globex"
    # Mentions per summary: {Initech, 9 mln} 1/2; {OPEC, 25} 2/2; {21} 1/1; {Globex} 0/1; none: not counted.
    assert np.isclose(section["name_number_precision"]["mean"], (0.5 + 1 + 1 + 0) / 4)
    assert [e["unsupported"] for e in section["unsupported_examples"]] == [["9 mln"], ["Globex"]]
    assert section["summaries_with_defects"]["mean"] == 1 / 5
    assert section["defects_by_kind"]["repeated_word"] == 1
    assert set(section["novel_ngrams"]["summary"]) == {"1", "2", "3"}
    assert section["novel_ngrams"]["reference"]["1"]["mean"] > 0
    assert section["guard_fallbacks"] == 1


def test_a_faithful_model_against_an_inventing_one_is_a_paired_comparison():
    faithful = ["Acme to buy Initech", "Oil rises to 25 dlrs", "Acme net income 21 cts", "Initech to be bought",
                "no reference here"]
    report = build_report(predictions(faithful), {**ABOUT, "baseline_model_path": "runs/b/model"},
                          predictions(INVENTING), resamples=200)
    comparison = report["comparison"]["faithfulness"]
    assert comparison["summaries_with_unsupported"]["difference"] == -2 / 5
    markdown = render_markdown(report)
    assert "## Faithfulness and readability" in markdown and "| Globex |" not in markdown
    assert "summaries with an unsupported name or number" in markdown


def test_novel_ngrams_are_the_share_the_article_lacks():
    assert novel_share("Acme buys Initech", "Acme said it buys Initech.", 1) == 0
    assert novel_share("Acme buys Initech", "Acme said it buys Initech.", 2) == 1 / 2  # "acme buys" is new
    assert novel_share("Acme sells Initech", "Acme said it buys Initech.", 2) == 1
    assert np.isnan(novel_share("Acme", "Acme said", 2))
