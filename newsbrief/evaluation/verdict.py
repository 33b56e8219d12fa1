"""Whether a model holds its baseline's quality: no compared figure drops significantly.

The question a speed setting (bf16, int8) must answer before it replaces fp32: the summaries may
change, but are they worse? A figure drops significantly when its paired bootstrap interval (model
minus baseline, at the report's confidence) lies wholly on the worse side of zero.
"""

from __future__ import annotations

from newsbrief.evaluation.bootstrap import CONFIDENCE
from newsbrief.evaluation.faithfulness import WORSE_WHEN_HIGHER

JUDGED = ("rouge", "topics", "faithfulness")
"""The comparison's sections whose every figure the verdict reads: ROUGE, topic F1, faithfulness."""


def verdict(comparison: dict) -> dict:
    """`acceptable` when no figure of `comparison` (build_report's) drops significantly; the figures it
    compared and those that dropped, as "section.figure"."""
    compared = [(section, key) for section in JUDGED for key in comparison.get(section, {})]
    drops = [f"{section}.{key}" for section, key in compared if dropped(key, comparison[section][key])]
    return {"acceptable": not drops, "confidence": CONFIDENCE,
            "compared": [f"{section}.{key}" for section, key in compared], "significant_drops": drops}


def dropped(figure: str, paired: dict) -> bool:
    """Whether the interval of model minus baseline lies wholly on the worse side of zero."""
    return paired["low"] > 0 if figure in WORSE_WHEN_HIGHER else paired["high"] < 0


def verdict_line(verdict: dict) -> str:
    """The verdict in one line, for the report's Markdown and the command's output."""
    level = f"{verdict['confidence']:.0%}"
    if verdict["acceptable"]:
        return (f"Verdict: acceptable: none of the {len(verdict['compared'])} figures compared drops significantly "
                f"({level}) below the baseline's")
    return f"Verdict: not acceptable: significant drops ({level}) in " + ", ".join(verdict["significant_drops"])
