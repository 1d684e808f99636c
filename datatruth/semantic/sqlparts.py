"""Dialect-specific SQL fragments for the compiler (time grains, date shifts, percentiles), parsed once and cached.

Each fragment is written in its own dialect with a placeholder column `__x__` and parsed by sqlglot in that
dialect; the compiler copies the cached tree and puts the real expression where the placeholder was.
Model expressions (dimension/measure/entity exprs, filters) are parsed once per text and copied on use.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import sqlglot
from sqlglot import exp

from datatruth.errors import UserError

DIALECTS = ("duckdb", "postgres", "mysql")
_DIALECT_ALIASES = {"postgresql": "postgres", "mariadb": "mysql", "pg": "postgres", "duck": "duckdb"}
PLACEHOLDER = "__x__"
PERIOD_START = "__period_start__"
_PERIOD_RE = re.compile(r"\{\{\s*period_start\s*\}\}")

_TRUNC = {
    "duckdb": {
        "hour": "DATE_TRUNC('hour', __x__)",
        "dow": "ISODOW(__x__)",
        "month_of_year": "MONTH(__x__)",
        "year_number": "YEAR(__x__)",
        "quarter_of_year": "QUARTER(__x__)",
        "hour_of_day": "HOUR(__x__)",
        **{g: f"CAST(DATE_TRUNC('{g}', __x__) AS DATE)" for g in ("day", "week", "month", "quarter", "year")},
    },
    "postgres": {
        "hour": "DATE_TRUNC('hour', __x__)",
        "dow": "CAST(EXTRACT(ISODOW FROM __x__) AS INTEGER)",
        "month_of_year": "CAST(EXTRACT(MONTH FROM __x__) AS INTEGER)",
        "year_number": "CAST(EXTRACT(YEAR FROM __x__) AS INTEGER)",
        "quarter_of_year": "CAST(EXTRACT(QUARTER FROM __x__) AS INTEGER)",
        "hour_of_day": "CAST(EXTRACT(HOUR FROM __x__) AS INTEGER)",
        **{g: f"CAST(DATE_TRUNC('{g}', __x__) AS DATE)" for g in ("day", "week", "month", "quarter", "year")},
    },
    "mysql": {
        "hour": "CAST(DATE_FORMAT(__x__, '%Y-%m-%d %H:00:00') AS DATETIME)",
        "day": "DATE(__x__)",
        "week": "DATE_SUB(DATE(__x__), INTERVAL WEEKDAY(__x__) DAY)",
        "month": "DATE_SUB(DATE(__x__), INTERVAL (DAYOFMONTH(__x__) - 1) DAY)",
        "quarter": "DATE_ADD(MAKEDATE(YEAR(__x__), 1), INTERVAL (QUARTER(__x__) - 1) QUARTER)",
        "year": "MAKEDATE(YEAR(__x__), 1)",
        "dow": "WEEKDAY(__x__) + 1",
        "month_of_year": "MONTH(__x__)",
        "quarter_of_year": "QUARTER(__x__)",
        "year_number": "YEAR(__x__)",
        "hour_of_day": "HOUR(__x__)",
    },
}
_SHIFT = {
    "duckdb": "CAST(__x__ + INTERVAL '{n}' {unit} AS {cast})",
    "postgres": "CAST(__x__ + INTERVAL '{n} {unit}' AS {cast})",
    "mysql": "CAST(DATE_ADD(__x__, INTERVAL '{n}' {unit}) AS {cast})",
}
_PERCENTILE = {
    "duckdb": "QUANTILE_CONT(__x__, {p})",
    "postgres": "PERCENTILE_CONT({p}) WITHIN GROUP (ORDER BY __x__)",
}
# Words that must be quoted when used as a name (the union of what the three dialects reserve and we might
# plausibly generate or meet as a model/entity name).
RESERVED = frozenset(
    """
all analyse analyze and any array as asc asymmetric between both by case cast change check collate column
condition constraint create cross current_date current_time current_timestamp current_user default delete
desc describe distinct div do dual else end except false fetch for foreign from full grant group having in
index inner insert intersect interval into is join key keys lateral leading left like limit localtime
localtimestamp mod natural not null offset on only or order outer over partition placing primary range read
references rename right row rows select session_user set symmetric table then to trailing true union unique
update user using values when where window with
""".split()
)
_SAFE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


def normalize_dialect(dialect: str) -> str:
    """Map a dialect or SQLAlchemy backend name to one the compiler speaks (duckdb, postgres, mysql)."""
    name = _DIALECT_ALIASES.get(dialect.lower(), dialect.lower())
    if name not in DIALECTS:
        raise UserError(
            f"the compiler does not speak the SQL dialect '{dialect}'",
            f"supported: {', '.join(DIALECTS)} (PostgreSQL, MySQL/MariaDB, DuckDB)",
        )
    return name


@lru_cache(maxsize=256)
def _template(text: str, dialect: str) -> exp.Expression:
    # Every parsed node is an exp.Expression; sqlglot types parse_one with their common base, exp.Expr.
    return sqlglot.parse_one(text, read=dialect)  # type: ignore[return-value]


def fill(text: str, dialect: str, value: exp.Expression) -> exp.Expression:
    """Parse (cached) a dialect fragment and replace its placeholder with `value`."""
    tree = _template(text, dialect).copy()
    for col in list(tree.find_all(exp.Column)):
        if col.name == PLACEHOLDER and not col.table:
            if col is tree:
                return value.copy()
            col.replace(value.copy())
    return tree


def truncate(value: exp.Expression, grain: str, dialect: str) -> exp.Expression:
    """The expression truncated to a time grain (a DATE for day and coarser), or a date part (day of week,
    month of year, quarter of year, hour of day) as a number."""
    key = "dow" if grain == "day_of_week" else grain
    return fill(_TRUNC[dialect][key], dialect, value)


def shift(value: exp.Expression, n: int, unit: str, dialect: str, timestamp: bool = False) -> exp.Expression:
    """`value` moved by n units (day/month/hour…), cast back to DATE (or TIMESTAMP for hourly grains)."""
    cast = "TIMESTAMP" if timestamp else "DATE"
    if dialect == "mysql" and timestamp:
        cast = "DATETIME"
    return fill(_SHIFT[dialect].format(n=int(n), unit=unit.upper(), cast=cast), dialect, value)


def percentile(value: exp.Expression, p: float, dialect: str, agg_name: str) -> exp.Expression:
    """A continuous percentile aggregate (median is p = 0.5)."""
    if dialect not in _PERCENTILE:
        raise UserError(
            f"the {agg_name} aggregate is not available on {dialect}",
            "MySQL/MariaDB have no percentile aggregate; use avg or run on DuckDB/PostgreSQL",
        )
    return fill(_PERCENTILE[dialect].format(p=repr(float(p))), dialect, value)


@lru_cache(maxsize=4096)
def _parse_model_expr(text: str) -> exp.Expression:
    return sqlglot.parse_one(_PERIOD_RE.sub(PERIOD_START, text))  # type: ignore[return-value]  # as _template


def parse_expr(text: str) -> exp.Expression:
    """Parse a model expression (portable SQL) once; raises sqlglot.errors.ParseError when it is not SQL."""
    return _parse_model_expr(text)


def qualified(text: str, alias: str) -> exp.Expression:
    """A model expression with every unqualified column bound to the model's table alias (a fresh copy)."""
    tree = _parse_model_expr(text).copy()
    for col in list(tree.find_all(exp.Column)):
        if not col.table and col.name != PERIOD_START:
            col.set("table", ident(alias))
    return tree


def ident(name: str) -> exp.Identifier:
    """An identifier, quoted only when the name is reserved or not a plain lower-case word."""
    quoted = name.lower() in RESERVED or not (_SAFE_RE.match(name) or name.isidentifier())
    return exp.Identifier(this=name, quoted=quoted)


def col(name: str, table: str | None = None) -> exp.Column:
    """A column reference built from identifiers that quote themselves when needed."""
    return exp.Column(this=ident(name), table=ident(table) if table else None)


def date_literal(value: dt.date) -> exp.Expression:
    """CAST('YYYY-MM-DD' AS DATE), portable across the three dialects."""
    return exp.Cast(this=exp.Literal.string(value.isoformat()), to=exp.DataType.build("date"))


def value_literal(value: object) -> exp.Expression:
    """A filter value as a SQL literal."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return date_literal(value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def add_months(day: dt.date, months: int) -> dt.date:
    """The date `months` later (or earlier), clamped to the last day of the month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def truncate_date(day: dt.date, grain: str) -> dt.date:
    """A date truncated to a grain in Python (mirrors the SQL truncation)."""
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if grain == "year":
        return dt.date(day.year, 1, 1)
    return day
