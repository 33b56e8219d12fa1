"""The multi-label topic head on mean-pooled encoder states, and its masked loss."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class TopicHead(nn.Module):
    def __init__(self, hidden_size: int, num_labels: int, dropout: float):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_labels)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits, one per label, from the mean of the non-padding encoder states."""
        return self.classify(self.pool(hidden_states, attention_mask))

    @staticmethod
    def pool(hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
        return (hidden_states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def classify(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(pooled))


def masked_bce(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy over annotated (example, label) cells only.

    A label that an example's source does not annotate has mask 0: it is neither a positive nor a
    negative, so it adds nothing to the loss.
    """
    loss = F.binary_cross_entropy_with_logits(logits.float(), targets, reduction="none")
    return (loss * mask).sum() / mask.sum().clamp(min=1.0)
