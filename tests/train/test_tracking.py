"""Trackers through Accelerate: train.log_with, the config as hyperparameters, metrics.jsonl without repeats."""

from __future__ import annotations

import json

import pytest

from newsbrief.config import ConfigError, TrainConfig, load_config
from newsbrief.train.tracking import _drop_steps_after, hyperparameters, trackers

from tests.conftest import TINY_CONFIG


def test_log_with_tensorboard_writes_its_events_with_the_config_as_hyperparameters(tiny_config, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from newsbrief.train.loop import train

    train(tiny_config("train.max_steps=4", "train.eval_every=2", "train.log_every=2", "train.warmup_steps=1",
                      "train.tensorboard=false", "train.log_with=[tensorboard]", "train.eval_max_examples=4"))
    runs = [p for p in (tmp_path / "run" / "logs" / "run").rglob("events.out.tfevents.*")]
    assert runs
    scalars = set()
    for events in runs:
        accumulator = EventAccumulator(str(events.parent))
        accumulator.Reload()
        scalars |= set(accumulator.Tags()["scalars"])
    assert {"train/loss", "validation/loss"} <= scalars
    hparams = (tmp_path / "run" / "logs" / "run").rglob("hparams.yml")
    assert "train.learning_rate: 0.001" in next(hparams).read_text()


def test_a_tracker_that_is_not_accelerates_or_not_installed_is_named(monkeypatch):
    with pytest.raises(ConfigError, match=r"train.log_with: 'tensorbored' is not one of Accelerate's trackers"):
        trackers(TrainConfig(log_with=["tensorbored"]))
    monkeypatch.setattr("newsbrief.train.tracking.get_available_trackers", lambda: [])  # nothing installed
    with pytest.raises(ConfigError, match=r"train.log_with: wandb is not installed \(pip install wandb\)"):
        trackers(TrainConfig(log_with=["wandb"]))
    assert trackers(TrainConfig(tensorboard=True)) == []  # the default switch only warns


def test_tensorboard_on_by_default_and_off_by_switch():
    assert trackers(TrainConfig()) == ["tensorboard"]
    assert trackers(TrainConfig(tensorboard=False)) == []


def test_hyperparameters_are_flat_scalars_of_the_resolved_config():
    flat = hyperparameters(load_config(TINY_CONFIG))
    assert flat["train.learning_rate"] == 0.001 and flat["model.random_init"] is True
    assert json.loads(flat["data.sources"])[0]["name"] == "news"
    assert all(isinstance(v, (bool, int, float, str)) for v in flat.values())


def test_a_resume_drops_the_lines_of_steps_it_replays_and_a_torn_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 5, "split": "train"}\n{"step": 10, "split": "train"}\n{"step": 12, "spl')
    _drop_steps_after(path, 8)
    assert path.read_text() == '{"step": 5, "split": "train"}\n'
