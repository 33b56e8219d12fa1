"""Periodic validation: loss, ROUGE on generated summaries, and topic F1, on a fixed validation sample."""

from __future__ import annotations

import datasets
import numpy as np
import torch
from torch.utils.data import DataLoader

from newsbrief.config import DataConfig, RunConfig
from newsbrief.data import MODEL_COLUMNS, Collator, concatenate, read_corpora, tokenize
from newsbrief.labels import LabelSpace
from newsbrief.infer.encoding import SourceWindow
from newsbrief.infer.engine import NewsBrief
from newsbrief.metrics.scores import score_briefs, tune_thresholds
from newsbrief.models.multitask import NewsBriefModel


def run_briefer(model: NewsBriefModel, tokenizer, labels: LabelSpace, thresholds: list[float] | np.ndarray,
                config: RunConfig) -> NewsBrief:
    """The engine over the model in training, with the run's settings: validation, threshold tuning and the
    topic refit read articles exactly as the exported model will."""
    return NewsBrief(model, tokenizer, labels, thresholds, SourceWindow.of(config.data), config.inference,
                     config.generation)


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
    """Loss, ROUGE of generated summaries, and topic F1 at the given thresholds (the default one if none), with
    summaries and topics read as inference reads them."""
    was_training = model.training
    model.eval()
    if thresholds is None:
        thresholds = np.asarray(labels.default_thresholds(), dtype=np.float32)
    metrics = {"loss": validation_loss(model, dataset, collator, config.train.batch_size)}
    # No reference to score a summary against (topic-only sources): the encoder alone gives the topics.
    reading = run_briefer(model, tokenizer, labels, thresholds, config).read(dataset["text"],
                                                                             generate=any(dataset["summary"]))
    targets, masks = stored_topic_targets(dataset)
    metrics.update(score_briefs(reading.summaries, dataset["summary"], reading.probs, targets, masks, thresholds,
                                labels.names))
    model.train(was_training)
    return metrics


def tokenized_validation(parts: list[datasets.Dataset], tokenizer, data: DataConfig,
                         labels: LabelSpace) -> datasets.Dataset | None:
    """The sources' validation parts in one set, tokenized with the label masks (what thresholds are tuned on),
    or None where no source has validation rows."""
    return tokenize(concatenate(parts), tokenizer, data, labels) if parts else None


def whole_validation_split(config: RunConfig, tokenizer, labels: LabelSpace) -> datasets.Dataset | None:
    """Every source's validation split, read and tokenized (`tokenized_validation`)."""
    return tokenized_validation(read_corpora(config.data, ("validation",))["validation"], tokenizer, config.data,
                                labels)


def tuned_thresholds(briefer: NewsBrief, validation: datasets.Dataset, min_positives: int) -> np.ndarray:
    """Per-label topic thresholds tuned on the whole of `validation` (tokenized: it holds the label masks), from
    the topic probabilities `briefer` gives (topics need no generation, so this is cheap)."""
    probs = briefer.read(validation["text"], generate=False, progress=True).probs
    return tune_thresholds(probs, *stored_topic_targets(validation), min_positives=min_positives)


def stored_topic_targets(dataset: datasets.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The multi-hot targets and per-source label masks that `tokenize` stored with a training or
    validation set (unlike evaluation's `split_topic_targets`, which builds them from topic names)."""
    return (np.asarray(dataset["topic_labels"], dtype=np.float32).reshape(len(dataset), -1),
            np.asarray(dataset["topic_mask"], dtype=np.float32).reshape(len(dataset), -1))
