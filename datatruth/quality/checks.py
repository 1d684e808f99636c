"""Run one declared check in the warehouse and turn what it measured into a CheckOutcome."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlglot
import sqlglot.expressions as exp

from datatruth.errors import UserError
from datatruth.quality import stats_sql
from datatruth.quality.outcome import CheckOutcome
from datatruth.quality.source import Source
from datatruth.quality.spec import CheckSpec, parse_hours, parse_where

EXAMPLE_ROWS = 5
REDACTED = "•••"


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may read: the warehouse, the clock, the history of earlier runs and redaction rules."""

    source: Source
    workspace: str
    run_id: str
    now: dt.datetime
    sensitive: frozenset[str] = frozenset()  # "table.column", lower case
    history: Callable[[str], list[float]] = lambda _name: []  # earlier metric values of a check, oldest first
    baseline_get: Callable[[str], dict[str, Any] | None] = lambda _name: None
    baseline_put: Callable[[str, dict[str, Any]], None] = lambda _name, _b: None
    breaking_changes: dict[str, list[str]] = field(default_factory=dict)  # table -> breaking schema changes
    exposed_tables: frozenset[str] = frozenset()
    row_cap: int = 10_000


def _table(ctx: CheckContext, spec: CheckSpec) -> exp.Table:
    return ctx.source.table(str(spec.table))


def _filter(spec: CheckSpec, *conds: exp.Expr | None) -> exp.Expr | None:
    parts = [c for c in conds if c is not None]
    if spec.where:
        parts.append(exp.Paren(this=parse_where(spec.where)))
    return exp.and_(*parts) if parts else None


def _not_null(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.Is(this=e, expression=exp.Null()))


def _scalar(ctx: CheckContext, q: exp.Expression) -> Any:
    return ctx.source.rows(q)[0][0]


def _examples(
    ctx: CheckContext, spec: CheckSpec, cond: exp.Expr | None, order: list[exp.Expression] | None = None
) -> tuple[dict[str, Any], ...]:
    """A few failing rows with sensitive columns masked."""
    q = exp.select("*").from_(_table(ctx, spec))
    where = _filter(spec, cond)
    if where is not None:
        q = q.where(where)
    if order:
        q = q.order_by(*order)
    names = [c.name for c in ctx.source.columns(str(spec.table))]
    rows = ctx.source.rows(q.limit(EXAMPLE_ROWS))
    return tuple(redact(ctx, str(spec.table), dict(zip(names, r, strict=False))) for r in rows)


def redact(ctx: CheckContext, table: str, row: dict[str, Any]) -> dict[str, Any]:
    """Mask the workspace's sensitive columns in one example row."""
    return {
        k: (REDACTED if v is not None and f"{table}.{k}".lower() in ctx.sensitive else v)
        for k, v in row.items()
    }


def _outcome(
    ctx: CheckContext,
    spec: CheckSpec,
    passed: bool,
    metric: float | None,
    threshold: str,
    message: str,
    examples: tuple[dict[str, Any], ...] = (),
    **detail: Any,
) -> CheckOutcome:
    return CheckOutcome(
        check_name=spec.name,
        check_type=spec.type,
        table=spec.table,
        column=spec.column,
        status="pass" if passed else "fail",
        severity=spec.severity,
        owner=spec.owner,
        metric_value=None if metric is None else float(metric),
        threshold=threshold,
        message=message,
        example_rows=examples if not passed else (),
        auto_resolve=spec.auto_resolve,
        run_id=ctx.run_id,
        at=ctx.now,
        detail={"dimension": spec.dimension, **detail},
    )


def _share_check(ctx: CheckContext, spec: CheckSpec, bad: exp.Expression, what: str) -> CheckOutcome:
    """Count rows matching `bad` among rows with a value, and compare the share with max_failing_share."""
    ref = stats_sql.col(str(spec.column))
    q = exp.select(exp.Count(this=ref), stats_sql.count_if(bad)).from_(_table(ctx, spec))
    where = _filter(spec)
    if where is not None:
        q = q.where(where)
    checked, failing = ctx.source.rows(q)[0]
    checked, failing = int(checked or 0), int(failing or 0)
    share = failing / checked if checked else 0.0
    limit = float(spec.params.get("max_failing_share", 0.0))
    passed = share <= limit
    msg = (
        f"{failing:,} of {checked:,} values of {spec.table}.{spec.column} {what} ({share:.2%})"
        if failing
        else f"every value of {spec.table}.{spec.column} is fine ({checked:,} checked)"
    )
    examples = () if passed else _examples(ctx, spec, exp.and_(_not_null(ref), bad))
    return _outcome(
        ctx,
        spec,
        passed,
        share,
        f"share <= {limit}",
        msg,
        examples,
        failing_rows=failing,
        rows_checked=checked,
    )


def check_not_null(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """NULL share of a column against max_null_share (or 1 - min_completeness)."""
    ref = stats_sql.col(str(spec.column))
    q = exp.select(exp.Count(this=exp.Star()), exp.Count(this=ref)).from_(_table(ctx, spec))
    where = _filter(spec)
    if where is not None:
        q = q.where(where)
    total, nonnull = (int(v or 0) for v in ctx.source.rows(q)[0])
    nulls = total - nonnull
    share = nulls / total if total else 0.0
    limit = (
        1 - float(spec.params["min_completeness"])
        if "min_completeness" in spec.params
        else float(spec.params.get("max_null_share", 0.0))
    )
    passed = share <= limit + 1e-12
    msg = f"{nulls:,} of {total:,} rows have no {spec.column} ({share:.2%})"
    examples = () if passed else _examples(ctx, spec, exp.Is(this=ref, expression=exp.Null()))
    return _outcome(
        ctx,
        spec,
        passed,
        share,
        f"null share <= {limit:g}",
        msg,
        examples,
        failing_rows=nulls,
        rows_checked=total,
        low_quality=share > 0.5,
    )


def check_unique(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """Exact surplus rows sharing a key (a column or a column set); NULL keys are not duplicates."""
    names = list(spec.params.get("columns") or [spec.column])
    keys = [stats_sql.col(n) for n in names]
    where = _filter(spec, *[_not_null(k) for k in keys])
    groups = (
        exp.select(*keys, exp.Count(this=exp.Star()).as_("n"))
        .from_(_table(ctx, spec))
        .where(where)
        .group_by(*keys)
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=stats_sql.lit(1)))
    )
    q = exp.select(
        exp.Sum(this=exp.Sub(this=exp.column("n"), expression=stats_sql.lit(1))), exp.Count(this=exp.Star())
    ).from_(groups.subquery("d"))
    surplus, n_groups = ctx.source.rows(q)[0]
    surplus, n_groups = int(surplus or 0), int(n_groups or 0)
    checked = int(_scalar(ctx, exp.select(exp.Count(this=exp.Star())).from_(_table(ctx, spec)).where(where)))
    limit = int(spec.params.get("max_duplicates", 0))
    passed = surplus <= limit
    label = "+".join(names)
    examples: tuple[dict[str, Any], ...] = ()
    if not passed:
        first = groups.order_by(*keys).limit(2).subquery("g")
        on = exp.and_(
            *[
                exp.EQ(
                    this=exp.column(n, table="t", quoted=True),
                    expression=exp.column(n, table="g", quoted=True),
                )
                for n in names
            ]
        )
        q2 = (
            exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("t")))
            .from_(_table(ctx, spec).as_("t"))
            .join(first, on=on)
            .order_by(*[exp.column(n, table="t", quoted=True) for n in names])
            .limit(EXAMPLE_ROWS)
        )
        cols = [c.name for c in ctx.source.columns(str(spec.table))]
        examples = tuple(
            redact(ctx, str(spec.table), dict(zip(cols, r, strict=False))) for r in ctx.source.rows(q2)
        )
    msg = (
        f"{surplus:,} duplicate rows in {n_groups:,} groups of {spec.table}.{label}"
        if surplus
        else f"{spec.table}.{label} is unique ({checked:,} rows)"
    )
    return _outcome(
        ctx,
        spec,
        passed,
        surplus,
        f"duplicates <= {limit}",
        msg,
        examples,
        failing_rows=surplus,
        rows_checked=checked,
        duplicate_groups=n_groups,
        key=names,
    )


def check_accepted_values(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """Values outside the accepted list."""
    values = [stats_sql.lit(v) for v in spec.params["values"]]
    bad = exp.Not(this=exp.In(this=stats_sql.col(str(spec.column)), expressions=values))
    return _share_check(ctx, spec, bad, "are not among the accepted values")


def _bound(ctx: CheckContext, spec: CheckSpec, value: Any) -> exp.Expr:
    kind = ctx.source.column(str(spec.table), str(spec.column)).kind
    if kind == "temporal" and isinstance(value, str | dt.date):
        return exp.cast(stats_sql.lit(str(value)), exp.DataType.build("DATE"))
    return stats_sql.lit(value)


def check_range(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """Values below min or above max."""
    ref = stats_sql.col(str(spec.column))
    conds: list[exp.Expression] = []
    if "min" in spec.params:
        conds.append(exp.LT(this=ref, expression=_bound(ctx, spec, spec.params["min"])))
    if "max" in spec.params:
        conds.append(exp.GT(this=ref, expression=_bound(ctx, spec, spec.params["max"])))
    bad = exp.or_(*conds) if len(conds) > 1 else conds[0]
    out = _share_check(
        ctx,
        spec,
        exp.Paren(this=bad),
        f"lie outside [{spec.params.get('min', '-inf')}, {spec.params.get('max', 'inf')}]",
    )
    return out


def check_regex(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """Values that do not match a pattern or a named format class (email, phone, ...)."""
    pattern = spec.params.get("pattern") or stats_sql.FORMAT_CLASSES[spec.params["format"]]
    ref = stats_sql.col(str(spec.column))
    bad = exp.Not(this=exp.Paren(this=stats_sql.regex_match(ctx.source.dialect, ref, str(pattern))))
    what = f"do not match {spec.params.get('format') or repr(pattern)}"
    out = _share_check(ctx, spec, bad, what)
    if out.failed:
        # Name the shapes the column actually has, so a format drift is visible in the message.
        shapes = ctx.source.rows(
            exp.select(stats_sql.shape(ctx.source.dialect, ref).as_("s"), exp.Count(this=exp.Star()).as_("n"))
            .from_(_table(ctx, spec))
            .where(_not_null(ref))
            .group_by(exp.column("s"))
            .order_by(exp.Ordered(this=exp.column("n"), desc=True))
            .limit(5)
        )
        detail = {**out.detail, "shapes": [[s, int(n)] for s, n in shapes]}
        out = CheckOutcome(**{**out.__dict__, "detail": detail})
    return out


def check_freshness(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """Age of the newest value of the time column against max_age."""
    from datatruth.quality.profile import _to_datetime, pick_time_column

    column = spec.column or pick_time_column(ctx.source.columns(str(spec.table)))
    if column is None:
        raise UserError(
            f"check '{spec.name}': {spec.table} has no date or timestamp column",
            "name the column with 'column:'",
        )
    q = exp.select(exp.Max(this=stats_sql.col(column))).from_(_table(ctx, spec))
    where = _filter(spec)
    if where is not None:
        q = q.where(where)
    newest = _to_datetime(_scalar(ctx, q))
    limit = float(parse_hours(spec.params["max_age"]) or 0)
    if newest is None:
        return _outcome(
            ctx,
            spec,
            False,
            None,
            f"age <= {limit:g}h",
            f"{spec.table}.{column} has no values",
            time_column=column,
        )
    age = max(0.0, (ctx.now - newest).total_seconds() / 3600)
    passed = age <= limit
    msg = f"newest {spec.table}.{column} is {newest:%Y-%m-%d %H:%M}, {age:.1f} h old (limit {limit:g} h)"
    return _outcome(
        ctx,
        spec,
        passed,
        age,
        f"age <= {limit:g}h",
        msg,
        time_column=column,
        newest=newest.isoformat(),
        expected_hours=limit,
    )


def check_latency(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """Rows whose load time (column) trails their event time (event_column) by more than max_latency."""
    loaded, event = stats_sql.col(str(spec.column)), stats_sql.col(str(spec.params["event_column"]))
    limit_h = float(parse_hours(spec.params["max_latency"]) or 0)
    lag = exp.Sub(
        this=stats_sql.epoch(loaded, ctx.source.dialect),
        expression=stats_sql.epoch(event, ctx.source.dialect),
    )
    bad = exp.GT(this=lag, expression=stats_sql.lit(limit_h * 3600))
    q = exp.select(exp.Count(this=exp.Star()), stats_sql.count_if(bad), exp.Max(this=lag)).from_(
        _table(ctx, spec)
    )
    where = _filter(spec)
    if where is not None:
        q = q.where(where)
    total, late, worst = ctx.source.rows(q)[0]
    total, late = int(total or 0), int(late or 0)
    limit = int(spec.params.get("max_failing_rows", 0))
    passed = late <= limit
    worst_h = float(worst or 0) / 3600
    msg = (
        f"{late:,} of {total:,} rows of {spec.table} were loaded more than {limit_h:g} h after "
        f"{spec.params['event_column']} (worst {worst_h:.1f} h)"
    )
    examples = () if passed else _examples(ctx, spec, bad, [exp.Ordered(this=lag, desc=True)])
    return _outcome(
        ctx,
        spec,
        passed,
        late,
        f"late rows <= {limit}",
        msg,
        examples,
        failing_rows=late,
        rows_checked=total,
        worst_latency_hours=worst_h,
    )


def check_row_count(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """COUNT(*) between min and max."""
    q = exp.select(exp.Count(this=exp.Star())).from_(_table(ctx, spec))
    where = _filter(spec)
    if where is not None:
        q = q.where(where)
    n = int(_scalar(ctx, q))
    lo, hi = spec.params.get("min"), spec.params.get("max")
    passed = (lo is None or n >= lo) and (hi is None or n <= hi)
    return _outcome(
        ctx,
        spec,
        passed,
        n,
        f"[{lo if lo is not None else '-'}, {hi if hi is not None else '-'}]",
        f"{spec.table} has {n:,} rows",
    )


def zscore(history: list[float], value: float) -> float | None:
    """(value - mean) / stddev of the history; None when the history has no spread."""
    if len(history) < 2:
        return None
    mean = sum(history) / len(history)
    var = sum((h - mean) ** 2 for h in history) / (len(history) - 1)
    if var <= 0:
        return 0.0 if value == mean else math.inf
    return (value - mean) / math.sqrt(var)


def check_volume(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """Z-score of the latest period's row count against earlier periods (from the data, or from run history)."""
    p = spec.params
    min_training = int(p.get("min_training", 14))
    z_limit = float(p.get("z_threshold", 3.0))
    tcol = p.get("time_column")
    if tcol:
        day = exp.cast(stats_sql.col(str(tcol)), exp.DataType.build("DATE"))
        start = (ctx.now - dt.timedelta(days=int(p.get("lookback", 90)) + 1)).date()
        q = (
            exp.select(day.as_("d"), exp.Count(this=exp.Star()))
            .from_(_table(ctx, spec))
            .where(
                _filter(
                    spec,
                    exp.GTE(
                        this=stats_sql.col(str(tcol)),
                        expression=exp.cast(stats_sql.lit(start.isoformat()), exp.DataType.build("DATE")),
                    ),
                )
            )
            .group_by(exp.column("d"))
            .order_by(exp.column("d"))
        )
        counts = {
            (r[0] if isinstance(r[0], dt.date) else dt.date.fromisoformat(str(r[0])[:10])): int(r[1])
            for r in ctx.source.rows(q)
        }
        last = min(ctx.now.date(), max(counts) if counts else ctx.now.date())
        days = [start + dt.timedelta(days=i) for i in range((last - start).days + 1)]
        series = [(d, counts.get(d, 0)) for d in days]
        current_day, current = series[-1]
        training: list[float] = [
            n
            for d, n in series[:-1]
            if p.get("seasonality", "none") == "none" or d.weekday() == current_day.weekday()
        ]
        label = f"{current_day}"
    else:
        # No time column: judge this run's row count against the counts stored by earlier runs.
        current = int(_scalar(ctx, exp.select(exp.Count(this=exp.Star())).from_(_table(ctx, spec))))
        training = [float(v) for v in ctx.history(spec.name)]
        label = "this run"
    if len(training) < min_training:
        return _outcome(
            ctx,
            spec,
            True,
            None if tcol else float(current),
            f"|z| <= {z_limit:g}",
            f"{len(training)} earlier periods; {min_training} needed before {spec.table}'s volume is judged",
            current=current,
            training_size=len(training),
            rows=current,
        )
    z = zscore(training, float(current))
    zval = 0.0 if z is None else z
    passed = abs(zval) <= z_limit
    mean = sum(training) / len(training)
    msg = f"{spec.table} had {current:,} rows for {label} vs a mean of {mean:,.0f} (z = {zval:+.2f})"
    metric = float(current) if not tcol else (zval if math.isfinite(zval) else 1e9)
    return _outcome(
        ctx,
        spec,
        passed,
        metric,
        f"|z| <= {z_limit:g}",
        msg,
        current=current,
        mean=mean,
        z=zval if math.isfinite(zval) else None,
        training_size=len(training),
        rows=current,
    )


def _distribution(
    ctx: CheckContext, spec: CheckSpec, where: exp.Expr | None, edges: list[float] | None, kind: str
) -> dict[str, float]:
    """Shares per bin (numeric, by `edges`) or per value (categorical), computed in SQL."""
    ref = stats_sql.col(str(spec.column))
    if kind == "numeric" and edges is not None:
        ifs = [
            exp.If(this=exp.LTE(this=ref, expression=stats_sql.lit(e)), true=stats_sql.lit(i))
            for i, e in enumerate(edges)
        ]
        key: exp.Expression = exp.Case(ifs=ifs, default=stats_sql.lit(len(edges)))
    else:
        key = exp.cast(ref, exp.DataType.build("VARCHAR" if ctx.source.dialect != "mysql" else "CHAR"))
    q = (
        exp.select(key.as_("k"), exp.Count(this=exp.Star()).as_("n"))
        .from_(_table(ctx, spec))
        .where(exp.and_(_not_null(ref), *([where] if where is not None else [])))
        .group_by(exp.column("k"))
    )
    rows = ctx.source.rows(q)
    total = sum(int(n) for _, n in rows) or 1
    return {str(k): int(n) / total for k, n in rows}


def psi(expected: dict[str, float], actual: dict[str, float], eps: float = 1e-4) -> float:
    """Population stability index between two share distributions over the union of their bins."""
    total = 0.0
    for k in set(expected) | set(actual):
        e, a = max(expected.get(k, 0.0), eps), max(actual.get(k, 0.0), eps)
        total += (a - e) * math.log(a / e)
    return total


def _sample_values(ctx: CheckContext, spec: CheckSpec, where: exp.Expr | None, size: int) -> list[float]:
    ref = stats_sql.col(str(spec.column))
    cond = exp.and_(_not_null(ref), *([where] if where is not None else []))
    q = stats_sql.sample_query(ctx.source.dialect, _table(ctx, spec), [stats_sql.as_double(ref)], size, cond)
    return [float(r[0]) for r in ctx.source.rows(q)]


def check_drift(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """PSI (binned in SQL) or KS (on SQL samples) of a column against a baseline slice or a stored baseline."""
    p = spec.params
    method = p.get("method", "psi")
    kind = ctx.source.column(str(spec.table), str(spec.column)).kind
    base_where = parse_where(p["baseline_where"]) if "baseline_where" in p else None
    cur_where = _filter(spec, parse_where(p["current_where"]) if "current_where" in p else None)
    stored = None if base_where is not None else ctx.baseline_get(spec.name)
    size = int(p.get("sample_size", 5000))
    if method == "ks":
        from scipy.stats import ks_2samp

        current = _sample_values(ctx, spec, cur_where, size)
        if base_where is not None:
            baseline = _sample_values(ctx, spec, base_where, size)
        elif stored is None:
            ctx.baseline_put(spec.name, {"method": "ks", "values": current})
            return _outcome(
                ctx,
                spec,
                True,
                0.0,
                "baseline stored",
                "baseline stored; drift is measured from the next run",
            )
        else:
            baseline = list(stored.get("values", []))
        stat = float(ks_2samp(baseline, current).statistic) if baseline and current else 0.0
        limit = float(p.get("threshold", 0.1))
        return _outcome(
            ctx,
            spec,
            stat <= limit,
            stat,
            f"KS <= {limit:g}",
            f"KS distance of {spec.table}.{spec.column} from its baseline is {stat:.3f}",
        )
    bins = int(p.get("bins", 10))
    edges: list[float] | None = None
    if base_where is not None or stored is None:
        if kind == "numeric":
            sample = sorted(
                _sample_values(ctx, spec, base_where if base_where is not None else cur_where, size)
            )
            if sample:
                edges = sorted(
                    {sample[min(len(sample) - 1, int(len(sample) * i / bins))] for i in range(1, bins)}
                )
        base_shares = _distribution(
            ctx, spec, base_where if base_where is not None else cur_where, edges, kind
        )
        if base_where is None:
            ctx.baseline_put(spec.name, {"method": "psi", "edges": edges, "shares": base_shares})
            return _outcome(
                ctx,
                spec,
                True,
                0.0,
                "baseline stored",
                "baseline stored; drift is measured from the next run",
            )
    else:
        edges, base_shares = stored.get("edges"), dict(stored.get("shares", {}))
    current_shares = _distribution(ctx, spec, cur_where, edges, kind)
    value = psi(base_shares, current_shares)
    limit = float(p.get("threshold", 0.2))
    return _outcome(
        ctx,
        spec,
        value <= limit,
        value,
        f"PSI <= {limit:g}",
        f"PSI of {spec.table}.{spec.column} against its baseline is {value:.3f}",
        baseline=base_shares,
        current=current_shares,
    )


def check_referential(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """Non-null keys with no matching row in the referenced table."""
    rt, rc = str(spec.params["references"]).split(".", 1)
    child = stats_sql.col(str(spec.column))
    sub = (
        exp.select(stats_sql.lit(1))
        .from_(ctx.source.table(rt).as_("r"))
        .where(
            exp.EQ(
                this=exp.column(rc, table="r", quoted=True),
                expression=exp.column(str(spec.column), table="c", quoted=True),
            )
        )
    )
    orphan = exp.Not(this=exp.Exists(this=sub))
    where = _filter(spec, _not_null(child), orphan)
    q = (
        exp.select(exp.Count(this=exp.Star()), exp.Count(this=exp.Distinct(expressions=[child])))
        .from_(_table(ctx, spec).as_("c"))
        .where(where)
    )
    orphans, keys = (int(v or 0) for v in ctx.source.rows(q)[0])
    total = int(_scalar(ctx, exp.select(exp.Count(this=child)).from_(_table(ctx, spec))))
    limit = int(spec.params.get("max_orphans", 0))
    passed = orphans <= limit
    examples: tuple[dict[str, Any], ...] = ()
    if not passed:
        eq = (
            exp.select(child, exp.Count(this=exp.Star()).as_("rows"))
            .from_(_table(ctx, spec).as_("c"))
            .where(where)
            .group_by(child)
            .order_by(exp.Ordered(this=exp.column("rows"), desc=True))
            .limit(EXAMPLE_ROWS)
        )
        examples = tuple({str(spec.column): r[0], "rows": int(r[1])} for r in ctx.source.rows(eq))
    msg = (
        f"{orphans:,} rows of {spec.table} ({keys:,} distinct {spec.column}) have no match in {rt}.{rc}"
        if orphans
        else f"every {spec.table}.{spec.column} exists in {rt}.{rc}"
    )
    return _outcome(
        ctx,
        spec,
        passed,
        orphans,
        f"orphans <= {limit}",
        msg,
        examples,
        failing_rows=orphans,
        rows_checked=total,
    )


def check_schema(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """Expected columns (and types) are present; extra columns allowed unless allow_extra is false; no breaking change."""
    from datatruth.quality.source import type_kind

    actual = {c.name.lower(): c for c in ctx.source.columns(str(spec.table))}
    expected = spec.params.get("columns") or {}
    if isinstance(expected, list):
        expected = {str(c): None for c in expected}
    problems: list[str] = []
    for name, want in expected.items():
        got = actual.get(str(name).lower())
        if got is None:
            problems.append(f"missing column {name}")
        elif want and not _type_matches(str(want), got.type, ctx.source.dialect, type_kind):
            problems.append(f"{name} is {got.type}, expected {want}")
    if expected and spec.params.get("allow_extra", True) is False:
        extra = sorted(set(actual) - {str(n).lower() for n in expected})
        problems += [f"unexpected column {c}" for c in extra]
    problems += [f"breaking change: {c}" for c in ctx.breaking_changes.get(str(spec.table), [])]
    passed = not problems
    msg = "; ".join(problems) if problems else f"{spec.table} has the expected schema ({len(actual)} columns)"
    return _outcome(ctx, spec, passed, len(problems), "problems = 0", msg, problems=problems)


def _type_matches(want: str, got: str, dialect: str, type_kind: Callable[[str], str]) -> bool:
    if want.lower() in ("numeric", "temporal", "string", "boolean"):
        return type_kind(got) == want.lower()
    try:
        norm_want = exp.DataType.build(want, dialect=dialect).sql(dialect).upper()
        norm_got = exp.DataType.build(got, dialect=dialect).sql(dialect).upper()
    except (sqlglot.errors.SqlglotError, ValueError):
        return want.upper() == got.upper()
    return norm_want == norm_got or norm_got.startswith(norm_want + "(")


def check_custom_sql(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """A SELECT returning failing rows, run through the workspace's SQL guard; passes when it returns few enough."""
    try:
        from datatruth.sql.guard import guard_sql  # written by the guard's owner; imported lazily on purpose
    except ModuleNotFoundError as err:
        if err.name != "datatruth.sql.guard":
            raise
        raise UserError(
            "custom SQL checks need the SQL guard, which is not installed",
            "install the datatruth.sql.guard module",
        ) from None

    guarded = guard_sql(
        str(spec.params["sql"]), ctx.source.dialect, allowed_tables=ctx.exposed_tables, row_cap=ctx.row_cap
    )
    sql = guarded if isinstance(guarded, str) else str(getattr(guarded, "sql", guarded))
    names, rows = ctx.source.query(sql)
    limit = int(spec.params.get("max_rows", 0))
    passed = len(rows) <= limit
    table = str(spec.table or "")
    examples = tuple(redact(ctx, table, dict(zip(names, r, strict=False))) for r in rows[:EXAMPLE_ROWS])
    capped = " (row cap reached)" if len(rows) >= ctx.row_cap else ""
    return _outcome(
        ctx,
        spec,
        passed,
        len(rows),
        f"rows <= {limit}",
        f"the query returned {len(rows):,} failing rows{capped}",
        examples,
        failing_rows=len(rows),
    )


def check_outliers(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """pyod detector fitted on a SQL-side sample; see datatruth.quality.anomaly for the decision rule."""
    from datatruth.quality.anomaly import outlier_check

    return outlier_check(ctx, spec)


CHECKS: dict[str, Callable[[CheckContext, CheckSpec], CheckOutcome]] = {
    "not_null": check_not_null,
    "unique": check_unique,
    "accepted_values": check_accepted_values,
    "range": check_range,
    "regex": check_regex,
    "format": check_regex,
    "freshness": check_freshness,
    "latency": check_latency,
    "row_count": check_row_count,
    "volume": check_volume,
    "drift": check_drift,
    "outliers": check_outliers,
    "schema": check_schema,
    "referential": check_referential,
    "custom_sql": check_custom_sql,
}


def run_check(ctx: CheckContext, spec: CheckSpec) -> CheckOutcome:
    """Run one check; a problem a person can fix becomes an 'error' outcome instead of stopping the run."""
    try:
        return CHECKS[spec.type](ctx, spec)
    except UserError as err:
        return CheckOutcome(
            check_name=spec.name,
            check_type=spec.type,
            table=spec.table,
            column=spec.column,
            status="error",
            severity=spec.severity,
            owner=spec.owner,
            metric_value=None,
            threshold=None,
            message=err.render(),
            auto_resolve=spec.auto_resolve,
            run_id=ctx.run_id,
            at=ctx.now,
            detail={"dimension": spec.dimension},
        )
