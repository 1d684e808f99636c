"""Words people read for model names: labels of metrics, dimensions and grains, and a plan in plain words.

`customer__region` is an address for the compiler; a person reads "Customer region". Every face shows
these labels (table headers, chart axes, tiles, the plan panel); the names stay in SQL, JSON and the CLI.
"""

from __future__ import annotations

import re

from datatruth.semantic.model import METRIC_TIME, SEPARATOR, SemanticLayer
from datatruth.semantic.plan import Filter, QueryPlan

GRAIN_LABELS = {
    "hour": "Hour",
    "day": "Date",
    "week": "Week",
    "month": "Month",
    "quarter": "Quarter",
    "year": "Year",
    "day_of_week": "Day of week",
}
_OP_WORDS = {
    "=": "is",
    "!=": "is not",
    "in": "is",
    "not_in": "is not",
    "<": "below",
    "<=": "at most",
    ">": "above",
    ">=": "at least",
    "like": "matches",
    "is_null": "is blank",
    "not_null": "is not blank",
}


def humanize(name: str) -> str:
    """A name as words with a capital first letter: `dest_airport__faa` → 'Dest airport faa'."""
    words = name.replace(SEPARATOR, " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def in_sentence(label: str) -> str:
    """A label inside a sentence: first letter lower case unless the word is an acronym ('AOV', 'FAA code')."""
    first = label.split(" ", 1)[0]
    return label if len(first) > 1 and first.isupper() else label[:1].lower() + label[1:]


def metric_label(layer: SemanticLayer | None, name: str) -> str:
    """The metric's label (else its name as words)."""
    if layer is not None and layer.has_metric(name):
        return layer.metric(name).title[:1].upper() + layer.metric(name).title[1:]
    return humanize(name)


def dimension_label(layer: SemanticLayer | None, name: str, grain: str | None = None) -> str:
    """The dimension's label; metric_time reads as its grain ('Month'), another time dimension adds it."""
    if name == METRIC_TIME:
        return GRAIN_LABELS.get(grain or "day", humanize(grain or "date"))
    base = humanize(name)
    entity, _, local = name.partition(SEPARATOR)
    if local.startswith(f"{entity}_"):
        base = humanize(local)  # `policy__policy_number` is 'Policy number', not 'Policy policy number'
    if layer is not None and layer.has_dimension(name):
        qualified = layer.dimension(name)
        base = qualified.dimension.label or base
        if grain and grain != qualified.dimension.time_granularity:
            return f"{base} ({GRAIN_LABELS.get(grain, grain).lower()})"
    elif grain:
        return f"{base} ({GRAIN_LABELS.get(grain, grain).lower()})"
    return base


def column_label(layer: SemanticLayer | None, column: str) -> str:
    """The label of an output column name such as `metric_time__month`, `customer__region` or `revenue`."""
    if layer is not None and layer.has_metric(column):
        return metric_label(layer, column)
    head, _, tail = column.rpartition(SEPARATOR)
    if (
        head
        and tail in GRAIN_LABELS
        and (head == METRIC_TIME or (layer is not None and layer.has_dimension(head)))
    ):
        return dimension_label(layer, head, tail)
    return dimension_label(layer, column)


def _value(value: object) -> str:
    return str(value)


def describe_filter(layer: SemanticLayer | None, f: Filter) -> str:
    """A filter in words: 'Sales channel is Online', 'Customer region is West or South'."""
    label = dimension_label(layer, f.dimension, f.grain)
    if f.op in ("is_null", "not_null"):
        return f"{label} {_OP_WORDS[f.op]}"
    if f.op == "between":
        return f"{label} between {_value(f.values[0])} and {_value(f.values[1])}"
    values = [_value(v) for v in f.values]
    shown = values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]
    return f"{label} {_OP_WORDS.get(f.op, f.op)} {shown}"


def describe_plan(plan: QueryPlan, layer: SemanticLayer | None) -> str:
    """The plan in plain words with labels, e.g. 'Revenue by month, for last quarter (Q3 2026)'."""
    names = [metric_label(layer, m) for m in plan.metrics] + [humanize(a.name) for a in plan.adhoc_metrics]
    text = " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else (names[0] if names else "")
    if plan.share_of_total:
        text += " as a share of the total"
    if plan.dimensions:
        text += " by " + ", ".join(
            in_sentence(dimension_label(layer, d.name, d.grain)) for d in plan.dimensions
        )
    if plan.filters:
        text += ", where " + " and ".join(in_sentence(describe_filter(layer, f)) for f in plan.filters)
    if plan.time_range:
        text += ", for " + plan.time_range.describe()
    if plan.comparison:
        text += ", compared with the " + plan.comparison.replace("_", " ")
    if plan.order:
        parts = []
        for o in plan.order:
            label = column_label(layer, o.key)
            parts.append(f"{in_sentence(label)}, {'highest' if o.descending else 'lowest'} first")
        text += "; sorted by " + "; ".join(parts)
    if plan.limit is not None:
        text += f"; top {plan.limit:,}" + (
            " in each " + ", ".join(column_label(layer, n) for n in plan.limit_per) if plan.limit_per else ""
        )
    return text


_WORD = re.compile(r"[a-z][a-z0-9_]*")  # display text only; never applied to SQL
_WORD_LABELS = {"desc": "highest first", "asc": "lowest first", METRIC_TIME: "time"}


def label_words(layer: SemanticLayer | None, text: str) -> str:
    """Free text (the planner's evidence) with model names replaced by labels: 'order__channel = Online' →
    'Sales channel = Online', 'metric_time by day_of_week' → 'time by day of week'."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        if word in _WORD_LABELS:
            return _WORD_LABELS[word]
        if word in GRAIN_LABELS and "_" in word:
            return GRAIN_LABELS[word].lower()
        if layer is not None and (layer.has_metric(word) or SEPARATOR in word):
            return column_label(layer, word)
        return word

    return _WORD.sub(swap, text)
