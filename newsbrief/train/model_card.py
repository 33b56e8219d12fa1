"""The model card: README.md in the exported model directory, with data, settings, hardware and metrics."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from pathlib import Path

import torch
import yaml

from newsbrief.config import RunConfig, to_dict
from newsbrief.train.checkpointing import TrainerState


def hardware() -> str:
    if torch.cuda.is_available():
        return f"{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}"
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def write_model_card(directory: Path, config: RunConfig, state: TrainerState, metrics: dict,
                     best: Path | None) -> None:
    sources = "\n".join(f"- `{s.display_name()}`: `{s.path}` (text: `{s.text_column}`, summary: "
                        f"`{s.summary_column}`, topics: `{s.topics_column}`)" for s in config.data.sources)
    rows = "\n".join(f"| {key} | {value:.4f} |" for key, value in sorted(metrics.items())
                     if isinstance(value, float))
    card = f"""---
library_name: newsbrief
tags: [summarization, text-classification, news]
---
# NewsBrief model

A news briefing model: a short summary and multi-label topics for each article, from one
encoder pass. Load it with `NewsBrief.from_pretrained("{directory}")`.

## Data
{sources}

## Training
- backbone: `{config.model.backbone}`{" (random init)" if config.model.random_init else ""}
- steps: {state.step} (epochs started: {state.epoch + 1}), best checkpoint: `{best.name if best else "last"}`
- training time: {state.train_seconds / 60:.1f} min on {hardware()}
- finished: {datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}, torch {torch.__version__}

## Validation metrics
On a seeded sample of {config.train.eval_max_examples} validation examples; topic thresholds were tuned per label on
the whole validation split (labels with under {config.train.threshold_min_positives} positives there keep 0.5),
so the topic figures are optimistic: see `newsbrief evaluate` on test data.
| metric | value |
| --- | --- |
{rows}

## Full configuration
```yaml
{yaml.safe_dump(to_dict(config), sort_keys=False).strip()}
```
"""
    (directory / "README.md").write_text(card)
