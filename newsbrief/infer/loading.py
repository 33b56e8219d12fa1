"""Where a briefer's model comes from and how it is set to serve: the model directory (the embedded
model, a folder or a Hub repository), its config with a caller's overrides, and its tokenizing alone
(`load_encoder`) for a stage that tokenizes apart from the model."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Callable

from newsbrief.config import RunConfig
from newsbrief.hub import model_directory
from newsbrief.infer.encoding import SourceWindow, Windows, encode_articles
from newsbrief.infer.inputs import generation_settings
from newsbrief.models.model_dir import load_directory_tokenizer, read_run_config

LOAD_SETTINGS = ("device", "dtype", "int8", "compile")
"""load_briefer's arguments that change how the weights run (infer/optimize.py), not what the model reads or
writes: what evaluation's `load` may set, and what a tokenizing stage leaves to the model's."""

DEFAULT_MODEL = Path(__file__).parents[1] / "default_model"
"""The embedded model (configs/default-model.yaml): a delta over the pip-installed MiniLM, under 20 MB."""


def load_encoder(model: str | Path | None, trust_remote_code: bool = False,
                 **inference: Any) -> Callable[[list[str]], Windows]:
    """What the engine's stream runs on a background thread for each chunk, texts to Windows, with the
    tokenizer and settings `load_briefer(model, **inference)` would use, and without loading the model:
    for a CPU stage that tokenizes ahead of the model's (`brief_encoded`)."""
    directory = model_source(model, trust_remote_code=trust_remote_code)
    chosen = {key: value for key, value in inference.items() if value is not None}
    config = serving_config(read_run_config(directory), chosen, {})
    return partial(encode_articles, load_directory_tokenizer(directory, trust_remote_code),
                   window=SourceWindow.of(config.data), inference=config.inference)


def model_source(path: str | Path | None, revision: str | None = None, token: str | bool | None = None,
                 cache_dir: str | Path | None = None, trust_remote_code: bool = False) -> Path:
    """The local model directory: the embedded model for None, else the folder or Hub repository's snapshot."""
    return DEFAULT_MODEL if path is None else model_directory(path, revision, token, cache_dir, trust_remote_code)


def serving_config(config: RunConfig, inference: dict[str, Any], generation: dict[str, Any]) -> RunConfig:
    """The model's config with a caller's overrides of its inference and generation sections, checked."""
    config = replace(config, inference=replace(config.inference, **inference),
                     generation=generation_settings(config.generation, generation))
    config.validate_serving()
    return config
