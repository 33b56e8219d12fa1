"""Packing articles into batches by padded token count, so that long and short articles cost alike."""

from __future__ import annotations


def token_budget_batches(lengths: list[int], max_tokens: int, max_size: int) -> list[list[int]]:
    """Indices grouped into batches, longest first, each within `max_tokens` padded tokens.

    Sorting by length means each batch pads to its first (longest) item. An article longer than the
    budget on its own still gets a batch of one: nothing is ever dropped.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        width = lengths[current[0]] if current else lengths[index]
        if current and (len(current) + 1 > max_size or (len(current) + 1) * width > max_tokens):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches
