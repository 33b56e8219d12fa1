"""Sentences of a news article, by rule: gap-sentence pretraining and the faithfulness metric both need them.

A sentence ends at . ! or ? (and any closing quote or bracket) followed by space and a capital, digit or
opening quote, except after an abbreviation news text uses ("U.S.", "Mr.", "Feb.", "Corp.") or a
single initial ("J. Smith"). A line break always ends a sentence: corpora join paragraphs with one.
nltk's punkt would do this too, but its model is a separate download that an offline install lacks.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset("""
mr mrs ms dr prof st sr jr gen col lt sgt rep sen gov pres rev messrs
jan feb mar apr jun jul aug sep sept oct nov dec
corp inc co ltd plc bros no nos vs etc approx est dept univ mt ft ave
""".split())
_BOUNDARY = re.compile(r"""[.!?]["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])""")
_LAST_WORD = re.compile(r"(\S+)$")
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")


def split_sentences(text: str) -> list[str]:
    """The article's sentences, stripped, in order; empty ones dropped."""
    sentences = []
    for line in text.splitlines():
        start = 0
        for match in _BOUNDARY.finditer(line):
            if _ends_in_abbreviation(line[start:match.start() + 1]):
                continue
            sentences.append(line[start:match.end()].strip())
            start = match.end()
        sentences.append(line[start:].strip())
    return [s for s in sentences if s]


def _ends_in_abbreviation(candidate: str) -> bool:
    match = _LAST_WORD.search(candidate)
    if match is None:
        return False
    word = match.group(1).lstrip("\"'“‘([")
    if not word.endswith("."):
        return False
    stem = word[:-1]
    # "U.S." / "U.K." (dotted acronyms) and "J." (an initial) rarely end a sentence in news copy.
    return stem.lower() in ABBREVIATIONS or bool(_DOTTED.fullmatch(stem)) or (len(stem) == 1 and stem.isupper())
