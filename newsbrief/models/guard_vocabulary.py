"""What the fact guard (models/fact_guard.py) needs to know of each token of a vocabulary, read once per
tokenizer: its text without word marks, whether it starts a word, and the tokenizer's kind."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import torch

from newsbrief.models.guard_marks import CLOSERS

_DIGIT = re.compile(r"\d")
NUMBER_SEPARATORS = {".", ",", "-"}
"""What a number goes on through ("1,500", "2.5", and a range or score, "3-2", "1987-88")."""
_WORD_MARKS = ("Ġ", "▁")  # byte-level BPE and SentencePiece mark a token that starts a word


@dataclass(frozen=True)
class Vocabulary:
    """What the guard needs to know of each token of a tokenizer, computed once."""

    surfaces: list[str]
    starts_word: list[bool]
    special: frozenset[int]
    cased: bool
    wordpiece: bool

    @classmethod
    def of(cls, tokenizer) -> "Vocabulary":
        tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        wordpiece = all(not t.startswith(_WORD_MARKS) for t in tokens if t) and any(t.startswith("##") for t in tokens)
        if wordpiece:
            surfaces = [t.removeprefix("##") for t in tokens]
            starts = [not t.startswith("##") for t in tokens]
        else:
            # Whitespace before a token's text (a word mark, a newline) starts a word; a token that ends in a
            # newline (".\n") is no separator inside a number.
            texts = [tokenizer.convert_tokens_to_string([t]) if t else "" for t in tokens]
            starts = [t.startswith(_WORD_MARKS) or text[:1].isspace() for t, text in zip(tokens, texts)]
            surfaces = [text.lstrip() for text in texts]
        cased = tokenizer.tokenize("Zebra London") != tokenizer.tokenize("zebra london")
        return cls(surfaces, starts, frozenset(tokenizer.all_special_ids), cased, wordpiece)

    def is_number(self, token: int) -> bool:
        """Any digit makes a token part of a number: "4th" and "1987s" are checked like "1987"."""
        return self._numbers[token]

    @cached_property
    def _numbers(self) -> list[bool]:
        """`is_number` of every token, read once: the guard asks it of every token it reads, several times."""
        return [bool(_DIGIT.search(surface)) for surface in self.surfaces]

    def continues_word(self, token: int) -> bool:
        surface = self.surfaces[token]
        return not self.starts_word[token] and surface[:1].isalnum()

    @cached_property
    def word_continuations(self) -> torch.Tensor:
        """Per token, whether it continues a word (`continues_word`): a mask over the vocabulary."""
        return torch.tensor([self.continues_word(token) for token in range(len(self.surfaces))])

    @cached_property
    def number_parts(self) -> torch.Tensor:
        """Per token, whether it may go on with a number: it has a digit, or is "." or ","; a mask over the
        vocabulary."""
        return torch.tensor([self.is_number(token) or surface in NUMBER_SEPARATORS
                             for token, surface in enumerate(self.surfaces)])

    @cached_property
    def closers(self) -> dict[str, int]:
        """The token that writes each closing mark alone, glued to the word before it where the vocabulary
        has such a token (BPE's '"' rather than 'Ġ"')."""
        found: dict[str, int] = {}
        for token, surface in enumerate(self.surfaces):
            if surface in CLOSERS.values() and token not in self.special and (
                    surface not in found or self.starts_word[found[surface]] and not self.starts_word[token]):
                found[surface] = token
        return found

    def starts_letter_word(self, token: int) -> bool:
        surface = self.surfaces[token]
        return (self.starts_word[token] or not self.wordpiece) and surface[:1].isalpha()
