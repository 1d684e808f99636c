"""The QueryPlan: what to compute (metrics, dimensions, filters, time), produced by the planner and shown in the UI.

A plan asks for one of three shapes: named metrics (and ad-hoc arithmetic over them), aggregates of a column
("shortest distance", "how many distinct planes"), or — with neither — a list of distinct rows of its dimensions
("list every policy with its dates"). Dimensions are qualified names (`customer__region`), `metric_time`, or an
entity's key (`customer__customer_id`, which the layer provides for every primary entity). A plan never holds SQL. It round-trips through JSON (`to_dict` / `QueryPlan.from_dict`); `from_dict` checks
every type and raises UserError with a clear message, because LLM output arrives through it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from datatruth.errors import UserError
from datatruth.semantic.model import GRAINS, METRIC_TIME

FILTER_OPS = ("=", "!=", "in", "not_in", "<", "<=", ">", ">=", "between", "like", "is_null", "not_null")
AGGREGATE_FUNCTIONS = ("count", "count_distinct", "sum", "avg", "min", "max", "median", "percentile")
COMPARISONS = ("previous_period", "same_period_last_year")
EVIDENCE_KINDS = ("metric", "dimension", "filter", "time", "order", "limit", "comparison", "other")
_OP_ALIASES = {
    "==": "=",
    "<>": "!=",
    "not in": "not_in",
    "is null": "is_null",
    "is not null": "not_null",
    "eq": "=",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "gte": ">=",
    "lte": "<=",
}
_VALUE_COUNT = {
    "is_null": (0, 0),
    "not_null": (0, 0),
    "between": (2, 2),
    "in": (1, None),
    "not_in": (1, None),
}
Scalar = str | int | float | bool | dt.date


@dataclass(frozen=True)
class DimensionRef:
    """A dimension to group by: a qualified name (or metric_time) and, for time dimensions, a grain."""

    name: str
    grain: str | None = None

    @property
    def column(self) -> str:
        """The output column name: `customer__region`, `metric_time__month`."""
        return f"{self.name}__{self.grain}" if self.grain else self.name


@dataclass(frozen=True)
class Filter:
    """A condition on a dimension, e.g. customer__state in (TX, CA)."""

    dimension: str
    op: str
    values: tuple[Scalar, ...] = ()
    grain: str | None = None  # for a time dimension: compare at this grain (default: as stored)
    # another date of the same rows: the filter tests the whole days from `since` to `dimension` ("claims that
    # took more than 20 days from opening to closing")
    since: str | None = None

    def describe(self) -> str:
        """The filter as short text."""
        if self.since:
            return f"days from {self.since} to {replace(self, since=None).describe()}"
        if self.op in ("is_null", "not_null"):
            return f"{self.dimension} {self.op.replace('_', ' ')}"
        if self.op == "between":
            return f"{self.dimension} between {self.values[0]} and {self.values[1]}"
        shown = ", ".join(str(v) for v in self.values)
        return (
            f"{self.dimension} {self.op.replace('_', ' ')} ({shown})"
            if self.op in ("in", "not_in")
            else f"{self.dimension} {self.op} {shown}"
        )


@dataclass(frozen=True)
class TimeRange:
    """A half-open date range [start, end); either bound may be open. `parts` splits it into pieces with gaps
    ("December, January and February": three months, not the year they span)."""

    start: dt.date | None = None
    end: dt.date | None = None  # exclusive
    label: str = ""
    grain: str | None = None  # the grain the words named ("last quarter" → quarter), informational
    parts: tuple[tuple[dt.date, dt.date], ...] = ()
    # months of the year ("summer" = 6, 7, 8): with no bounds, a compared season of every year; with bounds,
    # those months inside them ("the winter months of 2013" = January, February and December 2013)
    months: tuple[int, ...] = ()

    def pieces(self) -> tuple[tuple[dt.date | None, dt.date | None], ...]:
        """The [start, end) pieces the range covers: its parts, else the range itself."""
        return self.parts or ((self.start, self.end),)

    def describe(self) -> str:
        """The range as short text."""
        if self.label:
            return self.label
        if self.start and self.end:
            return f"{self.start} to {self.end - dt.timedelta(days=1)}"
        if self.start:
            return f"since {self.start}"
        if self.end:
            return f"before {self.end}"
        return "all time"


@dataclass(frozen=True)
class OrderBy:
    """Sort by an output column (metric name or dimension column)."""

    key: str
    descending: bool = False


@dataclass(frozen=True)
class FilteredInput:
    """A figure of an ad-hoc metric: a simple metric counted only over rows that pass filters ("flights that
    left more than 15 minutes late" is flights where dep_delay > 15)."""

    name: str  # the name the ad-hoc expression uses
    metric: str
    filters: tuple[Filter, ...]
    # members whose own figure passes a test ("orders with more than $750 of revenue"): only their rows count
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class AdhocMetric:
    """A one-off arithmetic metric over metric names, e.g. loss_payments + loss_reserves; `inputs` name figures
    computed over a subset of rows."""

    name: str
    expr: str
    inputs: tuple[FilteredInput, ...] = ()
    format: str = ""  # percent for a share of a slice; "" = a plain number


@dataclass(frozen=True)
class Aggregate:
    """An aggregate of one column (or of an entity's key) over the rows of a model: "shortest distance" is
    min of flight__distance; "how many distinct planes" is count_distinct of plane__tailnum over flights."""

    name: str  # the output column
    function: str  # one of AGGREGATE_FUNCTIONS
    dimension: str  # a qualified dimension (an entity key for counts of an entity)
    over: str | None = None  # the semantic model whose rows are aggregated (default: the dimension's own)
    percentile: float | None = None  # for function percentile (median is 0.5)
    label: str = ""
    # a second column each row's value is divided by: "the average of firefighters per mile, where firefighters
    # per mile = number of firefighters divided by miles to the nearest fire station"
    divided_by: str | None = None
    # an earlier date of the same rows: each row's value is the whole days from `since` to `dimension` ("the
    # average number of days from claim open date to claim close date")
    since: str | None = None
    # a date counted by the periods it falls in: "how many hours was visibility below 1 mile" counts the distinct
    # hours of the readings (count_distinct of `dimension` truncated to this grain)
    grain: str | None = None
    # a metric counted once per member of `dimension` (an entity key), then aggregated over the members: "the
    # median order total" is the median, over orders, of revenue per order
    metric: str | None = None


@dataclass(frozen=True)
class Condition:
    """Keep only the members of an entity whose metric meets a test, counted like the rest of the plan:
    "customers with more than 10 orders" is Condition(customer__customer_id, orders, >, (10,))."""

    dimension: str  # the entity key (or any dimension) whose members are tested
    metric: str
    op: str
    values: tuple[Scalar, ...]
    # more dimensions that, with `dimension`, name one member: a route is an origin and a destination
    together: tuple[str, ...] = ()

    def describe(self) -> str:
        """The condition as short text."""
        shown = " and ".join(str(v) for v in self.values)
        who = " + ".join((self.dimension, *self.together))
        return f"{who} with {self.metric} {self.op} {shown}"


@dataclass(frozen=True)
class Evidence:
    """Why the planner chose something: the phrase it read and what it matched."""

    phrase: str
    kind: str
    target: str
    score: float = 1.0
    method: str = "exact"


@dataclass(frozen=True)
class QueryPlan:
    """What to compute; the compiler turns it into SQL."""

    metrics: tuple[str, ...]
    dimensions: tuple[DimensionRef, ...] = ()
    filters: tuple[Filter, ...] = ()
    time_range: TimeRange | None = None
    time_dimension: str | None = None
    comparison: str | None = None
    share_of_total: bool = False
    order: tuple[OrderBy, ...] = ()
    limit: int | None = None
    adhoc_metrics: tuple[AdhocMetric, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()
    conditions: tuple[Condition, ...] = ()
    periods: tuple[TimeRange, ...] = ()  # compared periods: one row per period, labelled
    result_filters: tuple[Filter, ...] = ()  # applied to result rows after shares are computed
    entity: str | None = (
        None  # list questions: the model whose rows are listed (default: chosen by the compiler)
    )
    limit_per: tuple[
        str, ...
    ] = ()  # dimensions within each of whose values the limit applies ("in each category")

    @property
    def is_list(self) -> bool:
        """True when the plan lists rows (no metric and no aggregate)."""
        return not (self.metrics or self.adhoc_metrics or self.aggregates)

    @property
    def outputs(self) -> tuple[str, ...]:
        """The names of the computed columns: metrics, ad-hoc metrics and aggregates."""
        return (
            self.metrics + tuple(a.name for a in self.adhoc_metrics) + tuple(a.name for a in self.aggregates)
        )

    def time_grain(self) -> DimensionRef | None:
        """The metric_time dimension asked for, if any."""
        return next((d for d in self.dimensions if d.name == METRIC_TIME), None)

    def describe(self) -> str:
        """One readable line, e.g. 'revenue by customer__region, metric_time (month) where … for 2025'."""
        what = ", ".join(self.outputs) or "rows of " + ", ".join(d.name for d in self.dimensions)
        parts = [what]
        if self.dimensions:
            parts.append(
                "by " + ", ".join(f"{d.name} ({d.grain})" if d.grain else d.name for d in self.dimensions)
            )
        if self.filters:
            parts.append("where " + " and ".join(f.describe() for f in self.filters))
        if self.conditions:
            parts.append("for " + " and ".join(c.describe() for c in self.conditions))
        if self.periods:
            parts.append("in " + " vs ".join(p.describe() for p in self.periods))
        if self.time_range:
            parts.append("for " + self.time_range.describe())
        if self.comparison:
            parts.append("vs " + self.comparison.replace("_", " "))
        if self.share_of_total:
            parts.append("as share of total")
        if self.result_filters:
            parts.append("keeping " + " and ".join(f.describe() for f in self.result_filters))
        if self.order:
            parts.append(
                "sorted by " + ", ".join(o.key + (" desc" if o.descending else "") for o in self.order)
            )
        if self.limit is not None:
            parts.append(
                f"top {self.limit}" + (f" per {', '.join(self.limit_per)}" if self.limit_per else "")
            )
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-able data (dates as ISO text); `from_dict` reads it back."""
        out: dict[str, Any] = {"metrics": list(self.metrics)}
        if self.aggregates:
            out["aggregates"] = [
                {
                    "name": a.name,
                    "function": a.function,
                    "dimension": a.dimension,
                    **({"over": a.over} if a.over else {}),
                    **({"percentile": a.percentile} if a.percentile is not None else {}),
                    **({"label": a.label} if a.label else {}),
                    **({"divided_by": a.divided_by} if a.divided_by else {}),
                    **({"since": a.since} if a.since else {}),
                    **({"grain": a.grain} if a.grain else {}),
                    **({"metric": a.metric} if a.metric else {}),
                }
                for a in self.aggregates
            ]
        if self.dimensions:
            out["dimensions"] = [
                {"name": d.name, **({"grain": d.grain} if d.grain else {})} for d in self.dimensions
            ]
        if self.filters:
            out["filters"] = [_filter_dict(f) for f in self.filters]
        if self.conditions:
            out["conditions"] = [_condition_dict(c) for c in self.conditions]
        if self.time_range:
            out["time_range"] = _range_dict(self.time_range)
        if self.periods:
            out["periods"] = [_range_dict(p) for p in self.periods]
        if self.result_filters:
            out["result_filters"] = [_filter_dict(f) for f in self.result_filters]
        for key in ("time_dimension", "comparison", "limit", "entity"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.share_of_total:
            out["share_of_total"] = True
        if self.limit_per:
            out["limit_per"] = list(self.limit_per)
        if self.order:
            out["order"] = [{"key": o.key, "descending": o.descending} for o in self.order]
        if self.adhoc_metrics:
            out["adhoc_metrics"] = [
                {
                    "name": a.name,
                    "expr": a.expr,
                    **(
                        {
                            "inputs": [
                                {
                                    "name": i.name,
                                    "metric": i.metric,
                                    "filters": [_filter_dict(f) for f in i.filters],
                                    **(
                                        {"conditions": [_condition_dict(c) for c in i.conditions]}
                                        if i.conditions
                                        else {}
                                    ),
                                }
                                for i in a.inputs
                            ]
                        }
                        if a.inputs
                        else {}
                    ),
                    **({"format": a.format} if a.format else {}),
                }
                for a in self.adhoc_metrics
            ]
        if self.evidence:
            out["evidence"] = [
                {"phrase": e.phrase, "kind": e.kind, "target": e.target, "score": e.score, "method": e.method}
                for e in self.evidence
            ]
        return out

    @classmethod
    def from_dict(cls, data: Any) -> QueryPlan:
        """Read a plan from JSON-like data, checking every type; UserError names the first bad field."""
        return _Reader().plan(data)


def _json_value(value: Scalar) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _condition_dict(c: Condition) -> dict[str, Any]:
    return {
        "dimension": c.dimension,
        "metric": c.metric,
        "op": c.op,
        "values": [_json_value(v) for v in c.values],
        **({"together": list(c.together)} if c.together else {}),
    }


def _filter_dict(f: Filter) -> dict[str, Any]:
    return {
        "dimension": f.dimension,
        "op": f.op,
        "values": [_json_value(v) for v in f.values],
        **({"grain": f.grain} if f.grain else {}),
        **({"since": f.since} if f.since else {}),
    }


def _range_dict(tr: TimeRange) -> dict[str, Any]:
    out: dict[str, Any] = {
        "start": tr.start.isoformat() if tr.start else None,
        "end": tr.end.isoformat() if tr.end else None,
        "label": tr.label,
        "grain": tr.grain,
    }
    if tr.parts:
        out["parts"] = [[a.isoformat(), b.isoformat()] for a, b in tr.parts]
    if tr.months:
        out["months"] = list(tr.months)
    return out


_PLAN_KEYS = {
    "metrics",
    "dimensions",
    "filters",
    "time_range",
    "time_dimension",
    "comparison",
    "share_of_total",
    "order",
    "limit",
    "adhoc_metrics",
    "evidence",
    "aggregates",
    "conditions",
    "periods",
    "result_filters",
    "entity",
    "limit_per",
}


class _Reader:
    """Type-checks plan data; each error names the field path, e.g. filters[1].op."""

    def fail(self, where: str, message: str, hint: str = "") -> UserError:
        return UserError(
            f"invalid query plan: {where}: {message}",
            hint
            or "a plan is {metrics: [...], dimensions: [{name, grain}], filters: "
            "[{dimension, op, values}], time_range: {start, end}, ...}",
        )

    def mapping(self, value: Any, where: str, allowed: set[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected an object, got {type(value).__name__}")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise self.fail(
                where, f"unknown key(s) {', '.join(unknown)}", f"allowed: {', '.join(sorted(allowed))}"
            )
        return value

    def text(self, value: Any, where: str, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"expected non-empty text, got {value!r}")
        return value.strip()

    def items(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            raise self.fail(where, f"expected a list, got {type(value).__name__}")
        return list(value)

    def grain(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or value.lower() not in GRAINS:
            raise self.fail(where, f"unknown grain {value!r}", f"grains: {', '.join(GRAINS)}")
        return value.lower()

    def date(self, value: Any, where: str) -> dt.date | None:
        if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()[:10])
            except ValueError:
                pass
        raise self.fail(where, f"expected a date like 2025-01-31, got {value!r}")

    def scalar(self, value: Any, where: str) -> Scalar:
        if isinstance(value, str | int | float | bool | dt.date):
            return value
        raise self.fail(where, f"a filter value must be text, a number, a boolean or a date, got {value!r}")

    def plan(self, data: Any) -> QueryPlan:  # noqa: C901 - one branch per plan field, read top to bottom
        raw = self.mapping(data, "plan", _PLAN_KEYS)
        metrics = tuple(
            self.text(m, f"metrics[{i}]") or ""
            for i, m in enumerate(self.items(raw.get("metrics"), "metrics"))
        )
        adhoc = []
        for i, item in enumerate(self.items(raw.get("adhoc_metrics"), "adhoc_metrics")):
            a = self.mapping(item, f"adhoc_metrics[{i}]", {"name", "expr", "inputs", "format"})
            inputs = []
            for k, raw_input in enumerate(self.items(a.get("inputs"), f"adhoc_metrics[{i}].inputs")):
                where = f"adhoc_metrics[{i}].inputs[{k}]"
                one = self.mapping(raw_input, where, {"name", "metric", "filters", "conditions"})
                inputs.append(
                    FilteredInput(
                        self.text(one.get("name"), f"{where}.name") or "",
                        self.text(one.get("metric"), f"{where}.metric") or "",
                        tuple(
                            self.filter(f, f"{where}.filters[{j}]")
                            for j, f in enumerate(self.items(one.get("filters"), f"{where}.filters"))
                        ),
                        tuple(
                            self.condition(c, f"{where}.conditions[{j}]")
                            for j, c in enumerate(self.items(one.get("conditions"), f"{where}.conditions"))
                        ),
                    )
                )
            shown = self.text(a.get("format"), f"adhoc_metrics[{i}].format", optional=True) or ""
            if shown not in ("", "number", "percent", "currency"):
                raise self.fail(f"adhoc_metrics[{i}].format", "use number, percent or currency")
            adhoc.append(
                AdhocMetric(
                    self.text(a.get("name"), f"adhoc_metrics[{i}].name") or "",
                    self.text(a.get("expr"), f"adhoc_metrics[{i}].expr") or "",
                    tuple(inputs),
                    shown,
                )
            )
        aggregates = [
            self.aggregate(item, f"aggregates[{i}]")
            for i, item in enumerate(self.items(raw.get("aggregates"), "aggregates"))
        ]
        dims = []
        for i, item in enumerate(self.items(raw.get("dimensions"), "dimensions")):
            if isinstance(item, str):
                name, _, grain = item.partition(":")
                dims.append(DimensionRef(name.strip(), self.grain(grain.strip() or None, f"dimensions[{i}]")))
                continue
            d = self.mapping(item, f"dimensions[{i}]", {"name", "grain"})
            dims.append(
                DimensionRef(
                    self.text(d.get("name"), f"dimensions[{i}].name") or "",
                    self.grain(d.get("grain"), f"dimensions[{i}].grain"),
                )
            )
        if not metrics and not adhoc and not aggregates and not dims:
            raise self.fail("metrics", "a plan needs a metric, an aggregate, or dimensions to list")
        filters = [
            self.filter(item, f"filters[{i}]")
            for i, item in enumerate(self.items(raw.get("filters"), "filters"))
        ]
        conditions = [
            self.condition(item, f"conditions[{i}]")
            for i, item in enumerate(self.items(raw.get("conditions"), "conditions"))
        ]
        result_filters = [
            self.filter(item, f"result_filters[{i}]")
            for i, item in enumerate(self.items(raw.get("result_filters"), "result_filters"))
        ]
        time_range = None
        if raw.get("time_range") is not None:
            time_range = self.time_range(raw["time_range"], "time_range")
        periods = [
            self.time_range(item, f"periods[{i}]")
            for i, item in enumerate(self.items(raw.get("periods"), "periods"))
        ]
        for i, p in enumerate(periods):
            if (p.start is None or p.end is None) and not p.months:
                raise self.fail(f"periods[{i}]", "a compared period needs a start and an end, or months")
        comparison = self.text(raw.get("comparison"), "comparison", optional=True)
        if comparison is not None and comparison not in COMPARISONS:
            raise self.fail(
                "comparison", f"unknown comparison {comparison!r}", f"one of: {', '.join(COMPARISONS)}"
            )
        share = raw.get("share_of_total", False)
        if not isinstance(share, bool):
            raise self.fail("share_of_total", f"expected true or false, got {share!r}")
        order = []
        for i, item in enumerate(self.items(raw.get("order"), "order")):
            if isinstance(item, str):
                key, desc = (item[1:], True) if item.startswith("-") else (item, False)
                order.append(OrderBy(self.text(key, f"order[{i}]") or "", desc))
                continue
            o = self.mapping(item, f"order[{i}]", {"key", "descending"})
            desc = o.get("descending", False)
            if not isinstance(desc, bool):
                raise self.fail(f"order[{i}].descending", f"expected true or false, got {desc!r}")
            order.append(OrderBy(self.text(o.get("key"), f"order[{i}].key") or "", desc))
        limit = raw.get("limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise self.fail("limit", f"expected a positive whole number, got {limit!r}")
        limit_per = tuple(
            self.text(x, f"limit_per[{i}]") or ""
            for i, x in enumerate(self.items(raw.get("limit_per"), "limit_per"))
        )
        if limit_per and limit is None:
            raise self.fail("limit_per", "a limit per group needs a limit", "add limit: N")
        evidence = []
        for i, item in enumerate(self.items(raw.get("evidence"), "evidence")):
            e = self.mapping(item, f"evidence[{i}]", {"phrase", "kind", "target", "score", "method"})
            score = e.get("score", 1.0)
            if isinstance(score, bool) or not isinstance(score, int | float):
                raise self.fail(f"evidence[{i}].score", f"expected a number, got {score!r}")
            evidence.append(
                Evidence(
                    str(e.get("phrase", "")),
                    str(e.get("kind", "other")),
                    str(e.get("target", "")),
                    float(score),
                    str(e.get("method", "exact")),
                )
            )
        return QueryPlan(
            metrics,
            tuple(dims),
            tuple(filters),
            time_range,
            self.text(raw.get("time_dimension"), "time_dimension", optional=True),
            comparison,
            share,
            tuple(order),
            limit,
            tuple(adhoc),
            tuple(evidence),
            tuple(aggregates),
            tuple(conditions),
            tuple(periods),
            tuple(result_filters),
            self.text(raw.get("entity"), "entity", optional=True),
            limit_per,
        )

    def time_range(self, value: Any, where: str) -> TimeRange:
        tr = self.mapping(value, where, {"start", "end", "label", "grain", "parts", "months"})
        start, end = self.date(tr.get("start"), f"{where}.start"), self.date(tr.get("end"), f"{where}.end")
        if start and end and end <= start:
            raise self.fail(where, f"end {end} must be after start {start} (end is exclusive)")
        label = tr.get("label") or ""
        if not isinstance(label, str):
            raise self.fail(f"{where}.label", "expected text")
        parts = []
        for i, item in enumerate(self.items(tr.get("parts"), f"{where}.parts")):
            pair = self.items(item, f"{where}.parts[{i}]")
            if len(pair) != 2:
                raise self.fail(f"{where}.parts[{i}]", "expected [start, end]")
            a, b = self.date(pair[0], f"{where}.parts[{i}][0]"), self.date(pair[1], f"{where}.parts[{i}][1]")
            if a is None or b is None or b <= a:
                raise self.fail(f"{where}.parts[{i}]", "expected [start, end] with end after start")
            parts.append((a, b))
        months = self.items(tr.get("months"), f"{where}.months")
        if not all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in months):
            raise self.fail(f"{where}.months", "expected month numbers from 1 to 12")
        return TimeRange(
            start, end, label, self.grain(tr.get("grain"), f"{where}.grain"), tuple(parts), tuple(months)
        )

    def aggregate(self, item: Any, where: str) -> Aggregate:
        a = self.mapping(
            item,
            where,
            {
                "name",
                "function",
                "dimension",
                "over",
                "percentile",
                "label",
                "divided_by",
                "since",
                "grain",
                "metric",
            },
        )
        function = (self.text(a.get("function"), f"{where}.function") or "").lower()
        if function not in AGGREGATE_FUNCTIONS:
            raise self.fail(
                f"{where}.function",
                f"unknown aggregate {function!r}",
                f"one of: {', '.join(AGGREGATE_FUNCTIONS)}",
            )
        p = a.get("percentile")
        if p is not None and (isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1):
            raise self.fail(f"{where}.percentile", f"expected a number between 0 and 1, got {p!r}")
        if function == "percentile" and p is None:
            raise self.fail(f"{where}.percentile", "a percentile aggregate needs 'percentile' (0-1)")
        label = a.get("label") or ""
        if not isinstance(label, str):
            raise self.fail(f"{where}.label", "expected text")
        return Aggregate(
            self.text(a.get("name"), f"{where}.name") or "",
            function,
            self.text(a.get("dimension"), f"{where}.dimension") or "",
            self.text(a.get("over"), f"{where}.over", optional=True),
            0.5 if function == "median" else (float(p) if p is not None else None),
            label,
            self.text(a.get("divided_by"), f"{where}.divided_by", optional=True),
            self.text(a.get("since"), f"{where}.since", optional=True),
            self.grain(a.get("grain"), f"{where}.grain"),
            self.text(a.get("metric"), f"{where}.metric", optional=True),
        )

    def condition(self, item: Any, where: str) -> Condition:
        c = self.mapping(item, where, {"dimension", "metric", "op", "values", "value", "together"})
        f = self.filter(
            {
                "dimension": c.get("dimension"),
                "op": c.get("op"),
                **({"values": c["values"]} if "values" in c else {}),
                **({"value": c["value"]} if "value" in c else {}),
            },
            where,
        )
        if f.op not in ("=", "!=", "<", "<=", ">", ">=", "between"):
            raise self.fail(f"{where}.op", f"a condition on a metric compares numbers; {f.op!r} does not")
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in f.values):
            raise self.fail(f"{where}.values", "a condition on a metric compares with numbers")
        together = tuple(
            self.text(x, f"{where}.together[{i}]") or ""
            for i, x in enumerate(self.items(c.get("together"), f"{where}.together"))
        )
        return Condition(
            f.dimension, self.text(c.get("metric"), f"{where}.metric") or "", f.op, f.values, together
        )

    def filter(self, item: Any, where: str) -> Filter:
        f = self.mapping(item, where, {"dimension", "op", "values", "value", "grain", "since"})
        dim = self.text(f.get("dimension"), f"{where}.dimension") or ""
        op_raw = self.text(f.get("op"), f"{where}.op") or ""
        op = _OP_ALIASES.get(op_raw.lower(), op_raw.lower())
        if op not in FILTER_OPS:
            raise self.fail(
                f"{where}.op", f"unknown operator {op_raw!r}", f"operators: {' '.join(FILTER_OPS)}"
            )
        if "value" in f and "values" in f:
            raise self.fail(where, "give 'values' or 'value', not both")
        raw_values = f.get("values") if "values" in f else f.get("value")
        if raw_values is None:
            values: list[Any] = []
        elif isinstance(raw_values, list | tuple):
            values = list(raw_values)
        else:
            values = [raw_values]
        values = [self.scalar(v, f"{where}.values[{i}]") for i, v in enumerate(values)]
        low, high = _VALUE_COUNT.get(op, (1, 1))
        if len(values) < low or (high is not None and len(values) > high):
            expected = f"{low}" if low == high else f"at least {low}"
            raise self.fail(f"{where}.values", f"operator {op} takes {expected} value(s), got {len(values)}")
        return Filter(
            dim,
            op,
            tuple(values),
            self.grain(f.get("grain"), f"{where}.grain"),
            self.text(f.get("since"), f"{where}.since", optional=True),
        )
