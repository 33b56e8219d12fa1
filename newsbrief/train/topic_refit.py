"""Refit the topic head on the frozen encoder: many cheap epochs over the pooled states of every training article.

The main loop shares its steps between summaries and topics and shows each article only a few times,
which leaves a linear head short of what the encoder states support: on the default model, Reuters
test micro-F1 rose from 0.78 after the loop to 0.85 after a refit. With the encoder frozen, its states
are computed once, and every further epoch costs a few small matrix products.
"""

from __future__ import annotations

from dataclasses import replace

import datasets
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from newsbrief.config import TrainConfig
from newsbrief.data import Collator
from newsbrief.models.multitask import NewsBriefModel
from newsbrief.models.topic_head import masked_bce
from newsbrief.train.optim import make_optimizer

ENCODE_BATCH = 64
"""Articles per encoder pass (no gradients, so larger than a training batch)."""
REFIT_BATCH = 256
"""Pooled states per optimizer step of the head."""


def refit_topic_head(model: NewsBriefModel, train_set: datasets.Dataset, collator: Collator,
                     config: TrainConfig) -> None:
    """Train `model.topic_head` in place, from its current weights, on the frozen encoder's pooled states."""
    states, targets, masks = pooled_states(model, train_set, collator)
    head = model.topic_head
    optimizer = make_optimizer(head, replace(config, learning_rate=config.topic_refit_learning_rate))
    shuffle = torch.Generator().manual_seed(config.seed)
    head.train()
    for _ in tqdm(range(config.topic_refit_epochs), desc="refitting the topic head", unit=" epochs"):
        for rows in torch.randperm(len(states), generator=shuffle).split(REFIT_BATCH):
            loss = masked_bce(head.classify(states[rows]), targets[rows], masks[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    head.eval()


@torch.no_grad()
def pooled_states(model: NewsBriefModel, dataset: datasets.Dataset,
                  collator: Collator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pooled encoder states, topic targets and label masks of every example, in length order
    (little padding; the order does not matter to the epochs that shuffle them)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    lengths = dataset["length"]
    order = sorted(range(len(dataset)), key=lengths.__getitem__)
    loader = DataLoader(dataset, batch_sampler=[order[i:i + ENCODE_BATCH] for i in range(0, len(order), ENCODE_BATCH)],
                        collate_fn=collator)
    states, targets, masks = [], [], []
    for batch in tqdm(loader, desc="encoding the training articles", unit=" batches"):
        input_ids, attention_mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
        hidden = model.encode(input_ids, attention_mask).last_hidden_state
        states.append(model.topic_head.pool(hidden, attention_mask).float())
        targets.append(batch["topic_labels"].to(device))
        masks.append(batch["topic_mask"].to(device))
    model.train(was_training)
    return torch.cat(states), torch.cat(targets), torch.cat(masks)
