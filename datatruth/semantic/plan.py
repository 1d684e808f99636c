"""The QueryPlan: what to compute (metrics, dimensions, filters, time), produced by the planner and shown in the UI.

A plan never holds SQL. It round-trips through JSON (`to_dict` / `QueryPlan.from_dict`); `from_dict` checks
every type and raises UserError with a clear message, because LLM output arrives through it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from datatruth.errors import UserError
from datatruth.semantic.model import GRAINS, METRIC_TIME

FILTER_OPS = ("=", "!=", "in", "not_in", "<", "<=", ">", ">=", "between", "like", "is_null", "not_null")
COMPARISONS = ("previous_period", "same_period_last_year")
EVIDENCE_KINDS = ("metric", "dimension", "filter", "time", "order", "limit", "comparison", "other")
_OP_ALIASES = {"==": "=", "<>": "!=", "not in": "not_in", "is null": "is_null", "is not null": "not_null",
               "eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "gte": ">=", "lte": "<="}
_VALUE_COUNT = {"is_null": (0, 0), "not_null": (0, 0), "between": (2, 2), "in": (1, None), "not_in": (1, None)}
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

    def describe(self) -> str:
        """The filter as short text."""
        if self.op in ("is_null", "not_null"):
            return f"{self.dimension} {self.op.replace('_', ' ')}"
        if self.op == "between":
            return f"{self.dimension} between {self.values[0]} and {self.values[1]}"
        shown = ", ".join(str(v) for v in self.values)
        return f"{self.dimension} {self.op.replace('_', ' ')} ({shown})" if self.op in ("in", "not_in") \
            else f"{self.dimension} {self.op} {shown}"


@dataclass(frozen=True)
class TimeRange:
    """A half-open date range [start, end); either bound may be open."""

    start: dt.date | None = None
    end: dt.date | None = None  # exclusive
    label: str = ""
    grain: str | None = None  # the grain the words named ("last quarter" → quarter), informational

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
class AdhocMetric:
    """A one-off arithmetic metric over metric names, e.g. loss_payments + loss_reserves."""

    name: str
    expr: str


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

    def time_grain(self) -> DimensionRef | None:
        """The metric_time dimension asked for, if any."""
        return next((d for d in self.dimensions if d.name == METRIC_TIME), None)

    def describe(self) -> str:
        """One readable line, e.g. 'revenue by customer__region, metric_time (month) where … for 2025'."""
        what = ", ".join(list(self.metrics) + [a.name for a in self.adhoc_metrics])
        parts = [what]
        if self.dimensions:
            parts.append("by " + ", ".join(f"{d.name} ({d.grain})" if d.grain else d.name for d in self.dimensions))
        if self.filters:
            parts.append("where " + " and ".join(f.describe() for f in self.filters))
        if self.time_range:
            parts.append("for " + self.time_range.describe())
        if self.comparison:
            parts.append("vs " + self.comparison.replace("_", " "))
        if self.share_of_total:
            parts.append("as share of total")
        if self.order:
            parts.append("sorted by " + ", ".join(o.key + (" desc" if o.descending else "") for o in self.order))
        if self.limit is not None:
            parts.append(f"top {self.limit}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-able data (dates as ISO text); `from_dict` reads it back."""
        out: dict[str, Any] = {"metrics": list(self.metrics)}
        if self.dimensions:
            out["dimensions"] = [{"name": d.name, **({"grain": d.grain} if d.grain else {})} for d in self.dimensions]
        if self.filters:
            out["filters"] = [{"dimension": f.dimension, "op": f.op, "values": [_json_value(v) for v in f.values],
                               **({"grain": f.grain} if f.grain else {})} for f in self.filters]
        if self.time_range:
            tr = self.time_range
            out["time_range"] = {"start": tr.start.isoformat() if tr.start else None,
                                 "end": tr.end.isoformat() if tr.end else None, "label": tr.label, "grain": tr.grain}
        for key in ("time_dimension", "comparison", "limit"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.share_of_total:
            out["share_of_total"] = True
        if self.order:
            out["order"] = [{"key": o.key, "descending": o.descending} for o in self.order]
        if self.adhoc_metrics:
            out["adhoc_metrics"] = [{"name": a.name, "expr": a.expr} for a in self.adhoc_metrics]
        if self.evidence:
            out["evidence"] = [{"phrase": e.phrase, "kind": e.kind, "target": e.target, "score": e.score,
                                "method": e.method} for e in self.evidence]
        return out

    @classmethod
    def from_dict(cls, data: Any) -> QueryPlan:
        """Read a plan from JSON-like data, checking every type; UserError names the first bad field."""
        return _Reader().plan(data)


def _json_value(value: Scalar) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


_PLAN_KEYS = {"metrics", "dimensions", "filters", "time_range", "time_dimension", "comparison", "share_of_total",
              "order", "limit", "adhoc_metrics", "evidence"}


class _Reader:
    """Type-checks plan data; each error names the field path, e.g. filters[1].op."""

    def fail(self, where: str, message: str, hint: str = "") -> UserError:
        return UserError(f"invalid query plan: {where}: {message}",
                         hint or "a plan is {metrics: [...], dimensions: [{name, grain}], filters: "
                                 "[{dimension, op, values}], time_range: {start, end}, ...}")

    def mapping(self, value: Any, where: str, allowed: set[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected an object, got {type(value).__name__}")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise self.fail(where, f"unknown key(s) {', '.join(unknown)}", f"allowed: {', '.join(sorted(allowed))}")
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

    def plan(self, data: Any) -> QueryPlan:
        raw = self.mapping(data, "plan", _PLAN_KEYS)
        metrics = tuple(self.text(m, f"metrics[{i}]") or "" for i, m in enumerate(self.items(raw.get("metrics"),
                                                                                           "metrics")))
        adhoc = []
        for i, item in enumerate(self.items(raw.get("adhoc_metrics"), "adhoc_metrics")):
            a = self.mapping(item, f"adhoc_metrics[{i}]", {"name", "expr"})
            adhoc.append(AdhocMetric(self.text(a.get("name"), f"adhoc_metrics[{i}].name") or "",
                                     self.text(a.get("expr"), f"adhoc_metrics[{i}].expr") or ""))
        if not metrics and not adhoc:
            raise self.fail("metrics", "a plan needs at least one metric")
        dims = []
        for i, item in enumerate(self.items(raw.get("dimensions"), "dimensions")):
            if isinstance(item, str):
                name, _, grain = item.partition(":")
                dims.append(DimensionRef(name.strip(), self.grain(grain.strip() or None, f"dimensions[{i}]")))
                continue
            d = self.mapping(item, f"dimensions[{i}]", {"name", "grain"})
            dims.append(DimensionRef(self.text(d.get("name"), f"dimensions[{i}].name") or "",
                                     self.grain(d.get("grain"), f"dimensions[{i}].grain")))
        filters = [self.filter(item, f"filters[{i}]") for i, item in enumerate(self.items(raw.get("filters"),
                                                                                          "filters"))]
        time_range = None
        if raw.get("time_range") is not None:
            tr = self.mapping(raw["time_range"], "time_range", {"start", "end", "label", "grain"})
            start, end = self.date(tr.get("start"), "time_range.start"), self.date(tr.get("end"), "time_range.end")
            if start and end and end <= start:
                raise self.fail("time_range", f"end {end} must be after start {start} (end is exclusive)")
            label = tr.get("label") or ""
            if not isinstance(label, str):
                raise self.fail("time_range.label", "expected text")
            time_range = TimeRange(start, end, label, self.grain(tr.get("grain"), "time_range.grain"))
        comparison = self.text(raw.get("comparison"), "comparison", optional=True)
        if comparison is not None and comparison not in COMPARISONS:
            raise self.fail("comparison", f"unknown comparison {comparison!r}", f"one of: {', '.join(COMPARISONS)}")
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
        evidence = []
        for i, item in enumerate(self.items(raw.get("evidence"), "evidence")):
            e = self.mapping(item, f"evidence[{i}]", {"phrase", "kind", "target", "score", "method"})
            score = e.get("score", 1.0)
            if isinstance(score, bool) or not isinstance(score, int | float):
                raise self.fail(f"evidence[{i}].score", f"expected a number, got {score!r}")
            evidence.append(Evidence(str(e.get("phrase", "")), str(e.get("kind", "other")),
                                     str(e.get("target", "")), float(score), str(e.get("method", "exact"))))
        return QueryPlan(metrics, tuple(dims), tuple(filters), time_range,
                         self.text(raw.get("time_dimension"), "time_dimension", optional=True), comparison, share,
                         tuple(order), limit, tuple(adhoc), tuple(evidence))

    def filter(self, item: Any, where: str) -> Filter:
        f = self.mapping(item, where, {"dimension", "op", "values", "value", "grain"})
        dim = self.text(f.get("dimension"), f"{where}.dimension") or ""
        op_raw = self.text(f.get("op"), f"{where}.op") or ""
        op = _OP_ALIASES.get(op_raw.lower(), op_raw.lower())
        if op not in FILTER_OPS:
            raise self.fail(f"{where}.op", f"unknown operator {op_raw!r}", f"operators: {' '.join(FILTER_OPS)}")
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
        return Filter(dim, op, tuple(values), self.grain(f.get("grain"), f"{where}.grain"))
