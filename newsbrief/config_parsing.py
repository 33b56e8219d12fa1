"""The machinery behind config.py's schema: plain data (YAML, `key.sub=value` overrides) checked against
the dataclasses' annotations and turned into them, and the field docstrings read from their source."""

from __future__ import annotations

import ast
import difflib
import dataclasses
import inspect
import types
import typing
from typing import Any, Literal


class ConfigError(ValueError):
    """A config problem, phrased as `dotted.key: reason` so that it fits one line."""


def set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    """Put an override's value at its dotted key (section.field, or list.index.field) in the raw config."""
    node: Any = raw
    parts = key.split(".")
    for depth, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            node = node[_list_index(node, part, ".".join(parts[: depth + 1]))]
        else:
            node = node.setdefault(part, {})
        if not isinstance(node, (dict, list)):
            raise ConfigError(f"{'.'.join(parts[: depth + 1])}: is a value, not a section; cannot set {key}")
    last = parts[-1]
    if isinstance(node, list):
        node[_list_index(node, last, key)] = value
    else:
        node[last] = value


def _list_index(items: list, part: str, key: str) -> int:
    if not part.isdigit() or int(part) >= len(items):
        raise ConfigError(f"{key}: no list item {part!r} (the list has {len(items)})")
    return int(part)


def from_dict(cls: type, raw: Any, prefix: str) -> Any:
    """Build dataclass `cls` from plain data, checking every key and type against its annotations."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix or 'config'}: expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(sorted(names))}"
            raise ConfigError(f"{_join(prefix, key)}: unknown key ({hint})")
    values = {key: _convert(hints[key], value, _join(prefix, key)) for key, value in raw.items()}
    return cls(**values)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _convert(hint: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, key)
    if hint is Any:
        return value
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key}: {value!r} is not one of {list(args)}")
        return value
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, {} if value is None else value, key)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {type(value).__name__}")
        return [_convert(args[0], item, f"{key}.{i}") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {type(value).__name__}")
        return {str(k): _convert(args[1], v, f"{key}.{k}") for k, v in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):
        # YAML 1.1 reads 1e-3 (no dot) as a string; accept what Python reads as a number.
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{key}: expected float, got {value!r}") from None
    # type() rather than isinstance(): YAML's `true` is a bool, which Python also counts as an int.
    if hint in (int, float, str, bool) and type(value) is not hint:
        raise ConfigError(f"{key}: expected {hint.__name__}, got {value!r}")
    return value


def field_docs(cls: type) -> dict[str, str]:
    """The one-line docstring under each field, read from the source (shown by `newsbrief train --help`)."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body
    docs = {}
    for node, following in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(following, ast.Expr):
            if isinstance(following.value, ast.Constant) and isinstance(following.value.value, str):
                docs[node.target.id] = following.value.value
    return docs
