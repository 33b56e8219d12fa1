"""The model card: README.md in the exported model directory, with data, settings, hardware and metrics."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from pathlib import Path

import torch
import yaml

from newsbrief.config import RunConfig, to_dict
from newsbrief.labels import DEFAULT_THRESHOLD, LabelSpace
from newsbrief.train.checkpointing import TrainerState


def hardware() -> str:
    if torch.cuda.is_available():
        return f"{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}"
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def taxonomy(config: RunConfig, labels: LabelSpace) -> str:
    """The label space: which corpus annotates which labels, and the corpus codes that were renamed."""
    by_sources: dict[tuple[str, ...], list[str]] = {}
    for name in labels.names:
        sources = tuple(sorted(s for s, names in labels.annotated_by.items() if name in names))
        by_sources.setdefault(sources, []).append(name)
    rows = "\n".join(f"| {', '.join(sources)} | {', '.join(names)} |"
                     for sources, names in sorted(by_sources.items(), key=lambda item: -len(item[0])))
    renamed = "\n".join(f"- `{s.display_name()}`: " + ", ".join(f"{code} → {name}"
                                                                 for code, name in s.label_map.items())
                        for s in config.data.sources if s.label_map)
    sections = "".join(f"\nThe labels of `{source}` refine `{section}`: an article of another corpus annotated for "
                       f"`{section}` but not labeled with it counts as a negative for them.\n"
                       for source, section in labels.sections.items())
    return (f"{len(labels.names)} labels. Each corpus annotates only its own labels: an article counts as a "
            "negative only for those, and is not trained on the others (label masks).\n\n"
            f"| annotated by | labels |\n| --- | --- |\n{rows}\n{sections}"
            + (f"\nRenamed corpus labels:\n{renamed}\n" if renamed else ""))


def topic_reading(config: RunConfig) -> str:
    """How the exported topic head was trained and what it reads."""
    tc, inference, window = config.train, config.inference, config.data.max_source_length
    reads = (f"the mean pooled encoder state over up to {inference.max_chunks} windows of {window} tokens "
             f"({inference.chunk_overlap} shared by neighbours)" if inference.long_articles == "chunk"
             else f"the mean encoder state of the first {window} tokens")
    if not tc.topic_refit_epochs:
        return f"linear, trained in the loop; it reads {reads}"
    shape = (f"a new head with a hidden layer of {tc.topic_refit_hidden_layer_size}" if tc.topic_refit_hidden_layer_size
             else "the loop's linear head")
    ensemble = (f" ({tc.topic_refit_heads} such heads, each shuffled by its own seed, merged into one that gives "
                "the mean of their logits)" if tc.topic_refit_heads > 1 else "")
    return f"{shape}, refit for {tc.topic_refit_epochs} epochs on the frozen encoder{ensemble}; it reads {reads}"


def frozen_summarizer_line(config: RunConfig) -> str:
    """The card's line on a summarizer kept as it is, if it was."""
    model = config.model
    if not model.freeze_summarizer:
        return ""
    layers = model.train_last_encoder_layers
    return (f"\n- summarizer: `{model.backbone}` frozen; trained: the topic head" +
            (f" and the encoder's last {layers} layers (stored; the summaries may differ from the backbone's)"
             if layers else " only (the summaries are the backbone's)"))


def training_time(loop_seconds: float, refit_seconds: float | None) -> str:
    if refit_seconds is None:
        return f"{loop_seconds / 60:.1f} min"
    return (f"{(loop_seconds + refit_seconds) / 60:.1f} min (loop {loop_seconds / 60:.1f} min, "
            f"topic head refit {refit_seconds / 60:.1f} min)")


VALIDATION_HEADER = "## Validation metrics\n"
CONFIGURATION_HEADER = "\n## Full configuration\n"


def validation_section(config: RunConfig, metrics: dict) -> str:
    """What the validation figures are, or that there were none: never a claim above an empty table."""
    tc = config.train
    if not metrics:
        return (f"{VALIDATION_HEADER}None: no source had validation data (a split column with `validation` "
                f"rows, or a validation_fraction above 0), so every topic threshold is {DEFAULT_THRESHOLD}, the last "
                "checkpoint was exported, and no figure here measures the model: see `newsbrief evaluate` on held-out "
                "data.\n")
    thresholds = (f"topic thresholds were tuned per label on the whole validation split (labels with under "
                  f"{tc.threshold_min_positives} positives there keep {DEFAULT_THRESHOLD}), so the topic figures are "
                  "optimistic" if tc.tune_thresholds
                  else f"every topic threshold is {DEFAULT_THRESHOLD} (train.tune_thresholds is off)")
    rows = "\n".join(f"| {key} | {value:.4f} |" for key, value in sorted(metrics.items()) if isinstance(value, float))
    return (f"{VALIDATION_HEADER}On a seeded sample of {tc.eval_max_examples} validation examples; {thresholds}: "
            f"see `newsbrief evaluate` on test data.\n| metric | value |\n| --- | --- |\n{rows}\n")


def with_validation_section(card: str, section: str) -> str:
    """`card` (as `model_card` writes it) with `section` in place of its validation section."""
    before, found, rest = card.partition(VALIDATION_HEADER)
    _, ends, after = rest.partition(CONFIGURATION_HEADER)
    if not (found and ends):
        raise ValueError("the model card has no validation section followed by its full configuration")
    return before + section + CONFIGURATION_HEADER + after


def model_card(directory: Path, config: RunConfig, labels: LabelSpace, state: TrainerState, metrics: dict,
               best: Path | None, refit_seconds: float | None = None) -> str:
    """The README.md of the model directory `directory`."""
    sources = "\n".join(f"- `{s.display_name()}`: `{s.path}` (text: `{s.text_column}`, summary: "
                        + ("gap sentences of the text" if s.objective == "gap_sentences" else f"`{s.summary_column}`")
                        + f", topics: `{s.topics_column}`)" for s in config.data.sources)
    return f"""---
library_name: newsbrief
tags: [summarization, text-classification, news]
---
# NewsBrief model

A news briefing model: a short summary and multi-label topics for each article, from one
encoder pass. Load it with `NewsBrief.from_pretrained("{directory}")`.

## Data
{sources}

## Training
- backbone: `{config.model.backbone}`{" (random init)" if config.model.random_init else ""}{
        f", summarizer started from the run `{config.model.init_from}`" if config.model.init_from else ""}{
        frozen_summarizer_line(config)}
- steps: {state.step} (epochs started: {state.epoch + 1}), best checkpoint: `{best.name if best else "last"}`
- training time: {training_time(state.train_seconds, refit_seconds)} on {hardware()}
- topic head: {topic_reading(config)}
- finished: {datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}, torch {torch.__version__}

## Topics
{taxonomy(config, labels)}
{validation_section(config, metrics)}{CONFIGURATION_HEADER}```yaml
{yaml.safe_dump(to_dict(config), sort_keys=False).strip()}
```
"""
