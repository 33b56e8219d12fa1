"""Seeded bootstrap over per-example scores: a confidence interval of a mean, and a paired test.

Examples are resampled with replacement; a statistic's spread over the resamples stands in for its
spread over test sets (Efron and Tibshirani 1993; for paired system comparison, Koehn 2004). The
same seed draws the same resamples, so a report is reproducible and two metrics of one report are
resampled alike.
"""

from __future__ import annotations

from typing import Callable, Iterator

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

    Both systems are scored on each resample's examples (pairing removes the examples' own variance).
    """
    difference = _present(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    return _paired_result(float(difference.mean()), _resampled_means(difference, seed, resamples), confidence)


def paired_bootstrap_of(statistic: Callable[[np.ndarray], np.ndarray], a: np.ndarray, b: np.ndarray, seed: int = 0,
                        resamples: int = RESAMPLES, confidence: float = CONFIDENCE) -> dict[str, float]:
    """paired_bootstrap of a figure that is not the mean of one per-example score but a function of the means
    of several per-example columns: micro F1 from each example's true positives, false positives and false
    negatives. `a` and `b` are (examples x columns) arrays over the same examples; `statistic` maps an array
    of column means (rows x columns) to the figure of each row. Each resample draws the same examples for both.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    means = _resampled_means(np.hstack([a, b]), seed, resamples)
    differences = statistic(means[:, :a.shape[1]]) - statistic(means[:, a.shape[1]:])
    observed = statistic(a.mean(axis=0, keepdims=True)) - statistic(b.mean(axis=0, keepdims=True))
    return _paired_result(float(observed[0]), differences, confidence)


def _paired_result(difference: float, resampled: np.ndarray, confidence: float) -> dict[str, float]:
    """The p-value is twice the share of resampled differences on the far side of zero, capped at 1."""
    low, high = _interval(resampled, confidence)
    p_value = min(1.0, 2 * min(np.mean(resampled <= 0), np.mean(resampled >= 0)))
    return {"difference": difference, "low": low, "high": high, "p_value": float(p_value)}


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
    """One mean per resample of the examples (the rows of `values`); per column when `values` has columns."""
    rng = np.random.default_rng(seed)
    return np.concatenate([values[rng.integers(0, len(values), size=(rows, len(values)))].mean(axis=1)
                           for rows in _blocks(resamples, values.size)])


def _blocks(resamples: int, cells: int) -> Iterator[int]:
    rows = max(1, _CELLS_PER_BLOCK // cells)
    for start in range(0, resamples, rows):
        yield min(rows, resamples - start)
