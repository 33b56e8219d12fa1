"""Periodic validation: loss, ROUGE on generated summaries, and topic F1, on a fixed validation sample."""

from __future__ import annotations

import datasets
import numpy as np
import torch
from torch.utils.data import DataLoader

from newsbrief.config import RunConfig
from newsbrief.data import Collator
from newsbrief.labels import LabelSpace
from newsbrief.infer.engine import NewsBrief
from newsbrief.metrics.scores import score_briefs
from newsbrief.models.multitask import NewsBriefModel

MODEL_COLUMNS = ["input_ids", "attention_mask", "labels", "topic_labels", "topic_mask"]


@torch.no_grad()
def validation_loss(model: NewsBriefModel, dataset: datasets.Dataset, collator: Collator, batch_size: int) -> float:
    """Mean loss by teacher forcing."""
    device = next(model.parameters()).device
    loader = DataLoader(dataset.select_columns(MODEL_COLUMNS), batch_size=batch_size, collate_fn=collator)
    total = 0.0
    for batch in loader:
        total += model(**{k: v.to(device) for k, v in batch.items()}).loss.item() * len(batch["input_ids"])
    return total / max(len(dataset), 1)


def validate(model: NewsBriefModel, tokenizer, labels: LabelSpace, config: RunConfig, dataset: datasets.Dataset,
             collator: Collator, thresholds: np.ndarray | None = None) -> dict:
    """Loss, ROUGE of generated summaries, and topic F1 at the given thresholds (0.5 by default), with
    summaries and topics read as inference reads them."""
    was_training = model.training
    model.eval()
    if thresholds is None:
        thresholds = np.full(len(labels.names), 0.5, dtype=np.float32)
    metrics = {"loss": validation_loss(model, dataset, collator, config.train.batch_size)}
    briefer = NewsBrief(model, tokenizer, labels, thresholds, config)
    if any(dataset["summary"]):
        summaries, probs = briefer.summarize_and_score(dataset["text"])
    else:  # no reference to score a summary against (topic-only sources): the encoder alone gives the topics
        summaries, probs = [""] * len(dataset), briefer.topic_scores(dataset["text"])
    targets, masks = topic_arrays(dataset)
    metrics.update(score_briefs(summaries, dataset["summary"], probs, targets, masks, thresholds, labels.names))
    model.train(was_training)
    return metrics


def topic_arrays(dataset: datasets.Dataset) -> tuple[np.ndarray, np.ndarray]:
    return (np.asarray(dataset["topic_labels"], dtype=np.float32).reshape(len(dataset), -1),
            np.asarray(dataset["topic_mask"], dtype=np.float32).reshape(len(dataset), -1))
