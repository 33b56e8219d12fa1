"""The marks a guarded summary keeps in order: brackets closed on their openers, "'t" after an "n" only,
an apostrophe after a word only before a clitic or after a plural,
and no quote or bracket left dangling at the end (models/fact_guard.py reads these as it decodes)."""

from __future__ import annotations

import re

BAD_CLITIC = re.compile(r"(?<![n'’])['’]t$", re.IGNORECASE)  # "Aids't"; the summary's text, spaces dropped
DANGLING_APOSTROPHE = re.compile(r"[^\W\dsS_]['’]$")
"""An apostrophe after a word that is no plural ("election'"): a clitic must follow it ("'s", "'t"), or
it is a stray mark ("Prime election' set"; newsbrief/readability.py); the summary's text, spaces dropped."""
CLOSERS = {"(": ")", "[": "]", "{": "}", '"': '"'}
"""The mark that closes each opening one."""
_OPENERS = {close: open_ for open_, close in CLOSERS.items() if close != open_}


def brackets_after(open_: str | None, surface: str) -> str | None:
    """The brackets left open after `surface`; None when it closes one that is not open."""
    open_ = open_ or ""  # an article's stray ")" (a summary never gets one past the guard)
    for char in surface:
        if char in _OPENERS.values():
            open_ += char
        elif char in _OPENERS:
            if not open_.endswith(_OPENERS[char]):
                return None
            open_ = open_[:-1]
    return open_


def drop_trailing_opener(summary: str) -> str:
    """A guarded summary without the one quote or bracket it may end on ('Fantastic "' -> 'Fantastic')."""
    last = summary[-1:]
    opened = last in "([{" or (last == '"' and summary.count('"') % 2 == 1)  # an even count: it closes a quote
    return summary[:-1].rstrip() if opened else summary
