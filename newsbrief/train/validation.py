"""Periodic validation: loss, ROUGE on generated summaries, and topic F1, on a fixed validation sample."""

from __future__ import annotations

import datasets
import numpy as np
import torch
from torch.utils.data import DataLoader

from newsbrief.config import RunConfig
from newsbrief.data import Collator, LabelSpace
from newsbrief.infer.engine import NewsBrief
from newsbrief.metrics.scores import score_briefs
from newsbrief.models.multitask import NewsBriefModel

MODEL_COLUMNS = ["input_ids", "attention_mask", "labels", "topic_labels", "topic_mask"]


@torch.no_grad()
def loss_and_topic_probs(model: NewsBriefModel, dataset: datasets.Dataset, collator: Collator,
                         batch_size: int) -> tuple[float, np.ndarray]:
    """Mean loss and topic probabilities by teacher forcing: no generation, so cheap on a whole split."""
    device = next(model.parameters()).device
    loader = DataLoader(dataset.select_columns(MODEL_COLUMNS), batch_size=batch_size, collate_fn=collator)
    total, probs = 0.0, []
    for batch in loader:
        output = model(**{k: v.to(device) for k, v in batch.items()})
        total += output.loss.item() * len(batch["input_ids"])
        probs.append(torch.sigmoid(output.topic_logits.float()).cpu().numpy())
    return total / max(len(dataset), 1), np.concatenate(probs) if probs else np.zeros((0, 0), np.float32)


def validate(model: NewsBriefModel, tokenizer, labels: LabelSpace, config: RunConfig, dataset: datasets.Dataset,
             collator: Collator, thresholds: np.ndarray | None = None) -> dict:
    """Loss, ROUGE of generated summaries, and topic F1 at the given thresholds (0.5 by default)."""
    was_training = model.training
    model.eval()
    if thresholds is None:
        thresholds = np.full(len(labels.names), 0.5, dtype=np.float32)
    loss, probs = loss_and_topic_probs(model, dataset, collator, config.train.batch_size)
    metrics = {"loss": loss}
    summaries, _ = NewsBrief(model, tokenizer, labels, thresholds, config).summarize_and_score(dataset["text"])
    targets, masks = topic_arrays(dataset)
    metrics.update(score_briefs(summaries, dataset["summary"], probs, targets, masks, thresholds, labels.names))
    model.train(was_training)
    return metrics


def topic_arrays(dataset: datasets.Dataset) -> tuple[np.ndarray, np.ndarray]:
    return (np.asarray(dataset["topic_labels"], dtype=np.float32).reshape(len(dataset), -1),
            np.asarray(dataset["topic_mask"], dtype=np.float32).reshape(len(dataset), -1))
