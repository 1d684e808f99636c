"""The interpretation: a plan said back in plain words with the model's labels, shown above every answer.

"Flights, where departure delay > 180 minutes, in 2013" — or, for a refusal, what was understood so far. Low
confidence readings are named ("reading 'delayed' as departure delay"), as are follow-ups, the planner that
planned (the rules, an LLM or a verified question) and the row cap when it cut the result.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from datatruth.semantic.model import METRIC_TIME, SemanticLayer
from datatruth.semantic.plan import AdhocMetric, Condition, Evidence, Filter, QueryPlan, TimeRange
from datatruth.semantic.units import unit

_OPS = {
    "=": "=",
    "!=": "≠",
    "<": "<",
    "<=": "≤",
    ">": ">",
    ">=": "≥",
    "in": "is",
    "not_in": "is not",
    "between": "between",
    "like": "like",
    "is_null": "is empty",
    "not_null": "is not empty",
}
_GRAINS = {
    "hour": "hour",
    "day": "day",
    "week": "week",
    "month": "month",
    "quarter": "quarter",
    "year": "year",
    "day_of_week": "day of the week",
    "month_of_year": "month of the year",
    "quarter_of_year": "quarter of the year",
    "hour_of_day": "hour of the day",
}
_MONTHS = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def dimension_label(layer: SemanticLayer, name: str, grain: str | None = None) -> str:
    """The label people read for a dimension (or metric_time at a grain)."""
    if name == METRIC_TIME:
        return _GRAINS.get(grain or "day", grain or "day")
    if not layer.has_dimension(name):
        return name.replace("__", " ").replace("_", " ")
    dim = layer.dimension(name).dimension
    text = dim.label or dim.name.replace("_", " ")
    if grain and dim.is_time and grain != (dim.time_granularity or "day"):
        text += f" ({_GRAINS.get(grain, grain)})"
    return text[:1].upper() + text[1:] if text else name


_LABEL_ENDINGS = ("name", "title", "label", "number", "code")


def _label_of(keys: Sequence[str], names: Sequence[str]) -> list[str]:
    """The columns of a grouping that label an entity's members: of the key's own table, named as a name or a
    number ("product name", not the "product category" grouped beside it)."""
    table = keys[0].split("__")[0]
    return [
        x
        for x in names
        if x not in keys and x.split("__")[0] == table and x.rsplit("_", 1)[-1] in _LABEL_ENDINGS
    ]


def metric_label(layer: SemanticLayer, plan: QueryPlan, name: str) -> str:
    """The label of a metric, ad-hoc metric or aggregate of a plan."""
    if layer.has_metric(name):
        return layer.metric(name).title
    for a in plan.aggregates:
        if a.name == name:
            return a.label or name.replace("_", " ")
    for adhoc in plan.adhoc_metrics:
        if adhoc.name == name and _one_input(adhoc):
            return adhoc.name.replace(
                "_", " "
            )  # a figure over some rows, named for them ("revenue october 2026")
        if adhoc.name == name and (rows := _same_rows(layer, adhoc)):
            # "gross margin pct 2025": a figure worked out from parts that are all counted over the same rows
            parts = {i.name: i.metric for i in adhoc.inputs}
            words = _expr_words(layer, " ".join(parts.get(t, t) for t in _tokens(adhoc.expr)))
            return f"{adhoc.name.replace('_', ' ')} ({words}, where {rows})"
        if adhoc.name == name:
            return f"{adhoc.name.replace('_', ' ')} ({_expr_words(layer, adhoc.expr, plan, name)})"
    return name.replace("_", " ")


def _same_rows(layer: SemanticLayer, adhoc: AdhocMetric) -> str:
    """The filters, in words, that every input of an ad-hoc figure of two or more inputs shares; '' otherwise."""
    filters = {i.filters for i in adhoc.inputs}
    if len(adhoc.inputs) < 2 or len(filters) != 1 or any(i.conditions for i in adhoc.inputs):
        return ""
    return " and ".join(filter_words(layer, f) for f in adhoc.inputs[0].filters)


def _tokens(expr: str) -> list[str]:
    """An ad-hoc expression's names, numbers, operators and brackets, for saying it in words."""
    return re.findall(r"[A-Za-z_]\w*|\d+(?:\.\d+)?|\S", expr)


def _tests(layer: SemanticLayer, plan: QueryPlan, conditions: Iterable[Condition]) -> list[str]:
    """Tests of members' own figures in words: "order id with revenue > 750"."""
    return [
        f"{_members(layer, c)} with {metric_label(layer, plan, c.metric).lower()} "
        f"{_OPS.get(c.op, c.op)} {' and '.join(_condition_value(layer, c, v) for v in c.values)}"
        for c in conditions
    ]


def _one_input(adhoc: AdhocMetric) -> bool:
    """True for an ad-hoc figure that is one of its inputs alone (a figure over some rows, shown on its own)."""
    return adhoc.expr in {i.name for i in adhoc.inputs}


def _expr_words(layer: SemanticLayer, expr: str, plan: QueryPlan | None = None, own: str = "") -> str:
    counted = {a.name: (a.label or a.name).lower() for a in plan.aggregates} if plan is not None else {}
    # a figure over some rows reads with its filters: "flights (where departure delay > 15 minutes)"
    if plan is not None:
        counted |= {
            i.name: f"{layer.metric(i.metric).title.lower()} (where "
            f"{' and '.join([*(filter_words(layer, f) for f in i.filters), *_tests(layer, plan, i.conditions)])})"
            for a in plan.adhoc_metrics
            for i in a.inputs
            if layer.has_metric(i.metric)
        }
    # a figure over some rows that the plan also shows on its own is said by that name
    counted |= {
        a.expr: a.name.replace("_", " ")
        for a in (plan.adhoc_metrics if plan is not None else ())
        if _one_input(a)
    }
    tokens = _tokens(expr)
    for a in plan.adhoc_metrics if plan is not None else ():
        # "(gross margin pct 2025) minus (gross margin pct 2024)": a part the plan shows as a figure of its own
        inner = ["(", *_tokens(a.expr), ")"]
        if a.name == own or _one_input(a) or len(inner) < 5:
            continue
        for k in range(len(tokens) - len(inner), -1, -1):
            if tokens[k : k + len(inner)] == inner:
                tokens[k : k + len(inner)] = [a.name]
                counted[a.name] = a.name.replace("_", " ")
    words = []
    for token in tokens:
        if layer.has_metric(token):
            words.append(layer.metric(token).title.lower())
        elif token in counted:
            words.append(counted[token])  # "number of orders", not its column name
        elif token[:1].isalpha():
            words.append(token.replace("_", " "))  # a measure of the model: its name as words
        else:
            words.append({"+": "plus", "-": "minus", "/": "divided by", "*": "times"}.get(token, token))
    return " ".join(words).replace("( ", "(").replace(" )", ")")


def _condition_value(layer: SemanticLayer, c: Condition, value: object) -> str:
    """A condition's number as its figure shows: a percent figure's 0.4 is 40%."""
    if (
        isinstance(value, int | float)
        and layer.has_metric(c.metric)
        and layer.metric(c.metric).format == "percent"
    ):
        return f"{value * 100:.4g}%"
    return _value_text(value, layer, Filter(c.dimension, c.op))


def _value_text(value: object, layer: SemanticLayer, f: Filter) -> str:
    if f.grain == "month_of_year" and isinstance(value, int) and 1 <= value <= 12:
        return _MONTHS[value]
    if f.grain == "day_of_week" and isinstance(value, int) and 1 <= value <= 7:
        return _WEEKDAYS[value]
    if isinstance(value, dt.date):
        yearly = (
            layer.has_dimension(f.dimension)
            and layer.dimension(f.dimension).dimension.time_granularity == "year"
        )
        # a column of years ("year built") reads in years: "year built < 1980", not "< 1 Jan 1980"
        return (
            str(value.year) if yearly and (value.month, value.day) == (1, 1) else value.strftime("%-d %b %Y")
        )
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    return str(value)


def _result_words(layer: SemanticLayer, plan: QueryPlan, f: Filter) -> str:
    """A filter of the result rows in words: on a column ("region is 'West'") or on a computed figure."""
    if f.dimension not in plan.outputs:
        return filter_words(layer, f)
    fmt = layer.metric(f.dimension).format if layer.has_metric(f.dimension) else ""
    fmt = fmt or next((a.format for a in plan.adhoc_metrics if a.name == f.dimension), "")
    # a percent figure holds a fraction: "cancellation rate > 3%", not "> 0.03"
    shown = " and ".join(
        f"{v * 100:.4g}%" if fmt == "percent" and isinstance(v, int | float) else str(v) for v in f.values
    )
    return f"{metric_label(layer, plan, f.dimension).lower()} {_OPS.get(f.op, f.op)} {shown}"


def filter_words(layer: SemanticLayer, f: Filter) -> str:
    """One filter in words: "departure delay > 180 minutes", "airline is 'JetBlue Airways'"."""
    if f.since is not None:
        start = dimension_label(layer, f.since).lower()
        end = dimension_label(layer, f.dimension).lower()
        shown = " and ".join(_value_text(v, layer, f) for v in f.values)
        return f"days from {start} to {end} {_OPS.get(f.op, f.op)} {shown}"
    label = (
        dimension_label(layer, f.dimension, None)
        if f.dimension != METRIC_TIME
        else (_GRAINS.get(f.grain or "day", "date"))
    )
    label = label[:1].lower() + label[1:] if label[:2] != label[:2].upper() else label
    suffix = ""
    if f.dimension != METRIC_TIME and layer.has_dimension(f.dimension):
        u = layer.dimension(f.dimension).dimension.unit
        found = unit(u) if u else None
        if found is not None and found.name not in ("count", "fraction", "currency", "hhmm"):
            suffix = f" {found.label}"
    values = [_value_text(v, layer, f) for v in f.values]
    if (
        f.dimension != METRIC_TIME
        and layer.has_dimension(f.dimension)
        and layer.dimension(f.dimension).dimension.unit == "hhmm"
    ):
        values = [
            _clock_text(v) if isinstance(v, int | float) else s for v, s in zip(f.values, values, strict=True)
        ]
    if (
        f.dimension != METRIC_TIME
        and layer.has_dimension(f.dimension)
        and layer.dimension(f.dimension).dimension.unit == "fraction"
    ):
        values = [
            f"{float(v) * 100:g}%" if isinstance(v, int | float) else s
            for v, s in zip(f.values, values, strict=True)
        ]
    if (
        f.dimension != METRIC_TIME
        and layer.has_dimension(f.dimension)
        and layer.dimension(f.dimension).dimension.unit == "currency"
    ):
        values = [
            f"${float(v):,.2f}".replace(".00", "") if isinstance(v, int | float) else s
            for v, s in zip(f.values, values, strict=True)
        ]
    op = _OPS.get(f.op, f.op)
    if f.op in ("is_null", "not_null"):
        return f"{label} {op}"
    if f.op in ("in", "not_in"):
        joined = ", ".join(values[:-1]) + " or " + values[-1] if len(values) > 1 else values[0]
        return f"{label} {op} {joined}"
    if f.op == "between":
        return f"{label} between {values[0]} and {values[1]}{suffix}"
    return f"{label} {op} {values[0]}{suffix}"


def range_words(tr: TimeRange) -> str:
    """A time range as people read it: its label when the planner named it, else its dates."""
    if tr.label:
        return tr.label
    if tr.start and tr.end:
        last = tr.end - dt.timedelta(days=1)
        return f"{tr.start.strftime('%-d %b %Y')} – {last.strftime('%-d %b %Y')}"
    if tr.start:
        return f"since {tr.start.strftime('%-d %b %Y')}"
    if tr.end:
        return f"before {tr.end.strftime('%-d %b %Y')}"
    return "all time"


def _group_words(layer: SemanticLayer, plan: QueryPlan, name: str) -> str:
    """What one group of a limit per group is called: an entity's key by the entity ("store"), a period by its
    grain ("month"), else the column's label."""
    owner = next((e for e in layer.entities() if name in layer.entity_keys(e)), None)
    if owner is not None:
        model = layer.entity_model(owner)
        key = model.primary_entity if model else None
        return (key.title if key else owner.replace("_", " ")).lower()
    base, _, grain = name.partition(":")  # "metric_time:month": the month of an answer split by two periods
    ref = next((d for d in plan.dimensions if d.name == base and (not grain or d.grain == grain)), None)
    if base == METRIC_TIME and ref is not None:
        return _GRAINS.get(ref.grain or "day", ref.grain or "day")
    return dimension_label(layer, name).lower()


def interpret(  # noqa: C901 - one clause of the reading per plan field, in reading order
    plan: QueryPlan,
    layer: SemanticLayer,
    *,
    source: str = "rules",
    followed: str = "",
    low: Sequence[Evidence] = (),
    verified: str = "",
) -> str:
    """The plan in plain words, with labels, e.g. "Flights, where departure delay > 180 minutes, in 2013"."""
    parts: list[str] = []
    outputs = [metric_label(layer, plan, n) for n in plan.outputs]
    dims = [d for d in plan.dimensions]
    if plan.is_list:
        shown = [dimension_label(layer, d.name, d.grain) for d in dims]
        what = f"Listing {plan.entity.replace('_', ' ') + ' rows: ' if plan.entity else ''}" + ", ".join(
            shown
        )
    else:
        what = " and ".join(outputs) if len(outputs) <= 2 else ", ".join(outputs[:-1]) + " and " + outputs[-1]
        names = [x.name for x in dims]
        by = []
        owners = {k: e for e in layer.entities() for k in layer.entity_keys(e)}
        # a label shown beside its key is said with the key ("store (each store id, shown with its store name)")
        done: set[str] = {
            x
            for d in dims
            if d.name in owners
            for x in _label_of(layer.entity_keys(owners[d.name]), names)[:1]
        }
        for d in dims:
            if d.name in done:
                continue
            if d.name in owners and all(k in names for k in layer.entity_keys(owners[d.name])):
                entity = owners[d.name]  # every key of the entity grouped: its members, one each
                keys_of = layer.entity_keys(entity)
                done.update(keys_of)
                model = layer.entity_model(entity)
                owner = model.primary_entity if model else None
                title = (owner.title if owner else entity.replace("_", " ")).lower()
                label_dims = _label_of(keys_of, [x.name for x in dims])
                done.update(label_dims[:1])
                key_words = " + ".join(dimension_label(layer, k).lower() for k in keys_of)
                by.append(
                    f"{title} (each {key_words}"
                    + (
                        f", shown with its {dimension_label(layer, label_dims[0]).lower()})"
                        if label_dims
                        else ")"
                    )
                )
            elif d.name == METRIC_TIME:
                by.append(_GRAINS.get(d.grain or "day", d.grain or "day"))
            else:
                by.append(
                    dimension_label(layer, d.name, d.grain).lower()
                    if not dimension_label(layer, d.name, d.grain)[:2].isupper()
                    else dimension_label(layer, d.name, d.grain)
                )
        if by:
            what += " by " + ", ".join(by)
    parts.append(what)
    grouped = {d.name for d in plan.dimensions}
    # "each customer" already says rows without a customer are left out: no need to repeat it
    conditions = [
        filter_words(layer, f)
        for f in plan.filters
        if not (f.op == "not_null" and f.dimension in grouped and not plan.is_list)
    ]
    conditions += _tests(layer, plan, plan.conditions)
    if conditions:
        parts.append("where " + " and ".join(conditions))
    for a in plan.aggregates:
        if a.over:
            parts.append(f"{a.label.lower() or a.name} counted over {a.over.replace('_', ' ')} rows")
    if plan.periods:
        # "claims opened: January vs June": periods of another date than the figures' own say which one
        on = (
            f" by {dimension_label(layer, plan.time_dimension).lower()}"
            if plan.time_dimension and layer.has_dimension(plan.time_dimension)
            else ""
        )
        parts.append(
            "comparing " + " with ".join(range_words(p) for p in plan.periods) + f"{on}, one row each"
        )
    elif plan.time_range is not None and plan.time_dimension and layer.has_dimension(plan.time_dimension):
        # the period is of another date than the metric's own ("signup date in January and March 2025")
        parts.append(
            f"where {dimension_label(layer, plan.time_dimension).lower()} is in "
            f"{range_words(plan.time_range)}"
        )
    elif plan.time_range is not None:
        parts.append(range_words(plan.time_range))
    if plan.comparison:
        parts.append(
            "vs the "
            + (
                "same period a year earlier"
                if plan.comparison == "same_period_last_year"
                else "previous period"
            )
        )
    if plan.share_of_total:
        scope = ", ".join(
            dimension_label(layer, f.dimension).lower()
            for f in plan.result_filters
            if f.dimension not in plan.outputs
        )
        parts.append("as a share of the total" + (f" over every {scope}" if scope else ""))
    if plan.result_filters:
        parts.append("showing " + " and ".join(_result_words(layer, plan, f) for f in plan.result_filters))
    if plan.order:
        o = plan.order[0]
        key = o.key.replace("__change_pct", "")
        label = metric_label(layer, plan, key) if key in plan.outputs else dimension_label(layer, key)
        column = next((d for d in plan.dimensions if d.column == key), None)
        if column is not None:
            label = dimension_label(
                layer, column.name, column.grain
            )  # a column ranks: its label, not its name
        change = " change" if o.key.endswith("__change_pct") else ""
        if column is not None and column.grain and plan.limit is not None:
            parts.append(f"the {plan.limit} {'latest' if o.descending else 'earliest'} by {label.lower()}")
        elif plan.limit is not None:
            parts.append(f"{'top' if o.descending else 'bottom'} {plan.limit} by {label.lower()}{change}")
        else:
            parts.append(f"sorted by {label.lower()}{change}{' (highest first)' if o.descending else ''}")
        if plan.limit_per and plan.limit is not None:
            parts[-1] += " in each " + " and ".join(_group_words(layer, plan, n) for n in plan.limit_per)
    elif plan.limit is not None:
        parts.append(f"first {plan.limit}")
    text = ", ".join(parts)
    notes = []
    for e in low:
        notes.append(f"reading '{e.phrase}' as {_target_words(layer, e)}")
    if followed:
        notes.append(f"following up on: {followed}")
    if verified:
        notes.append(verified)
    if source == "llm":
        notes.append("planned by the workspace's LLM and checked against the semantic model")
    if notes:
        text += " (" + "; ".join(notes) + ")"
    return text


def _target_words(layer: SemanticLayer, e: Evidence) -> str:
    if e.kind == "metric" and layer.has_metric(e.target):
        return layer.metric(e.target).title.lower()
    if e.kind == "dimension" and layer.has_dimension(e.target):
        return dimension_label(layer, e.target).lower()
    if e.kind == "filter":
        dim, _, rest = e.target.partition(" ")
        if layer.has_dimension(dim):
            return f"{dimension_label(layer, dim).lower()} {rest}"
    return e.target.replace("__", " ").replace("_", " ")


def _members(layer: SemanticLayer, c: Condition) -> str:
    """Who a condition tests: "customer id", or "each route (origin airport and destination airport)"."""
    if not c.together:
        return dimension_label(layer, c.dimension).lower()
    names = (c.dimension, *c.together)
    concept = next((x for x in layer.concepts if tuple(x.dimensions) == names), None)
    shown = " and ".join(dimension_label(layer, n).lower() for n in names)
    return f"each {(concept.label or concept.name).lower()} ({shown})" if concept else f"each {shown}"


def _clock_text(hhmm: float) -> str:
    """2230 → "10:30 pm", 2400 → "midnight"."""
    hour, minute = divmod(int(hhmm), 100)
    if hour % 24 == 0 and minute == 0:
        return "midnight"
    if hour == 12 and minute == 0:
        return "noon"
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {'am' if hour % 24 < 12 else 'pm'}"
