"""The report's faithfulness section: invented names and numbers, readability defects, novel n-grams.

Precision against the source (Nan et al., EACL 2021, "precision-source") is the share of a summary's
names and numbers that its article supports, averaged over the summaries that state any; the rules
are newsbrief/faithfulness.py's. Novel n-grams (the share of a summary's word n-grams that its article
lacks) say how abstractive summaries are; the references' shares stand beside them for scale.
"""

from __future__ import annotations

import re

import numpy as np

from newsbrief.evaluation.bootstrap import bootstrap_ci, paired_bootstrap
from newsbrief.faithfulness import ArticleFacts, names, numbers
from newsbrief.readability import KINDS, defects

NOVEL_NGRAM_SIZES = (1, 2, 3)
EXAMPLES_SHOWN = 5
_WORD = re.compile(r"\w+")


def faithfulness_scores(summaries: list[str], texts: list[str]) -> dict[str, np.ndarray]:
    """Per summary: precision against the source (NaN when it states no name or number), whether any
    mention is unsupported, and whether it has a readability defect (1.0 / 0.0)."""
    precision, unsupported, defective = [], [], []
    for summary, text in zip(summaries, texts):
        mentions = len(names(summary)) + len(numbers(summary))
        missing = len(ArticleFacts(text).unsupported(summary))
        precision.append((mentions - missing) / mentions if mentions else np.nan)
        unsupported.append(float(missing > 0))
        defective.append(float(bool(defects(summary))))
    return {"name_number_precision": np.array(precision), "summaries_with_unsupported": np.array(unsupported),
            "summaries_with_defects": np.array(defective)}


def faithfulness_section(ids: list[str], summaries: list[str], texts: list[str], references: list[str | None],
                         seed: int, resamples: int, guard_fallbacks: int | None = None) -> dict:
    scores = faithfulness_scores(summaries, texts)
    section = {key: bootstrap_ci(values, seed, resamples) for key, values in scores.items()
               if not np.isnan(values).all()}
    kinds = [defects(s) for s in summaries]
    section["defects_by_kind"] = {kind: sum(kind in found for found in kinds) for kind in KINDS}
    section["unsupported_examples"] = [
        {"id": i, "summary": s, "unsupported": [m.text for m in ArticleFacts(t).unsupported(s)]}
        for i, s, t, flag in zip(ids, summaries, texts, scores["summaries_with_unsupported"]) if flag][:EXAMPLES_SHOWN]
    section["defect_examples"] = [{"id": i, "summary": s, "defects": sorted(found)}
                                  for i, s, found in zip(ids, summaries, kinds) if found][:EXAMPLES_SHOWN]
    section["novel_ngrams"] = {
        "summary": novel_ngram_shares(summaries, texts, seed, resamples),
        "reference": novel_ngram_shares([r or "" for r in references], texts, seed, resamples)}
    if guard_fallbacks is not None:
        section["guard_fallbacks"] = guard_fallbacks
    return section


def paired_faithfulness(ours: tuple[list[str], list[str]], theirs: tuple[list[str], list[str]], seed: int,
                        resamples: int) -> dict:
    """Model minus baseline on the same articles, each figure by paired bootstrap: (summaries, texts) each."""
    a, b = faithfulness_scores(*ours), faithfulness_scores(*theirs)
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
