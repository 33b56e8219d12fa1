"""YAML as a config is read: text that is not UTF-8, a syntax error or a key given twice in one mapping
is one ConfigError that names the file, line and column, never a parser's traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from newsbrief.config_parsing import ConfigError


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice: plain YAML keeps the last one silently, so the first
    (`train:` written twice, say) would be dropped without a word."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} is given twice",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml_file(path: Path, what: str = "config") -> Any:
    """The plain data of a YAML file; ConfigError naming `what` it is, the file (and line) when it cannot be
    read as one."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{what}: {path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ConfigError(f"{what}: {path}: cannot read it ({error.strerror or error})") from None
    return parse_yaml(text, f"{what}: {path}")


def parse_yaml(text: str, where: str) -> Any:
    """YAML text as plain data; `where` (a file, an override) begins the one-line error."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        position = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{where}{position}: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{where}: {str(error).splitlines()[0]}") from None
