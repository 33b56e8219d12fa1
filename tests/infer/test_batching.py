"""Token-budget packing, as properties over random lengths: nothing lost, nothing over budget.

Seeded random trials rather than hypothesis, which is not among the declared dev dependencies.
"""

from __future__ import annotations

import random

import pytest

from newsbrief.infer.batching import token_budget_batches


def trials(count: int = 300):
    """(lengths, max_tokens, max_size) cases, reproducible from their seed."""
    for seed in range(count):
        rng = random.Random(seed)
        lengths = [rng.randint(0, 600) for _ in range(rng.randint(0, 200))]
        yield lengths, rng.randint(1, 4096), rng.randint(1, 64)


@pytest.fixture  # per test, not per module: mutmut runs a mutant only against the tests that called it
def packed():
    return [(lengths, max_tokens, max_size, token_budget_batches(lengths, max_tokens, max_size))
            for lengths, max_tokens, max_size in trials()]


def test_every_index_exactly_once(packed):
    for lengths, _, _, batches in packed:
        assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
        assert all(batches)


def test_batches_keep_to_the_budget_and_the_size(packed):
    for lengths, max_tokens, max_size, batches in packed:
        for batch in batches:
            assert len(batch) <= max_size
            if len(batch) > 1:
                assert len(batch) * max(lengths[i] for i in batch) <= max_tokens


def test_an_item_over_the_budget_gets_a_batch_of_its_own(packed):
    oversized = 0
    for lengths, max_tokens, _, batches in packed:
        for batch in batches:
            if any(lengths[i] > max_tokens for i in batch):
                assert len(batch) == 1
                oversized += 1
    assert oversized  # the trials do exercise the case


def test_budget_packs_full_batches():
    # Four articles of 10 tokens in a 25-token budget: two per batch, not one.
    assert [len(b) for b in token_budget_batches([10, 10, 10, 10], max_tokens=25, max_size=8)] == [2, 2]
    # A batch exactly at the budget is within it.
    assert [len(b) for b in token_budget_batches([10, 10, 10, 10], max_tokens=20, max_size=8)] == [2, 2]
    assert [len(b) for b in token_budget_batches([10] * 5, max_tokens=1000, max_size=2)] == [2, 2, 1]
    assert token_budget_batches([], max_tokens=100, max_size=4) == []
