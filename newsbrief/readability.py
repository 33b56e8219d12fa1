"""Readability defects of a summary, by rule: the ways a decoded summary reads broken.

- spacing: a split decimal or acronym ("1. 0", "U. s"; spaced initials, "F. W. Woolworth", are print), a hyphen spaced on one side only ("18 -year"),
  a space before punctuation ("rose 5 %", "cut ,"), a space inside a bracket's edge ("<Bb >"), a
  spaced clitic ("Japan ' s") or a "'t" that follows no "n" ("Aids't");
- repeated word: the same word twice in a row ("the the");
- unbalanced: a bracket without its partner, an odd number of double quotes, or a stray apostrophe after
  a word ("Prime election' set": no clitic after it, no plural "s" before it, no single quote it closes).
A summary can have several; each kind is counted once per summary.
"""

from __future__ import annotations

import re

from newsbrief.faithfulness import CLITICS

KINDS = ("spacing", "repeated_word", "unbalanced")
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


def defects(summary: str) -> set[str]:
    """The kinds of defect in `summary` (empty when it reads clean)."""
    found = set()
    if any(pattern.search(summary) for pattern in _SPACING):
        found.add("spacing")
    if _REPEATED.search(summary):
        found.add("repeated_word")
    if (any(summary.count(a) != summary.count(b) for a, b in _PAIRS) or summary.count('"') % 2
            or _stray_apostrophe(summary)):
        found.add("unbalanced")
    return found


def _stray_apostrophe(summary: str) -> bool:
    return any(not _OPENING_QUOTE.search(summary, 0, m.start()) for m in _STRAY_APOSTROPHE.finditer(summary))
