"""Summaries in the article's own spelling, for WordPiece models (BERT, MiniLM).

WordPiece decoding loses case and spacing: "U.S. stocks rose 2.5% on Monday's news" comes back as
"u. s. stocks rose 2. 5 % on monday ' s news". A headline reuses the article's words, so each summary
token takes the form it has most often in the article the model read after the same token ("s" after
"'" but "S" after "U."), else its most frequent form there, and two tokens are glued when they are
glued there. Pairs the article lacks follow English print: punctuation spacing, no space inside a
decimal ("1.0"), a dotted acronym ("U.S.") or a hyphenated word ("18-year"). A clitic ("Japan's") reads
as print has it even where the article's copy spaces or capitalises it ("Burundi 's", "JAPAN'S").
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from functools import cached_property

from newsbrief.faithfulness import CLITICS

CLOSING = set(".,;:!?%)]}>'")
OPENING = set("([{<$")
_DECIMAL = re.compile(r"\d[.,]$")           # "1." + "0": one number, "1.0"
_INITIAL = re.compile(r"(?:^|\W)[A-Za-z]\.$")  # "U." + "s": an acronym, "U.s"
_HYPHEN = re.compile(r"\w-$")               # "18-" + "year": one word, "18-year"
# A clitic reads as print has it whatever the article's copy does ("Burundi 's", "JAPAN'S" -> "Burundi's", "JAPAN's").
_SPACED_CLITIC = re.compile(r"(\w) ?(['’]) ?(" + "|".join(CLITICS) + r")\b", re.IGNORECASE)


def is_wordpiece(tokenizer) -> bool:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return backend is not None and type(backend.model).__name__ == "WordPiece"


class ArticleSpelling:
    """How one article spells each token it contains, and which token pairs it writes without a space."""

    def __init__(self, text: str, ids: list[int], offsets: list[tuple[int, int]]):
        self.forms: dict[int, Counter] = defaultdict(Counter)
        self.forms_after: dict[tuple[int, int], Counter] = defaultdict(Counter)
        self.glued: dict[tuple[int, int], Counter] = defaultdict(Counter)
        previous = None
        for token, (start, end) in zip(ids, offsets):
            if start == end:  # special tokens ([CLS], [SEP]) cover no text
                continue
            self.forms[token][text[start:end]] += 1
            if previous is not None:
                self.forms_after[(previous[0], token)][text[start:end]] += 1
                self.glued[(previous[0], token)][previous[1] == start] += 1
            previous = (token, end)

    def capitalised(self) -> frozenset[int]:
        """The tokens this article most often writes with a capital first letter."""
        return frozenset(token for token, form in self._usual_forms.items() if form[:1].isupper())

    def acronyms(self) -> frozenset[int]:
        """The tokens this article most often writes with a capital after the first letter ("EC", "McD")."""
        return frozenset(token for token, form in self._usual_forms.items() if any(c.isupper() for c in form[1:]))

    @cached_property
    def _usual_forms(self) -> dict[int, str]:
        """Each token's commonest form: the guard asks for capitalised tokens and acronyms of every article."""
        return {token: _commonest(forms) for token, forms in self.forms.items()}

    def spell(self, ids: list[int], tokenizer) -> str:
        pieces = []
        previous = None
        special = set(tokenizer.all_special_ids)  # a property that builds a new list on every access
        for token, piece in zip(ids, tokenizer.convert_ids_to_tokens(ids)):
            if token in special:
                continue
            continuation = piece.startswith("##")
            seen = self.forms_after.get((previous, token)) or self.forms.get(token)
            form = _commonest(seen) if seen else piece.removeprefix("##")
            if pieces and not self._glued(previous, token, "".join(pieces), form, continuation):
                pieces.append(" ")
            pieces.append(form)
            previous = token
        text = _SPACED_CLITIC.sub(lambda m: m.group(1) + m.group(2) + m.group(3).lower(), "".join(pieces))
        return text[:1].upper() + text[1:]

    def _glued(self, previous: int, token: int, before: str, form: str, continuation: bool) -> bool:
        """Whether `form` follows the text `before` with no space: as in the article where it has the
        pair, else by the rules of English print."""
        if continuation:
            return True
        seen = self.glued.get((previous, token))
        if seen:
            return _commonest(seen)
        return (form[0] in CLOSING or before[-1] in OPENING or (before.endswith("'") and form.lower() in CLITICS)
                or bool(_DECIMAL.search(before) and form[0].isdigit())
                or bool(_INITIAL.search(before) and len(form) == 1 and form.isalpha())
                or (form == "-" and before[-1].isalnum()) or (bool(_HYPHEN.search(before)) and form[0].isalnum()))


def _commonest(seen: Counter):
    """The most frequent of what `seen` counts, the first seen of equals (as `most_common(1)` gives, with less work)."""
    return max(seen, key=seen.__getitem__)
