"""The one rule for an article with nothing to brief, shared by the Python API and the batch job.

A text of only whitespace, control and format characters (zero-width spaces and joiners, byte order
marks, soft hyphens, direction marks) reads as empty to a person, yet tokenizes to something that a
model would summarize with confidence: it is an error, not a brief.
"""

from __future__ import annotations

import unicodedata

INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}
"""Unicode categories of characters that show nothing: controls, format characters, separators."""
EMPTY = "is empty"
"""The words of the error, after the field: blank and invisible texts are empty alike."""


def is_blank(text: str) -> bool:
    return all(c.isspace() or unicodedata.category(c) in INVISIBLE for c in text)
