"""The multi-label topic head on mean-pooled encoder states, and its masked loss."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class TopicHead(nn.Module):
    """Linear by default; `hidden_layer_size` > 0 puts one GELU layer of that width before the classifier."""

    def __init__(self, hidden_size: int, num_labels: int, dropout: float, hidden_layer_size: int = 0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.hidden_layer = nn.Sequential(nn.Linear(hidden_size, hidden_layer_size), nn.GELU(),
                                          nn.Dropout(dropout)) if hidden_layer_size else None
        self.classifier = nn.Linear(hidden_layer_size or hidden_size, num_labels)

    @classmethod
    def from_weights(cls, weights: dict[str, torch.Tensor], dropout: float) -> "TopicHead":
        """A head shaped like the saved `weights`, holding them."""
        num_labels, width = weights["classifier.weight"].shape
        hidden_layer = weights.get("hidden_layer.0.weight")
        head = (cls(width, num_labels, dropout) if hidden_layer is None
                else cls(hidden_layer.shape[1], num_labels, dropout, hidden_layer_size=width))
        head.load_state_dict(weights)
        return head

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits, one per label, from the mean of the non-padding encoder states."""
        return self.classify(self.pool(hidden_states, attention_mask))

    @staticmethod
    def pool(hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
        return (hidden_states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def classify(self, pooled: torch.Tensor) -> torch.Tensor:
        pooled = self.dropout(pooled)
        return self.classifier(pooled if self.hidden_layer is None else self.hidden_layer(pooled))


def averaged_head(heads: list[TopicHead]) -> TopicHead:
    """One head whose logits are the mean of `heads`' logits, so that it saves and loads as any head does:
    linear heads' weights averaged; hidden layers side by side, each feeding its own classifier's weights
    scaled by 1/len(heads)."""
    weights = [head.state_dict() for head in heads]
    if heads[0].hidden_layer is None:
        merged = {name: torch.stack([w[name] for w in weights]).mean(dim=0) for name in weights[0]}
    else:
        merged = {"hidden_layer.0.weight": torch.cat([w["hidden_layer.0.weight"] for w in weights]),
                  "hidden_layer.0.bias": torch.cat([w["hidden_layer.0.bias"] for w in weights]),
                  "classifier.weight": torch.cat([w["classifier.weight"] for w in weights], dim=1) / len(heads),
                  "classifier.bias": torch.stack([w["classifier.bias"] for w in weights]).mean(dim=0)}
    return TopicHead.from_weights(merged, heads[0].dropout.p).to(weights[0]["classifier.weight"].device)


def masked_bce(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy over annotated (example, label) cells only.

    A label that an example's source does not annotate has mask 0: it is neither a positive nor a
    negative, so it adds nothing to the loss.
    """
    loss = F.binary_cross_entropy_with_logits(logits.float(), targets, reduction="none")
    return (loss * mask).sum() / mask.sum().clamp(min=1.0)
