"""Compile a QueryPlan against the semantic layer into one SQL statement (a sqlglot AST) for a dialect.

Stages, each a function over frozen state:
  resolve   names → model objects: dimensions, the metrics needed, ad-hoc trees, aggregates (→ `_Plan`)
  groups    measures and aggregates by model and time dimension (→ `_Groups`)
  core      one CTE per group (each aggregates its own model at the requested grain, joining only
            many-to-one models, so a one-to-many join can never double count) → union of dimension keys,
            null-safe LEFT JOIN of each group → metric expressions (ratio, derived, cumulative, ad-hoc)
  finish    comparison, share, result filters → order and limit
A plan with no metric and no aggregate lists distinct rows of its dimensions from one model instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from datatruth.errors import InternalError, NotFound, UserError, present
from datatruth.semantic import dialects
from datatruth.semantic import sqlparts as sp
from datatruth.semantic.joins import JoinGraph, JoinStep
from datatruth.semantic.labels import dimension_label, humanize, metric_label
from datatruth.semantic.model import (
    DATE_PARTS,
    METRIC_TIME,
    SEPARATOR,
    TIME_GRAINS,
    Dimension,
    Measure,
    Metric,
    QualifiedDimension,
    SemanticLayer,
    SemanticModel,
)
from datatruth.semantic.plan import (
    Aggregate,
    Condition,
    DimensionRef,
    Filter,
    FilteredInput,
    QueryPlan,
    TimeRange,
)

PERIOD = "period"
PERIOD_START = "period_start"


@dataclass(frozen=True)
class OutputColumn:
    """One column of the compiled query's result, in order."""

    name: str
    role: str  # "dimension" or "metric"
    format: str | None = None  # currency / percent / number for metrics
    label: str = ""
    additive: bool = False  # a metric whose values of disjoint groups add up (sum/count): shares make sense


@dataclass(frozen=True)
class CompiledQuery:
    """The SQL for a plan, with its AST, dialect, output columns and the model version it was compiled from."""

    sql: str
    ast: exp.Expression = field(repr=False, compare=False)
    dialect: str
    columns: tuple[OutputColumn, ...]
    model_version: str


@dataclass(frozen=True)
class _Dim:
    """A plan dimension resolved: its output column and how to compute it from a group's model."""

    ref: DimensionRef
    column: str
    grain: str | None
    qualified: str | None  # None for metric_time and the period columns (resolved per group)
    kind: str = "plain"  # plain | time (metric_time) | period | period_start


@dataclass(frozen=True)
class _Agg:
    """One aggregate a group CTE computes: a measure under metric filters, or an aggregate of a dimension."""

    alias: str
    function: str
    expr: str | None = None  # a measure's SQL over the group's model
    dimension: str | None = None  # or a dimension reached from the group's model
    percentile: float | None = None
    filters: tuple[str, ...] = ()
    where: tuple[Filter, ...] = ()  # an ad-hoc figure's own filters (any reachable dimension)
    conditions: tuple[Condition, ...] = ()  # and its members' tests ("orders with more than $750 of revenue")
    divided_by: str | None = None  # a second dimension each row's value is divided by
    since: str | None = None  # an earlier date: each row's value is the whole days from it to `dimension`
    grain: str | None = None  # a date counted by the periods of this grain it falls in


@dataclass(frozen=True)
class _Group:
    """Aggregates sharing a model and a time dimension (and, for cumulative metrics, the same window)."""

    name: str
    model: SemanticModel
    time_dim: str | None
    cumulative: Metric | None
    aggs: tuple[_Agg, ...]


@dataclass(frozen=True)
class _Plan:
    """The plan with its names resolved against the layer."""

    plan: QueryPlan
    layer: SemanticLayer
    dialect: str
    graph: JoinGraph
    dims: tuple[_Dim, ...]
    time_grain: str | None
    needed: tuple[str, ...]  # metrics in dependency order
    adhoc: tuple[tuple[str, exp.Expression], ...]


@dataclass(frozen=True)
class _Groups:
    """The groups of a plan and where each metric's or aggregate's value is found: name → (group, alias)."""

    groups: tuple[_Group, ...]
    where: Mapping[str, tuple[str, str]]


@dataclass(frozen=True)
class _Core:
    ctes: tuple[exp.CTE, ...]
    select: exp.Select
    outputs: tuple[tuple[str, exp.Expression], ...]


_CACHE_SIZE = 512
# Aggregations whose group values add up to the total over the groups (a count distinct does not).
ADDITIVE_AGGREGATIONS = ("sum", "count")


def compile_plan(plan: QueryPlan, layer: SemanticLayer, dialect: str) -> CompiledQuery:
    """Compile a plan to SQL in `dialect` (duckdb, postgres, mysql, spark); UserError for plans the model cannot
    answer.

    Results are cached per layer (a repeated question costs a dict lookup); treat `CompiledQuery.ast` as
    read-only — copy it before transforming.
    """
    name = dialects.target_dialect(dialect)
    cache: dict[tuple[QueryPlan, str], CompiledQuery] = layer.memo("compiled", dict)
    # evidence explains the plan but does not change the SQL
    key = (replace(plan, evidence=()), name)
    found = cache.get(key)
    if found is None:
        try:
            found = dialects.retarget(_compile(plan, layer, dialects.build_dialect(name)), name)
        except SqlglotError as err:
            # An expression in the model files is not SQL (validation reports it with its file and line).
            raise UserError(
                f"the semantic model has an expression that is not valid SQL: "
                f"{str(err).splitlines()[0][:200]}",
                "run `datatruth semantic validate` to see which file and line, and fix it",
            ) from None
        if len(cache) >= _CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = found
    return found


def _compile(plan: QueryPlan, layer: SemanticLayer, dialect: str) -> CompiledQuery:
    if any(a.metric for a in plan.aggregates):
        return _member_figures(plan, layer, dialect)
    resolved = resolve(plan, layer, dialect)
    if plan.is_list:
        select, columns = list_query(resolved)
    else:
        select, columns = aggregate_query(resolved)
    sql = select.sql(dialect=dialect, pretty=True, copy=False)
    return CompiledQuery(sql, select, dialect, columns, layer.version_hash)


_MEMBERS = "per_member"


def _member_figures(plan: QueryPlan, layer: SemanticLayer, dialect: str) -> CompiledQuery:
    """An aggregate of a metric counted once per member ("the median order total"): the plan's metric per member
    (with its filters, period and groups) is a CTE; the outer query aggregates its rows by the plan's groups."""
    a = plan.aggregates[0]
    metric = present(a.metric, "the aggregate's metric")
    if len(plan.aggregates) > 1 or plan.metrics or plan.adhoc_metrics or plan.conditions or plan.periods:
        raise UserError(
            f"'{a.name}' aggregates {metric} per member and is asked alone",
            "ask for the other figures in a question of their own",
        )
    if plan.comparison is not None or plan.share_of_total or plan.result_filters:
        raise UserError(f"'{a.name}' cannot be compared or shared", "ask for the figure alone")
    if a.function not in ("avg", "median", "percentile", "min", "max", "sum"):
        raise UserError(f"'{a.name}': a figure per member is averaged, summed or ranked, not {a.function}")
    inner_plan = replace(
        plan,
        metrics=(metric,),
        aggregates=(),
        dimensions=(*plan.dimensions, DimensionRef(a.dimension)),
        order=(),
        limit=None,
        evidence=(),
    )
    inner = _compile(inner_plan, layer, dialect)
    figure = next(c for c in inner.columns if c.role == "metric")
    groups = [c for c in inner.columns if c.role == "dimension" and c.name != a.dimension]
    body = inner.ast.copy()
    ctes = list(body.args["with_"].expressions) if body.args.get("with_") else []
    body.set("with_", None)
    body.set("order", None)  # the members are aggregated; their order is the outer query's
    value = sp.col(figure.name, _MEMBERS)
    functions: dict[str, Callable[[], exp.Expression]] = {
        "avg": lambda: exp.Avg(this=value),
        "min": lambda: exp.Min(this=value),
        "max": lambda: exp.Max(this=value),
        "sum": lambda: exp.Sum(this=value),
    }
    made = functions.get(a.function)
    agg = made() if made else sp.percentile(value, a.percentile or 0.5, dialect, a.function)
    exprs = {c.name: sp.col(c.name, _MEMBERS) for c in groups} | {a.name: agg}
    select = exp.select(*(e.copy().as_(n) for n, e in exprs.items())).from_(exp.to_table(_MEMBERS))
    if groups:
        select = select.group_by(*(sp.col(c.name, _MEMBERS) for c in groups))
    ctes.append(exp.CTE(this=body, alias=exp.TableAlias(this=sp.ident(_MEMBERS))))
    select.set("with_", exp.With(expressions=ctes))
    order = [
        exp.Ordered(this=exprs[o.key].copy(), desc=o.descending, nulls_first=False)
        for o in plan.order
        if o.key in exprs
    ]
    order += [exp.Ordered(this=exprs[c.name].copy(), desc=False, nulls_first=False) for c in groups]
    if order:
        select.set("order", exp.Order(expressions=order))
    if plan.limit_per:
        raise UserError(
            "a figure per member is ranked over every group at once, not within each",
            "ask for the top rows without 'in each …'",
        )
    if plan.limit is not None:
        select.set("limit", exp.Limit(expression=exp.Literal.number(plan.limit)))
    label = a.label or f"{a.function} of {metric} per member"
    columns = (*groups, OutputColumn(a.name, "metric", figure.format, label))
    return CompiledQuery(
        select.sql(dialect=dialect, pretty=True), select, dialect, columns, layer.version_hash
    )


# -- stage 1: resolve ---------------------------------------------------------------------------------------


def resolve(plan: QueryPlan, layer: SemanticLayer, dialect: str) -> _Plan:
    """Check every name of the plan and resolve dimensions, metrics and ad-hoc expressions."""
    for name in plan.metrics:
        layer.metric(name)
    dims: list[_Dim] = []
    if plan.periods:
        dims.append(_Dim(DimensionRef(PERIOD), PERIOD, None, None, "period"))
        if not all(tr.months for tr in plan.periods):  # a season of every year has no first day
            dims.append(_Dim(DimensionRef(PERIOD_START), PERIOD_START, None, None, "period_start"))
    dims += [_resolve_dim(layer, d) for d in plan.dimensions]
    columns = [d.column for d in dims]
    if len(set(columns)) != len(columns):
        raise UserError("the plan asks for the same dimension twice", "remove the repeated dimension")
    time_grain = next((d.grain for d in dims if d.kind == "time"), None)
    for f in plan.filters + tuple(f for f in plan.result_filters if f.dimension not in plan.outputs):
        _check_filter(layer, f)  # a result filter on a computed figure ("… change > 0") names no dimension
    for a in plan.aggregates:
        _check_aggregate(layer, a)
    for c in plan.conditions:
        _check_condition(layer, c)
    adhoc = tuple((a.name, _parse_adhoc(layer, plan, a.name, a.expr)) for a in plan.adhoc_metrics)
    outputs = list(plan.outputs)
    if len(set(outputs)) != len(outputs) or set(outputs) & set(columns):
        raise UserError("the plan names the same output column twice", "give ad-hoc metrics distinct names")
    needed: list[str] = []
    aggregate_names = {a.name for a in plan.aggregates} | {
        i.name for a in plan.adhoc_metrics for i in a.inputs
    }
    for adhoc_metric in plan.adhoc_metrics:
        for i in adhoc_metric.inputs:
            _check_input(layer, i)
    for name in list(plan.metrics) + [
        n for _, tree in adhoc for n in _refs(tree) if n not in aggregate_names
    ]:
        _collect(layer, name, needed, ())
    _check_comparison(plan)
    if plan.periods and (plan.comparison or plan.time_range is not None and plan.time_range.parts):
        raise UserError(
            "compared periods cannot be combined with another comparison",
            "ask for the periods alone, e.g. 'revenue Q3 2026 vs Q3 2025'",
        )
    if plan.is_list and (plan.comparison or plan.share_of_total or plan.conditions or plan.periods):
        raise UserError(
            "a list of rows has no comparison, share or condition on a metric",
            "name a metric to compute, or drop the comparison",
        )
    return _Plan(plan, layer, dialect, JoinGraph.of(layer), tuple(dims), time_grain, tuple(needed), adhoc)


def _resolve_dim(layer: SemanticLayer, ref: DimensionRef) -> _Dim:
    if ref.name == METRIC_TIME:
        grain = ref.grain or "day"
        return _Dim(ref, f"{METRIC_TIME}{SEPARATOR}{grain}", grain, None, "time")
    qd = layer.dimension(ref.name)
    if qd.dimension.is_time:
        grain = ref.grain or qd.dimension.time_granularity or "day"
        return _Dim(ref, f"{ref.name}{SEPARATOR}{grain}", grain, ref.name)
    if ref.grain:
        raise UserError(
            f"'{ref.name}' is not a time dimension, so it has no grain",
            "drop the grain or pick a time dimension",
        )
    return _Dim(ref, ref.name, None, ref.name)


def _check_filter(layer: SemanticLayer, f: Filter) -> None:
    if f.dimension != METRIC_TIME:
        qd = layer.dimension(f.dimension)
        if f.grain and not qd.dimension.is_time:
            raise UserError(f"'{f.dimension}' is not a time dimension, so a filter on it has no grain")
    if f.since is not None:
        dates = [layer.dimension(n) for n in (f.since, f.dimension) if n != METRIC_TIME]
        if len(dates) != 2 or not all(d.dimension.is_time for d in dates) or f.grain:
            raise UserError(
                f"a filter on the days from '{f.since}' to '{f.dimension}' needs two named dates (and no grain)"
            )


def _check_input(layer: SemanticLayer, i: FilteredInput) -> None:
    metric = layer.metric(i.metric)
    if metric.type != "simple" or metric.measure is None:
        raise UserError(
            f"'{i.name}' counts '{i.metric}' over some rows, which needs a simple metric",
            "filter a metric computed from one measure",
        )
    for f in i.filters:
        _check_filter(layer, f)
    for c in i.conditions:
        _check_condition(layer, c)


def _check_comparison(plan: QueryPlan) -> None:
    if plan.comparison and not (plan.time_range and plan.time_range.start and plan.time_range.end):
        raise UserError(
            "a comparison needs a time range with a start and an end",
            "ask for a period, e.g. 'last quarter vs previous period'",
        )
    if plan.comparison and plan.time_range is not None and plan.time_range.months:
        raise UserError(
            "a season's months of one year cannot be compared with a previous period",
            "compare two named periods instead, e.g. 'summer 2013 vs summer 2012'",
        )


def _check_aggregate(layer: SemanticLayer, a: Aggregate) -> None:
    layer.dimension(a.dimension)
    if a.divided_by is not None:
        layer.dimension(a.divided_by)
        if a.function in ("count", "count_distinct"):
            raise UserError(f"aggregate '{a.name}' divides two columns; count them without dividing")
    if a.since is not None:
        if not (
            layer.dimension(a.since).dimension.is_time and layer.dimension(a.dimension).dimension.is_time
        ):
            raise UserError(
                f"aggregate '{a.name}' counts days between '{a.since}' and '{a.dimension}'; both must be dates"
            )
        if a.function in ("count", "count_distinct") or a.divided_by is not None:
            raise UserError(
                f"aggregate '{a.name}' counts days between two dates; take their avg, min, max or sum"
            )
    if a.grain is not None:
        held = layer.dimension(a.dimension).dimension
        if not held.is_time or a.function != "count_distinct":
            raise UserError(
                f"aggregate '{a.name}' counts periods of '{a.dimension}'; that takes count_distinct of a date"
            )
        order = ("hour", "day", "week", "month", "quarter", "year")
        finest = held.time_granularity or "day"
        if a.grain in order and finest in order and order.index(a.grain) < order.index(finest):
            raise UserError(
                f"{(held.label or held.name.replace('_', ' ')).lower()} holds {finest}s, not {a.grain}s",
                f"count {finest}s or coarser periods of it",
            )
    if a.over is not None:
        layer.model(a.over)
    if a.function == "percentile" and a.percentile is None:
        raise UserError(f"aggregate '{a.name}' needs a percentile between 0 and 1")


def _check_condition(layer: SemanticLayer, c: Condition) -> None:
    for name in (c.dimension, *c.together):
        layer.dimension(name)
    layer.metric(c.metric)


def _parse_adhoc(layer: SemanticLayer, plan: QueryPlan, name: str, text: str) -> exp.Expression:
    try:
        tree = sp.parse_expr(text)
    except ParseError:
        raise UserError(
            f"ad-hoc metric '{name}' is not an arithmetic expression: {text!r}",
            "write it like 'loss_payments + loss_reserves'",
        ) from None
    allowed = (
        exp.Column,
        exp.Identifier,
        exp.Literal,
        exp.Add,
        exp.Sub,
        exp.Mul,
        exp.Div,
        exp.Paren,
        exp.Neg,
    )
    for node in tree.walk():
        if not isinstance(node, allowed):
            raise UserError(
                f"ad-hoc metric '{name}' may only use + - * / and parentheses over metric names",
                f"found {node.key} in {text!r}",
            )
    aggregates = {a.name for a in plan.aggregates} | {i.name for a in plan.adhoc_metrics for i in a.inputs}
    for ref in _refs(tree):
        if not layer.has_metric(ref) and ref not in aggregates:
            raise NotFound(
                f"ad-hoc metric '{name}' uses '{ref}', which is not a metric",
                "use metric names from the semantic model",
            )
    return tree


def in_simple_terms(
    layer: SemanticLayer, name: str, name_of: Callable[[str], str] | None = None, depth: int = 0
) -> tuple[str, tuple[str, ...]] | None:
    """A metric as an ad-hoc expression over simple metrics ("gross_margin_pct" → "(revenue - cost) / revenue"),
    each written as `name_of` names it, and the simple metrics it uses; None when a part is
    shifted in time, filtered, cumulative or nested too deep."""
    metric = layer.metric(name)
    if metric.type == "simple" and metric.measure is not None:
        return (name_of(name) if name_of else name), (name,)
    if depth > 5 or metric.filter:
        return None
    if metric.type == "ratio" and metric.numerator and metric.denominator:
        top = in_simple_terms(layer, metric.numerator, name_of, depth + 1)
        bottom = in_simple_terms(layer, metric.denominator, name_of, depth + 1)
        if top is None or bottom is None:
            return None
        return f"{bracketed(top[0])} / {bracketed(bottom[0])}", tuple(dict.fromkeys(top[1] + bottom[1]))
    if (
        metric.type != "derived"
        or not metric.expr
        or any(i.offset_window or i.filter for i in metric.metrics)
    ):
        return None
    parts = {i.ref: in_simple_terms(layer, i.name, name_of, depth + 1) for i in metric.metrics}
    if any(v is None for v in parts.values()):
        return None
    try:
        tree = sp.parse_expr(metric.expr).copy()
    except ParseError:
        return None

    def swap(node: exp.Expression) -> exp.Expression:
        part = parts.get(node.name) if isinstance(node, exp.Column) and not node.table else None
        if part is None:
            return node
        inner = sp.parse_expr(part[0]).copy()
        return inner if isinstance(inner, exp.Column) else exp.Paren(this=inner)

    used = tuple(dict.fromkeys(m for v in parts.values() if v is not None for m in v[1]))
    return tree.transform(swap).sql(), used


def bracketed(expr: str) -> str:
    """An ad-hoc expression in brackets, unless it is a single name."""
    return expr if expr.isidentifier() else f"({expr})"


def _collect(layer: SemanticLayer, name: str, out: list[str], stack: tuple[str, ...]) -> None:
    if name in stack:
        raise UserError(
            f"metric '{name}' depends on itself ({' → '.join(stack + (name,))})",
            "fix the metric definitions; validation reports this as a cycle",
        )
    metric = layer.metric(name)
    for child in metric.input_metrics():
        _collect(layer, child, out, stack + (name,))
    for inp in metric.metrics:
        if inp.offset_window:
            raise UserError(
                f"metric '{name}' uses offset_window, which the compiler does not support",
                "ask for comparison: previous_period in the plan instead",
            )
    if name not in out:
        out.append(name)


# -- stage 2: groups ----------------------------------------------------------------------------------------


def groups_of(p: _Plan) -> _Groups:
    """Measures and aggregates grouped by model and time dimension; each gets a CTE."""
    specs: dict[
        tuple[str, str | None, str | None], tuple[SemanticModel, str | None, Metric | None, list[_Agg]]
    ] = {}
    where: dict[str, tuple[tuple[str, str | None, str | None], str]] = {}
    for name in p.needed:
        metric = p.layer.metric(name)
        if metric.type not in ("simple", "cumulative"):
            continue
        model, measure = p.layer.measure(present(metric.measure, f"the measure of metric '{name}'"))
        time_dim = _time_dim(p, model, measure, metric)
        cumulative = metric if metric.type == "cumulative" else None
        if cumulative and measure.agg not in ("sum", "count"):
            raise UserError(
                f"cumulative metric '{name}' needs an additive measure (sum or count), not {measure.agg}",
                "use a sum or count measure",
            )
        key = (model.name, time_dim, name if cumulative else None)
        aggs = specs.setdefault(key, (model, time_dim, cumulative, []))[3]
        filters = (metric.filter,) if metric.filter else ()
        agg = next(
            (
                a
                for a in aggs
                if a.expr == measure.expr
                and a.function == measure.agg
                and a.filters == ((measure.filter,) if measure.filter else ()) + filters
                and a.percentile == measure.percentile
            ),
            None,
        )
        if agg is None:
            agg = _Agg(
                measure.name + (f"{SEPARATOR}{name}" if filters else ""),
                measure.agg,
                measure.expr,
                None,
                measure.percentile,
                ((measure.filter,) if measure.filter else ()) + filters,
            )
            aggs.append(agg)
        where[name] = (key, agg.alias)
    for adhoc in p.plan.adhoc_metrics:
        for inp in adhoc.inputs:
            metric = p.layer.metric(inp.metric)
            model, measure = p.layer.measure(present(metric.measure, f"the measure of metric '{inp.metric}'"))
            key = (model.name, _time_dim(p, model, measure, metric), None)
            aggs = specs.setdefault(key, (model, key[1], None, []))[3]
            agg = _Agg(
                f"{measure.name}{SEPARATOR}{inp.name}",
                measure.agg,
                measure.expr,
                None,
                measure.percentile,
                ((measure.filter,) if measure.filter else ()) + ((metric.filter,) if metric.filter else ()),
                inp.filters,
                inp.conditions,
            )
            # an input shared by two ad-hoc figures ("orders in A" and "orders in A - orders in B") is counted once
            if all(a.alias != agg.alias for a in aggs):
                aggs.append(agg)
            where[inp.name] = (key, agg.alias)
    for a in p.plan.aggregates:
        model = p.layer.model(a.over) if a.over else p.layer.dimension(a.dimension).model
        time_dim = _model_time_dim(p, model)
        key = (model.name, time_dim, None)
        aggs = specs.setdefault(key, (model, time_dim, None, []))[3]
        agg = _Agg(
            a.name,
            a.function,
            None,
            a.dimension,
            a.percentile,
            divided_by=a.divided_by,
            since=a.since,
            grain=a.grain,
        )
        aggs.append(agg)
        where[a.name] = (key, agg.alias)
    groups: list[_Group] = []
    names: dict[tuple[str, str | None, str | None], str] = {}
    for i, (key, (model, time_dim, cumulative, aggs)) in enumerate(specs.items(), start=1):
        names[key] = f"{model.name}_{i}"
        groups.append(_Group(names[key], model, time_dim, cumulative, tuple(aggs)))
    return _Groups(tuple(groups), {n: (names[k], alias) for n, (k, alias) in where.items()})


def _time_dim(p: _Plan, model: SemanticModel, measure: Measure, metric: Metric) -> str | None:
    override = p.plan.time_dimension or metric.time_dimension
    if override:
        if SEPARATOR not in override and override != METRIC_TIME:
            override = f"{model.prefix}{SEPARATOR}{override}"
        qd = p.layer.dimension(override)
        if not qd.dimension.is_time:
            raise UserError(f"time dimension '{override}' is not a time dimension")
        return override
    return model.agg_time_dimension_name(measure)


def _model_time_dim(p: _Plan, model: SemanticModel) -> str | None:
    """The time dimension rows of a model are placed in time by (for aggregates of its columns)."""
    if p.plan.time_dimension and p.layer.has_dimension(p.plan.time_dimension):
        return p.plan.time_dimension
    return model.agg_time_dimension_name(Measure("", "count", "1"))


# -- stage 3: group CTEs and the core select ------------------------------------------------------------------


class _Joins:
    """The many-to-one joins one SELECT needs, collected while its expressions are built."""

    def __init__(self) -> None:
        self.steps: dict[str, JoinStep] = {}

    def add(self, step: JoinStep) -> None:
        self.steps.setdefault(step.target, step)


def _reach(p: _Plan, model: SemanticModel, qualified: str, joins: _Joins, why: str) -> exp.Expression:
    """The SQL of a dimension as seen from a model's rows, recording the joins it needs."""
    qd = p.layer.dimension(qualified)
    return _reach_model(p, model, qd.model, qd.dimension, joins, why)


def _reach_model(
    p: _Plan, source: SemanticModel, target: SemanticModel, dim: Dimension, joins: _Joins, why: str
) -> exp.Expression:
    if target.name == source.name:
        return sp.qualified(dim.expr, target.name)
    path = p.graph.path(source.name, target.name)
    if path is None:
        fan = p.graph.fans_out(source.name, target.name)
        detail = (
            "it is on the 'many' side of a one-to-many join and would double count"
            if fan
            else "no entity links the two models"
        )
        raise UserError(
            f"{why}: '{target.prefix}{SEPARATOR}{dim.name}' cannot be reached from model "
            f"'{source.name}' ({detail})",
            "pick a dimension of a model the metric's table joins to (many-to-one)",
        )
    steps = list(path.steps)
    expr, alias = dim.expr, target.name
    # A dimension that is the join key itself is read from the foreign key on the near side: it holds
    # the same value for matched rows, keeps it for rows whose key has no match (instead of collapsing
    # them into one NULL group), and saves the join.
    while steps and (near := _key_on_near_side(steps[-1], expr)) is not None:
        expr, alias = near, steps.pop().source
    for step in steps:
        joins.add(step)
    return sp.qualified(expr, alias)


def _time_expr(p: _Plan, group: _Group, joins: _Joins, why: str) -> exp.Expression:
    if group.time_dim is None:
        raise UserError(
            f"{why}: the rows of model '{group.model.name}' have no time dimension",
            "set agg_time_dimension on the measure or its model, or drop the time part of the question",
        )
    return _reach(p, group.model, group.time_dim, joins, why)


def _range_condition(p: _Plan, value: exp.Expression, tr: TimeRange) -> exp.Expression | None:
    if tr.months:
        return _months_condition(p, value, tr)
    pieces = []
    for start, end in tr.pieces():
        parts: list[exp.Expression] = []
        if start:
            parts.append(exp.GTE(this=value.copy(), expression=sp.date_literal(start)))
        if end:
            parts.append(exp.LT(this=value.copy(), expression=sp.date_literal(end)))
        if parts:
            pieces.append(_and(parts))
    if not pieces:
        return None
    return _or(pieces)


def _months_condition(p: _Plan, value: exp.Expression, tr: TimeRange) -> exp.Expression:
    """The row's month of the year is one of a season's months (within the range's bounds, when it has any)."""
    month = sp.truncate(value.copy(), "month_of_year", p.dialect)
    cond: exp.Expression = exp.In(this=month, expressions=[exp.Literal.number(m) for m in tr.months])
    if tr.start or tr.end:
        bounds = _range_condition(p, value, TimeRange(tr.start, tr.end))
        cond = _and([cond, bounds]) if bounds is not None else cond
    return cond


def _period_case(p: _Plan, value: exp.Expression, label: bool) -> exp.Expression:
    """CASE that names (or dates) the compared period a row falls in; a season of every year has no first
    day, so its period start is NULL."""
    ifs = []
    for tr in p.plan.periods:
        if tr.months:
            cond = _months_condition(p, value, tr)
            result: exp.Expression = exp.Literal.string(tr.describe()) if label else exp.Null()
            ifs.append(exp.If(this=cond, true=result))
            continue
        if tr.start is None or tr.end is None:
            raise InternalError(f"a compared period is open-ended: {tr}")
        cond = _and(
            [
                exp.GTE(this=value.copy(), expression=sp.date_literal(tr.start)),
                exp.LT(this=value.copy(), expression=sp.date_literal(tr.end)),
            ]
        )
        result = exp.Literal.string(tr.describe()) if label else sp.date_literal(tr.start)
        ifs.append(exp.If(this=cond, true=result))
    return exp.Case(ifs=ifs)


def _group_cte(  # noqa: C901 - one branch per dimension kind, then the CTE in SQL order
    p: _Plan,
    group: _Group,
    time_range: TimeRange | None,
    prefix: str,
    key_shift: tuple[int, str] | None,
) -> list[exp.CTE]:
    joins = _Joins()
    dim_exprs: list[tuple[str, exp.Expression]] = []
    time_expr: exp.Expression | None = None
    period: exp.Expression | None = None
    for d in p.dims:
        if d.kind == "time":
            time_expr = _time_expr(p, group, joins, "grouping by metric_time")
            expr = sp.truncate(time_expr, present(d.grain, "the grain of the time dimension"), p.dialect)
            if d.grain in TIME_GRAINS:
                period = expr.copy()
            if key_shift and d.grain in TIME_GRAINS and group.cumulative is None:
                # rows of the earlier period are labelled with the period they are compared to
                expr = sp.shift(expr, key_shift[0], key_shift[1], p.dialect, timestamp=d.grain == "hour")
        elif d.kind in ("period", "period_start"):
            time_expr = _time_expr(p, group, joins, "comparing periods")
            expr = _period_case(p, time_expr, d.kind == "period")
        else:
            expr = _reach(
                p, group.model, present(d.qualified, f"the dimension of column {d.column}"), joins, "grouping"
            )
            if d.grain:
                expr = sp.truncate(expr, d.grain, p.dialect)
        dim_exprs.append((d.column, expr))

    conditions = [_filter_sql(p, group.model, group, f, joins) for f in p.plan.filters]
    conditions += [_condition_sql(p, group.model, c, joins, i) for i, c in enumerate(p.plan.conditions)]
    start = time_range.start if time_range else None
    end = time_range.end if time_range else None
    if group.cumulative is not None and time_range is not None:
        start = _cumulative_start(p, group.cumulative, start, end)
    if start or end:
        if time_expr is None:
            time_expr = _time_expr(p, group, joins, "applying the time range")
        assert time_range is not None  # narrows the type only: start and end come from time_range
        bounded = TimeRange(
            start, end, parts=time_range.parts if start == time_range.start else (), months=time_range.months
        )
        cond = _range_condition(p, time_expr, bounded)
        if cond is not None:
            conditions.append(cond)
    if p.plan.periods:
        if time_expr is None:
            time_expr = _time_expr(p, group, joins, "comparing periods")
        conditions.append(
            _or([c for tr in p.plan.periods if (c := _range_condition(p, time_expr, tr)) is not None])
        )
    if period is None and time_range and time_range.start:
        period = sp.date_literal(time_range.start)

    # a figure over some rows only ("cancelled flights by airline"): when it is all the group computes, those rows
    # are the group's rows, so a member with none of them is no row, as in SQL written by hand, MetricFlow or
    # pandas, not a row of zeros
    first = group.aggs[0] if group.aggs else None
    if (
        first is not None
        and (first.filters or first.where)
        and not first.conditions
        and dim_exprs
        and group.cumulative is None
        and len({(a.filters, a.where, a.conditions) for a in group.aggs}) == 1
    ):
        conditions.append(
            _and(
                [_model_predicate(group, f, period) for f in first.filters]
                + [_filter_sql(p, group.model, group, f, joins) for f in first.where]
            )
        )
        group = replace(group, aggs=tuple(replace(a, filters=(), where=()) for a in group.aggs))
    aggs = [(a.alias, _aggregate(p, group, a, joins, period)) for a in group.aggs]
    select = _select(
        [_alias(e, n) for n, e in dim_exprs + aggs],
        _source(group.model),
        [_join(p, step, target) for target, step in joins.steps.items()],
        _and(conditions) if conditions else None,
        [e.copy() for _, e in dim_exprs],
    )
    name = f"{prefix}_{group.name}"
    if group.cumulative is None or p.time_grain is None or p.time_grain not in TIME_GRAINS:
        if group.cumulative is not None and p.time_grain in DATE_PARTS:
            raise UserError(
                f"cumulative metric '{group.cumulative.name}' cannot be grouped by "
                f"{p.time_grain.replace('_', ' ')}",
                "use a calendar grain such as day, week or month",
            )
        if group.cumulative is not None and p.plan.periods:
            raise UserError(
                f"cumulative metric '{group.cumulative.name}' cannot be compared across periods",
                "ask for the running total by month instead",
            )
        return [_cte(name, select)]
    cumulated = _cumulate(p, group, f"{name}_base", time_range, key_shift)
    return [_cte(f"{name}_base", select), _cte(name, cumulated)]


def _cumulative_start(p: _Plan, metric: Metric, start: dt.date | None, end: dt.date | None) -> dt.date | None:
    """Rows a cumulative metric reads: everything before the range end, or only its window/grain-to-date."""
    if p.time_grain in TIME_GRAINS:
        return None  # the window is applied per period in _cumulate; the range is applied there too
    if end is None:
        return start
    last = end - dt.timedelta(days=1)
    if metric.window_parts:
        n, unit = metric.window_parts
        return _minus(end, n, unit)
    if metric.grain_to_date:
        return sp.truncate_date(last, metric.grain_to_date)
    return None


def _cumulate(
    p: _Plan, group: _Group, base: str, time_range: TimeRange | None, key_shift: tuple[int, str] | None
) -> exp.Select:
    """Running totals per period by a self-join of the period rows (gap-proof and portable).

    For the earlier side of a comparison the periods are shifted only here, after accumulating, so that
    windows and grain-to-date boundaries are those of the real calendar.
    """
    metric = present(group.cumulative, "the cumulative metric of the group")
    grain = present(p.time_grain, "the time grain of a cumulative metric")
    time_col = f"{METRIC_TIME}{SEPARATOR}{grain}"
    cur, prev = "cur", "prev"
    on = [
        _null_safe_eq(sp.col(d.column, prev), sp.col(d.column, cur)) for d in p.dims if d.column != time_col
    ]
    on.append(exp.LTE(this=sp.col(time_col, prev), expression=sp.col(time_col, cur)))
    if metric.window_parts:
        n, unit = metric.window_parts
        lower = sp.shift(sp.col(time_col, cur), -n, unit, p.dialect, timestamp=grain == "hour")
        on.append(exp.GT(this=sp.col(time_col, prev), expression=lower))
    if metric.grain_to_date:
        on.append(
            exp.GTE(
                this=sp.col(time_col, prev),
                expression=sp.truncate(sp.col(time_col, cur), metric.grain_to_date, p.dialect),
            )
        )
    cols: list[exp.Expression] = []
    for d in p.dims:
        value: exp.Expression = sp.col(d.column, cur)
        if key_shift and d.column == time_col:
            value = sp.shift(value, key_shift[0], key_shift[1], p.dialect, timestamp=grain == "hour")
        cols.append(_alias(value, d.column))
    cols += [_alias(exp.Sum(this=sp.col(a.alias, prev)), a.alias) for a in group.aggs]
    where = None
    if time_range and time_range.start:
        first = sp.truncate_date(time_range.start, grain)
        where = exp.GTE(this=sp.col(time_col, cur), expression=sp.date_literal(first))
    return _select(
        cols,
        _table(base, cur),
        [exp.Join(this=_table(base, prev), on=_and(on))],
        where,
        [sp.col(d.column, cur) for d in p.dims],
    )


def _source(model: SemanticModel) -> exp.Expression:
    if model.sql:
        return exp.Subquery(
            this=sp.parse_expr(model.sql).copy(), alias=exp.TableAlias(this=sp.ident(model.name))
        )
    return _table(model.table, model.name)


def _join(p: _Plan, step: JoinStep, target: str) -> exp.Join:
    model = p.layer.model(target)
    conds = [
        exp.EQ(this=sp.qualified(a, step.source), expression=sp.qualified(b, step.target))
        for a, b in zip(step.source_exprs, step.target_exprs, strict=True)
    ]
    return exp.Join(this=_source(model), on=_and(conds), side="LEFT")


def _aggregate(
    p: _Plan, group: _Group, agg: _Agg, joins: _Joins, period: exp.Expression | None
) -> exp.Expression:
    if agg.dimension is not None and agg.since is not None:
        # whole days between two dates of the row, counted alike on every engine (both cast to DATE)
        end = _reach(p, group.model, agg.dimension, joins, f"aggregating {agg.alias}")
        start = _reach(p, group.model, agg.since, joins, f"aggregating {agg.alias}")
        value: exp.Expression = exp.DateDiff(this=_date(end), expression=_date(start), unit=exp.var("DAY"))
    elif agg.dimension is not None:
        value = _reach(p, group.model, agg.dimension, joins, f"aggregating {agg.alias}")
        if agg.grain is not None:
            value = sp.truncate(
                value, agg.grain, p.dialect
            )  # "how many days": the distinct days of the dates
        elif holds_years(p.layer.dimension(agg.dimension)):
            value = sp.truncate(
                value, "year_number", p.dialect
            )  # "the oldest year built" is a year, not a date
    else:
        value = sp.qualified(agg.expr or "1", group.model.name)
    if agg.divided_by is not None:
        # a row's ratio of two columns; a zero divisor gives NULL, which every aggregate skips
        other = _reach(p, group.model, agg.divided_by, joins, f"aggregating {agg.alias}")
        value = exp.Div(this=_double(value), expression=_nullif_zero(_double(other)))
    if agg.filters or agg.where or agg.conditions:
        cond = _and(
            [_model_predicate(group, f, period) for f in agg.filters]
            + [_filter_sql(p, group.model, group, f, joins) for f in agg.where]
            + [
                _condition_sql(p, group.model, c, joins, i, f"{agg.alias}_condition")
                for i, c in enumerate(agg.conditions)
            ]
        )
        value = exp.Case(ifs=[exp.If(this=cond, true=value)])
    if agg.function == "sum":
        return exp.Sum(this=value)
    if agg.function == "count":
        return exp.Count(this=value)
    if agg.function == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    if agg.function == "avg":
        # MySQL averages integers as DECIMAL with 4 places; a double averages alike on every engine
        return exp.Avg(this=_double(value))
    if agg.function == "min":
        return exp.Min(this=value)
    if agg.function == "max":
        return exp.Max(this=value)
    return sp.percentile(
        value, agg.percentile if agg.percentile is not None else 0.5, p.dialect, agg.function
    )


def holds_years(qd: QualifiedDimension) -> bool:
    """A date column that stands for a year ("year_built" stored as 1960-01-01): aggregated as the year."""
    return qd.dimension.is_time and "year" in qd.dimension.name.lower().split("_")


def _model_predicate(group: _Group, text: str, period: exp.Expression | None) -> exp.Expression:
    tree = sp.qualified(text, group.model.name)
    for node in list(tree.find_all(exp.Column)):
        if node.name == sp.PERIOD_START and not node.table:
            node.replace(period.copy() if period is not None else exp.Null())
    return tree


def _filter_sql(
    p: _Plan, model: SemanticModel, group: _Group | None, f: Filter, joins: _Joins
) -> exp.Expression:
    if f.dimension == METRIC_TIME:
        if group is None:
            raise UserError(
                "a list of rows cannot be filtered on metric_time", "filter on a named date instead"
            )
        target = _time_expr(p, group, joins, "filtering on metric_time")
    else:
        target = _reach(p, model, f.dimension, joins, "filtering")
    if f.since is not None:
        # whole days between two dates of the row, counted alike on every engine (both cast to DATE)
        start = _reach(p, model, f.since, joins, "filtering")
        days = exp.DateDiff(this=_date(target), expression=_date(start), unit=exp.var("DAY"))
        return _compare(days, f.op, [sp.value_literal(v) for v in f.values])
    if f.grain:
        target = sp.truncate(target, f.grain, p.dialect)
    is_time = (
        f.dimension == METRIC_TIME or p.layer.dimension(f.dimension).dimension.is_time
    ) and f.grain not in DATE_PARTS
    return _compare(target, f.op, [sp.value_literal(_as_date(v) if is_time else v) for v in f.values])


def _compare(target: exp.Expression, op: str, values: list[exp.Expression]) -> exp.Expression:
    if op == "=":
        return exp.EQ(this=target, expression=values[0])
    if op == "!=":
        return exp.NEQ(this=target, expression=values[0])
    if op in ("<", "<=", ">", ">="):
        comparisons: dict[str, type[exp.Expression]] = {
            "<": exp.LT,
            "<=": exp.LTE,
            ">": exp.GT,
            ">=": exp.GTE,
        }
        return comparisons[op](this=target, expression=values[0])
    if op == "in":
        return exp.In(this=target, expressions=values)
    if op == "not_in":
        return exp.Not(this=exp.In(this=target, expressions=values))
    if op == "between":
        return exp.Between(this=target, low=values[0], high=values[1])
    if op == "like":
        return exp.Like(this=target, expression=values[0])
    if op == "is_null":
        return exp.Is(this=target, expression=exp.Null())
    return exp.Not(this=exp.Is(this=target, expression=exp.Null()))


def _condition_sql(
    p: _Plan, model: SemanticModel, c: Condition, joins: _Joins, index: int, prefix: str = "condition"
) -> exp.Expression:
    """`member IN (members whose metric passes)`: the metric computed per member over the same filters and
    time as the rest of the plan."""
    names = (c.dimension, *c.together)
    sub = QueryPlan(
        metrics=(c.metric,),
        dimensions=tuple(DimensionRef(n) for n in names),
        filters=p.plan.filters,
        time_range=p.plan.time_range,
        time_dimension=p.plan.time_dimension,
    )
    alias = f"{prefix}_{index + 1}"
    inner = _renamed_ctes(_compile(sub, p.layer, p.dialect).ast.copy(), f"{alias}_")
    inner.set("order", None)  # a set of members has no order
    test = _compare(sp.col(c.metric, alias), c.op, [sp.value_literal(v) for v in c.values])
    if c.together:
        # a member named by several columns (a route): the row of them IN the rows that pass (uncorrelated, so an
        # output column named like an outer table, "flights", cannot be mistaken for it)
        members = _select(
            [sp.col(n, alias) for n in names],
            exp.Subquery(this=inner, alias=exp.TableAlias(this=sp.ident(alias))),
            where=test,
        )
        targets = [_reach(p, model, n, joins, "testing a condition") for n in names]
        return exp.In(this=exp.Tuple(expressions=targets), query=exp.Subquery(this=members))
    members = _select(
        [sp.col(c.dimension, alias)],
        exp.Subquery(this=inner, alias=exp.TableAlias(this=sp.ident(alias))),
        where=test,
    )
    target = _reach(p, model, c.dimension, joins, "testing a condition")
    return exp.In(this=target, query=exp.Subquery(this=members))


def _renamed_ctes(tree: exp.Expression, prefix: str) -> exp.Expression:
    """The query with its CTE names prefixed: a nested WITH may not reuse the outer query's names (Spark
    refuses DUPLICATED_CTE_NAMES), and the two name the same shapes (q_orders_1)."""
    names = {cte.alias for cte in tree.find_all(exp.CTE)}
    for cte in tree.find_all(exp.CTE):
        cte.set("alias", exp.TableAlias(this=sp.ident(prefix + cte.alias)))
    for table in tree.find_all(exp.Table):
        if table.name in names and not table.db:
            table.set("this", sp.ident(prefix + table.name))
    for column in tree.find_all(exp.Column):
        if column.table in names:
            column.set("table", sp.ident(prefix + column.table))
    return tree


def _core(
    p: _Plan, g: _Groups, prefix: str, time_range: TimeRange | None, key_shift: tuple[int, str] | None = None
) -> _Core:
    ctes: list[exp.CTE] = []
    for group in g.groups:
        ctes += _group_cte(p, group, time_range, prefix, key_shift)
    names = [f"{prefix}_{grp.name}" for grp in g.groups]
    dim_cols = [d.column for d in p.dims]
    joins: list[exp.Join] = []
    if len(names) == 1:
        source: exp.Expression = exp.Table(this=sp.ident(names[0]))
        key_table = names[0]
    elif dim_cols:
        key_table = f"{prefix}_keys"
        union: exp.Expression = _select([sp.col(c) for c in dim_cols], exp.Table(this=sp.ident(names[0])))
        for n in names[1:]:
            part = _select([sp.col(c) for c in dim_cols], exp.Table(this=sp.ident(n)))
            union = exp.Union(this=union, expression=part, distinct=True)
        ctes.append(_cte(key_table, union))
        source = exp.Table(this=sp.ident(key_table))
        joins = [
            exp.Join(
                this=exp.Table(this=sp.ident(n)),
                side="LEFT",
                on=_and([_null_safe_eq(sp.col(c, n), sp.col(c, key_table)) for c in dim_cols]),
            )
            for n in names
        ]
    else:
        source = exp.Table(this=sp.ident(names[0]))
        key_table = names[0]
        joins = [exp.Join(this=exp.Table(this=sp.ident(n)), kind="CROSS") for n in names[1:]]

    memo: dict[str, exp.Expression] = {}

    def value_of(name: str) -> exp.Expression:
        if name in memo:
            return memo[name].copy()
        if (
            name in g.where
            and not p.layer.has_metric(name)
            or name in g.where
            and p.layer.metric(name).type in ("simple", "cumulative")
        ):
            group_name, alias = g.where[name]
            result: exp.Expression = sp.col(alias, f"{prefix}_{group_name}")
        else:
            metric = p.layer.metric(name)
            if metric.type == "ratio":
                if not metric.numerator or not metric.denominator:
                    raise InternalError(f"ratio metric '{name}' has no numerator or denominator")
                result = exp.Div(
                    this=_double(value_of(metric.numerator)),
                    expression=_nullif_zero(value_of(metric.denominator)),
                )
            else:
                if metric.expr is None:
                    raise InternalError(f"derived metric '{name}' has no expression")
                refs = {i.ref: i.name for i in metric.metrics}
                result = _substitute(sp.parse_expr(metric.expr), refs, value_of)
        memo[name] = result
        return result.copy()

    outputs: list[tuple[str, exp.Expression]] = [(c, sp.col(c, key_table)) for c in dim_cols]
    outputs += [(name, value_of(name)) for name in p.plan.metrics]
    for name, tree in p.adhoc:
        outputs.append((name, _substitute(tree, {r: r for r in _refs(tree)}, _filled(p, value_of))))
    outputs += [(a.name, value_of(a.name)) for a in p.plan.aggregates]
    select = _select([_alias(e, n) for n, e in outputs], source, joins)
    return _Core(tuple(ctes), select, tuple(outputs))


# -- stage 4: comparison, share, order and limit ----------------------------------------------------------------


def aggregate_query(p: _Plan) -> tuple[exp.Select, tuple[OutputColumn, ...]]:
    """The SQL of a plan with metrics or aggregates, and its output columns."""
    plan = p.plan
    g = groups_of(p)
    current = _core(p, g, "q", plan.time_range)
    ctes = list(current.ctes)
    out_columns = [_dimension_column(p, d) for d in p.dims]
    out_columns += [_metric_column(p.layer, name) for name in plan.metrics]
    formats = {a.name: a.format for a in plan.adhoc_metrics}
    out_columns += [OutputColumn(n, "metric", formats.get(n) or "number", humanize(n)) for n, _ in p.adhoc]
    out_columns += [
        OutputColumn(a.name, "metric", "number", a.label or a.name.replace("_", " ")) for a in plan.aggregates
    ]
    outputs = list(plan.outputs)
    if not (plan.comparison or plan.share_of_total or plan.result_filters):
        select = current.select
        order_exprs = dict(current.outputs)
    else:
        ctes.append(_cte("answer", current.select))
        select_cols: list[tuple[str, exp.Expression]] = [(n, sp.col(n, "answer")) for n, _ in current.outputs]
        joins: list[exp.Join] = []
        if plan.comparison:
            n, unit, prev_range = _comparison_shift(
                p, present(plan.time_range, "the time range of a comparison")
            )
            previous = _core(p, g, "p", prev_range, key_shift=(n, unit))
            ctes += previous.ctes
            ctes.append(_cte("previous", previous.select))
            on = [_null_safe_eq(sp.col(d.column, "previous"), sp.col(d.column, "answer")) for d in p.dims]
            joins.append(
                exp.Join(
                    this=exp.Table(this=sp.ident("previous")), side="LEFT", on=_and(on) if on else exp.true()
                )
            )
            for name in outputs:
                now, before = sp.col(name, "answer"), sp.col(name, "previous")
                change = exp.Div(
                    this=exp.Paren(this=exp.Sub(this=_double(now), expression=_double(before))),
                    expression=_nullif_zero(before),
                )
                # the change both ways: in the figure's own unit ("by how many dollars") and as a percent
                difference = exp.Sub(this=now.copy(), expression=before.copy())
                select_cols += [
                    (f"{name}{SEPARATOR}previous", before),
                    (f"{name}{SEPARATOR}difference", difference),
                    (f"{name}{SEPARATOR}change_pct", change),
                ]
                column = next(c for c in out_columns if c.name == name)
                out_columns += [
                    OutputColumn(
                        f"{name}{SEPARATOR}previous",
                        "metric",
                        column.format,
                        f"{column.label} ({'a year earlier' if plan.comparison == 'same_period_last_year' else 'previous period'})",
                        column.additive,
                    ),
                    OutputColumn(
                        f"{name}{SEPARATOR}difference",
                        "metric",
                        column.format,
                        f"{column.label} difference",
                        column.additive,
                    ),
                    OutputColumn(
                        f"{name}{SEPARATOR}change_pct", "metric", "percent", f"{column.label} change"
                    ),
                ]
        if plan.share_of_total:
            for name in outputs:
                value = sp.col(name, "answer")
                total = exp.Window(this=exp.Sum(this=value.copy()))
                share = exp.Div(this=_double(value), expression=_nullif_zero(total))
                select_cols.append((f"{name}{SEPARATOR}share", share))
                column = next(c for c in out_columns if c.name == name)
                out_columns.append(
                    OutputColumn(
                        f"{name}{SEPARATOR}share", "metric", "percent", f"{column.label} share", True
                    )
                )
        inner = _select([_alias(e, n) for n, e in select_cols], exp.Table(this=sp.ident("answer")), joins)
        ctes.append(_cte("final", inner))
        where = None
        if plan.result_filters:
            where = _and([_result_filter(p, f) for f in plan.result_filters])
        select = _select(
            [sp.col(n, "final") for n, _ in select_cols], exp.Table(this=sp.ident("final")), where=where
        )
        order_exprs = {n: sp.col(n, "final") for n, _ in select_cols}
    select = _order_limit(p, select, order_exprs, [c.name for c in out_columns])
    if ctes:
        select.set(_WITH, exp.With(expressions=ctes))
    return select, tuple(out_columns)


def _result_filter(p: _Plan, f: Filter) -> exp.Expression:
    if f.dimension in p.plan.outputs:
        return _compare(sp.col(f.dimension, "final"), f.op, [sp.value_literal(v) for v in f.values])
    column = next((d.column for d in p.dims if d.qualified == f.dimension), None)
    if column is None:
        raise UserError(
            f"a result filter on '{f.dimension}' needs that dimension in the result",
            "group by the dimension the filter names",
        )
    return _compare(sp.col(column, "final"), f.op, [sp.value_literal(v) for v in f.values])


def _dimension_column(p: _Plan, d: _Dim) -> OutputColumn:
    if d.kind == "period":
        return OutputColumn(d.column, "dimension", None, "Period")
    if d.kind == "period_start":
        return OutputColumn(d.column, "dimension", None, "Period start")
    if d.kind == "time":
        return OutputColumn(d.column, "dimension", None, dimension_label(p.layer, METRIC_TIME, d.grain))
    qualified = present(d.qualified, f"the dimension of column {d.column}")
    return OutputColumn(d.column, "dimension", None, dimension_label(p.layer, qualified, d.grain))


def _metric_column(layer: SemanticLayer, name: str) -> OutputColumn:
    metric = layer.metric(name)
    additive = False
    if metric.type in ("simple", "cumulative") and metric.measure:
        model, measure = layer.measure(metric.measure)
        key = model.primary_entity
        # counting distinct keys of the model's own rows adds up too: every row falls in exactly one group
        additive = measure.agg in ADDITIVE_AGGREGATIONS or (
            measure.agg == "count_distinct" and key is not None and key.expr == measure.expr
        )
    return OutputColumn(name, "metric", metric.format, metric_label(layer, name), additive)


def _comparison_shift(p: _Plan, tr: TimeRange) -> tuple[int, str, TimeRange]:
    """How far back the compared period is, as (n, unit) applied to both the range and the period keys."""
    if tr.start is None or tr.end is None:
        raise InternalError(f"an open-ended time range has no period to compare with: {tr}")
    grain = p.time_grain
    fine = grain in ("hour", "day", "week") or grain in DATE_PARTS
    if p.plan.comparison == "same_period_last_year":
        n, unit = (364, "day") if fine else (12, "month")
    else:
        aligned = tr.start.day == 1 and tr.end.day == 1
        months = (tr.end.year - tr.start.year) * 12 + tr.end.month - tr.start.month
        if fine or not aligned:
            days = (tr.end - tr.start).days
            if grain == "week":
                days = -(-days // 7) * 7
            n, unit = days, "day"
        else:
            n, unit = months, "month"
            if grain == "quarter":
                n = -(-n // 3) * 3
            elif grain == "year":
                n = -(-n // 12) * 12
    prev = TimeRange(
        _minus(tr.start, n, unit), _minus(tr.end, n, unit), f"{tr.describe()} (previous)", tr.grain
    )
    return n, unit, prev


def _order_limit(
    p: _Plan, select: exp.Select, exprs: dict[str, exp.Expression], names: list[str]
) -> exp.Select:
    order: list[exp.Ordered] = []
    used: set[str] = set()
    for o in p.plan.order:
        if o.key not in exprs:
            raise UserError(
                f"cannot sort by '{o.key}': it is not a column of the result", f"columns: {', '.join(names)}"
            )
        # rows without a value never rank first ("longest delay" ignores flights without one)
        order.append(exp.Ordered(this=exprs[o.key].copy(), desc=o.descending, nulls_first=False))
        used.add(o.key)
    # dimension columns break ties so the row order is the same on every engine
    for d in p.dims:
        if d.column not in used:
            order.append(exp.Ordered(this=exprs[d.column].copy(), desc=False, nulls_first=False))
    if p.plan.limit_per and p.plan.limit is not None:
        return _limit_per_group(p, select, names, p.plan.limit)
    if order:
        select.set("order", exp.Order(expressions=order))
    if p.plan.limit is not None:
        select.set("limit", exp.Limit(expression=exp.Literal.number(p.plan.limit)))
    return select


_RANK = "rank_in_group"


def _limit_per_group(p: _Plan, select: exp.Select, names: list[str], limit: int) -> exp.Select:
    """ "the top 3 products in each category": the rows numbered within each group by the plan's order (the
    other columns break ties), and the first `limit` of each kept; the answer is ordered by group, then rank."""
    # "metric_time:month": the period of that grain when the answer is split by two ("the worst day of each month")
    per = [
        d.column
        for d in p.dims
        if d.qualified in p.plan.limit_per
        or (
            d.kind == "time"
            and (METRIC_TIME in p.plan.limit_per or f"{METRIC_TIME}:{d.grain}" in p.plan.limit_per)
        )
    ]
    if len(per) != len(set(p.plan.limit_per)):
        raise UserError(
            "a limit per group names a dimension the answer is not split by",
            f"split the answer by {', '.join(p.plan.limit_per)} too",
        )
    keys = [(o.key, o.descending) for o in p.plan.order]
    keys += [
        (d.column, False) for d in p.dims if d.column not in per and d.column not in {k for k, _ in keys}
    ]
    window = exp.Window(
        this=exp.RowNumber(),
        partition_by=[sp.col(c, "t") for c in per],
        order=exp.Order(
            expressions=[exp.Ordered(this=sp.col(k, "t"), desc=desc, nulls_first=False) for k, desc in keys]
        ),
    )
    numbered = _select(
        [sp.col(n, "t") for n in names] + [_alias(window, _RANK)],
        exp.Subquery(this=select, alias=exp.TableAlias(this=sp.ident("t"))),
    )
    outer = _select(
        [sp.col(n, "r") for n in names],
        exp.Subquery(this=numbered, alias=exp.TableAlias(this=sp.ident("r"))),
        where=exp.LTE(this=sp.col(_RANK, "r"), expression=exp.Literal.number(limit)),
    )
    ordered = [exp.Ordered(this=sp.col(c, "r"), desc=False, nulls_first=False) for c in per]
    ordered.append(exp.Ordered(this=sp.col(_RANK, "r")))
    outer.set("order", exp.Order(expressions=ordered))
    return outer


# -- lists of rows ------------------------------------------------------------------------------------------


def list_query(p: _Plan) -> tuple[exp.Select, tuple[OutputColumn, ...]]:
    """Distinct rows of the plan's dimensions, read from one model and the models it joins to."""
    plan = p.plan
    if not p.dims:
        raise UserError(
            "a list needs at least one column", "name what to list, e.g. 'list policies with dates'"
        )
    if any(d.kind != "plain" for d in p.dims):
        raise UserError("a list of rows is grouped by no period", "ask for a metric by month instead")
    base = _list_base(p)
    joins = _Joins()
    exprs: list[tuple[str, exp.Expression]] = []
    for d in p.dims:
        expr = _reach(p, base, present(d.qualified, f"the dimension of column {d.column}"), joins, "listing")
        if d.grain:
            expr = sp.truncate(expr, d.grain, p.dialect)
        exprs.append((d.column, expr))
    conditions = [_filter_sql(p, base, None, f, joins) for f in plan.filters]
    if plan.time_range is not None:
        time_dim = _model_time_dim(p, base)
        if time_dim is None:
            raise UserError(
                f"the rows of '{base.name}' have no date to place them in time",
                "drop the period, or filter on a named date",
            )
        cond = _range_condition(
            p, _reach(p, base, time_dim, joins, "applying the time range"), plan.time_range
        )
        if cond is not None:
            conditions.append(cond)
    select = _select(
        [_alias(e, n) for n, e in exprs],
        _source(base),
        [_join(p, step, target) for target, step in joins.steps.items()],
        _and(conditions) if conditions else None,
    )
    select.set("distinct", exp.Distinct())
    order_exprs = {n: e for n, e in exprs}
    select = _order_limit(p, select, {n: sp.col(n) for n in order_exprs}, list(order_exprs))
    columns = tuple(_dimension_column(p, d) for d in p.dims)
    return select, columns


def _list_base(p: _Plan) -> SemanticModel:
    """The model whose rows a list reads: the plan's entity, else the first model that reaches every column."""
    needed = [d.qualified for d in p.dims if d.qualified] + [
        f.dimension for f in p.plan.filters if f.dimension != METRIC_TIME
    ]
    if p.plan.entity:
        try:
            return p.layer.model(p.plan.entity)
        except NotFound:
            base = p.layer.entity_model(p.plan.entity)
            if base is None:
                raise
        return base
    own = [p.layer.dimension(n).model for n in needed]
    candidates = own + [m for m in p.layer.models if m not in own]
    for model in candidates:
        if all(_reaches(p, model, n) for n in needed):
            return model
    raise UserError(
        "no single table holds or joins to every column asked for",
        "list columns of one thing at a time (e.g. a policy and its dates)",
    )


def _reaches(p: _Plan, model: SemanticModel, qualified: str) -> bool:
    target = p.layer.dimension(qualified).model
    return target.name == model.name or p.graph.path(model.name, target.name) is not None


# -- small helpers ------------------------------------------------------------------------------------------


def _key_on_near_side(step: JoinStep, expr: str) -> str | None:
    """The source-side expression of a join key column when `expr` is one of the target's key expressions."""
    target = sp.parse_expr(expr)
    for near, far in zip(step.source_exprs, step.target_exprs, strict=True):
        if sp.parse_expr(far) == target:
            return near
    return None


def _minus(day: dt.date, n: int, unit: str) -> dt.date:
    """`day` moved back n units; an hourly window rounds up to whole days (ranges are dates)."""
    if unit in ("month", "quarter", "year"):
        return sp.add_months(day, -n * {"month": 1, "quarter": 3, "year": 12}[unit])
    if unit == "hour":
        return day - dt.timedelta(days=-(-n // 24))
    return day - dt.timedelta(days=n * (7 if unit == "week" else 1))


def _as_date(value: object) -> object:
    """An ISO date text compared with a time dimension becomes a DATE literal (portable comparison)."""
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _refs(tree: exp.Expression) -> list[str]:
    out: list[str] = []
    for node in tree.find_all(exp.Column):
        if node.name not in out:
            out.append(node.name)
    return out


def _substitute(
    tree: exp.Expression, refs: dict[str, str], value_of: Callable[[str], exp.Expression]
) -> exp.Expression:
    """Replace each input name in an arithmetic expression with its metric's SQL (as doubles when dividing)."""
    divides = any(isinstance(n, exp.Div) for n in tree.walk())

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in refs:
            inner = value_of(refs[node.name])
            return exp.Paren(this=_double(inner) if divides else inner)
        if isinstance(node, exp.Column):
            raise UserError(
                f"'{node.name}' in a metric expression is not one of its input metrics",
                f"inputs: {', '.join(refs)}",
            )
        return node

    result = tree.copy().transform(swap)
    if divides:
        for div in list(result.find_all(exp.Div)):
            div.set("expression", _nullif_zero(div.expression))
    return result


_ADDITIVE = ("sum", "count", "count_distinct")


def _filled(p: _Plan, value_of: Callable[[str], exp.Expression]) -> Callable[[str], exp.Expression]:
    """`value_of` with 0 for a missing sum or count: in a figure defined in the question ("premium minus loss
    payments"), a member with no loss payments has paid nothing, not an unknown amount."""
    aggregates = {a.name: a.function for a in p.plan.aggregates}

    def additive(name: str) -> bool:
        if name in aggregates:
            return aggregates[name] in _ADDITIVE
        if not p.layer.has_metric(name):
            return False
        metric = p.layer.metric(name)
        if metric.type != "simple" or metric.measure is None:
            return False
        return p.layer.measure(metric.measure)[1].agg in _ADDITIVE

    def value(name: str) -> exp.Expression:
        inner = value_of(name)
        return exp.Coalesce(this=inner, expressions=[exp.Literal.number(0)]) if additive(name) else inner

    return value


# sqlglot renamed these arguments (from → from_, with → with_); support both spellings
_FROM = "from_" if "from_" in exp.Select.arg_types else "from"
_WITH = "with_" if "with_" in exp.Select.arg_types else "with"


def _select(
    columns: list[exp.Expression],
    source: exp.Expression,
    joins: list[exp.Join] | None = None,
    where: exp.Expression | None = None,
    group: list[exp.Expression] | None = None,
) -> exp.Select:
    """A SELECT built node by node (sqlglot's string builders parse and copy, which costs milliseconds)."""
    select = exp.Select(expressions=columns)
    select.set(_FROM, exp.From(this=source))
    if joins:
        select.set("joins", joins)
    if where is not None:
        select.set("where", exp.Where(this=where))
    if group:
        select.set("group", exp.Group(expressions=group))
    return select


def _table(name: str, alias: str) -> exp.Table:
    """A table reference (optionally schema.table) with an alias."""
    parts = [sp.ident(p) for p in name.split(".")]
    table = exp.Table(
        this=parts[-1],
        db=parts[-2] if len(parts) > 1 else None,
        catalog=parts[-3] if len(parts) > 2 else None,
    )
    table.set("alias", exp.TableAlias(this=sp.ident(alias)))
    return table


def _and(conditions: Sequence[exp.Expression]) -> exp.Expression:
    """Conditions joined with AND, left to right."""
    # an OR inside a model filter must keep its own parentheses next to AND
    wrapped = [exp.Paren(this=c) if isinstance(c, exp.Or | exp.Xor) else c for c in conditions]
    result = wrapped[0]
    for cond in wrapped[1:]:
        result = exp.And(this=result, expression=cond)
    return result


def _or(conditions: list[exp.Expression]) -> exp.Expression:
    """Conditions joined with OR, in parentheses so they sit safely next to AND."""
    if len(conditions) == 1:
        return conditions[0]
    result = conditions[0]
    for cond in conditions[1:]:
        result = exp.Or(this=result, expression=cond)
    return exp.Paren(this=result)


def _double(e: exp.Expression) -> exp.Expression:
    # PostgreSQL divides integers as integers; a double keeps ratios fractional on every engine
    return exp.Cast(this=e, to=exp.DataType.build("double"))


def _date(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("date"))


def _nullif_zero(e: exp.Expression) -> exp.Expression:
    return exp.Nullif(this=e, expression=exp.Literal.number(0))


def _null_safe_eq(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.NullSafeEQ(this=a, expression=b)


def _alias(e: exp.Expression, name: str) -> exp.Expression:
    return exp.Alias(this=e, alias=sp.ident(name))


def _cte(name: str, select: exp.Expression) -> exp.CTE:
    return exp.CTE(this=select, alias=exp.TableAlias(this=sp.ident(name)))
