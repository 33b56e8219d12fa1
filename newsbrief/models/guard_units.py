"""The names, numbers, tickers and marks a text spells, read token by token: an article's window whole
(`ArticleUnits`), a summary one token at a time (`Tail`, `advance`). The fact guard (models/fact_guard.py)
compares the two; its docstring gives the rules for what a unit is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import torch

from newsbrief.faithfulness import CLITICS, NUMBER_WORDS, SCALES, number_value
from newsbrief.models.guard_marks import CLOSERS, DANGLING_APOSTROPHE, brackets_after
from newsbrief.models.guard_vocabulary import NUMBER_SEPARATORS, Vocabulary

_INITIALS = re.compile(r"(?:[a-z]\.)*[a-z]\.?")  # "u", "u.", "u.s": a chain of initials so far


@dataclass
class Tail:
    """The unit a summary ends in: its number so far, its last word so far and that word's shape, and what
    the readability rules need (open brackets and quotes, the last characters)."""

    number: str | None = None
    ticker: str | None = None
    """What follows an open "<", lower case, spaces dropped."""
    word: str | None = None
    word_first_token: int = -1
    word_pieces: int = 0
    word_capitalised: bool = False
    word_acronym: bool = False
    """A capital after its first letter ("IBM", "McDonald"): a name even first in the summary."""
    word_is_first: bool = False
    word_dotted: bool = False
    """Initials ("u.s.", "j."): a name wherever it stands."""
    word_after: str | None = None
    """The number the word follows directly, which it may scale ("40.3" before "billion")."""
    brackets: str | None = ""
    """Brackets opened and not yet closed, innermost last."""
    quotes: int = 0
    """Double quotes so far, modulo 2."""
    recent: str = ""
    """The last characters of the summary, spaces dropped."""
    previous_word: str | None = None
    """The last word closed, which the next may not repeat ("Eddie Eddie")."""

    def balanced(self) -> bool:
        return not self.brackets and not self.quotes

    def closing_mark(self) -> str | None:
        """The mark that closes what is open, the quote first ('(in "a' closes '"', then ')')."""
        return '"' if self.quotes else CLOSERS[self.brackets[-1]] if self.brackets else None

    @cached_property
    def awaits_clitic(self) -> bool:
        """An apostrophe after a word that is no plural ("election'"): only a clitic may follow. Read once a
        tail (a tail is never changed, only replaced), not once for every candidate token."""
        return bool(DANGLING_APOSTROPHE.search(self.recent))

    def ends_on_its_only_opener(self) -> bool:
        """Unbalanced only by the mark it just wrote ('Fantastic "'): the summary may end there, and loses
        the mark (`drop_trailing_opener`), rather than ramble on to close it."""
        if self.quotes:
            return not self.brackets and self.recent.endswith('"')
        return len(self.brackets or "") == 1 and self.recent.endswith(self.brackets)


class ArticleUnits:
    """The numbers and words an article spells, whole and as prefixes, and (for an uncased vocabulary)
    the tokens it writes with a capital, which a summary will show capitalised too (infer/spelling.py)."""

    def __init__(self, ids: list[int], vocab: Vocabulary, capitalised: frozenset[int] = frozenset(),
                 acronyms: frozenset[int] = frozenset()):
        self.capitalised = capitalised
        self.acronyms = acronyms
        self.numbers: set[str] = set()
        self.tickers: set[str] = set()
        self.words: set[str] = set()
        self.values: set[float] = set()
        """The values of its numbers, scaled ("1.5 mln": 1500000.0) and as written (1.5)."""
        self.dashed: set[str] = set()
        """Its numbers that a dash follows, with the dash ("2-" of "2-year", "3-" of "3-2")."""
        tail, words_seen = Tail(), 0
        for token in ids:
            if token in vocab.special:
                continue
            tail, closed, words_seen = advance(tail, token, vocab, words_seen)
            self._add(closed)
            if tail.number is not None and tail.number.endswith("-"):
                self.dashed.add(tail.number)
        self._add(close_all(tail))

    @classmethod
    def read(cls, ids: list[int], vocab: Vocabulary, spelling=None) -> "ArticleUnits":
        """The units of an article's window; for a WordPiece vocabulary, its `infer.spelling.ArticleSpelling`
        tells which tokens the article writes with a capital."""
        if spelling is None:
            return cls(ids, vocab)
        return cls(ids, vocab, spelling.capitalised(), spelling.acronyms())

    def _add(self, closed: list[tuple[str, str]]) -> None:
        for kind, text in closed:
            if kind == "word":
                self.words.add(text)
            elif kind in ("number", "scaled"):
                # A range or score ("3-2") is a number of its own, and its parts are the article's numbers too.
                parts = [text] + (range_parts(text) if kind == "number" else [])
                for part in parts:
                    if kind == "number":
                        self.numbers.add(part)
                    value = unit_value(part)
                    if value is not None:
                        self.values.add(value)
            elif kind == "ticker":
                self.tickers.add(text)

    @cached_property
    def number_prefixes(self) -> set[str]:
        """Every start of the article's numbers, and a number with the dash it writes after it: a summary's
        "2-year" or "2-3" needs an article's "2-" (its "2 million" is no "2-year")."""
        return {n[:i] for n in self.numbers for i in range(1, len(n) + 1)} | self.dashed

    @cached_property
    def ticker_prefixes(self) -> set[str]:
        return {t[:i] for t in self.tickers for i in range(len(t) + 1)}

    @cached_property
    def word_prefixes(self) -> set[str]:
        return {w[:i] for w in self.words for i in range(1, len(w) + 1)}

    @cached_property
    def stems(self) -> set[str]:
        return {_stem(w) for w in self.words}

    def spells(self, word: str, inflected: bool) -> bool:
        """Whether the article has this word, or with `inflected`, another form of it ("boosts" for "boost",
        "unveils" for "unveiled")."""
        return word in self.words or (inflected and _stem(word) in self.stems)

    def spells_start(self, word: str, inflected: bool) -> bool:
        """Whether a word so far can still become one that `spells` accepts."""
        return word in self.word_prefixes or (inflected and _stem(word) in self.stems)


def advance(tail: Tail, token: int, vocab: Vocabulary, words_seen: int) -> tuple[Tail, list[tuple[str, str]], int]:
    """The tail after `token`, the units it closed (kind, text), and the count of words begun."""
    surface, closed = vocab.surfaces[token], []
    number, extends_number = number_after(tail, token, vocab)
    ticker = tail.ticker
    if ticker is not None and ">" in surface:
        closed.append(("ticker", ticker + _squeezed(surface.split(">")[0])))
        ticker = None
    elif ticker is not None:
        ticker += _squeezed(surface)
    elif "<" in surface:
        ticker = _squeezed(surface.split("<", 1)[1])
    ended_number = number_unit(tail.number) if tail.number is not None and not extends_number else None
    if ended_number is not None:
        closed.append(("number", ended_number))
    marks = {"brackets": brackets_after(tail.brackets, surface), "quotes": (tail.quotes + surface.count('"')) % 2,
             "recent": (tail.recent + "".join(surface.split()))[-4:], "previous_word": tail.previous_word}
    if goes_on_with_word(tail, token, vocab):
        longer = Tail(number, ticker, tail.word + surface.lower(), tail.word_first_token, tail.word_pieces + 1,
                       tail.word_capitalised, tail.word_acronym or any(c.isupper() for c in surface),
                       tail.word_is_first, tail.word_dotted or surface == ".", tail.word_after, **marks)
        return longer, closed, words_seen
    if tail.word is not None:
        closed += word_units(tail)
        marks["previous_word"] = tail.word
    # A letter piece glued to a number may scale it ("53.42" + "##m"), though WordPiece starts no word there.
    if vocab.starts_letter_word(token) or (ended_number is not None and surface[:1].isalpha()):
        acronym = any(c.isupper() for c in surface[1:])
        # The number right before the word, which it may scale: "40.3 billion", "nine million".
        number_before = ended_number if ended_number is not None else _spelled_number(tail.word)
        return (Tail(number, ticker, surface.lower(), token, 1, surface[0].isupper(), acronym, words_seen == 0,
                      "." in surface, number_before, **marks), closed, words_seen + 1)
    return Tail(number, ticker, **marks), closed, words_seen


def number_after(tail: Tail, token: int, vocab: Vocabulary) -> tuple[str | None, bool]:
    """The number a summary is in after `token`, and whether that is `tail`'s number gone on with (else the
    token starts one, or is none)."""
    surface = vocab.surfaces[token]
    # A number goes on through "." and "," and the pieces that continue it ("1", ",", "500"; "35", "##9"),
    # not into a token that starts a word of its own ("35 9", BPE's "3, 200"); WordPiece marks no piece
    # after punctuation, which its spelling glues ("3,200": infer/spelling.py).
    if tail.number is not None and (vocab.is_number(token) or surface in NUMBER_SEPARATORS) and (
            not vocab.starts_word[token] or surface in NUMBER_SEPARATORS
            or (vocab.wordpiece and tail.number[-1] in NUMBER_SEPARATORS)):
        return tail.number + surface, True
    return (surface if vocab.is_number(token) else None), False


def goes_on_with_word(tail: Tail, token: int, vocab: Vocabulary) -> bool:
    """Whether `token` continues the word `tail` ends in (a piece of it, or the dot or letter of initials)."""
    return tail.word is not None and (vocab.continues_word(token) or _continues_initials(tail.word, token, vocab))


def _continues_initials(word: str, token: int, vocab: Vocabulary) -> bool:
    """A dot after an initial, or a letter after such a dot: "u" + "." + "s" is one word, "u.s"."""
    surface = vocab.surfaces[token]
    glued = vocab.wordpiece or not vocab.starts_word[token]
    if not glued or not _INITIALS.fullmatch(word):
        return False
    return surface == "." if not word.endswith(".") else len(surface) == 1 and surface.isalpha()


def tokens_continuing_word(tail: Tail, vocab: Vocabulary) -> torch.Tensor | None:
    """A mask over the vocabulary that holds every token that `advance` lets continue `tail`'s word: the
    vocabulary's word continuations; None (any token) where the word is a letter or initials so far, which
    a dot or a lone letter continues too ("u" "." "s")."""
    return None if _INITIALS.fullmatch(tail.word) else vocab.word_continuations


def continues_clitic(tail: Tail, token: int, vocab: Vocabulary) -> bool:
    """A piece glued onto a clitic ("japan" "'" "s" "##it..."): the spelling would show "Japan'SItuation"."""
    return (tail.word in CLITICS and tail.word_pieces == 1 and tail.recent[:-len(tail.word)].endswith(("'", "’"))
            and vocab.continues_word(token))


def word_units(tail: Tail) -> list[tuple[str, str]]:
    """The closed word, the number it spells ("nine": "9"), and the value it gives its number when it is a
    scale ("40.3 billion", "nine million")."""
    units = [("word", tail.word)]
    if (spelled := _spelled_number(tail.word)) is not None:
        units.append(("number", spelled))
    if tail.word_after is not None and tail.word in SCALES:
        units.append(("scaled", f"{tail.word_after} {tail.word}"))
    return units


def _spelled_number(word: str | None) -> str | None:
    """The digits of a number spelled as a word ("nine": "9"), as `newsbrief.faithfulness` reads them."""
    return str(NUMBER_WORDS[word]) if word in NUMBER_WORDS else None


def _stem(word: str) -> str:
    """A word without its inflection ("-ing", "-ed", "-s", or the "d" of "-ed") and its last "e"s (so "-es" too),
    where at least 4 letters remain: "downsize", "downsized" and "downsizing" are one stem, and so are "guarantee",
    "guarantees" and "guaranteed"; "ground" keeps its "d". Rough by design: "employee" and "employed" share one
    too, which only lets a common word (never a name) take a form of another that the article writes."""
    for suffix in ("ing", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    else:
        if word.endswith("ed") and not word.endswith("eed") and len(word) >= 5:  # "cased": "case"; "need" stays
            word = word[:-1]
    while word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def number_unit(number: str) -> str:
    """A number as it is compared once it ends: without the "." or "," after it ("in 1987." states 1987), or the
    dash before a word ("2-year" states 2)."""
    return number.rstrip(".,-")


def range_parts(number: str) -> list[str]:
    """The numbers a range or score is made of ("3-2": "3", "2"); a plain number is its own one part."""
    return [part for part in number.split("-") if part]


def unit_value(number: str) -> float | None:
    """The value of a number unit, as `newsbrief.faithfulness` reads it ("1,500", "40.3 billion")."""
    digits, _, scale = number.partition(" ")
    value = number_value(digits, scale or None)
    return None if value is None else round(value, 6)


def _squeezed(text: str) -> str:
    return "".join(text.split()).lower()


def close_all(tail: Tail) -> list[tuple[str, str]]:
    closed = []
    if tail.ticker is not None:  # a "<" never closed: unbalanced, never supported
        closed.append(("open ticker", tail.ticker))
    if tail.number is not None:
        closed.append(("number", number_unit(tail.number)))
    if tail.word is not None:
        closed += word_units(tail)
    return closed
