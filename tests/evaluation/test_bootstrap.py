"""Bootstrap intervals cover the mean and are seeded; the paired test tells a real difference from none."""

import numpy as np
import pytest

from newsbrief.evaluation.bootstrap import bootstrap_ci, paired_bootstrap


def scores(seed: int, n: int = 400) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, n)


def test_the_interval_covers_the_mean_and_is_reproducible_with_its_seed():
    values = scores(1)
    interval = bootstrap_ci(values, seed=7)
    assert interval["low"] < interval["mean"] == values.mean() < interval["high"]
    assert interval["high"] - interval["low"] < 0.1  # about 4 standard errors of 0.0144
    assert bootstrap_ci(values, seed=7) == interval
    assert bootstrap_ci(values, seed=8) != interval


def test_missing_scores_are_left_out():
    values = scores(2, 50)
    with_gaps = np.r_[values, [np.nan, np.nan]]
    assert bootstrap_ci(with_gaps, seed=0) == bootstrap_ci(values, seed=0)


def test_large_inputs_are_resampled_in_blocks_with_the_same_result(monkeypatch):
    import newsbrief.evaluation.bootstrap as bootstrap

    values = scores(3, 1000)
    whole = bootstrap_ci(values, seed=0, resamples=200)
    monkeypatch.setattr(bootstrap, "_CELLS_PER_BLOCK", 3000)  # 3 resamples per block
    assert bootstrap_ci(values, seed=0, resamples=200) == whole


def test_the_paired_test_finds_a_clear_difference():
    a = scores(4)
    b = a - 0.05 + np.random.default_rng(5).normal(0, 0.02, len(a))
    result = paired_bootstrap(a, b, seed=0)
    assert result["p_value"] < 0.01
    assert 0 < result["low"] < result["difference"] < result["high"]


def test_the_paired_test_finds_no_difference_between_exchangeable_systems():
    base = scores(6)
    noise = np.random.default_rng(7)
    a, b = base + noise.normal(0, 0.05, len(base)), base + noise.normal(0, 0.05, len(base))
    result = paired_bootstrap(a, b, seed=0)
    assert result["p_value"] > 0.05 and result["low"] < 0 < result["high"]
    assert paired_bootstrap(a, a, seed=0)["p_value"] == 1.0


def test_a_figure_of_column_means_is_tested_like_a_mean():
    from newsbrief.evaluation.bootstrap import paired_bootstrap_of

    a, b = scores(8), scores(9)
    as_mean = paired_bootstrap_of(lambda means: means[:, 0], a[:, None], b[:, None], seed=0)
    plain = paired_bootstrap(a, b, seed=0)
    assert as_mean == pytest.approx(plain)


def test_a_ratio_of_means_finds_a_clear_difference_and_none_between_equals():
    from newsbrief.evaluation.bootstrap import paired_bootstrap_of

    rng = np.random.default_rng(10)
    hits = rng.uniform(0, 1, (400, 1)) < 0.8
    misses = ~hits | (rng.uniform(0, 1, (400, 1)) < 0.3)  # the second system misses more often

    def share(means):  # hits / (hits + misses): not a mean of per-example values
        return means[:, 0] / (means[:, 0] + means[:, 1])

    ours, theirs = np.hstack([hits, ~hits]), np.hstack([hits, misses])
    result = paired_bootstrap_of(share, ours, theirs, seed=0)
    assert result["difference"] == pytest.approx(share(ours.mean(0, keepdims=True))[0]
                                                 - share(theirs.mean(0, keepdims=True))[0])
    assert 0 < result["low"] < result["difference"] < result["high"] and result["p_value"] < 0.01
    assert paired_bootstrap_of(share, ours, ours, seed=0)["p_value"] == 1.0
