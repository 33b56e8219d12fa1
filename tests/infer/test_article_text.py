"""One rule for an article with nothing to brief, in the Python API as in the batch job."""

from newsbrief.infer.article_text import is_blank
from newsbrief.infer.engine import NewsBrief


def test_the_rule():
    assert all(is_blank(t) for t in ["", " \t\n", "\u200b", "\ufeff", "\u00ad\u2060", "\u202e"])
    assert not any(is_blank(t) for t in ["a", "\u200bx", "٣", "\u0301"])


def test_the_api_gives_an_invisible_article_an_error_brief_naming_it(tiny_model_dir):
    briefer = NewsBrief.from_pretrained(tiny_model_dir, device="cpu")
    good, invisible = briefer.predict(["Acme said profit rose.", "\ufeff\u200b"])
    assert good.error is None and good.summary
    assert (invisible.id, invisible.error, invisible.summary, invisible.topics) == ("1", "item 1: 'text' is empty", "", [])
    (named,) = briefer.predict([{"id": "x", "text": " \u200d "}])
    assert (named.id, named.error) == ("x", "item 0: 'text' is empty")
