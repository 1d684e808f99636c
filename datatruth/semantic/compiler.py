"""Compile a QueryPlan against the semantic layer into one SQL statement (a sqlglot AST) for a dialect.

Stages: resolve (names → model objects) → groups (measures by model and time dimension) → group CTEs
(each aggregates its own model at the requested grain, joining only many-to-one dimension models, so a
one-to-many join can never double count) → combine (union of dimension keys, null-safe LEFT JOIN of each
group) → metric expressions (ratio, derived, cumulative, ad-hoc) → extras (comparison, share) → order/limit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from datatruth.errors import NotFound, UserError
from datatruth.semantic import dialects
from datatruth.semantic import sqlparts as sp
from datatruth.semantic.joins import JoinGraph, JoinStep
from datatruth.semantic.labels import dimension_label, humanize, metric_label
from datatruth.semantic.model import (
    METRIC_TIME,
    SEPARATOR,
    TIME_GRAINS,
    Dimension,
    Measure,
    Metric,
    SemanticLayer,
    SemanticModel,
)
from datatruth.semantic.plan import DimensionRef, Filter, QueryPlan, TimeRange


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
    """A plan dimension resolved: its output column, and how to reach it from a group's model."""

    ref: DimensionRef
    column: str
    grain: str | None
    qualified: str | None  # None for metric_time (resolved per group)


@dataclass(frozen=True)
class _Agg:
    """One aggregate a group CTE computes: a measure under optional metric-level filters."""

    alias: str
    measure: Measure
    filters: tuple[str, ...]


@dataclass
class _Group:
    """Measures sharing a model and a time dimension (and, for cumulative metrics, the same window)."""

    name: str
    model: SemanticModel
    time_dim: str | None
    cumulative: Metric | None
    aggs: list[_Agg] = field(default_factory=list)


_CACHE_SIZE = 512
# Aggregations whose group values add up to the total over the groups (a count distinct does not).
ADDITIVE_AGGREGATIONS = ("sum", "count")


def compile_plan(plan: QueryPlan, layer: SemanticLayer, dialect: str) -> CompiledQuery:
    """Compile a plan to SQL in `dialect` (duckdb, postgres, mysql, spark); UserError for plans the model cannot answer.

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
            found = dialects.retarget(_Compiler(plan, layer, dialects.build_dialect(name)).run(), name)
        except SqlglotError as err:
            # An expression in the model files is not SQL (validation reports it with its file and line).
            raise UserError(f"the semantic model has an expression that is not valid SQL: "
                            f"{str(err).splitlines()[0][:200]}",
                            "run `datatruth semantic validate` to see which file and line, and fix it") from None
        if len(cache) >= _CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = found
    return found


class _Compiler:
    def __init__(self, plan: QueryPlan, layer: SemanticLayer, dialect: str) -> None:
        self.plan = plan
        self.layer = layer
        self.dialect = dialect
        self.graph = JoinGraph.of(layer)

    # -- stage 1: resolve ---------------------------------------------------------------------------------
    def run(self) -> CompiledQuery:
        plan = self.plan
        for name in plan.metrics:
            self.layer.metric(name)
        self.dims = [self._resolve_dim(d) for d in plan.dimensions]
        columns = [d.column for d in self.dims]
        if len(set(columns)) != len(columns):
            raise UserError("the plan asks for the same dimension twice", "remove the repeated dimension")
        self.time_grain = next((d.grain for d in self.dims if d.qualified is None), None)
        for f in plan.filters:
            self._filter_target(f)
        adhoc_names = [a.name for a in plan.adhoc_metrics]
        self.adhoc = {a.name: self._parse_adhoc(a.name, a.expr) for a in plan.adhoc_metrics}
        outputs = list(plan.metrics) + adhoc_names
        if len(set(outputs)) != len(outputs) or set(outputs) & set(columns):
            raise UserError("the plan names the same output column twice", "give ad-hoc metrics distinct names")
        needed: list[str] = []
        for name in list(plan.metrics) + [n for tree in self.adhoc.values() for n in _refs(tree)]:
            self._collect(name, needed, ())
        self.needed = needed
        if plan.comparison and not (plan.time_range and plan.time_range.start and plan.time_range.end):
            raise UserError("a comparison needs a time range with a start and an end",
                            "ask for a period, e.g. 'last quarter vs previous period'")

        current = self._core("q", plan.time_range)
        ctes = list(current.ctes)
        select_cols: list[tuple[str, exp.Expression]] = []
        out_columns = [OutputColumn(d.column, "dimension", label=dimension_label(self.layer, d.ref.name, d.grain))
                       for d in self.dims]
        out_columns += [self._metric_column(name) for name in plan.metrics]
        out_columns += [OutputColumn(n, "metric", "number", humanize(n)) for n in adhoc_names]
        extras = bool(plan.comparison or plan.share_of_total)
        if not extras:
            select = current.select
            order_exprs = dict(current.outputs)
        else:
            ctes.append(_cte("answer", current.select))
            answer_cols = [(n, sp.col(n, "answer")) for n, _ in current.outputs]
            select_cols += answer_cols
            from_ = exp.Table(this=sp.ident("answer"))
            joins: list[exp.Join] = []
            if plan.comparison:
                assert plan.time_range is not None
                n, unit, prev_range = self._comparison_shift(plan.time_range)
                previous = self._core("p", prev_range, key_shift=(n, unit))
                ctes += previous.ctes
                ctes.append(_cte("previous", previous.select))
                on = [_null_safe_eq(sp.col(d.column, "previous"), sp.col(d.column, "answer")) for d in self.dims]
                joins.append(exp.Join(this=exp.Table(this=sp.ident("previous")), side="LEFT",
                                      on=_and(on) if on else exp.true()))
                for name in outputs:
                    now, before = sp.col(name, "answer"), sp.col(name, "previous")
                    change = exp.Div(this=exp.Paren(this=exp.Sub(this=_double(now), expression=_double(before))),
                                     expression=_nullif_zero(before))
                    select_cols += [(f"{name}{SEPARATOR}previous", before), (f"{name}{SEPARATOR}change_pct", change)]
                    base = self._metric_column(name) if name in plan.metrics else OutputColumn(
                        name, "metric", "number", humanize(name))
                    out_columns += [OutputColumn(f"{name}{SEPARATOR}previous", "metric", base.format,
                                                 f"{base.label} (previous period)", base.additive),
                                    OutputColumn(f"{name}{SEPARATOR}change_pct", "metric", "percent",
                                                 f"{base.label} change")]
            if plan.share_of_total:
                for name in outputs:
                    value = sp.col(name, "answer")
                    total = exp.Window(this=exp.Sum(this=value.copy()))
                    share = exp.Div(this=_double(value), expression=_nullif_zero(total))
                    select_cols.append((f"{name}{SEPARATOR}share", share))
                    label = self._metric_column(name).label if name in plan.metrics else humanize(name)
                    out_columns.append(OutputColumn(f"{name}{SEPARATOR}share", "metric", "percent", f"{label} share",
                                                    True))
            inner = _select([_alias(e, n) for n, e in select_cols], from_, joins)
            ctes.append(_cte("final", inner))
            select = _select([sp.col(n, "final") for n, _ in select_cols], exp.Table(this=sp.ident("final")))
            order_exprs = {n: sp.col(n, "final") for n, _ in select_cols}
        select = self._order_limit(select, order_exprs, [c.name for c in out_columns])
        if ctes:
            select.set(_WITH, exp.With(expressions=ctes))
        sql = select.sql(dialect=self.dialect, pretty=True, copy=False)
        return CompiledQuery(sql, select, self.dialect, tuple(out_columns), self.layer.version_hash)

    def _metric_column(self, name: str) -> OutputColumn:
        metric = self.layer.metric(name)
        additive = False
        if metric.type in ("simple", "cumulative") and metric.measure:
            model, measure = self.layer.measure(metric.measure)
            key = model.primary_entity
            # Counting distinct keys of the model's own rows adds up too: every row falls in exactly one group.
            additive = measure.agg in ADDITIVE_AGGREGATIONS or (
                measure.agg == "count_distinct" and key is not None and key.expr == measure.expr)
        return OutputColumn(name, "metric", metric.format, metric_label(self.layer, name), additive)

    def _resolve_dim(self, ref: DimensionRef) -> _Dim:
        if ref.name == METRIC_TIME:
            grain = ref.grain or "day"
            return _Dim(ref, f"{METRIC_TIME}{SEPARATOR}{grain}", grain, None)
        qd = self.layer.dimension(ref.name)
        if qd.dimension.is_time:
            grain = ref.grain or qd.dimension.time_granularity or "day"
            return _Dim(ref, f"{ref.name}{SEPARATOR}{grain}", grain, ref.name)
        if ref.grain:
            raise UserError(f"'{ref.name}' is not a time dimension, so it has no grain",
                            "drop the grain or pick a time dimension")
        return _Dim(ref, ref.name, None, ref.name)

    def _filter_target(self, f: Filter) -> None:
        if f.dimension != METRIC_TIME:
            qd = self.layer.dimension(f.dimension)
            if f.grain and not qd.dimension.is_time:
                raise UserError(f"'{f.dimension}' is not a time dimension, so a filter on it has no grain")

    def _parse_adhoc(self, name: str, text: str) -> exp.Expression:
        try:
            tree = sp.parse_expr(text)
        except ParseError:
            raise UserError(f"ad-hoc metric '{name}' is not an arithmetic expression: {text!r}",
                            "write it like 'loss_payments + loss_reserves'") from None
        allowed = (exp.Column, exp.Identifier, exp.Literal, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Paren, exp.Neg)
        for node in tree.walk():
            if not isinstance(node, allowed):
                raise UserError(f"ad-hoc metric '{name}' may only use + - * / and parentheses over metric names",
                                f"found {node.key} in {text!r}")
        for ref in _refs(tree):
            if not self.layer.has_metric(ref):
                raise NotFound(f"ad-hoc metric '{name}' uses '{ref}', which is not a metric",
                               "use metric names from the semantic model")
        return tree

    def _collect(self, name: str, out: list[str], stack: tuple[str, ...]) -> None:
        if name in stack:
            raise UserError(f"metric '{name}' depends on itself ({' → '.join(stack + (name,))})",
                            "fix the metric definitions; validation reports this as a cycle")
        metric = self.layer.metric(name)
        for child in metric.input_metrics():
            self._collect(child, out, stack + (name,))
        for inp in metric.metrics:
            if inp.offset_window:
                raise UserError(f"metric '{name}' uses offset_window, which the compiler does not support",
                                "ask for comparison: previous_period in the plan instead")
        if name not in out:
            out.append(name)

    # -- stage 2: groups and their CTEs ---------------------------------------------------------------------
    def _groups(self) -> tuple[list[_Group], dict[str, tuple[_Group, _Agg]]]:
        groups: dict[tuple[str, str | None, str | None], _Group] = {}
        where: dict[str, tuple[_Group, _Agg]] = {}
        for name in self.needed:
            metric = self.layer.metric(name)
            if metric.type not in ("simple", "cumulative"):
                continue
            assert metric.measure is not None
            model, measure = self.layer.measure(metric.measure)
            time_dim = self._time_dim(model, measure, metric)
            cumulative = metric if metric.type == "cumulative" else None
            if cumulative and measure.agg not in ("sum", "count"):
                raise UserError(f"cumulative metric '{name}' needs an additive measure (sum or count), "
                                f"not {measure.agg}", "use a sum or count measure")
            key = (model.name, time_dim, name if cumulative else None)
            group = groups.get(key)
            if group is None:
                group = _Group("", model, time_dim, cumulative)  # named below, in order
                groups[key] = group
            filters = (metric.filter,) if metric.filter else ()
            agg = next((a for a in group.aggs if a.measure == measure and a.filters == filters), None)
            if agg is None:
                agg = _Agg(f"{measure.name}" + (f"{SEPARATOR}{name}" if filters else ""), measure, filters)
                group.aggs.append(agg)
            where[name] = (group, agg)
        ordered = list(groups.values())
        for i, group in enumerate(ordered, start=1):
            group.name = f"{group.model.name}_{i}"
        return ordered, where

    def _time_dim(self, model: SemanticModel, measure: Measure, metric: Metric) -> str | None:
        override = self.plan.time_dimension or metric.time_dimension
        if override:
            if SEPARATOR not in override and override != METRIC_TIME:
                override = f"{model.prefix}{SEPARATOR}{override}"
            qd = self.layer.dimension(override)
            if not qd.dimension.is_time:
                raise UserError(f"time dimension '{override}' is not a time dimension")
            return override
        return model.agg_time_dimension_name(measure)

    def _reach(self, group: _Group, qualified: str, joins: dict[str, JoinStep], why: str) -> exp.Expression:
        """The SQL of a dimension as seen from a group's model, recording the joins it needs."""
        qd = self.layer.dimension(qualified)
        return self._reach_model(group, qd.model, qd.dimension, joins, why)

    def _reach_model(self, group: _Group, target: SemanticModel, dim: Dimension, joins: dict[str, JoinStep],
                     why: str) -> exp.Expression:
        if target.name != group.model.name:
            path = self.graph.path(group.model.name, target.name)
            if path is None:
                fan = self.graph.fans_out(group.model.name, target.name)
                detail = ("it is on the 'many' side of a one-to-many join and would double count" if fan
                          else "no entity links the two models")
                raise UserError(f"{why}: '{target.prefix}{SEPARATOR}{dim.name}' cannot be reached from model "
                                f"'{group.model.name}' ({detail})",
                                "pick a dimension of a model the metric's table joins to (many-to-one)")
            steps = list(path.steps)
            expr, alias = dim.expr, target.name
            # A dimension that is the join key itself is read from the foreign key on the near side: it holds
            # the same value for matched rows, keeps it for rows whose key has no match (instead of collapsing
            # them into one NULL group), and saves the join.
            while steps and (near := _key_on_near_side(steps[-1], expr)) is not None:
                expr, alias = near, steps.pop().source
            for step in steps:
                joins.setdefault(step.target, step)
            return sp.qualified(expr, alias)
        return sp.qualified(dim.expr, target.name)

    def _time_expr(self, group: _Group, joins: dict[str, JoinStep], why: str) -> tuple[exp.Expression, Dimension]:
        if group.time_dim is None:
            metrics = ", ".join(sorted({n for n in self.needed if self._group_of(n) is group}))
            raise UserError(f"{why}: metric(s) {metrics} have no time dimension",
                            "set agg_time_dimension on the measure or its model, or drop the time part of the question")
        qd = self.layer.dimension(group.time_dim)
        return self._reach(group, group.time_dim, joins, why), qd.dimension

    def _group_of(self, name: str) -> _Group | None:
        found = getattr(self, "_where", {}).get(name)
        return found[0] if found else None

    def _group_cte(self, group: _Group, time_range: TimeRange | None, prefix: str,
                   key_shift: tuple[int, str] | None) -> list[exp.CTE]:
        joins: dict[str, JoinStep] = {}
        dim_exprs: list[tuple[str, exp.Expression]] = []
        time_expr: exp.Expression | None = None
        time_dim: Dimension | None = None
        period: exp.Expression | None = None
        for d in self.dims:
            if d.qualified is None:
                time_expr, time_dim = self._time_expr(group, joins, "grouping by metric_time")
                assert d.grain is not None
                expr = sp.truncate(time_expr, d.grain, self.dialect)
                if d.grain in TIME_GRAINS:
                    period = expr.copy()
                cumulates = group.cumulative is not None
                if key_shift and d.grain in TIME_GRAINS and not cumulates:
                    # rows of the earlier period are labelled with the period they are compared to
                    expr = sp.shift(expr, key_shift[0], key_shift[1], self.dialect, timestamp=d.grain == "hour")
            else:
                expr = self._reach(group, d.qualified, joins, "grouping")
                if d.grain:
                    expr = sp.truncate(expr, d.grain, self.dialect)
            dim_exprs.append((d.column, expr))

        conditions = [self._filter_sql(group, f, joins) for f in self.plan.filters]
        start = time_range.start if time_range else None
        end = time_range.end if time_range else None
        if group.cumulative is not None and time_range is not None:
            start = self._cumulative_start(group.cumulative, start, end)
        if start or end:
            if time_expr is None:
                time_expr, time_dim = self._time_expr(group, joins, "applying the time range")
            if start:
                conditions.append(exp.GTE(this=time_expr.copy(), expression=sp.date_literal(start)))
            if end:
                conditions.append(exp.LT(this=time_expr.copy(), expression=sp.date_literal(end)))
        if period is None and time_range and time_range.start:
            period = sp.date_literal(time_range.start)

        aggs = [(a.alias, self._aggregate(group, a, joins, period)) for a in group.aggs]
        base = group.model
        source: exp.Expression
        if base.sql:
            source = exp.Subquery(this=sp.parse_expr(base.sql).copy(), alias=exp.TableAlias(this=sp.ident(base.name)))
        else:
            source = _table(base.table, base.name)
        select = _select([_alias(e, n) for n, e in dim_exprs + aggs], source,
                         [self._join(step, target) for target, step in joins.items()],
                         _and(conditions) if conditions else None, [e.copy() for _, e in dim_exprs])
        name = f"{prefix}_{group.name}"
        if group.cumulative is None or self.time_grain is None or self.time_grain not in TIME_GRAINS:
            if group.cumulative is not None and self.time_grain == "day_of_week":
                raise UserError(f"cumulative metric '{group.cumulative.name}' cannot be grouped by day of week",
                                "use a calendar grain such as day, week or month")
            return [_cte(name, select)]
        cumulated = self._cumulate(group, f"{name}_base", time_range, key_shift)
        return [_cte(f"{name}_base", select), _cte(name, cumulated)]

    def _cumulative_start(self, metric: Metric, start: dt.date | None, end: dt.date | None) -> dt.date | None:
        """Rows a cumulative metric reads: everything before the range end, or only its window/grain-to-date."""
        if self.time_grain in TIME_GRAINS:
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

    def _cumulate(self, group: _Group, base: str, time_range: TimeRange | None,
                  key_shift: tuple[int, str] | None) -> exp.Select:
        """Running totals per period by a self-join of the period rows (gap-proof and portable).

        For the earlier side of a comparison the periods are shifted only here, after accumulating, so that
        windows and grain-to-date boundaries are those of the real calendar.
        """
        metric = group.cumulative
        assert metric is not None and self.time_grain is not None
        time_col = f"{METRIC_TIME}{SEPARATOR}{self.time_grain}"
        cur, prev = "cur", "prev"
        on = [_null_safe_eq(sp.col(d.column, prev), sp.col(d.column, cur)) for d in self.dims
              if d.column != time_col]
        on.append(exp.LTE(this=sp.col(time_col, prev), expression=sp.col(time_col, cur)))
        if metric.window_parts:
            n, unit = metric.window_parts
            lower = sp.shift(sp.col(time_col, cur), -n, unit, self.dialect, timestamp=self.time_grain == "hour")
            on.append(exp.GT(this=sp.col(time_col, prev), expression=lower))
        if metric.grain_to_date:
            on.append(exp.GTE(this=sp.col(time_col, prev),
                              expression=sp.truncate(sp.col(time_col, cur), metric.grain_to_date, self.dialect)))
        cols: list[exp.Expression] = []
        for d in self.dims:
            value: exp.Expression = sp.col(d.column, cur)
            if key_shift and d.column == time_col:
                value = sp.shift(value, key_shift[0], key_shift[1], self.dialect, timestamp=self.time_grain == "hour")
            cols.append(_alias(value, d.column))
        cols += [_alias(exp.Sum(this=sp.col(a.alias, prev)), a.alias) for a in group.aggs]
        where = None
        if time_range and time_range.start:
            first = sp.truncate_date(time_range.start, self.time_grain)
            where = exp.GTE(this=sp.col(time_col, cur), expression=sp.date_literal(first))
        return _select(cols, _table(base, cur), [exp.Join(this=_table(base, prev), on=_and(on))], where,
                       [sp.col(d.column, cur) for d in self.dims])

    def _join(self, step: JoinStep, target: str) -> exp.Expression:
        model = self.layer.model(target)
        if model.sql:
            table: exp.Expression = exp.Subquery(this=sp.parse_expr(model.sql).copy(),
                                                 alias=exp.TableAlias(this=sp.ident(target)))
        else:
            table = _table(model.table, target)
        conds = [exp.EQ(this=sp.qualified(a, step.source), expression=sp.qualified(b, step.target))
                 for a, b in zip(step.source_exprs, step.target_exprs, strict=True)]
        return exp.Join(this=table, on=_and(conds), side="LEFT")

    def _aggregate(self, group: _Group, agg: _Agg, joins: dict[str, JoinStep],
                   period: exp.Expression | None) -> exp.Expression:
        measure = agg.measure
        value = sp.qualified(measure.expr, group.model.name)
        filters = [f for f in (measure.filter, *agg.filters) if f]
        if filters:
            cond = _and([self._model_predicate(group, f, period) for f in filters])
            value = exp.Case(ifs=[exp.If(this=cond, true=value)])
        if measure.agg == "sum":
            return exp.Sum(this=value)
        if measure.agg == "count":
            return exp.Count(this=value)
        if measure.agg == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[value]))
        if measure.agg == "avg":
            return exp.Avg(this=value)
        if measure.agg == "min":
            return exp.Min(this=value)
        if measure.agg == "max":
            return exp.Max(this=value)
        return sp.percentile(value, measure.percentile if measure.percentile is not None else 0.5, self.dialect,
                             measure.agg)

    def _model_predicate(self, group: _Group, text: str, period: exp.Expression | None) -> exp.Expression:
        tree = sp.qualified(text, group.model.name)
        for node in list(tree.find_all(exp.Column)):
            if node.name == sp.PERIOD_START and not node.table:
                node.replace(period.copy() if period is not None else exp.Null())
        return tree

    def _filter_sql(self, group: _Group, f: Filter, joins: dict[str, JoinStep]) -> exp.Expression:
        if f.dimension == METRIC_TIME:
            target, _ = self._time_expr(group, joins, "filtering on metric_time")
        else:
            target = self._reach(group, f.dimension, joins, "filtering")
        if f.grain:
            target = sp.truncate(target, f.grain, self.dialect)
        is_time = f.dimension == METRIC_TIME or self.layer.dimension(f.dimension).dimension.is_time
        values = [sp.value_literal(_as_date(v) if is_time else v) for v in f.values]
        op = f.op
        if op == "=":
            return exp.EQ(this=target, expression=values[0])
        if op == "!=":
            return exp.NEQ(this=target, expression=values[0])
        if op in ("<", "<=", ">", ">="):
            cls = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[op]
            return cls(this=target, expression=values[0])
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

    # -- stage 3: combine groups and compute metrics --------------------------------------------------------
    def _core(self, prefix: str, time_range: TimeRange | None,
              key_shift: tuple[int, str] | None = None) -> _Core:
        groups, where = self._groups()
        self._where = where
        ctes: list[exp.CTE] = []
        for group in groups:
            ctes += self._group_cte(group, time_range, prefix, key_shift)
        names = [f"{prefix}_{g.name}" for g in groups]
        dim_cols = [d.column for d in self.dims]
        if len(groups) == 1:
            source: exp.Expression = exp.Table(this=sp.ident(names[0]))
            key_of: Callable[[str], exp.Expression] = lambda c: sp.col(c, names[0])  # noqa: E731
            joins: list[exp.Join] = []
        elif dim_cols:
            keys = f"{prefix}_keys"
            union: exp.Expression = _select([sp.col(c) for c in dim_cols], exp.Table(this=sp.ident(names[0])))
            for n in names[1:]:
                part = _select([sp.col(c) for c in dim_cols], exp.Table(this=sp.ident(n)))
                union = exp.Union(this=union, expression=part, distinct=True)
            ctes.append(_cte(keys, union))
            source = exp.Table(this=sp.ident(keys))
            key_of = lambda c: sp.col(c, keys)  # noqa: E731
            joins = [exp.Join(this=exp.Table(this=sp.ident(n)), side="LEFT",
                              on=_and([_null_safe_eq(sp.col(c, n), sp.col(c, keys)) for c in dim_cols]))
                     for n in names]
        else:
            source = exp.Table(this=sp.ident(names[0]))
            key_of = lambda c: sp.col(c, names[0])  # noqa: E731
            joins = [exp.Join(this=exp.Table(this=sp.ident(n)), kind="CROSS") for n in names[1:]]

        memo: dict[str, exp.Expression] = {}

        def metric_expr(name: str) -> exp.Expression:
            if name in memo:
                return memo[name].copy()
            metric = self.layer.metric(name)
            if metric.type in ("simple", "cumulative"):
                group, agg = where[name]
                result: exp.Expression = sp.col(agg.alias, f"{prefix}_{group.name}")
            elif metric.type == "ratio":
                assert metric.numerator and metric.denominator
                result = exp.Div(this=_double(metric_expr(metric.numerator)),
                                 expression=_nullif_zero(metric_expr(metric.denominator)))
            else:
                assert metric.expr is not None
                refs = {i.ref: i.name for i in metric.metrics}
                result = _substitute(sp.parse_expr(metric.expr), refs, metric_expr)
            memo[name] = result
            return result.copy()

        outputs: list[tuple[str, exp.Expression]] = [(c, key_of(c)) for c in dim_cols]
        outputs += [(name, metric_expr(name)) for name in self.plan.metrics]
        for name, tree in self.adhoc.items():
            outputs.append((name, _substitute(tree, {r: r for r in _refs(tree)}, metric_expr)))
        select = _select([_alias(e, n) for n, e in outputs], source, joins)
        return _Core(ctes, select, outputs)

    # -- stage 4: comparison, order and limit ---------------------------------------------------------------
    def _comparison_shift(self, tr: TimeRange) -> tuple[int, str, TimeRange]:
        """How far back the compared period is, as (n, unit) applied to both the range and the period keys."""
        assert tr.start and tr.end
        grain = self.time_grain
        fine = grain in ("hour", "day", "week", "day_of_week")
        if self.plan.comparison == "same_period_last_year":
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
        prev = TimeRange(_minus(tr.start, n, unit), _minus(tr.end, n, unit), f"{tr.describe()} (previous)", tr.grain)
        return n, unit, prev

    def _order_limit(self, select: exp.Select, exprs: dict[str, exp.Expression], names: list[str]) -> exp.Select:
        order: list[exp.Ordered] = []
        used: set[str] = set()
        for o in self.plan.order:
            if o.key not in exprs:
                raise UserError(f"cannot sort by '{o.key}': it is not a column of the result",
                                f"columns: {', '.join(names)}")
            order.append(exp.Ordered(this=exprs[o.key].copy(), desc=o.descending))
            used.add(o.key)
        # dimension columns break ties so the row order is the same on every engine
        for d in self.dims:
            if d.column not in used:
                order.append(exp.Ordered(this=exprs[d.column].copy(), desc=False))
        if order:
            select.set("order", exp.Order(expressions=order))
        if self.plan.limit is not None:
            select.set("limit", exp.Limit(expression=exp.Literal.number(self.plan.limit)))
        return select


@dataclass(frozen=True)
class _Core:
    ctes: list[exp.CTE]
    select: exp.Select
    outputs: list[tuple[str, exp.Expression]]


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


def _substitute(tree: exp.Expression, refs: dict[str, str],
                metric_expr: Callable[[str], exp.Expression]) -> exp.Expression:
    """Replace each input name in an arithmetic expression with its metric's SQL (as doubles when dividing)."""
    divides = any(isinstance(n, exp.Div) for n in tree.walk())

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in refs:
            inner = metric_expr(refs[node.name])
            return exp.Paren(this=_double(inner) if divides else inner)
        if isinstance(node, exp.Column):
            raise UserError(f"'{node.name}' in a metric expression is not one of its input metrics",
                            f"inputs: {', '.join(refs)}")
        return node

    result = tree.copy().transform(swap)
    if divides:
        for div in list(result.find_all(exp.Div)):
            div.set("expression", _nullif_zero(div.expression))
    return result


# sqlglot renamed these arguments (from → from_, with → with_); support both spellings
_FROM = "from_" if "from_" in exp.Select.arg_types else "from"
_WITH = "with_" if "with_" in exp.Select.arg_types else "with"


def _select(columns: list[exp.Expression], source: exp.Expression, joins: list[exp.Join] | None = None,
            where: exp.Expression | None = None, group: list[exp.Expression] | None = None) -> exp.Select:
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
    table = exp.Table(this=parts[-1], db=parts[-2] if len(parts) > 1 else None,
                      catalog=parts[-3] if len(parts) > 2 else None)
    table.set("alias", exp.TableAlias(this=sp.ident(alias)))
    return table


def _and(conditions: list[exp.Expression]) -> exp.Expression:
    """Conditions joined with AND, left to right."""
    # an OR inside a model filter must keep its own parentheses next to AND
    wrapped = [exp.Paren(this=c) if isinstance(c, exp.Or | exp.Xor) else c for c in conditions]
    result = wrapped[0]
    for cond in wrapped[1:]:
        result = exp.And(this=result, expression=cond)
    return result


def _double(e: exp.Expression) -> exp.Expression:
    # PostgreSQL divides integers as integers; a double keeps ratios fractional on every engine
    return exp.Cast(this=e, to=exp.DataType.build("double"))


def _nullif_zero(e: exp.Expression) -> exp.Expression:
    return exp.Nullif(this=e, expression=exp.Literal.number(0))


def _null_safe_eq(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.NullSafeEQ(this=a, expression=b)


def _alias(e: exp.Expression, name: str) -> exp.Expression:
    return exp.Alias(this=e, alias=sp.ident(name))


def _cte(name: str, select: exp.Expression) -> exp.CTE:
    return exp.CTE(this=select, alias=exp.TableAlias(this=sp.ident(name)))
