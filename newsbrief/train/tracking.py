"""Where a run's metrics go: logs/metrics.jsonl always, and the experiment trackers Accelerate serves
(TensorBoard, Weights & Biases, MLflow, ...) named in train.log_with, with the resolved config as their
hyperparameters. A tracker's own settings (project, entity, tracking URI) come from its environment
variables, as everywhere else it is used."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from accelerate import Accelerator
from accelerate.tracking import get_available_trackers
from accelerate.utils import LoggerType

from newsbrief.config import ConfigError, RunConfig, TrainConfig, to_dict

log = logging.getLogger(__name__)

TRACKERS = sorted(t.value for t in LoggerType if t is not LoggerType.ALL)
"""The names train.log_with takes: Accelerate's trackers."""


def trackers(tc: TrainConfig) -> list[str]:
    """The trackers to start: train.log_with (each must be installed) and TensorBoard when train.tensorboard
    is on and it is installed (otherwise a warning: that switch is on by default)."""
    available = {t.value for t in get_available_trackers()}
    for name in tc.log_with:
        if name not in TRACKERS:
            raise ConfigError(f"train.log_with: {name!r} is not one of Accelerate's trackers {TRACKERS}")
        if name not in available:
            raise ConfigError(f"train.log_with: {name} is not installed (pip install {name})")
    chosen = list(tc.log_with)
    if tc.tensorboard and "tensorboard" not in chosen:
        if "tensorboard" in available:
            chosen.append("tensorboard")
        else:
            log.warning("train.tensorboard is on but tensorboard is not installed; not logging to it")
    return chosen


def hyperparameters(config: RunConfig) -> dict[str, Any]:
    """The resolved config as flat `section.key` scalars, which every tracker stores (lists and mappings as JSON)."""
    flat: dict[str, Any] = {}

    def add(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and prefix.count(".") < 1:
            for key, inner in value.items():
                add(f"{prefix}.{key}" if prefix else key, inner)
        elif isinstance(value, (bool, int, float, str)):
            flat[prefix] = value
        else:
            flat[prefix] = json.dumps(value)

    add("", to_dict(config))
    return flat


class RunLogger:
    """Metrics of each step to logs/metrics.jsonl and to the trackers. A resumed run replays the steps
    after its checkpoint: their lines from before the interruption are dropped first, so each step is
    in the file once."""

    def __init__(self, accelerator: Accelerator, directory: Path, resumed_step: int):
        self.accelerator = accelerator
        self.path = directory / "metrics.jsonl"
        if accelerator.is_main_process:
            directory.mkdir(parents=True, exist_ok=True)
            _drop_steps_after(self.path, resumed_step)

    def log(self, step: int, split: str, metrics: dict) -> None:
        flat = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
        if self.accelerator.is_main_process:
            with open(self.path, "a") as lines:
                lines.write(json.dumps({"step": step, "split": split, **flat}) + "\n")
        self.accelerator.log({f"{split}/{key}": value for key, value in flat.items()}, step=step)


def _drop_steps_after(path: Path, step: int) -> None:
    if not path.exists():
        return
    kept = [line for line in path.read_text().splitlines(keepends=True)
            if line.endswith("\n") and json.loads(line)["step"] <= step]  # a torn last line goes too
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("".join(kept))
    os.replace(temporary, path)
