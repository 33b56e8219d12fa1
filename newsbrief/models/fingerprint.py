"""The fingerprint of the base weights a stored delta applies to, so that loading can refuse other ones."""

from __future__ import annotations

import hashlib
from typing import Iterable

import torch


def weights_fingerprint(named: Iterable[tuple[str, torch.Tensor]]) -> str:
    """SHA-256 of names and float32 values, in name order: the same for the same weights in any dtype."""
    digest = hashlib.sha256()
    for name, param in sorted(named, key=lambda item: item[0]):
        digest.update(name.encode())
        digest.update(param.detach().float().contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()
