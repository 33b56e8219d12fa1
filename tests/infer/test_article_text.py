"""One rule for an article with nothing to brief, in the Python API as in the batch job."""

import pytest

from newsbrief.infer.article_text import is_blank
from newsbrief.infer.engine import NewsBrief


def test_the_rule():
    assert all(is_blank(t) for t in ["", " \t\n", "\u200b", "\ufeff", "\u00ad\u2060", "\u202e"])
    assert not any(is_blank(t) for t in ["a", "\u200bx", "٣", "\u0301"])


def test_the_api_refuses_an_invisible_article_naming_it(tiny_model_dir):
    briefer = NewsBrief.from_pretrained(tiny_model_dir, device="cpu")
    with pytest.raises(ValueError, match="article 1: text is empty"):
        briefer.predict(["Acme said profit rose.", "\ufeff\u200b"])
    with pytest.raises(ValueError, match="article x: text is empty"):
        briefer.predict([{"id": "x", "text": " \u200d "}])
