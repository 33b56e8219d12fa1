"""Seeded bootstrap over per-example scores: a confidence interval of a mean, and a paired test.

Examples are resampled with replacement; a statistic's spread over the resamples stands in for its
spread over test sets (Efron and Tibshirani 1993; for paired system comparison, Koehn 2004). The
same seed draws the same resamples, so a report is reproducible and two metrics of one report are
resampled alike.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

RESAMPLES = 1000
CONFIDENCE = 0.95
_CELLS_PER_BLOCK = 4_000_000
"""Resampled values held at once (32 MB of float64): large test sets are resampled in blocks."""


def bootstrap_ci(values: np.ndarray, seed: int = 0, resamples: int = RESAMPLES,
                 confidence: float = CONFIDENCE) -> dict[str, float]:
    """The mean of `values` and its percentile bootstrap interval; NaN values (no reference) are left out."""
    values = _present(values)
    low, high = _interval(_resampled_means(values, seed, resamples), confidence)
    return {"mean": float(values.mean()), "low": low, "high": high}


def paired_bootstrap(a: np.ndarray, b: np.ndarray, seed: int = 0, resamples: int = RESAMPLES,
                     confidence: float = CONFIDENCE) -> dict[str, float]:
    """Mean of a - b over the same examples, its interval, and a two-sided p-value for "no difference".

    Both systems are scored on each resample's examples (pairing removes the examples' own variance);
    the p-value is twice the share of resampled differences on the far side of zero, capped at 1.
    """
    difference = _present(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    means = _resampled_means(difference, seed, resamples)
    low, high = _interval(means, confidence)
    p_value = min(1.0, 2 * min(np.mean(means <= 0), np.mean(means >= 0)))
    return {"difference": float(difference.mean()), "low": low, "high": high, "p_value": float(p_value)}


def _interval(means: np.ndarray, confidence: float) -> tuple[float, float]:
    low, high = np.quantile(means, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def _present(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if not len(values):
        raise ValueError("bootstrap needs at least one score; every value is missing")
    return values


def _resampled_means(values: np.ndarray, seed: int, resamples: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([values[rng.integers(0, len(values), size=(rows, len(values)))].mean(axis=1)
                           for rows in _blocks(resamples, len(values))])


def _blocks(resamples: int, examples: int) -> Iterator[int]:
    rows = max(1, _CELLS_PER_BLOCK // examples)
    for start in range(0, resamples, rows):
        yield min(rows, resamples - start)
