"""The names and numbers a text states, and which of a summary's the article supports: one set of rules,
read by the evaluation's faithfulness figures, the decoding guard and gap-sentence pretraining.

Names: words that start with a capital and are not capitalised only because they start a sentence,
acronyms (two or more capitals, dots allowed: "IBM", "U.S."), and tickers ("<CBCO>", in any case:
a model that writes "< st >" names a stock). A sentence's first word counts as a
name only when it looks like one anyway: an acronym, a capital inside it ("McDonald") or a possessive
("Smith's"). Months and weekdays are names in any case (CALENDAR_NAMES). A name is supported when
the article has the same word in any case ("BAHIA" supports "Bahia") once dots, apostrophes and a
clitic ("'s", "'t") are dropped, so "U.S." and "US" are one name.

Numbers: a run of digits with "," or "." inside (and a leading "$", "£" or "€"), with a scale word
after it ("mln", "million", "bn", "billion", "trillion", "thousand", "k") or glued to it ("1.13bn"). A
number is supported when the article has the same value: "1.5 mln" and "1,500,000" are one value, and an
article's number glued to letters counts ("$NZ13.04 million" supports "$13.04 mln"). The
article's numbers count both with and without their scale ("1.5 mln" supports "1.5"), since headlines
drop units. A number spelled as a word is a number, compared by value (NUMBER_WORDS: "two" to "ninety",
"twenty-five", "nine million"): an article's "3-2" does not support a summary's "nine", and its "two"
supports "2". "One" is not among them: it is a pronoun as often as a number ("one of", "no one").
Two numbers joined by a dash ("3-2", "1987-88") are a range or a score: one mention, supported only where the
article joins the same two so (its "2 million" and "3 percent" do not support "2-3").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from newsbrief.sentences import split_sentences

CLITICS = ("s", "t", "re", "ve", "ll", "d", "m")
"""What English glues to a word after an apostrophe ("Japan's", "didn't", "they're")."""
_CLITIC = "(?:" + "|".join(CLITICS) + ")"
SCALES = {"k": 1e3, "thousand": 1e3, "mln": 1e6, "million": 1e6, "mn": 1e6, "m": 1e6, "bn": 1e9, "billion": 1e9,
          "bln": 1e9, "trillion": 1e12, "tn": 1e12}
_SCALE = r"(?:\s?(" + "|".join(sorted(SCALES, key=len, reverse=True)) + r")\b)?"
_DIGITS_AND_SCALE = r"[$£€]?(\d+(?:[.,]\d+)*)" + _SCALE
_NUMBER = re.compile(r"(?<![\w.,])" + _DIGITS_AND_SCALE, re.IGNORECASE)
# An article's number may be glued to letters ("$NZ13.04 million", "A320"): it still states the value.
_ARTICLE_NUMBER = re.compile(r"(?<![\d.,])" + _DIGITS_AND_SCALE, re.IGNORECASE)
_UNITS = ("two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
NUMBER_WORDS = dict(zip(_UNITS, range(2, 10))) | dict(zip(_TEENS, range(10, 20))) | dict(zip(_TENS, range(20, 100, 10)))
"""Numbers spelled as words, and their values."""
# After a number word only a scale word counts ("ten M&A deals" is no 10 million), and a tens word before an
# ordinal ("twenty-first") is no number.
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
_WORD_SCALE = r"(?:\s(" + "|".join(s for s in SCALES if len(s) > 1) + r")\b)?"
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_TENS) + r")-(one|" + "|".join(_UNITS) + r")\b" + _WORD_SCALE
                          + r"|\b(" + "|".join(NUMBER_WORDS) + r")\b(?!-(?:" + "|".join(_ORDINALS) + r")\b)" + _WORD_SCALE,
                          re.IGNORECASE)
CALENDAR_NAMES = frozenset({
    "january", "february", "april", "june", "july", "august", "september", "october", "november", "december",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"})
"""Names in any case: a summary's "september" dates a story as much as "September" does, and an uncased
model writes it so. ("May" and "March" are verbs too: only the capital makes them names.)"""
SHORT_WORDS = frozenset("a i am an as at be by do go he if in is it me my no of oh ok on or so to up us we".split())
"""The English words of one or two letters. Any other such word in a summary is an abbreviation ("uk", "nz",
"pc") or a piece of a broken word ("8 ml n", "ze float"): the guard lets a summary write one only where its
article has it, and the readability rules count one its article lacks as a fragment."""


def short_abbreviation(word: str, after_number: bool = False) -> bool:
    """Whether `word` (lower case) is a word of one or two letters that is no English word (SHORT_WORDS); a
    scale right after a number ("5 bn") is not. The one rule of the guard and the readability figures."""
    return len(word) <= 2 and word.isalpha() and word not in SHORT_WORDS and not (after_number and word in SCALES)
_WORD = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]\b\.?|[^\W\d_][\w'’]*")
_ACRONYM = re.compile(r"(?:[A-Z]\.)+[A-Z]\.?|[A-Z][A-Z0-9&]+")
_TICKER = re.compile(r"<([^<>\n]{1,24})>")
_RANGE = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)*)[-–](\d+(?:[.,]\d+)*)(?![\w-])")


@dataclass(frozen=True)
class Mention:
    """A name or a number as a summary states it, and the key it is compared by."""

    text: str
    key: str | float | tuple[str, str]
    """A name's key, a number's value, a range's two numbers as written."""


def name_key(word: str) -> str:
    word = re.sub(r"['’]" + _CLITIC + "$", "", word, flags=re.IGNORECASE)  # "JAPAN'S" names Japan
    return re.sub(r"[.'’]", "", word).lower()


def number_value(digits: str, scale: str | None) -> float | None:
    """"1,500" -> 1500.0; "1.5" + "mln" -> 1500000.0; None for what is no plain number ("1.2.3")."""
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", digits):
        digits = digits.replace(",", "")
    elif "," in digits:  # "1,5" (a decimal comma) or a list "3,4"
        return None
    try:
        value = float(digits)
    except ValueError:
        return None
    return value * SCALES[scale.lower()] if scale else value


def numbers(text: str) -> list[Mention]:
    """Numbers in digits and numbers spelled as words, in the order the text has them."""
    ranges = list(_RANGE.finditer(text))
    found = [(match.start(), Mention(match.group(0), match.groups())) for match in ranges]
    for match in _NUMBER.finditer(text):
        if any(r.start() <= match.start() < r.end() for r in ranges):
            continue  # a part of a range, which is judged whole
        value = number_value(match.group(1), match.group(2))
        if value is not None:
            found.append((match.start(), Mention(match.group(0).strip(), value)))
    found += [(match.start(), Mention(match.group(0).strip(), number_value(str(value), scale)))
              for match, value, scale in _number_words(text)]
    return [mention for _, mention in sorted(found, key=lambda start_mention: start_mention[0])]


def _number_words(text: str) -> list[tuple[re.Match, int, str | None]]:
    """Each number spelled as words, its value unscaled and its scale ("nine million": 9, "million";
    "twenty-five": 25, None)."""
    found = []
    for match in _NUMBER_WORD.finditer(text):
        tens, unit, tens_scale, word, scale = match.groups()
        if word is not None:
            found.append((match, NUMBER_WORDS[word.lower()], scale))
        else:
            value = NUMBER_WORDS[tens.lower()] + (1 if unit.lower() == "one" else NUMBER_WORDS[unit.lower()])
            found.append((match, value, tens_scale))
    return found


def names(text: str) -> list[Mention]:
    """Names, each part of a hyphenated word on its own ("Anglo-French": two; "Japan-based": one), and the
    tickers in angle brackets of wire copy ("<CBCO>"), in any case: the name of a company's stock."""
    found = []
    for sentence in split_sentences(text):
        for i, match in enumerate(_WORD.finditer(sentence)):
            word = match.group(0).rstrip("'’")
            if word and _is_name(word, sentence_initial=i == 0):
                found.append(Mention(word, name_key(word)))
    found += [Mention(f"<{m.group(1)}>", ticker_key(m.group(1))) for m in _TICKER.finditer(text)]
    return found


def ticker_key(inside: str) -> str:
    return "<" + re.sub(r"\s", "", inside).lower() + ">"


def _is_name(word: str, sentence_initial: bool) -> bool:
    if _ACRONYM.fullmatch(word) or name_key(word) in CALENDAR_NAMES:
        return True
    if not word[0].isupper():
        return False
    if not sentence_initial:
        return True
    return any(c.isupper() for c in word[1:]) or bool(re.search(r"['’]s$", word))


class ArticleFacts:
    """What an article can support: its words (any case) and its numbers' values."""

    def __init__(self, article: str):
        self.article = article

    @cached_property
    def name_keys(self) -> set[str]:
        return {name_key(w) for w in _WORD.findall(self.article)} | {
            ticker_key(m.group(1)) for m in _TICKER.finditer(self.article)}

    @cached_property
    def values(self) -> set[float]:
        values = set()
        for match in _ARTICLE_NUMBER.finditer(self.article):
            for scale in {match.group(2), None}:
                value = number_value(match.group(1), scale)
                if value is not None:
                    values.add(round(value, 6))
        for _, value, scale in _number_words(self.article):
            values |= {round(number_value(str(value), scale), 6), float(value)}
        return values

    @cached_property
    def ranges(self) -> set[tuple[str, str]]:
        return {match.groups() for match in _RANGE.finditer(self.article)}

    def supports(self, mention: Mention) -> bool:
        if isinstance(mention.key, tuple):
            return mention.key in self.ranges
        if isinstance(mention.key, str):
            return mention.key in self.name_keys
        return round(mention.key, 6) in self.values

    def unsupported(self, summary: str) -> list[Mention]:
        """The summary's names and numbers that this article does not state."""
        return [m for m in names(summary) + numbers(summary) if not self.supports(m)]
