"""Add an entry to a top-level list of a model file (a verified question, a phrasing) without touching the rest.

Like datatruth.semantic.yaml_roundtrip, the file written by people keeps every other line as it was: the new
entry goes after the list's last entry, in the list's own indentation, or as a new list at the end of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from datatruth.errors import UserError
from datatruth.semantic import yaml_roundtrip as rt


def _render(entry: Mapping[str, Any], column: int) -> list[str]:
    text = yaml.safe_dump(
        [dict(entry)], sort_keys=False, default_flow_style=None, allow_unicode=True, width=4096
    )
    return [" " * column + line + "\n" for line in text.splitlines()]


def _home(files: Mapping[str, str], list_key: str) -> str:
    """The file that gets the entry: the one already holding the list, else the one with metrics, else the first."""
    loaded = {name: rt.load(text) for name, text in sorted(files.items())}
    for want in (list_key, "metrics"):
        for name, data in loaded.items():
            if isinstance(data, CommentedMap) and want in data:
                return name
    if not files:
        raise UserError("the workspace has no semantic model file to add to", "create a model file first")
    return sorted(files)[0]


def append_entry(files: Mapping[str, str], list_key: str, entry: Mapping[str, Any]) -> dict[str, str]:
    """The one changed file after appending `entry` to the top-level list `list_key` of the model."""
    name = _home(files, list_key)
    text = files[name]
    data = rt.load(text)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    seq = data.get(list_key) if isinstance(data, CommentedMap) else None
    if isinstance(seq, CommentedSeq) and len(seq) > 0 and not seq.fa.flow_style():
        last = len(seq) - 1
        start, column = seq.lc.item(last)
        end = rt._trim(lines, start, rt._entry_end(data, list_key, seq, last, len(lines)))
        dash = column - 2 if isinstance(seq[last], CommentedMap) else column
        lines[end:end] = _render(entry, max(dash, 0))
    elif isinstance(data, CommentedMap) and list_key in data:
        # an empty list (`key: []` or `key:`) becomes a block list holding the entry
        at = data.lc.key(list_key)[0]
        stop = at + 1
        if isinstance(seq, CommentedSeq) and seq.fa.flow_style() and len(seq) > 0:
            raise UserError(
                f"'{list_key}' in {name} is written on one line", "write it as a block list first"
            )
        lines[at:stop] = [f"{list_key}:\n", *_render(entry, 2)]
    else:
        if lines and lines[-1].strip():
            lines.append("\n")
        lines += [f"{list_key}:\n", *_render(entry, 2)]
    return {name: "".join(lines)}
