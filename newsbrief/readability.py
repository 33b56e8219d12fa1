"""Readability defects of a summary, by rule: the ways a decoded summary reads broken.

- spacing: a split decimal or acronym ("1. 0", "U. s"; spaced initials, "F. W. Woolworth", are print), a hyphen spaced on one side only ("18 -year"),
  a space before punctuation ("rose 5 %", "cut ,"), a space inside a bracket's edge ("<Bb >"), a
  spaced clitic ("Japan ' s") or a "'t" that follows no "n" ("Aids't");
- repeated word: the same word twice in a row ("the the");
- unbalanced: a bracket without its partner, an odd number of double quotes, or a stray apostrophe after
  a word ("Prime election' set": no clitic after it, no plural "s" before it, no single quote it closes);
- fragment (read against the article, when given): a word of one or two letters that is no English word
  (SHORT_WORDS of `newsbrief.faithfulness`) and that the article does not write: a broken word's piece
  ("8 ml n-112 pct", "ze float") or an abbreviation of nothing in the article ("Uk" where it writes "U.K.").
  Not counted: an initial of a dotted chain ("U.S."), a clitic ("Japan's"), a scale after a number ("5 bn").
A summary can have several; each kind is counted once per summary.
"""

from __future__ import annotations

import re

from newsbrief.faithfulness import CLITICS, short_abbreviation

KINDS = ("spacing", "repeated_word", "unbalanced", "fragment")
_SPACING = [
    re.compile(r"\d[.,] \d"),                      # "1. 0", "1, 000"
    re.compile(r"\b[A-Za-z]\. [A-Za-z](?![\w'.-])"),  # "U. s", not "U.S. M-1" or "F. W. Woolworth"
    re.compile(r"\w -\w|\w- \w"),                  # "18 -year", "18- year"
    re.compile(r"\w [,.;:!?%]"),                   # "rose 5 %"
    re.compile(r"[(\[<{] | [)\]>}]"),              # "<Bb >"
    re.compile(r"\w ['’] ?(?:" + "|".join(CLITICS) + r")\b"),  # "Japan ' s", "Japan 's"
    re.compile(r"(?<![nN])['’]t\b"),                # "Aids't"
]
_REPEATED = re.compile(r"\b(\w+) \1\b", re.IGNORECASE)
_PAIRS = ("()", "[]", "{}", "<>")
_STRAY_APOSTROPHE = re.compile(r"(?<=[^\W\dsS_])['’](?=\s|$)")
_OPENING_QUOTE = re.compile(r"(?:^|\s)['’]\w")
# One or two letters standing alone: not glued to a digit, not after an apostrophe (a clitic) or a dot, not
# a dotted chain's initial.
_SHORT_WORD = re.compile(r"(?<![\w'’.])[^\W\d_]{1,2}(?![\w'’]|\.[^\W\d_])")
_ARTICLE_WORD = re.compile(r"[^\W\d_]+")


def defects(summary: str, article: str | None = None) -> set[str]:
    """The kinds of defect in `summary` (empty when it reads clean); fragments only when `article` is given."""
    found = set()
    if any(pattern.search(summary) for pattern in _SPACING):
        found.add("spacing")
    if _REPEATED.search(summary):
        found.add("repeated_word")
    if (any(summary.count(a) != summary.count(b) for a, b in _PAIRS) or summary.count('"') % 2
            or _stray_apostrophe(summary)):
        found.add("unbalanced")
    if article is not None and _fragments(summary, article):
        found.add("fragment")
    return found


def _fragments(summary: str, article: str) -> list[str]:
    short = [m.group(0) for m in _SHORT_WORD.finditer(summary)
             if short_abbreviation(m.group(0).lower(), after_number=summary[:m.start()].rstrip()[-1:].isdigit())]
    if not short:
        return []
    written = {w.lower() for w in _ARTICLE_WORD.findall(article)}
    return [w for w in short if w.lower() not in written]


def _stray_apostrophe(summary: str) -> bool:
    return any(not _OPENING_QUOTE.search(summary, 0, m.start()) for m in _STRAY_APOSTROPHE.finditer(summary))
