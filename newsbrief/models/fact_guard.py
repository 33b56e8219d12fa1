"""A decoding guard: a summary may only state names and numbers that its article contains.

`FactGuard` is a logits processor. Each step it follows, per row, the name or number the summary is
in the middle of, and lets a candidate token through only when the unit it makes is still the start
of one that the article spells; a unit that would end (a space, punctuation, the end token) must be
one the article spells whole. Units, by the same rules for the article and the summary:
- a number: tokens with a digit, with "." and "," inside ("1,500", "2.5", "4th"), compared as written, and
  "-" between two, a range or score ("3-2"; a dash follows a number only where the article writes one after
  it, so never "2-3" or "2-year" from its "2 million"); a
  number spelled as a word ("nine", NUMBER_WORDS of `newsbrief.faithfulness`) is the number its digits
  write, so an article's "9" supports a summary's "nine" and its "nine" a summary's "9";
- a ticker, what the article writes between "<" and ">" (wire copy's "<CBCO>"), compared in lower case
  without spaces: a summary opens "<" only where its article has a ticker, and closes it on one;
- a word (compared in lower case): a token that starts a word with a letter, and the pieces that
  continue it. A word is protected, i.e. must be one of the article's words, when it is a name: in a
  cased vocabulary a capitalised word other than the summary's first (an acronym, always); in an
  uncased one (BERT, MiniLM), where case is lost, a word of two or more pieces (the vocabulary holds
  common words whole, so the names a model invents, "Mourinos", "Daiwai", are spelled in pieces) or
  one whose first piece the article writes with a capital (the summary will show it so), and even
  as the summary's first word when the article writes it as an acronym ("EC").
- a month or weekday ("september", CALENDAR_NAMES of `newsbrief.faithfulness`) is a name in any case;
- so is a word of one or two letters that is no English word (SHORT_WORDS): an abbreviation ("uk", "nz") or
  a piece of a broken word ("8 ml n-112 pct"), unless it is a clitic ("Japan's") or a scale after a number;
- initials: single letters joined by dots ("U.S.", the "J." of "J. Morgan") are one word, always protected,
  spelled whole with their last dot (never "U.S, Japan");
- a scale: a word right after a number that scales it ("40.3 billion", "53.42m") must give a value the
  article states (the value rule of `newsbrief.faithfulness`).
Readability rules ride along, since a broken summary is as much a defect as an invented name: a
closing bracket needs its opener, a summary ends with every bracket and double quote closed (or on the
one it just opened, which the caller drops: `guard_marks.drop_trailing_opener`; where the model would end
inside one, the guard writes its closing mark in the end token's place), "'t"
follows only an "n" ("didn't", never "Aids't"), an apostrophe after a word is a clitic's or a plural's
("Japan's", "elections'", never "Prime election' set"), no piece is glued onto a clitic ("Japan'SItuation"),
and no word starts as the one before it ("Eddie Eddie").
It works on token strings, so WordPiece, byte-level BPE (BART) and SentencePiece (T5) alike, and in
the greedy loop (which passes the rows still decoding) as in `generate`'s beam search. The best
`candidates` tokens of a row are tried first, then, where none of them passes, the whole vocabulary.
A row with no allowed token at all is blocked: it is sent to its end token and reported in `blocked`,
for the caller to decode again without the guard.
"""

from __future__ import annotations

import torch
from transformers import LogitsProcessor

from newsbrief.faithfulness import CALENDAR_NAMES, CLITICS, short_abbreviation
from newsbrief.models.guard_marks import BAD_CLITIC
from newsbrief.models.guard_units import (ArticleUnits, Tail, advance, close_all, continues_clitic, goes_on_with_word,
                                         number_after, number_unit, tokens_continuing_word, unit_value, word_units)
from newsbrief.models.guard_vocabulary import Vocabulary


CANDIDATES = 16
"""Tokens tried first per row in greedy decoding, the model's best; where none of them is allowed the guard looks
down the whole vocabulary (`benchmarks/guard_profile.py` counts how often)."""
BEAM_CANDIDATES = 64
"""Tokens tried per row in beam search, which takes the first `keep` allowed among them and looks no further
while it finds one: fewer would change which beams it builds."""


class FactGuard(LogitsProcessor):
    """Masks every token that would make a name or number its row's article does not contain."""

    def __init__(self, articles: list[ArticleUnits], vocab: Vocabulary, eos_token_id: int, max_new_tokens: int,
                 keep: int = 1, candidates: int | None = None):
        self.articles = articles
        self.max_new_tokens = max_new_tokens
        """At the last step no name or number may be left unfinished."""
        self.vocab = vocab
        self.eos_token_id = eos_token_id
        self.keep = keep
        """Allowed candidates needed per row: 1 for greedy decoding, 2 x beams for beam search."""
        self.candidates = candidates or (CANDIDATES if keep == 1 else max(BEAM_CANDIDATES, keep))
        self.blocked: set[int] = set()
        """Articles (indices into `articles`) with a row the guard blocked at some step."""
        self._dead_ends: set[tuple[int, ...]] = set()
        """The histories of the rows it blocked, which it sent to their end token."""
        self._tails: dict[tuple[int, ...], tuple[Tail, int]] = {}

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """For `generate`: its rows are the articles in order, `num_beams` rows each."""
        per_article = max(1, input_ids.shape[0] // len(self.articles))
        return self.mask(input_ids, scores, [i // per_article for i in range(input_ids.shape[0])])

    def mask(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, article_of: list[int]) -> torch.FloatTensor:
        """Scores with every disallowed token at -inf; row i decodes the summary of article `article_of[i]`."""
        best = scores.topk(min(self.candidates, scores.shape[-1]), dim=-1)
        rows, tokens, sources, ends = [], [], [], []
        # A token another processor ruled out (-inf) stays out.
        for row, (history, order, values) in enumerate(zip(input_ids.tolist(), best.indices.tolist(),
                                                            best.values.tolist())):
            article = article_of[row]
            allowed = self._allowed(history, [t for t, v in zip(order, values) if v > -float("inf")],
                                    self.articles[article])
            if not allowed:  # rare: look further down, in the whole vocabulary
                tried = torch.isfinite(scores[row])
                if (may_fit := self._may_fit(history, self.articles[article])) is not None:
                    tried &= may_fit.to(tried.device)
                to_try = tried.nonzero().flatten()  # sorted alone: where `_may_fit` says, a few hundred tokens
                order = to_try[scores[row, to_try].argsort(descending=True)]
                allowed = self._allowed(history, order.tolist(), self.articles[article])
            if not allowed:
                self.blocked.add(article)
                self._dead_ends.add(tuple(history))
                ends.append(row)
            rows += [row] * len(allowed)
            tokens += [token for token, _ in allowed]
            sources += [source for _, source in allowed]
        # One indexed copy for the whole batch: a copy per row costs more than the guard's own reasoning.
        masked = torch.full_like(scores, -float("inf"))
        rows, tokens, sources = (torch.tensor(i, dtype=torch.long, device=scores.device)
                                 for i in (rows, tokens, sources))
        masked[rows, tokens] = scores[rows, sources]
        masked[ends, self.eos_token_id] = 0.0
        return masked

    def admits(self, article: int, summary: list[int]) -> bool:
        """Whether the guard would let `summary` (token ids, special tokens skipped, an end token implied)
        through for article `article`: the test of a training target (newsbrief/faithful_targets.py)."""
        units, tail, words_seen = self.articles[article], Tail(), 0
        tokens = [t for t in summary if t not in self.vocab.special]
        for step, token in enumerate(tokens + [self.eos_token_id], start=1):
            if not self._fits(tail, token, words_seen, units, last_step=step >= self.max_new_tokens):
                return False
            if token != self.eos_token_id:
                tail, _, words_seen = advance(tail, token, self.vocab, words_seen)
        return True

    def ended_blocked(self, sequence: list[int]) -> bool:
        """Whether a decoded sequence (decoder start first) ends where the guard blocked it: in beam search
        one beam's dead end says nothing of the beam that won."""
        end = sequence.index(self.eos_token_id, 1) if self.eos_token_id in sequence[1:] else len(sequence)
        return tuple(sequence[:end]) in self._dead_ends

    def _tail(self, history: tuple[int, ...]) -> tuple[Tail, int]:
        """The tail of a summary so far and the words it began: on from the longest history seen before
        (a row's grows by one token a step), kept in `_tails`, not replayed from the start every step."""
        known = len(history)
        while known and history[:known] not in self._tails:
            known -= 1
        tail, words_seen = self._tails[history[:known]] if known else (Tail(), 0)
        for end in range(known + 1, len(history) + 1):
            if history[end - 1] not in self.vocab.special:
                tail, _, words_seen = advance(tail, history[end - 1], self.vocab, words_seen)
            self._tails[history[:end]] = tail, words_seen
        return tail, words_seen

    def _may_fit(self, history: list[int], units: ArticleUnits) -> torch.Tensor | None:
        """A mask over the vocabulary that holds every token `_fits` allows after `history`, or None (any
        token may): for the look down the whole vocabulary, which would try tens of thousands of tokens
        where the model spells, piece by piece, a name the article has only longer ("khodorkovs") or a
        number it has only longer ("199"). A word or number that may not end here is ended by every
        token that does not go on with it, so only those that go on need trying: a few thousand, or
        a few hundred."""
        tail, _ = self._tail(tuple(history))
        may_fit = None
        if tail.word is not None and not all(self._supported(kind, text, tail, units)
                                             for kind, text in word_units(tail)):
            may_fit = tokens_continuing_word(tail, self.vocab)
        if tail.number is not None and not self._supported("number", number_unit(tail.number), tail, units):
            may_fit = self.vocab.number_parts if may_fit is None else may_fit & self.vocab.number_parts
        return may_fit

    def _allowed(self, history: list[int], order: list[int], units: ArticleUnits) -> list[tuple[int, int]]:
        """Up to `keep` tokens of `order` that may follow `history`, each with the token whose score it takes:
        its own, but for a closing mark in place of an end token that comes before the mark is closed."""
        tail, words_seen = self._tail(tuple(history))
        last_step = len(history) >= self.max_new_tokens  # the decoder start, then max_new_tokens - 1 tokens
        allowed: dict[int, int] = {}
        for token in order:
            if self._fits(tail, token, words_seen, units, last_step):
                allowed.setdefault(token, token)
            elif token == self.eos_token_id and (closer := self._closer_instead_of_end(tail, words_seen, units,
                                                                                         last_step)) is not None:
                # Where the model would end but a quote or bracket is open, the guard closes it, and the
                # summary may end at the next step; else the row would ramble on towards max_new_tokens
                # looking for a closing mark, and keep its whole batch decoding.
                allowed.setdefault(closer, token)
            if len(allowed) == self.keep:
                break
        return list(allowed.items())

    def _closer_instead_of_end(self, tail: Tail, words_seen: int, units: ArticleUnits, last_step: bool) -> int | None:
        mark = tail.closing_mark()
        closer = self.vocab.closers.get(mark) if mark else None
        if closer is None or not self._fits(tail, closer, words_seen, units, last_step):
            return None
        return closer

    def _fits(self, tail: Tail, token: int, words_seen: int, units: ArticleUnits, last_step: bool) -> bool:
        if tail.awaits_clitic and self.vocab.surfaces[token].lower() not in CLITICS:
            return False
        if token in self.vocab.special:
            return (tail.balanced() or tail.ends_on_its_only_opener()) and all(
                self._supported(kind, text, tail, units) for kind, text in close_all(tail))
        if self._past_the_article(tail, token, units):
            return False
        after, closed, _ = advance(tail, token, self.vocab, words_seen)
        if after.brackets is None or BAD_CLITIC.search(after.recent):
            return False
        if after.word is not None and continues_clitic(tail, token, self.vocab):
            return False
        if after.word is not None and after.word_pieces == 1 and after.word == after.previous_word:
            return False  # a word said twice in a row
        # A capitalised word before an apostrophe is a name even first in the summary ("Smith's").
        possessive = self.vocab.surfaces[token][:1] in "'’" and (
            tail.word_capitalised or tail.word_is_first or tail.word_first_token in units.capitalised)
        if not all(self._supported(kind, text, tail, units, possessive) for kind, text in closed):
            return False
        if last_step and not (after.balanced() and all(self._supported(kind, text, after, units)
                                                       for kind, text in close_all(after))):
            return False
        if after.number is not None and after.number not in units.number_prefixes:
            return False
        # A scale or a number word is judged as soon as it is spelled: "billion" or "nine" would leave the row
        # nothing to go on with. Only a number word that may still become a longer word of the article (the
        # "ten" of "ten ##ancy") waits for its end. The price: a word the article lacks that a vocabulary
        # spells from a number word ("ten" "fold") is out of reach where the article lacks that number.
        if after.word is not None and not all(
                self._supported(kind, text, after, units) for kind, text in word_units(after)
                if kind == "scaled" or (kind == "number" and after.word not in units.word_prefixes)):
            return False
        if after.ticker is not None and after.ticker not in units.ticker_prefixes:
            return False
        if tail.ticker is None and ">" in self.vocab.surfaces[token]:  # closes no ticker: unbalanced
            return False
        return after.word is None or not self._protected(after, units) or units.spells_start(
            after.word, self._inflectable(after, units))

    def _past_the_article(self, tail: Tail, token: int, units: ArticleUnits) -> bool:
        """Whether `token` takes the number or name in progress past every one the article starts with, as the
        rest of `_fits` would find: told from the token's text, before `advance` builds the tail it makes, which
        costs more. Such are a name the article has only longer ("khodorkovs"), spelled on piece by piece, and a
        number it lacks."""
        number, _ = number_after(tail, token, self.vocab)
        if number is not None and number not in units.number_prefixes:
            return True
        if not goes_on_with_word(tail, token, self.vocab):
            return False
        # Inflectable as the tail is: an initials' dot makes the longer word less so, never more, so this refuses
        # nothing that `_fits` allows.
        if units.spells_start(tail.word + self.vocab.surfaces[token].lower(), self._inflectable(tail, units)):
            return False
        # Whether the longer word is protected: in pieces, always, in an uncased vocabulary; in a cased one, by
        # the marks of its start, which it keeps (but a calendar name may go on into another word: "sundays").
        return not self.vocab.cased or (tail.word not in CALENDAR_NAMES and self._protected(tail, units))

    def _supported(self, kind: str, text: str, tail: Tail, units: ArticleUnits, protected: bool = False) -> bool:
        if kind == "number":
            return text in units.numbers or not text
        if kind == "scaled":
            value = unit_value(text)
            return value is None or value in units.values
        if kind == "ticker":
            return text in units.tickers
        if kind == "open ticker":
            return False
        # A short word is judged whole, once it ends: BPE and SentencePiece spell common words from such pieces.
        return (not (protected or self._protected(tail, units) or _short_abbreviation(tail))
                or units.spells(text, self._inflectable(tail, units)))

    def _inflectable(self, tail: Tail, units: ArticleUnits) -> bool:
        """A word the summary will spell in lower case, guarded only for being in pieces (uncased vocabulary):
        a common word, which a headline may inflect. A name keeps the article's form."""
        return not (self.vocab.cased or tail.word_dotted or tail.word_first_token in units.acronyms
                    or tail.word_first_token in units.capitalised)

    def _protected(self, tail: Tail, units: ArticleUnits) -> bool:
        if tail.word_dotted or tail.word in CALENDAR_NAMES:
            return True
        if self.vocab.cased:
            return tail.word_acronym or (tail.word_capitalised and not tail.word_is_first)
        # Uncased: a word in pieces, or one whose first piece the article capitalises ("Video", from
        # "Videotron"), which the summary's spelling would capitalise too; and a short word of one piece that is
        # no English word, which can neither end nor go on into a word the article lacks.
        return (tail.word_pieces >= 2 or tail.word_first_token in units.acronyms or _short_abbreviation(tail)
                or (tail.word_first_token in units.capitalised and not tail.word_is_first))


def _short_abbreviation(tail: Tail) -> bool:
    """`short_abbreviation` for the word a tail ends in, a clitic after its apostrophe ("Japan's") excepted."""
    word = tail.word
    return (short_abbreviation(word, after_number=tail.word_after is not None)
            and not (word in CLITICS and tail.recent[:-len(word)].endswith(("'", "’"))))
