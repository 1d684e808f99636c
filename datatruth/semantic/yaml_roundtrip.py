"""Edit one entry of a YAML file so that the save changes only what changed.

A model file is written by people: a header comment, comments between keys, flow lists, quoted strings,
their own order. Loading it into plain data and dumping it again rewrites all of that (a 188-line file
became a 271-line diff for one new synonym). Here ruamel.yaml's round-trip loader finds where an entry
and its keys are, and only the lines of the keys that change are replaced; every other line of the file
stays byte for byte as it was.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

REMOVE = object()  # a change that deletes the key


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line of the original into two
    return yaml


def load(text: str) -> Any:
    """The document in round-trip form (comments, order, styles and positions kept); None when it is not YAML."""
    try:
        return _yaml().load(text)
    except YAMLError:
        return None


def _dump(data: Any) -> list[str]:
    buffer = io.StringIO()
    _yaml().dump(data, buffer)
    return buffer.getvalue().splitlines()


def _is_blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _trim(lines: list[str], start: int, end: int) -> int:
    """`end` moved back over trailing blank and comment lines (they belong to what follows), but not before
    start + 1."""
    while end > start + 1 and _is_blank_or_comment(lines[end - 1]):
        end -= 1
    return end


def _flow_like(old: Any) -> bool:
    return isinstance(old, CommentedSeq | CommentedMap) and old.fa.flow_style()


def _value(old: Any, new: Any) -> Any:
    """The new value in the style of the old one (a flow list stays a flow list)."""
    if isinstance(new, list | tuple):
        seq = CommentedSeq(list(new))
        if old is None or _flow_like(old) or all(not isinstance(v, Mapping | list) for v in new):
            seq.fa.set_flow_style()
        return seq
    if isinstance(old, str) and type(old) is not str and isinstance(new, str):
        return type(old)(new)  # keep a quoted string quoted the same way
    return new


def _render_key(key: str, value: Any, column: int) -> list[str]:
    block = CommentedMap()
    block[key] = value
    return [" " * column + line for line in _dump(block)]


def _equal(old: Any, new: Any) -> bool:
    if isinstance(new, list | tuple):
        return isinstance(old, list) and [str(v) for v in old] == [str(v) for v in new]
    return old == new


def set_entry_fields(text: str, list_key: str, name: str, changes: Mapping[str, Any]) -> str | None:
    """`text` with the entry named `name` of the top-level list `list_key` changed: each key of `changes`
    set to its value (REMOVE deletes it). None when the file has no such entry; `text` unchanged when
    every value is already as asked."""
    data = load(text)
    if not isinstance(data, CommentedMap) or not isinstance(data.get(list_key), CommentedSeq):
        return None
    seq: CommentedSeq = data[list_key]
    index = next(
        (i for i, item in enumerate(seq) if isinstance(item, CommentedMap) and item.get("name") == name), None
    )
    if index is None:
        return None
    item: CommentedMap = seq[index]
    wanted = {
        k: v
        for k, v in changes.items()
        if not (v is REMOVE and k not in item) and not (v is not REMOVE and _equal(item.get(k), v))
    }
    if not wanted:
        return text
    lines = text.splitlines(keepends=True)
    start = seq.lc.item(index)[0]
    end = _entry_end(data, list_key, seq, index, len(lines))
    end = _trim(lines, start, end)
    newline = "\n" if not lines or lines[0].endswith("\n") else ""
    if item.fa.flow_style():
        return _replace_flow_entry(lines, item, wanted, start, end, newline)
    # Replace key by key, bottom-up so earlier line numbers stay valid.
    keys = list(item.keys())
    edits: list[tuple[int, int, list[str]]] = []
    column = item.lc.key(keys[0])[1]
    for key, new in wanted.items():
        if key in item:
            at = keys.index(key)
            first = item.lc.key(key)[0]
            stop = item.lc.key(keys[at + 1])[0] if at + 1 < len(keys) else end
            stop = _trim(lines, first, stop)
            rendered = [] if new is REMOVE else _render_key(key, _value(item[key], new), column)
            edits.append((first, stop, rendered))
        elif new is not REMOVE:
            edits.append((end, end, _render_key(key, _value(None, new), column)))
    for first, stop, rendered in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        lines[first:stop] = [line + "\n" for line in rendered]
    out = "".join(lines)
    return out if newline else out.rstrip("\n")


def _entry_end(data: CommentedMap, list_key: str, seq: CommentedSeq, index: int, total: int) -> int:
    """The line after the entry: the next entry's line, else the next top-level key's, else the file's end."""
    if index + 1 < len(seq):
        return seq.lc.item(index + 1)[0]
    keys = list(data.keys())
    position = keys.index(list_key)
    return data.lc.key(keys[position + 1])[0] if position + 1 < len(keys) else total


def _replace_flow_entry(
    lines: list[str], item: CommentedMap, wanted: Mapping[str, Any], start: int, end: int, newline: str
) -> str:
    """A one-line entry (`- {name: x, ...}`) is written again as one line, keys in their order."""
    for key, new in wanted.items():
        if new is REMOVE:
            del item[key]
        else:
            item[key] = _value(item.get(key), new)
    dash_column = len(lines[start]) - len(lines[start].lstrip())
    rendered = _dump(CommentedSeq([item]))
    lines[start:end] = [" " * dash_column + line + "\n" for line in rendered]
    out = "".join(lines)
    return out if newline else out.rstrip("\n")
