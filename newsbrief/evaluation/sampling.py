"""`--max-examples`: a seeded random sample of a split, stratified by topic, so that a small evaluation
still meets every topic (the first rows of a file are often all one kind of news)."""

from __future__ import annotations

import random
from collections import Counter


def stratified_sample(topics: list[list[str]], size: int, seed: int) -> list[int]:
    """Indices (sorted) of `size` examples drawn with `seed`. Each example's stratum is its rarest topic
    in the split (no topic: a stratum of its own). Strata get shares of `size` in proportion to their
    sizes (largest remainders), and at least one example each while `size` lasts, rarest strata first."""
    if size >= len(topics):
        return list(range(len(topics)))
    rng = random.Random(seed)
    counts = Counter(t for example in topics for t in set(example))
    strata: dict[str, list[int]] = {}
    for index, example in enumerate(topics):
        strata.setdefault(min(example, key=lambda t: (counts[t], t)) if example else "", []).append(index)
    for members in strata.values():
        rng.shuffle(members)
    rarest_first = sorted(strata, key=lambda name: (len(strata[name]), name))
    if size <= len(strata):
        quota = {name: int(name in rarest_first[:size]) for name in strata}
    else:
        shares = {name: size * len(members) / len(topics) for name, members in strata.items()}
        quota = {name: int(share) for name, share in shares.items()}
        for name in sorted(strata, key=lambda name: (int(shares[name]) - shares[name], name))[:size - sum(quota.values())]:
            quota[name] += 1
        for name in (name for name in rarest_first if quota[name] == 0):  # one each, from the largest quotas
            quota[max(strata, key=lambda other: (quota[other], other))] -= 1
            quota[name] = 1
    return sorted(i for name, members in strata.items() for i in members[:quota[name]])


def describe(size: int | None, total: int, seed: int, stratified: bool) -> str:
    """How the evaluated examples were chosen, for the report's head."""
    if size is None or size >= total:
        return f"the whole split ({total} examples)"
    how = "stratified by each example's rarest topic" if stratified else "uniform"
    return f"a random sample of {size} of {total} examples, seed {seed}, {how}"
