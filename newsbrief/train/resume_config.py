"""A resume goes on with the config its checkpoint was trained with, or stops and names what changed.

A run resumed with another learning rate, max_steps or data source would silently train a model that no
single config describes. Each checkpoint holds its resolved config; a resume compares it with its own,
key by dotted key, and refuses any difference the user did not accept by name (train.resume_accepts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newsbrief.config import RunConfig, to_dict
from newsbrief.config_parsing import ConfigError, from_dict
from newsbrief.config_yaml import read_yaml_file
from newsbrief.models.model_dir import CONFIG_FILE

NOT_COMPARED = {"train.output_dir", "train.resume", "train.resume_accepts"}
"""Where the run is (a moved folder) and how to resume it: never a change to what is trained."""


def refuse_changed_config(config: RunConfig, checkpoint: Path | None) -> None:
    """ConfigError listing every key (but the accepted ones) whose value differs from the checkpoint's."""
    current = flatten(to_dict(config))
    for key in config.train.resume_accepts:
        if not any(_within(name, key) for name in current):
            raise ConfigError(f"train.resume_accepts: {key!r} is not a config key")
    saved_file = None if checkpoint is None else checkpoint / CONFIG_FILE
    if saved_file is None or not saved_file.is_file():  # nothing to resume, or saved before checkpoints held it
        return
    try:
        saved = flatten(to_dict(from_dict(RunConfig, read_yaml_file(saved_file), "")))
    except ConfigError as error:
        raise ConfigError(f"{saved_file}: {error}") from None
    accepted = NOT_COMPARED | set(config.train.resume_accepts)
    changed = [key for key in sorted(saved.keys() | current.keys())
               if saved.get(key) != current.get(key) and not any(_within(key, part) for part in accepted)]
    if changed:
        listed = ", ".join(f"{key} ({saved.get(key)!r} -> {current.get(key)!r})" for key in changed)
        raise ConfigError(f"train.output_dir: {checkpoint} was trained with another config: {listed}; to resume "
                          f"with the new values, add train.resume_accepts=[{','.join(changed)}], or train into "
                          "another train.output_dir")


def _within(key: str, part: str) -> bool:
    """`key` is `part` or lies inside it (model.config_overrides.hidden_size in model.config_overrides)."""
    return key == part or key.startswith(part + ".")


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested config data as {dotted key: value}: mappings and lists of mappings opened, other lists kept whole."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        items = enumerate(value)
    else:
        return {prefix: value}
    flat = {}
    for key, item in items:
        flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return flat
