"""The report's faithfulness section: invented names and numbers, readability defects, novel n-grams.

Precision against the source (Nan et al., EACL 2021, "precision-source") is the share of a summary's
names and numbers that its article supports, averaged over the summaries that state any; the rules
are newsbrief/faithfulness.py's. Novel n-grams (the share of a summary's word n-grams that its article
lacks) say how abstractive summaries are; the references' shares stand beside them for scale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from newsbrief.evaluation.bootstrap import bootstrap_ci, paired_bootstrap
from newsbrief.faithfulness import ArticleFacts, Mention, names, numbers
from newsbrief.readability import KINDS, defects

WORSE_WHEN_HIGHER = ("summaries_with_unsupported", "summaries_with_defects")
"""The faithfulness figures that count failures; for the others (and ROUGE, topic F1) higher is better."""
NOVEL_NGRAM_SIZES = (1, 2, 3)
EXAMPLES_SHOWN = 5
_WORD = re.compile(r"\w+")


@dataclass
class SummaryCheck:
    """One summary read by the rules, once: its names and numbers, those its article lacks, its defects."""

    mentions: int
    unsupported: list[Mention]
    defects: set[str]


def check_summaries(summaries: list[str], texts: list[str]) -> list[SummaryCheck]:
    checks = []
    for summary, text in zip(summaries, texts):
        facts, mentioned = ArticleFacts(text), names(summary) + numbers(summary)
        checks.append(SummaryCheck(len(mentioned), [m for m in mentioned if not facts.supports(m)],
                                   defects(summary, text)))
    return checks


def faithfulness_scores(checks: list[SummaryCheck]) -> dict[str, np.ndarray]:
    """Per summary: precision against the source (NaN when it states no name or number), whether any
    mention is unsupported, and whether it has a readability defect (1.0 / 0.0)."""
    return {
        "name_number_precision": np.array([(c.mentions - len(c.unsupported)) / c.mentions if c.mentions else np.nan
                                           for c in checks]),
        "summaries_with_unsupported": np.array([float(bool(c.unsupported)) for c in checks]),
        "summaries_with_defects": np.array([float(bool(c.defects)) for c in checks]),
    }


def faithfulness_section(ids: list[str], summaries: list[str], texts: list[str], references: list[str | None],
                         seed: int, resamples: int, guard_fallbacks: int | None = None) -> dict:
    checks = check_summaries(summaries, texts)
    section = {key: bootstrap_ci(values, seed, resamples) for key, values in faithfulness_scores(checks).items()
               if not np.isnan(values).all()}
    section["defects_by_kind"] = {kind: sum(kind in c.defects for c in checks) for kind in KINDS}
    section["unsupported_examples"] = [{"id": i, "summary": s, "unsupported": [m.text for m in c.unsupported]}
                                       for i, s, c in zip(ids, summaries, checks) if c.unsupported][:EXAMPLES_SHOWN]
    section["defect_examples"] = [{"id": i, "summary": s, "defects": sorted(c.defects)}
                                  for i, s, c in zip(ids, summaries, checks) if c.defects][:EXAMPLES_SHOWN]
    section["novel_ngrams"] = {
        "summary": novel_ngram_shares(summaries, texts, seed, resamples),
        "reference": novel_ngram_shares([r or "" for r in references], texts, seed, resamples)}
    if guard_fallbacks is not None:
        section["guard_fallbacks"] = guard_fallbacks
    return section


def paired_faithfulness(ours: tuple[list[str], list[str]], theirs: tuple[list[str], list[str]], seed: int,
                        resamples: int) -> dict:
    """Model minus baseline on the same articles, each figure by paired bootstrap: (summaries, texts) each."""
    a, b = faithfulness_scores(check_summaries(*ours)), faithfulness_scores(check_summaries(*theirs))
    both = {key: ~np.isnan(a[key]) & ~np.isnan(b[key]) for key in a}
    return {key: paired_bootstrap(a[key][both[key]], b[key][both[key]], seed, resamples)
            for key in a if both[key].any()}


def novel_ngram_shares(summaries: list[str], texts: list[str], seed: int, resamples: int) -> dict:
    shares = {}
    for n in NOVEL_NGRAM_SIZES:
        values = np.array([novel_share(s, t, n) for s, t in zip(summaries, texts)])
        if not np.isnan(values).all():
            shares[str(n)] = bootstrap_ci(values, seed, resamples)
    return shares


def novel_share(summary: str, text: str, n: int) -> float:
    """The share of the summary's distinct word n-grams (lower case) that the text lacks; NaN under n words."""
    grams = _ngrams(summary, n)
    if not grams:
        return np.nan
    return len(grams - _ngrams(text, n)) / len(grams)


def _ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}
