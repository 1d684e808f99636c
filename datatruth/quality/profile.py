"""In-warehouse column profiles: one aggregate scan per table plus small GROUP BY scans for top values.

Big DuckDB tables add one query over samples (quantiles, format classes, shapes) and settle the exact
duplicate-row count with one COUNT DISTINCT on a likely key column instead of hashing whole rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlglot.expressions as exp

from datatruth.quality import stats_sql
from datatruth.quality.source import Source, SourceColumn

APPROX_DISTINCT_ABOVE = 200_000  # rows; at or below this, distinct counts and quantiles are exact
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
LOW_QUALITY_NULL_SHARE = 0.5
_TIME_HINTS = ("loaded_at", "updated_at", "created_at", "ingested_at", "event_time", "time_hour", "ts")


@dataclass(frozen=True)
class ColumnProfile:
    """Statistics of one column, all computed by the warehouse."""

    name: str
    type: str
    kind: str
    count: int
    nulls: int
    distinct: int
    distinct_approximate: bool
    min: Any = None
    max: Any = None
    mean: float | None = None
    stddev: float | None = None
    quantiles: dict[str, float] = field(default_factory=dict)
    top_values: tuple[tuple[Any, int], ...] = ()
    min_length: int | None = None
    max_length: int | None = None
    mean_length: float | None = None
    formats: dict[str, int] = field(default_factory=dict)  # format class -> matching non-null values
    shapes: tuple[tuple[str, int], ...] = ()  # most common value shapes, e.g. ('(9) 9-9', 412)
    format_base: int = 0  # non-null values the format and shape counts are out of (a sample on big tables)

    @property
    def null_share(self) -> float:
        """Share of NULL values (0 for an empty table)."""
        return self.nulls / self.count if self.count else 0.0

    @property
    def low_quality(self) -> bool:
        """More than half of the values are NULL."""
        return self.null_share > LOW_QUALITY_NULL_SHARE

    @property
    def non_null(self) -> int:
        """Number of non-NULL values."""
        return self.count - self.nulls


@dataclass(frozen=True)
class TableProfile:
    """Profiles of every column of a table, plus its freshness and exact duplicate-row count."""

    table: str
    row_count: int
    columns: tuple[ColumnProfile, ...]
    time_column: str | None
    newest: dt.datetime | None
    age_hours: float | None
    duplicate_rows: int | None
    profiled_at: dt.datetime
    seconds: float
    queries: int

    def column(self, name: str) -> ColumnProfile:
        """The profile of one column."""
        for c in self.columns:
            if c.name.lower() == name.lower():
                return c
        raise KeyError(name)


Progress = Callable[[float, str], None]


def pick_time_column(columns: tuple[SourceColumn, ...]) -> str | None:
    """The column that tells when a row arrived: a hinted name first, then the first timestamp, then date."""
    temporal = [c for c in columns if c.kind == "temporal"]
    for hint in _TIME_HINTS:
        for c in temporal:
            if c.name.lower() == hint or c.name.lower().endswith("_" + hint):
                return c.name
    stamps = [c for c in temporal if "TIME" in c.type.upper()]
    if stamps:
        return stamps[0].name
    return temporal[0].name if temporal else None


def _to_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else value.astimezone(dt.UTC).replace(tzinfo=None)
        )
    if isinstance(value, dt.date):
        # A date's newest row may have arrived at any time that day: count it from the day's end.
        return dt.datetime.combine(value, dt.time(23, 59, 59))
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return None


def _float(value: Any) -> float | None:
    if value is None:
        return None
    f = float(value)
    return None if math.isnan(f) else f


def _aggregate_query(
    source: Source,
    table: str,
    columns: tuple[SourceColumn, ...],
    approximate: bool,
    sampled: _SampleStats | None = None,
    formats: bool = True,
) -> tuple[exp.Select, list[tuple[str, str, str | None]]]:
    """One SELECT computing every per-column aggregate; returns it and (column, stat, arg) per output slot.

    With `sampled` (big DuckDB tables) means and standard deviations come from sums shifted by the sample's
    mean, which DuckDB adds up several times faster than its streaming STDDEV_SAMP.
    """
    d = source.dialect
    slots: list[tuple[str, str, str | None]] = [("", "rows", None)]
    items: list[exp.Expression] = [exp.Count(this=exp.Star())]

    def add(column: str, stat: str, e: exp.Expression, arg: str | None = None) -> None:
        slots.append((column, stat, arg))
        items.append(e)

    for c in columns:
        ref = stats_sql.col(c.name)
        add(c.name, "nonnull", exp.Count(this=ref))
        if c.kind != "other":
            add(c.name, "distinct", stats_sql.distinct_count(d, ref, approximate))
        # Strings get lengths, formats and top values instead: MIN/MAX of text is costly and says little.
        if c.kind in ("numeric", "temporal"):
            add(c.name, "min", exp.Min(this=ref))
            add(c.name, "max", exp.Max(this=ref))
        if sampled is not None and c.kind in ("numeric", "temporal"):
            value = stats_sql.as_double(ref) if c.kind == "numeric" else stats_sql.epoch(ref, d)
            center = stats_sql.as_double(
                stats_sql.lit(sampled.centers.get(c.name) or 0.0)
            )  # a DOUBLE, not a DECIMAL literal
            shifted = exp.Paren(this=exp.Sub(this=value, expression=center))
            add(c.name, "shifted_sum", exp.Sum(this=shifted))
            add(c.name, "shifted_squares", exp.Sum(this=exp.Mul(this=shifted, expression=shifted.copy())))
            continue  # quantiles of big DuckDB tables come from the sample
        if c.kind == "numeric":
            add(c.name, "mean", exp.Avg(this=stats_sql.as_double(ref)))
            add(c.name, "stddev", exp.StddevSamp(this=stats_sql.as_double(ref)))
            together = stats_sql.quantile_array(d, stats_sql.as_double(ref), QUANTILES, approximate)
            if together is not None:
                add(c.name, "quantile_array", together)
                continue
            for q in QUANTILES:
                qe = stats_sql.quantile(d, stats_sql.as_double(ref), q, approximate)
                if qe is not None:
                    add(c.name, "quantile", qe, str(q))
        elif c.kind == "temporal":
            add(c.name, "mean", exp.Avg(this=stats_sql.epoch(ref, d)))
            add(c.name, "stddev", exp.StddevSamp(this=stats_sql.epoch(ref, d)))
        elif c.kind == "string":
            length = stats_sql.char_length(ref)
            add(c.name, "min_length", exp.Min(this=length))
            add(c.name, "max_length", exp.Max(this=length))
            add(c.name, "mean_length", exp.Avg(this=stats_sql.as_double(length)))
            if formats and not approximate:
                for fmt, pattern in stats_sql.FORMAT_CLASSES.items():
                    add(c.name, "format", stats_sql.count_if(stats_sql.regex_match(d, ref, pattern)), fmt)
    return exp.select(*items).from_(source.table(table)), slots


def _mysql_quantiles(source: Source, table: str, column: str, nonnull: int) -> dict[str, float]:
    """Exact interpolated quantiles via ORDER BY ... LIMIT/OFFSET, since MySQL/MariaDB lack PERCENTILE_CONT."""
    out: dict[str, float] = {}
    if nonnull == 0:
        return out
    ref = stats_sql.col(column)
    for q in QUANTILES:
        pos = q * (nonnull - 1)
        lo = int(math.floor(pos))
        q_sel = (
            exp.select(ref)
            .from_(source.table(table))
            .where(exp.Not(this=exp.Is(this=ref, expression=exp.Null())))
            .order_by(ref)
            .limit(2 if pos > lo else 1)
            .offset(lo)
        )
        vals = [float(r[0]) for r in source.rows(q_sel)]
        out[str(q)] = vals[0] + (pos - lo) * (vals[1] - vals[0]) if len(vals) == 2 else vals[0]
    return out


Patterns = tuple[
    dict[str, int], int, tuple[tuple[str, int], ...]
]  # format counts, values classified, top shapes
_KEY_PREFERENCE = {"numeric": 0, "temporal": 1, "boolean": 2, "string": 3}  # cheapest to hash first
_KEY_DISTINCT_SHARE = (
    0.95  # a column is worth testing as a key when its estimated distinct count is this close to n
)


@dataclass(frozen=True)
class _SampleStats:
    """What samples of a big DuckDB table say: quantiles, shift points, format classes and shapes."""

    quantiles: dict[str, dict[str, float]]
    centers: dict[str, float]  # sample mean per numeric column, epoch seconds for dates and timestamps
    patterns: dict[str, Patterns]


def _sample_stats(  # noqa: C901 - one query slot per column kind, read top to bottom
    source: Source,
    table: str,
    columns: tuple[SourceColumn, ...],
    size: int,
    total: int,
) -> _SampleStats:
    """Everything the big-table profile takes from samples, in one query.

    Numbers and dates come from a row-level reservoir sample, since quantiles of a column that follows the
    load order would be skewed by whole-block samples. Strings are classified on whole storage blocks:
    reading every string to draw single rows costs more than the regexes themselves.
    """
    d = source.dialect
    numbers = [c for c in columns if c.kind in ("numeric", "temporal")]
    strings = [c for c in columns if c.kind == "string"]
    slots: list[tuple[str, str, str | None]] = []
    parts: list[exp.Select] = []
    qs = exp.Array(expressions=[stats_sql.lit(q) for q in QUANTILES])
    for group, sample in (
        (numbers, lambda cols: stats_sql.sample_query(d, source.table(table), cols, size)),
        (strings, lambda cols: stats_sql.block_sample_query(d, source.table(table), cols, size, total)),
    ):
        if not group:
            continue
        items: list[exp.Expression] = [exp.Count(this=exp.Star())]
        slots.append(("", "rows", None))
        for c in group:
            ref = stats_sql.col(c.name)
            if c.kind == "numeric":
                items += [
                    exp.Anonymous(this="QUANTILE_CONT", expressions=[stats_sql.as_double(ref), qs.copy()]),
                    exp.Avg(this=stats_sql.as_double(ref)),
                ]
                slots += [(c.name, "quantiles", None), (c.name, "center", None)]
            elif c.kind == "temporal":
                items.append(exp.Avg(this=stats_sql.epoch(ref, d)))
                slots.append((c.name, "center", None))
            else:
                items.append(exp.Count(this=ref))
                slots.append((c.name, "nonnull", None))
                for fmt, pattern in stats_sql.FORMAT_CLASSES.items():
                    items.append(stats_sql.count_if(stats_sql.regex_match(d, ref, pattern)))
                    slots.append((c.name, "format", fmt))
                # HISTOGRAM returns every shape with its count as one map: no GROUP BY per column.
                items.append(exp.Anonymous(this="HISTOGRAM", expressions=[stats_sql.shape(d, ref)]))
                slots.append((c.name, "shapes", None))
        parts.append(
            exp.select(*[e.as_(f"v{len(parts)}_{i}") for i, e in enumerate(items)]).from_(
                sample([stats_sql.col(c.name) for c in group]).subquery("s")
            )
        )
    if not parts:
        return _SampleStats({}, {}, {})
    query = exp.select(exp.Star()).from_(parts[0].subquery("p0"))
    for i, part in enumerate(parts[1:], start=1):
        query = query.join(part.subquery(f"p{i}"), join_type="CROSS")
    row = source.rows(query)[0]
    stats: dict[str, dict[str, Any]] = {c.name: {"formats": {}} for c in numbers + strings}
    for (column, stat, arg), value in zip(slots, row, strict=True):
        if stat == "format":
            stats[column]["formats"][str(arg)] = int(value or 0)
        elif column:
            stats[column][stat] = value
    quantiles: dict[str, dict[str, float]] = {}
    centers: dict[str, float] = {}
    patterns: dict[str, Patterns] = {}
    for c in numbers:
        s = stats[c.name]
        if c.kind == "numeric":
            quantiles[c.name] = {
                str(q): float(v)
                for q, v in zip(QUANTILES, s["quantiles"] or [], strict=False)
                if _float(v) is not None
            }
        if _float(s["center"]) is not None:
            centers[c.name] = float(s["center"])
    for c in strings:
        s = stats[c.name]
        shapes = sorted(
            ((str(k), int(n)) for k, n in (s["shapes"] or {}).items()), key=lambda x: (-x[1], x[0])
        )
        patterns[c.name] = (s["formats"], int(s["nonnull"] or 0), tuple(shapes[:5]))
    return _SampleStats(quantiles, centers, patterns)


def _key_column(
    columns: tuple[SourceColumn, ...], stats: dict[str, dict[str, Any]], n_rows: int
) -> str | None:
    """A column with no NULLs whose estimated distinct count is near the row count: probably a key."""
    candidates = [
        c
        for c in columns
        if c.kind in _KEY_PREFERENCE
        and int(stats[c.name]["nonnull"] or 0) == n_rows
        and int(stats[c.name].get("distinct") or 0) >= _KEY_DISTINCT_SHARE * n_rows
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (_KEY_PREFERENCE[c.kind], -int(stats[c.name]["distinct"]))).name


def _distinct_count(source: Source, table: str, column: str) -> int:
    """Exact COUNT(DISTINCT column)."""
    ref = stats_sql.col(column)
    return int(
        source.rows(exp.select(exp.Count(this=exp.Distinct(expressions=[ref]))).from_(source.table(table)))[
            0
        ][0]
    )


def _shifted_moments(
    center: float, shifted_sum: Any, shifted_squares: Any, n: int
) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation from sums of (x - center); a center near the mean avoids cancellation."""
    if not n or shifted_sum is None:
        return None, None
    s1, s2 = float(shifted_sum), float(shifted_squares)
    mean = center + s1 / n
    if n < 2:
        return mean, None
    return mean, math.sqrt(max(0.0, (s2 - s1 * s1 / n) / (n - 1)))


def _sampled_patterns(
    source: Source, table: str, columns: list[str], size: int, total: int
) -> dict[str, Patterns]:
    """Format-class counts and top shapes of string columns, from one materialized SQL-side sample."""
    if not columns:
        return {}
    d = source.dialect
    sample = stats_sql.block_sample_query(
        d, source.table(table), [stats_sql.col(c) for c in columns], size, total
    )
    items: list[exp.Expression] = []
    for c in columns:
        items.append(exp.Count(this=stats_sql.col(c)))
        items += [
            stats_sql.count_if(stats_sql.regex_match(d, stats_sql.col(c), p))
            for p in stats_sql.FORMAT_CLASSES.values()
        ]
    fq = (
        exp.select(*items).from_("s").with_("s", as_=sample, materialized=d in ("duckdb", "postgres") or None)
    )
    row = source.rows(fq)[0]
    width = 1 + len(stats_sql.FORMAT_CLASSES)
    branches = []
    for c in columns:
        shape = stats_sql.shape(d, stats_sql.col(c))
        branches.append(
            exp.select(stats_sql.lit(c).as_("c"), shape.as_("v"), exp.Count(this=exp.Star()).as_("n"))
            .from_("s")
            .where(exp.Not(this=exp.Is(this=stats_sql.col(c), expression=exp.Null())))
            .group_by(shape)
        )
    union: exp.Query = branches[0]
    for b in branches[1:]:
        union = exp.union(union, b, distinct=False)
    sq = (
        exp.select("c", "v", "n")
        .from_(union.subquery("u"))
        .with_("s", as_=sample, materialized=d in ("duckdb", "postgres") or None)
    )
    shapes: dict[str, list[tuple[str, int]]] = {c: [] for c in columns}
    for c, v, n in source.rows(sq):
        shapes[str(c)].append((str(v), int(n)))
    out = {}
    for i, c in enumerate(columns):
        part = row[i * width : (i + 1) * width]
        top = tuple(sorted(shapes[c], key=lambda x: (-x[1], x[0]))[:5])
        out[c] = (
            {f: int(v or 0) for f, v in zip(stats_sql.FORMAT_CLASSES, part[1:], strict=True)},
            int(part[0] or 0),
            top,
        )
    return out


def _group_counts(
    source: Source, table: str | exp.Expression, key: exp.Expression, top_k: int
) -> tuple[tuple[Any, int], ...]:
    src = source.table(table) if isinstance(table, str) else table
    q = (
        exp.select(key.as_("v"), exp.Count(this=exp.Star()).as_("n"))
        .from_(src)
        .where(exp.Not(this=exp.Is(this=key, expression=exp.Null())))
        .group_by(key)
        .order_by(exp.Ordered(this=exp.column("n"), desc=True), exp.column("v"))
        .limit(top_k)
    )
    return tuple((r[0], int(r[1])) for r in source.rows(q))


def duplicate_row_count(source: Source, table: str, columns: list[str] | None = None) -> int:
    """Exact number of surplus rows: rows that repeat an earlier row over `columns` (default all columns)."""
    names = columns or [c.name for c in source.columns(table)]
    if source.dialect in ("duckdb", "spark") and columns is None:
        # Equal rows hash equally, so as many distinct row hashes as rows proves there are no duplicates;
        # only when hashes repeat is the exact (and costlier) GROUP BY needed.
        row_hash = (
            exp.Anonymous(this="HASH", expressions=[exp.column("t")])
            if source.dialect == "duckdb"
            else exp.Anonymous(this="XXHASH64", expressions=[stats_sql.col(n) for n in names])
        )
        q = exp.select(
            exp.Count(this=exp.Star()), exp.Count(this=exp.Distinct(expressions=[row_hash]))
        ).from_(source.table(table).as_("t"))
        total, hashes = source.rows(q)[0]
        if int(total) == int(hashes):
            return 0
    keys = [stats_sql.col(n) for n in names]
    inner = (
        exp.select(exp.Count(this=exp.Star()).as_("n"))
        .from_(source.table(table))
        .group_by(*keys)
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=stats_sql.lit(1)))
    )
    q = exp.select(exp.Sum(this=exp.Sub(this=exp.column("n"), expression=stats_sql.lit(1)))).from_(
        inner.subquery("d")
    )
    value = source.rows(q)[0][0]
    return int(value or 0)


def row_count(source: Source, table: str) -> int:
    """COUNT(*) of a table."""
    return int(source.rows(exp.select(exp.Count(this=exp.Star())).from_(source.table(table)))[0][0])


def profile_table(  # noqa: C901 - sampling choice, one query, then one row per column
    source: Source,
    table: str,
    *,
    now: dt.datetime | None = None,
    top_k: int = 10,
    approx_above: int = APPROX_DISTINCT_ABOVE,
    duplicates: bool = True,
    time_column: str | None = None,
    sample_rows: int = 20_000,
) -> TableProfile:
    """Profile every column of `table` with SQL pushed down to the warehouse.

    On DuckDB, tables above `approx_above` rows get HyperLogLog distinct counts and quantiles from a random
    sample of `sample_rows` rows; format classes and shapes come from a sample on any table larger than the
    sample (on PostgreSQL/MySQL above `approx_above`). Counts, NULLs, min/max, mean, stddev, lengths, top
    values and the duplicate-row count stay exact at every size.
    """
    import time as _time

    started = _time.perf_counter()
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    columns = source.columns(table)
    n_rows = row_count(source, table)
    approximate = n_rows > approx_above
    queries = 2
    sampled: _SampleStats | None = None
    sampled_patterns: dict[str, Patterns] = {}
    if approximate and source.dialect == "duckdb":
        # One sample query first: its means are the shift points the exact sums below need.
        sampled = _sample_stats(source, table, columns, sample_rows, n_rows)
        sampled_patterns = sampled.patterns
        queries += 1
    elif approximate:
        # Regexes cost far more than aggregates: on big tables classify one SQL-side sample of the strings.
        strings = [c.name for c in columns if c.kind == "string"]
        sampled_patterns = _sampled_patterns(source, table, strings, sample_rows, n_rows)
        queries += 2 if strings else 0
    elif source.dialect == "duckdb" and n_rows > sample_rows and any(c.kind == "string" for c in columns):
        # Mid-sized DuckDB tables keep exact statistics, but regexes over every string would make them slower
        # to profile than big tables: formats and shapes come from the same kind of sample.
        sampled_patterns = _sample_stats(
            source, table, tuple(c for c in columns if c.kind == "string"), sample_rows, n_rows
        ).patterns
        queries += 1
    query, slots = _aggregate_query(
        source, table, columns, approximate, sampled, formats=not sampled_patterns
    )
    values = source.rows(query)[0]
    stats: dict[str, dict[str, Any]] = {c.name: {"quantiles": {}, "formats": {}} for c in columns}
    for (column, stat, arg), value in zip(slots[1:], values[1:], strict=True):
        s = stats[column]
        if stat == "quantile":
            s["quantiles"][arg] = _float(value)
        elif stat == "quantile_array":
            s["quantiles"].update({str(q): _float(v) for q, v in zip(QUANTILES, value or [], strict=False)})
        elif stat == "format":
            s["formats"][arg] = int(value or 0)
        else:
            s[stat] = value
    profiles = []
    for c in columns:
        s = stats[c.name]
        nonnull = int(s["nonnull"] or 0)
        quantiles = sampled.quantiles.get(c.name, {}) if sampled is not None else s["quantiles"]
        if c.kind == "numeric" and source.dialect == "mysql":
            quantiles = _mysql_quantiles(source, table, c.name, nonnull)
            queries += len(quantiles)
        mean, stddev = _float(s.get("mean")), _float(s.get("stddev"))
        if "shifted_sum" in s and sampled is not None:
            mean, stddev = _shifted_moments(
                sampled.centers.get(c.name) or 0.0, s["shifted_sum"], s["shifted_squares"], nonnull
            )
        distinct = int(s.get("distinct") or 0)
        top: tuple[tuple[Any, int], ...] = ()
        shapes: tuple[tuple[str, int], ...] = ()
        # Top values only where they say something: not for near-unique columns, not for continuous numbers.
        if nonnull and c.kind in ("string", "boolean") and distinct <= max(0.5 * nonnull, top_k):
            top = _group_counts(source, table, stats_sql.col(c.name), top_k)
            queries += 1
        formats, base = (s["formats"], nonnull) if c.kind == "string" else ({}, 0)
        if c.name in sampled_patterns:
            formats, base, shapes = sampled_patterns[c.name]
        elif nonnull and c.kind == "string" and (s.get("mean_length") or 0) <= 64:
            shapes = tuple(
                (str(k), n)
                for k, n in _group_counts(
                    source, table, stats_sql.shape(source.dialect, stats_sql.col(c.name)), 5
                )
            )
            queries += 1
        profiles.append(
            ColumnProfile(
                name=c.name,
                type=c.type,
                kind=c.kind,
                count=n_rows,
                nulls=n_rows - nonnull,
                distinct=distinct,
                distinct_approximate=approximate and source.dialect in stats_sql.APPROXIMATE_DIALECTS,
                min=s.get("min"),
                max=s.get("max"),
                mean=mean,
                stddev=stddev,
                quantiles={k: v for k, v in quantiles.items() if v is not None},
                top_values=top,
                min_length=s.get("min_length"),
                max_length=s.get("max_length"),
                mean_length=_float(s.get("mean_length")),
                formats=formats,
                shapes=shapes,
                format_base=base,
            )
        )
    tcol = time_column or pick_time_column(columns)
    newest = None
    if tcol:
        newest = _to_datetime(stats[tcol].get("max") if tcol in stats else None)
    age = (now - newest).total_seconds() / 3600 if newest else None
    dups = None
    if duplicates and n_rows:
        # A column whose every value differs makes every row differ. Exact distinct counts show such a column
        # for free; with estimates, one exact COUNT DISTINCT on the likeliest key usually settles it without
        # grouping whole rows.
        exact_distinct = not (approximate and source.dialect in stats_sql.APPROXIMATE_DIALECTS)
        if exact_distinct and any(int(stats[c.name].get("distinct") or 0) == n_rows for c in columns):
            dups = 0
        elif not exact_distinct and (key := _key_column(columns, stats, n_rows)) is not None:
            queries += 1
            dups = 0 if _distinct_count(source, table, key) == n_rows else None
        if dups is None:
            dups = duplicate_row_count(source, table)
            queries += 1
    return TableProfile(
        table=table,
        row_count=n_rows,
        columns=tuple(profiles),
        time_column=tcol,
        newest=newest,
        age_hours=age,
        duplicate_rows=dups,
        profiled_at=now,
        seconds=_time.perf_counter() - started,
        queries=queries,
    )


def masked_profile(profile: TableProfile, sensitive: Iterable[str]) -> TableProfile:
    """The profile with min, max and top values of the workspace's sensitive columns masked (shown to every role)."""
    from dataclasses import replace

    from datatruth.sql.sensitive import is_sensitive, marked, mask_value

    marks = marked(sensitive)
    if not marks:
        return profile
    columns = tuple(
        replace(
            c,
            min=mask_value(c.min),
            max=mask_value(c.max),
            top_values=tuple((mask_value(v), n) for v, n in c.top_values),
        )
        if is_sensitive(profile.table, c.name, marks)
        else c
        for c in profile.columns
    )
    return replace(profile, columns=columns)


def histogram(source: Source, table: str, column: str, bins: int = 30) -> list[tuple[float, float, int]]:
    """Equal-width histogram of a numeric column computed in SQL: (low, high, count) per bin."""
    ref = stats_sql.as_double(stats_sql.col(column))
    lo, hi = source.rows(exp.select(exp.Min(this=ref), exp.Max(this=ref)).from_(source.table(table)))[0]
    if lo is None:
        return []
    lo, hi = float(lo), float(hi)
    width = (hi - lo) / bins if hi > lo else 1.0
    idx = exp.Least(
        this=exp.Floor(
            this=exp.Div(
                this=exp.Paren(this=exp.Sub(this=ref, expression=stats_sql.lit(lo))),
                expression=stats_sql.lit(width),
            )
        ),
        expressions=[stats_sql.lit(bins - 1)],
    )
    q = (
        exp.select(idx.as_("b"), exp.Count(this=exp.Star()).as_("n"))
        .from_(source.table(table))
        .where(exp.Not(this=exp.Is(this=stats_sql.col(column), expression=exp.Null())))
        .group_by(exp.column("b"))
        .order_by(exp.column("b"))
    )
    return [(lo + int(b) * width, lo + (int(b) + 1) * width, int(n)) for b, n in source.rows(q)]
