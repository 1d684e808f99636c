"""Members of an entity in a result: grouped by key, shown by label, told apart when labels repeat.

A result grouped by customer carries the customer id (what was grouped by) and the customer name (what people
read). Charts and sentences show the name; when two customers share a name in the same result, each is shown
with its key ("Wei Young (#4411)") so that two people are never read as one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from datatruth.ask.answer import AnswerColumn
from datatruth.ask.explain import format_label
from datatruth.ask.rows import Rows
from datatruth.semantic.model import SemanticLayer
from datatruth.semantic.plan import QueryPlan

if TYPE_CHECKING:
    import pandas as pd


def label_columns(plan: QueryPlan, layer: SemanticLayer) -> dict[str, str]:
    """Entity key column → the column of the plan that names its members (same model, not a key)."""
    owners = {k: e for e in layer.entities() for k in layer.entity_keys(e)}
    names = [d.name for d in plan.dimensions if d.grain is None]
    out: dict[str, str] = {}
    for name in names:
        entity = owners.get(name)
        if entity is None or len(layer.entity_keys(entity)) != 1:
            continue
        prefix = name.split("__")[0]
        label = next(
            (
                n
                for n in names
                if n != name and n not in owners and n.split("__")[0] == prefix and n not in out.values()
            ),
            None,
        )
        if label is not None:
            out[name] = label
    return out


def with_labels(columns: tuple[AnswerColumn, ...], pairs: dict[str, str]) -> tuple[AnswerColumn, ...]:
    """The columns with each entity key marked by the column that names its members."""
    return tuple(replace(c, names=pairs[c.name]) if c.name in pairs else c for c in columns)


def shown(
    frame: pd.DataFrame | Rows, columns: tuple[AnswerColumn, ...]
) -> tuple[pd.DataFrame | Rows, tuple[AnswerColumn, ...]]:
    """The result as people read it: each key + label pair becomes one label column, and a label that repeats
    among different keys gets its key in brackets. Other columns are unchanged."""
    pairs = {
        c.name: c.names for c in columns if c.names and c.name in frame.columns and c.names in frame.columns
    }
    if not pairs:
        return frame, columns
    relabelled: dict[str, list[str]] = {}
    for key, label in pairs.items():
        key_col = next(c for c in columns if c.name == key)
        label_col = next(c for c in columns if c.name == label)
        texts = [format_label(v, label_col) for v in _cells(frame, label)]
        keys = [format_label(v, key_col) for v in _cells(frame, key)]
        owners: dict[str, set[str]] = {}
        for text, k in zip(texts, keys, strict=True):
            owners.setdefault(text, set()).add(k)
        relabelled[label] = [
            f"{t} (#{k})" if len(owners[t]) > 1 else t for t, k in zip(texts, keys, strict=True)
        ]
    drop = set(pairs)
    if isinstance(frame, Rows):
        rows = frame
        for label, texts in relabelled.items():
            rows = rows.replaced(label, texts)
        return rows.without(drop), tuple(c for c in columns if c.name not in drop)
    out = frame.copy()
    for label, texts in relabelled.items():
        out[label] = texts
    out = out.drop(columns=list(drop))
    return out, tuple(c for c in columns if c.name not in drop)


def _cells(frame: pd.DataFrame | Rows, column: str) -> list:
    return frame.column(column) if isinstance(frame, Rows) else list(frame[column])
