"""SQL for column statistics and checks: dialect-aware sqlglot builders shared by the profiler and the checks."""

from __future__ import annotations

from collections.abc import Sequence

import sqlglot
import sqlglot.expressions as exp

# Format classes tested in SQL with the dialect's regexp function. Patterns avoid backslashes because
# MySQL string literals treat them as escapes; character classes say the same thing portably.
FORMAT_CLASSES: dict[str, str] = {
    "email": "^[^@ ]+@[^@ ]+[.][A-Za-z]{2,}$",
    "phone": "^[+]?[0-9 ().-]{7,20}$",
    "date_like": "^[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "numeric_like": "^-?[0-9]+([.][0-9]+)?$",
    "url": "^https?://",
    "uuid": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
}


# Dialects whose big-table profiles use HyperLogLog distinct counts (DuckDB, Spark's HLL++).
APPROXIMATE_DIALECTS = frozenset({"duckdb", "spark"})


def col(name: str) -> exp.Column:
    """A quoted column reference."""
    return exp.column(name, quoted=True)


def lit(value: object) -> exp.Expr:
    """A literal (string, number, bool or NULL)."""
    return exp.convert(value)


def regex_match(dialect: str, expr: exp.Expression, pattern: str) -> exp.Expression:
    """A boolean 'expr matches pattern' in the dialect (MariaDB has no REGEXP_LIKE, so MySQL uses REGEXP_INSTR)."""
    if dialect == "mysql":
        return exp.GT(
            this=exp.Anonymous(this="REGEXP_INSTR", expressions=[expr, lit(pattern)]), expression=lit(0)
        )
    return exp.RegexpLike(this=expr, expression=lit(pattern))


def count_if(cond: exp.Expr) -> exp.Expression:
    """SUM(CASE WHEN cond THEN 1 ELSE 0 END): portable conditional count."""
    return exp.Sum(this=exp.Case(ifs=[exp.If(this=cond, true=lit(1))], default=lit(0)))


def as_double(expr: exp.Expr) -> exp.Expression:
    """Cast to a floating type so averages of integers and decimals come back as floats."""
    return exp.cast(expr, exp.DataType.build("DOUBLE"))


def char_length(expr: exp.Expression) -> exp.Expression:
    """Length in characters (CHAR_LENGTH on MySQL)."""
    return exp.Length(this=expr)


def epoch(expr: exp.Expression, dialect: str = "") -> exp.Expression:
    """Seconds since 1970 for a date or timestamp (Spark: UNIX_TIMESTAMP, in the session's UTC)."""
    if dialect == "spark":
        return exp.TimeToUnix(this=expr)
    return exp.Extract(this=exp.var("EPOCH"), expression=expr)


def quantile(dialect: str, expr: exp.Expression, q: float, approximate: bool) -> exp.Expression | None:
    """A continuous quantile aggregate, or None where the dialect has none (MySQL/MariaDB)."""
    if dialect == "mysql":
        return None
    if dialect == "duckdb" and approximate:
        return exp.Anonymous(this="APPROX_QUANTILE", expressions=[expr, lit(q)])
    if dialect == "spark":
        # PERCENTILE is exact; PERCENTILE_APPROX only where the profile says its figures are estimates.
        return (
            exp.ApproxQuantile(this=expr, quantile=lit(q))
            if approximate
            else exp.Quantile(this=expr, quantile=lit(q))
        )
    return exp.WithinGroup(
        this=exp.PercentileCont(this=lit(q)), expression=exp.Order(expressions=[exp.Ordered(this=expr)])
    )


def quantile_array(
    dialect: str, expr: exp.Expression, qs: tuple[float, ...], approximate: bool
) -> exp.Expression | None:
    """All quantiles of a column as one array-valued aggregate, where that is much cheaper (Spark); else None."""
    if dialect != "spark":
        return None
    points = exp.Array(expressions=[lit(q) for q in qs])
    # One call per column: Spark keeps a separate sketch (or value buffer) for each call.
    return (
        exp.ApproxQuantile(this=expr, quantile=points)
        if approximate
        else exp.Quantile(this=expr, quantile=points)
    )


def distinct_count(dialect: str, expr: exp.Expression, approximate: bool) -> exp.Expression:
    """COUNT(DISTINCT expr), or the dialect's HyperLogLog estimate when approximate and available."""
    if approximate and dialect in APPROXIMATE_DIALECTS:
        return exp.ApproxDistinct(this=expr)
    if dialect == "spark":
        # Exact as well, but one pass: several COUNT(DISTINCT)s in one Spark query expand every row once per
        # column (a 26k-row, 15-column profile took 28 s that way, 3 s with sets).
        return exp.ArraySize(this=exp.ArrayUniqueAgg(this=expr))
    return exp.Count(this=exp.Distinct(expressions=[expr]))


def shape(dialect: str, expr: exp.Expression) -> exp.Expression:
    """The value's format shape: runs of letters become 'a' and runs of digits '9' ('(212) 555-0101' -> '(9) 9-9')."""

    def replace(e: exp.Expression, pattern: str, repl: str) -> exp.Expression:
        args = [e, lit(pattern), lit(repl)]
        if dialect in ("duckdb", "postgres"):
            args.append(lit("g"))  # MySQL/MariaDB replace every match already and reject a 4th argument
        return exp.Anonymous(this="REGEXP_REPLACE", expressions=args)

    return replace(replace(expr, "[A-Za-z]+", "a"), "[0-9]+", "9")


def sample_query(
    dialect: str,
    table: exp.Table,
    columns: Sequence[exp.Expr],
    size: int,
    where: exp.Expr | None = None,
    seed: int = 7,
) -> exp.Select:
    """A random sample of about `size` rows taken in SQL (reservoir on DuckDB, random order elsewhere)."""
    q = exp.select(*columns).from_(table)
    if where is not None:
        q = q.where(where)
    if dialect == "duckdb":
        sub = q.subquery("s")
        text = (
            f"SELECT * FROM {sub.sql('duckdb')} USING SAMPLE reservoir({int(size)} ROWS) REPEATABLE ({seed})"
        )
        return sqlglot.parse_one(text, read="duckdb")  # type: ignore[return-value]
    return q.order_by(exp.Rand()).limit(size)


def render(query: exp.Expression, dialect: str) -> str:
    """SQL text of `query` in `dialect`."""
    return query.sql(dialect)


def block_sample_query(
    dialect: str, table: exp.Table, columns: Sequence[exp.Expr], size: int, total: int
) -> exp.Query:
    """About `size` rows read as whole storage blocks (cheap on big tables); reservoir sampling elsewhere."""
    percent = min(100.0, 100.0 * size / max(total, 1))
    if dialect == "duckdb" and percent < 100:
        cols = ", ".join(c.sql("duckdb") for c in columns)
        text = f"SELECT {cols} FROM {table.sql('duckdb')} USING SAMPLE {percent:.4f} PERCENT (system, 7)"
        return sqlglot.parse_one(text, read="duckdb")  # type: ignore[return-value]  # the text is a SELECT
    return sample_query(dialect, table, columns, size)
