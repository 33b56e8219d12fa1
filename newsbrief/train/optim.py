"""AdamW with decoupled weight decay on weight matrices only, and the warmup-then-decay schedule."""

from __future__ import annotations

import torch
from transformers import get_scheduler

from newsbrief.config import TrainConfig


def make_optimizer(model: torch.nn.Module, config: TrainConfig, learning_rate: float) -> torch.optim.AdamW:
    """AdamW at `learning_rate` (the loop's, or the topic-head refit's) with the run's decay and betas."""
    # Biases and normalisation weights (1-D tensors) are not decayed, as in BERT and most recipes.
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    # The fused kernel updates all parameters in one pass (CPU and CUDA), as Trainer's default does.
    return torch.optim.AdamW(groups, lr=learning_rate, betas=tuple(config.adam_betas), fused=True)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig):
    name = "constant_with_warmup" if config.schedule == "constant" else config.schedule
    return get_scheduler(name, optimizer, num_warmup_steps=config.warmup_steps,
                         num_training_steps=config.max_steps)
