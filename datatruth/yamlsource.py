"""YAML loading that remembers the line of every key, so validation can point at file:line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from datatruth.errors import ConfigError

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    """One validation problem, located in a file."""

    file: str
    line: int | None
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}" + (f" ({self.hint})" if self.hint else "")


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML document plus the 1-based line of each key path."""

    path: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, *keys: str | int) -> int | None:
        """Return the line of the deepest known prefix of `keys`."""
        for end in range(len(keys), -1, -1):
            found = self.lines.get(tuple(keys[:end]))
            if found is not None:
                return found
        return None

    def issue(self, keys: KeyPath, message: str, hint: str = "") -> Issue:
        """Build an Issue located at the line of `keys`."""
        return Issue(self.path, self.line(*keys), message, hint)


def _walk(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node)) if not isinstance(key_node, yaml.ScalarNode) \
                else _scalar(key_node)
            if key in out:
                raise _DuplicateKey(key, key_node.start_mark.line + 1)
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _walk(value_node, path + (key,), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(child, path + (i,), lines) for i, child in enumerate(node.value)]
    return _scalar(node)


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int) -> None:
        super().__init__(key)
        self.key = key
        self.line = line


def _scalar(node: yaml.Node) -> Any:
    # Reuse PyYAML's resolver so "3" is an int and "true" a bool, exactly as safe_load would.
    return yaml.SafeLoader.construct_object(_CONSTRUCTOR, node, deep=True)


_CONSTRUCTOR = yaml.SafeLoader("")


def parse_yaml(text: str, path: str) -> YamlDoc:
    """Parse YAML text; a syntax error or duplicate key becomes a ConfigError naming file and line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        line = mark.line + 1 if mark else None
        issue = Issue(path, line, f"YAML syntax error: {err.problem}", "check indentation and quoting near this line")
        raise ConfigError(f"{path} is not valid YAML", "fix the line shown and try again", [issue]) from None
    if node is None:
        return YamlDoc(path, None, {})
    lines: dict[KeyPath, int] = {}
    try:
        data = _walk(node, (), lines)
    except _DuplicateKey as dup:
        issue = Issue(path, dup.line, f"duplicate key '{dup.key}'", "each key may appear once; remove or rename one")
        raise ConfigError(f"{path} has a duplicate key", "", [issue]) from None
    return YamlDoc(path, data, lines)


def load_yaml(path: str | Path) -> YamlDoc:
    """Read and parse a YAML file with line information."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p} does not exist", "check the path or create the file", [Issue(str(p), None, "file not found")]) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p} is not UTF-8 text", "save the file as UTF-8",
                          [Issue(str(p), None, "not UTF-8")]) from None
    return parse_yaml(text, str(p))
