"""The config schema: every shipped YAML validates, every failure is one line naming its key, every field
is documented, and a saved config loads back equal."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from newsbrief.config import (
    ConfigError,
    LoraSettings,
    RunConfig,
    SourceConfig,
    load_config,
    save_config,
)
from newsbrief.config_parsing import field_docs
from tests.conftest import ROOT, TINY_CONFIG, tiny_overrides

SHIPPED = sorted((ROOT / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_config_loads_and_validates(path, monkeypatch):
    # Data paths in configs are relative to the repo root, where users run `newsbrief train`.
    monkeypatch.chdir(ROOT)
    try:
        config = load_config(path)
    except ConfigError as error:
        if "no such file" in str(error) and not (ROOT.parent / "shared" / "data").is_dir():
            pytest.skip(f"../shared/data is absent: {error}")
        raise
    assert isinstance(config, RunConfig)
    assert config.data.sources


def test_there_are_shipped_configs():
    assert TINY_CONFIG in SHIPPED


def one_line_error(*overrides: str, path=TINY_CONFIG) -> str:
    """The error of loading `path` (the tiny config, with absolute data paths) with `overrides`."""
    with pytest.raises(ConfigError) as caught:
        load_config(path, tiny_overrides(Path("runs/unused")) + list(overrides))
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("overrides, named", [
    (["train.lerning_rate=0.1"], "train.lerning_rate"),
    (["trainer.batch_size=4"], "trainer"),
    (["data.sources.0.txt_column=body"], "data.sources.0.txt_column"),
    (["train.batch_size=abc"], "train.batch_size"),
    (["train.batch_size=2.5"], "train.batch_size"),
    (["train.learning_rate=true"], "train.learning_rate"),
    (["train.adam_betas=0.9"], "train.adam_betas"),
    (["data.sources.0.path=/nope.jsonl"], "data.sources.0.path"),
    (["data.sources.0.repeat=0"], "data.sources.0.repeat"),
    (["train.batch_size=0"], "train.batch_size"),
    (["train.warmup_steps=1000"], "train.warmup_steps"),
    (["train.schedule=step"], "train.schedule"),
    (["train.metric_for_best=accuracy"], "train.metric_for_best"),
    (["generation.min_new_tokens=100"], "generation.min_new_tokens"),
    (["generation.repetition_penalty=0"], "generation.repetition_penalty"),
    (["train.topic_refit_epochs=-1"], "train.topic_refit_epochs"),
    (["train.topic_refit_hidden_layer_size=-8"], "train.topic_refit_hidden_layer_size"),
    (["train.topic_refit_hidden_layer_size=8"], "train.topic_refit_hidden_layer_size"),
    (["train.topic_refit_learning_rate=0"], "train.topic_refit_learning_rate"),
    (["train.topic_refit_heads=0"], "train.topic_refit_heads"),
    (["data.sources.5.path=x"], "data.sources.5"),
    (["data.sources.x.path=x"], "data.sources.x"),
])
def test_failures_name_the_dotted_key(overrides, named):
    message = one_line_error(*overrides)
    assert message.startswith(named + ":")


def test_missing_data_file_names_it():
    assert "/nope.jsonl" in one_line_error("data.sources.0.path=/nope.jsonl")


def test_literal_error_lists_the_choices():
    message = one_line_error("train.schedule=step")
    assert "'step'" in message and "cosine" in message


def test_missing_config_file_names_it(tmp_path):
    missing = tmp_path / "absent.yaml"
    assert str(missing) in one_line_error(path=missing)


@pytest.mark.parametrize("bad", ["train.batch_size", "=4", "train.batch_size:4"])
def test_override_without_equals_sign(bad):
    assert repr(bad) in one_line_error(bad)


@pytest.mark.parametrize("bad, named", [("model.backbone.name=x", "model.backbone"),
                                        ("train.batch_size.a.b=1", "train.batch_size")])
def test_override_below_a_scalar_names_the_key(bad, named):
    assert named in one_line_error(bad)


def test_nested_overrides_take_effect(tiny_config):
    config = tiny_config("train.learning_rate=0.002", "data.sources.0.max_examples=3",
                         "data.sources.1.label_map.earn=business", "model.lora.r=4",
                         "model.random_init=false")
    assert config.train.learning_rate == 0.002 and type(config.train.learning_rate) is float
    assert config.data.sources[0].max_examples == 3
    assert config.data.sources[1].max_examples is None
    assert config.data.sources[1].label_map == {"earn": "business"}
    assert config.model.lora == LoraSettings(r=4)


def test_integer_for_a_float_field_becomes_float(tiny_config):
    config = tiny_config("model.topic_loss_weight=2")
    assert config.model.topic_loss_weight == 2.0 and type(config.model.topic_loss_weight) is float


def test_tiny_config_fixture_is_independent_of_the_working_directory(tiny_config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tiny_config()
    assert config.train.output_dir.startswith(str(tmp_path))
    assert all(source.path.startswith(str(ROOT)) for source in config.data.sources)


def config_dataclasses(cls: type, seen: set | None = None) -> set[type]:
    """`cls` and every dataclass reachable through its field annotations (Optional, list, dict included)."""
    seen = set() if seen is None else seen
    seen.add(cls)
    for hint in typing.get_type_hints(cls).values():
        for candidate in (hint, *_nested_args(hint)):
            if dataclasses.is_dataclass(candidate) and candidate not in seen:
                config_dataclasses(candidate, seen)
    return seen


def _nested_args(hint) -> list:
    args = list(typing.get_args(hint))
    return args + [inner for arg in args for inner in _nested_args(arg)]


def test_the_walk_reaches_nested_sections():
    found = config_dataclasses(RunConfig)
    assert {SourceConfig, LoraSettings} <= found


@pytest.mark.parametrize("cls", sorted(config_dataclasses(RunConfig), key=lambda c: c.__name__),
                         ids=lambda c: c.__name__)
def test_every_field_has_a_one_line_docstring(cls):
    docs = field_docs(cls)
    for f in dataclasses.fields(cls):
        assert docs.get(f.name, "").strip(), f"{cls.__name__}.{f.name} has no docstring"
        assert "\n" not in docs[f.name], f"{cls.__name__}.{f.name}: docstring is more than one line"


def test_save_and_load_round_trip(tiny_config, tmp_path):
    config = tiny_config("model.lora.r=4", "model.random_init=false", "data.sources.0.label_map.sport=sports",
                         "train.schedule=cosine")
    path = tmp_path / "saved.yaml"
    save_config(config, path)
    assert load_config(path) == config
