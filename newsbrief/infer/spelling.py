"""Summaries in the article's own spelling, for WordPiece models (BERT, MiniLM).

WordPiece decoding loses case and spacing: "U.S. stocks rose 2.5% on Monday's news" comes back as
"u. s. stocks rose 2. 5 % on monday ' s news". A headline reuses the article's words, so each summary
token takes the form it has most often in the article the model read after the same token ("s" after
"'" but "S" after "U."), else its most frequent form there, and two tokens are glued when they are
glued there. Tokens the article lacks keep their decoded form, with the usual punctuation spacing,
and an English clitic ("s", "t", "re"...) joins the apostrophe before it.
"""

from __future__ import annotations

from collections import Counter, defaultdict

CLOSING = set(".,;:!?%)]}'")
OPENING = set("([{$")
CLITICS = {"s", "t", "re", "ve", "ll", "d", "m"}


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

    def spell(self, ids: list[int], tokenizer) -> str:
        pieces = []
        previous = None
        special = set(tokenizer.all_special_ids)  # a property that builds a new list on every access
        for token, piece in zip(ids, tokenizer.convert_ids_to_tokens(ids)):
            if token in special:
                continue
            continuation = piece.startswith("##")
            seen = self.forms_after.get((previous, token)) or self.forms.get(token)
            form = seen.most_common(1)[0][0] if seen else piece.removeprefix("##")
            if pieces and not self._glued(previous, token, pieces[-1], form, continuation):
                pieces.append(" ")
            pieces.append(form)
            previous = token
        text = "".join(pieces)
        return text[:1].upper() + text[1:]

    def _glued(self, previous: int, token: int, before: str, form: str, continuation: bool) -> bool:
        if continuation:
            return True
        seen = self.glued.get((previous, token))
        if seen:
            return seen.most_common(1)[0][0]
        return form[0] in CLOSING or before[-1] in OPENING or (before.endswith("'") and form.lower() in CLITICS)
