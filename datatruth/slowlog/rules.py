"""Rule checks per query class: sqlglot AST rules plus statistics rules, each a named stage."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from datatruth.slowlog.aggregate import ClassStats
from datatruth.slowlog.events import MAX_ANALYSED_CHARS
from datatruth.slowlog.fingerprint import too_deep
from datatruth.slowlog.redact import redact_sample

T = TypeVar("T")

DIALECTS = {
    "postgres": "postgres",
    "pg_stat_statements": "postgres",
    "mysql": "mysql",
    "performance_schema": "mysql",
    "duckdb": "duckdb",
}


class Severity(enum.IntEnum):
    """How urgent a finding is; ordered so max() picks the worst."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Finding:
    """One rule hit: which rule, how bad, why, and the (redaction-safe) evidence."""

    rule: str
    severity: Severity
    reason: str
    evidence: str


@dataclass(frozen=True)
class SchemaInfo:
    """What is known about the tables a query touches: row counts and column type kinds."""

    table_rows: Mapping[str, int] = field(default_factory=dict)  # "schema.table" or "table"
    column_kinds: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # table -> column -> kind

    def rows(self, table: str) -> int | None:
        """Row count of a table by qualified or bare name, if known."""
        return _lookup(self.table_rows, table)

    def kind(self, table: str, column: str) -> str | None:
        """'number', 'string', 'temporal' or other kind of a column, if known."""
        columns = _lookup(self.column_kinds, table)
        return None if columns is None else columns.get(column.lower())


def _lookup(mapping: Mapping[str, T], table: str) -> T | None:
    name = table.lower()
    if name in mapping:
        return mapping[name]
    bare = name.rsplit(".", 1)[-1]
    if bare in mapping:
        return mapping[bare]
    for key, value in mapping.items():
        if key.rsplit(".", 1)[-1] == bare:
            return value
    return None


@dataclass(frozen=True)
class Thresholds:
    """Numbers the statistics rules compare against (defaults suit OLTP workloads)."""

    large_table_rows: int = 100_000
    large_offset: int = 1_000
    huge_offset: int = 10_000
    examined_ratio: float = 100.0
    examined_min_rows: float = 1_000.0
    burst_min_calls: int = 50
    burst_max_mean_s: float = 0.005
    burst_window_s: float = 60.0
    burst_min_rate_per_s: float = 5.0


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may look at for one class."""

    sql: str
    dialect: str
    tree: exp.Expr | None
    stats: ClassStats | None
    schema: SchemaInfo
    thresholds: Thresholds


Rule = Callable[[RuleContext], Iterable[Finding]]


@contextmanager
def quiet_sqlglot() -> Iterator[None]:
    """Keep sqlglot from logging warnings that quote the (unredacted) SQL it was given."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def parse_quietly(sql: str, dialect: str) -> exp.Expr | None:
    """Parse one statement with sqlglot; None when it does not parse, is not understood or nests too deep.

    Only the first MAX_ANALYSED_CHARS are offered: longer samples are cut (and then usually do not
    parse), which bounds the parser's memory and time.
    """
    if len(sql) > MAX_ANALYSED_CHARS or too_deep(sql):
        return None
    with quiet_sqlglot():
        try:
            tree = sqlglot.parse_one(sql, read=dialect)
        except (ParseError, TokenError, ValueError):
            return None
    if tree is None or isinstance(tree, exp.Command):
        return None
    return tree


# --------------------------------------------------------------------------------------------
# helpers over the AST
# --------------------------------------------------------------------------------------------


def _table_name(table: exp.Table) -> str:
    return ".".join(part for part in (table.text("db"), table.name) if part)


def _aliases(tree: exp.Expr) -> dict[str, str]:
    """alias (or bare name) -> qualified table name, for every table in the statement."""
    found: dict[str, str] = {}
    for table in tree.find_all(exp.Table):
        name = _table_name(table)
        if not table.name:
            continue
        found[(table.alias_or_name or table.name).lower()] = name
        found.setdefault(table.name.lower(), name)
    return found


def tables_of(tree: exp.Expr) -> list[str]:
    """Qualified names of the base tables a statement reads or writes (CTE names excluded)."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    names: list[str] = []
    for table in tree.find_all(exp.Table):
        name = _table_name(table)
        if table.name and table.name.lower() not in ctes and name not in names:
            names.append(name)
    return names


def column_table(column: exp.Column, tree: exp.Expr, schema: SchemaInfo) -> str | None:
    """The table a column belongs to: by its qualifier, the only table, or the schema's columns."""
    aliases = _aliases(tree)
    if column.table:
        return aliases.get(column.table.lower())
    tables = tables_of(tree)
    if len(tables) == 1:
        return tables[0]
    owners = [table for table in tables if schema.kind(table, column.name) is not None]
    return owners[0] if len(owners) == 1 else None


def _predicates(tree: exp.Expr) -> Iterator[exp.Expr]:
    """The WHERE, HAVING and JOIN ... ON conditions of every query block."""
    for node in tree.find_all(exp.Where, exp.Having):
        yield node.this
    for join in tree.find_all(exp.Join):
        if join.args.get("on") is not None:
            yield join.args["on"]


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike, exp.In)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)


# --------------------------------------------------------------------------------------------
# AST rules
# --------------------------------------------------------------------------------------------


def rule_select_star(ctx: RuleContext) -> Iterable[Finding]:
    """SELECT * reads every column: wider rows, no index-only scans, breaks when columns change."""
    if ctx.tree is None:
        return
    for select in ctx.tree.find_all(exp.Select):
        if any(
            isinstance(expression, exp.Star)
            or (isinstance(expression, exp.Column) and isinstance(expression.this, exp.Star))
            for expression in select.expressions
        ):
            yield Finding(
                "select_star",
                Severity.LOW,
                "SELECT * fetches every column; name the columns needed so covering indexes can serve it",
                f"SELECT * FROM {', '.join(tables_of(select)) or '(subquery)'}",
            )
            return


def rule_leading_wildcard_like(ctx: RuleContext) -> Iterable[Finding]:
    """LIKE '%...' cannot use a B-tree index on the column."""
    if ctx.tree is None:
        return
    for node in ctx.tree.find_all(exp.Like, exp.ILike):
        pattern = node.expression
        if isinstance(pattern, exp.Literal) and pattern.is_string and pattern.this[:1] in ("%", "_"):
            column = node.this
            target = column.sql() if isinstance(column, exp.Column) else "an expression"
            table = column_table(column, ctx.tree, ctx.schema) if isinstance(column, exp.Column) else None
            large = table is not None and (ctx.schema.rows(table) or 0) >= ctx.thresholds.large_table_rows
            yield Finding(
                "leading_wildcard_like",
                Severity.HIGH if large else Severity.MEDIUM,
                "a pattern that starts with a wildcard scans every row; use a trigram/full-text "
                "index or anchor the pattern",
                f"{target} {'ILIKE' if isinstance(node, exp.ILike) else 'LIKE'} '{pattern.this[0]}...'",
            )


def _wrapped_column(side: exp.Expr) -> exp.Column | None:
    """A column hidden inside a function, cast or arithmetic on one side of a comparison."""
    if isinstance(side, exp.Column | exp.Literal | exp.Placeholder | exp.Parameter):
        return None
    if isinstance(side, (exp.Func, exp.Cast, exp.TryCast, *_ARITHMETIC)):
        columns = list(side.find_all(exp.Column))
        if columns:
            return columns[0]
    return None


def rule_function_on_column(ctx: RuleContext) -> Iterable[Finding]:
    """A function or arithmetic around a filtered column hides it from its index."""
    if ctx.tree is None:
        return
    seen: set[str] = set()
    for predicate in _predicates(ctx.tree):
        for node in predicate.find_all(*_COMPARISONS):
            for side in (node.this, node.args.get("expression")):
                if side is None:
                    continue
                column = _wrapped_column(side)
                if column is None:
                    continue
                wrapper = "arithmetic" if isinstance(side, _ARITHMETIC) else "a function"
                # The wrapped expression may hold literals (formats, offsets): evidence is redacted.
                evidence = redact_sample(side.sql(dialect=ctx.dialect), dialect=ctx.dialect)
                if evidence in seen:
                    continue
                seen.add(evidence)
                yield Finding(
                    "function_on_column",
                    Severity.MEDIUM,
                    f"{wrapper} applied to filtered column {column.sql()} prevents an index on it from "
                    "being used; compare the bare column (e.g. a range) or index the expression",
                    evidence,
                )


_NUMBER_KINDS = {"number"}
_STRING_KINDS = {"string"}


def rule_implicit_cast(ctx: RuleContext) -> Iterable[Finding]:
    """String compared with a number column (or number with a string column): a cast per row."""
    if ctx.tree is None:
        return
    for predicate in _predicates(ctx.tree):
        for node in predicate.find_all(exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In):
            column = node.this if isinstance(node.this, exp.Column) else None
            others = node.expressions if isinstance(node, exp.In) else [node.args.get("expression")]
            if column is None and isinstance(node.args.get("expression"), exp.Column):
                column, others = node.args["expression"], [node.this]
            if column is None:
                continue
            table = column_table(column, ctx.tree, ctx.schema)
            kind = ctx.schema.kind(table, column.name) if table else None
            if kind is None:
                continue
            literals = [other for other in others if isinstance(other, exp.Literal)]
            if kind in _STRING_KINDS and any(not lit.is_string for lit in literals):
                yield Finding(
                    "implicit_cast",
                    Severity.HIGH,
                    f"string column {column.sql()} compared with a number: the server converts every "
                    "row's value, so an index on the column cannot be used; quote the value",
                    f"{column.sql()} (string) = <number>",
                )
            elif kind in _NUMBER_KINDS and any(lit.is_string for lit in literals):
                yield Finding(
                    "implicit_cast",
                    Severity.MEDIUM,
                    f"number column {column.sql()} compared with a string: pass a number so no "
                    "conversion is needed",
                    f"{column.sql()} (number) = <string>",
                )


def _or_columns(node: exp.Or) -> list[set[str]]:
    branches: list[set[str]] = []
    for branch in node.flatten():
        branches.append({column.sql().lower() for column in branch.find_all(exp.Column)})
    return branches


def rule_or_across_columns(ctx: RuleContext) -> Iterable[Finding]:
    """OR between conditions on different columns usually defeats single-column indexes."""
    if ctx.tree is None:
        return
    for predicate in _predicates(ctx.tree):
        for node in predicate.find_all(exp.Or):
            if isinstance(node.parent, exp.Or):
                continue  # handled at the top of the OR chain
            branches = [columns for columns in _or_columns(node) if columns]
            distinct = set().union(*branches) if branches else set()
            if len(branches) >= 2 and len(distinct) >= 2 and not all(b == branches[0] for b in branches):
                yield Finding(
                    "or_across_columns",
                    Severity.MEDIUM,
                    "OR across different columns often forces a full scan; split into UNION ALL of "
                    "indexed lookups or index each column",
                    " OR ".join(sorted(distinct)),
                )


def rule_order_by_random(ctx: RuleContext) -> Iterable[Finding]:
    """ORDER BY RAND()/RANDOM() sorts the whole input to return a few rows."""
    if ctx.tree is None:
        return
    for order in ctx.tree.find_all(exp.Order):
        for ordered in order.expressions:
            if isinstance(ordered.this, exp.Rand) or (
                isinstance(ordered.this, exp.Anonymous) and ordered.this.name.lower() in ("rand", "random")
            ):
                tables = tables_of(ctx.tree)
                large = any(
                    (ctx.schema.rows(table) or 0) >= ctx.thresholds.large_table_rows for table in tables
                )
                yield Finding(
                    "order_by_random",
                    Severity.CRITICAL if large else Severity.HIGH,
                    "ORDER BY RAND() reads and sorts every row; pick random keys instead "
                    "(e.g. TABLESAMPLE or a random id range)",
                    f"ORDER BY {ordered.this.sql(dialect=ctx.dialect)} on {', '.join(tables)}",
                )
                return


def rule_large_offset(ctx: RuleContext) -> Iterable[Finding]:
    """OFFSET n reads and throws away n rows: deep pages get slower and slower."""
    if ctx.tree is None:
        return
    for offset in ctx.tree.find_all(exp.Offset):
        value = offset.expression
        if isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit():
            amount = int(value.this)
            if amount >= ctx.thresholds.large_offset:
                yield Finding(
                    "large_offset",
                    Severity.HIGH if amount >= ctx.thresholds.huge_offset else Severity.MEDIUM,
                    f"OFFSET {amount} reads and discards {amount} rows per page; page by key "
                    "(WHERE id > last_seen ORDER BY id LIMIT n)",
                    f"OFFSET {amount}",
                )


def rule_missing_where(ctx: RuleContext) -> Iterable[Finding]:
    """A statement without WHERE on a large table reads (or changes) all of it."""
    tree = ctx.tree
    if tree is None or not isinstance(tree, exp.Select | exp.Update | exp.Delete):
        return
    if tree.args.get("where") is not None:
        return
    if isinstance(tree, exp.Select):
        # A LIMIT without WHERE reads only a few rows; joins are judged by their ON conditions.
        if (
            tree.args.get("joins")
            or tree.args.get("limit")
            or not (tree.args.get("from_") or tree.args.get("from"))
        ):
            return
    tables = tables_of(tree)
    table = tables[0] if tables else None
    rows = ctx.schema.rows(table) if table else None
    examined = ctx.stats.rows_examined.avg if ctx.stats and ctx.stats.rows_examined else None
    size = rows if rows is not None else examined
    if size is None or size < ctx.thresholds.large_table_rows:
        return
    writes = isinstance(tree, exp.Update | exp.Delete)
    verb = type(tree).__name__.upper()
    yield Finding(
        "missing_where",
        Severity.CRITICAL if writes else Severity.HIGH,
        f"{verb} without WHERE on {table} ({int(size):,} rows) touches every row",
        f"{verb} {table} without WHERE; {'rows' if rows is not None else 'avg rows examined'}={int(size)}",
    )


# --------------------------------------------------------------------------------------------
# Statistics rules
# --------------------------------------------------------------------------------------------


def _calls(stats: ClassStats) -> float:
    for name, metric in stats.extra:
        if name == "calls":
            return metric.total
    return float(stats.count)


def rule_rows_examined_ratio(ctx: RuleContext) -> Iterable[Finding]:
    """Far more rows examined than returned: the filter is not served by an index."""
    stats = ctx.stats
    if stats is None or stats.rows_examined is None or stats.rows_sent is None:
        return
    examined, sent = stats.rows_examined.total, stats.rows_sent.total
    calls = max(_calls(stats), 1.0)
    if examined / calls < ctx.thresholds.examined_min_rows:
        return
    ratio = examined / max(sent, 1.0)
    if ratio < ctx.thresholds.examined_ratio:
        return
    yield Finding(
        "rows_examined_ratio",
        Severity.HIGH if ratio >= 100 * ctx.thresholds.examined_ratio else Severity.MEDIUM,
        f"examines {ratio:,.0f} rows for every row it returns; an index on the filtered columns "
        "would let it read only what it needs",
        f"rows_examined={int(examined)} rows_sent={int(sent)} calls={int(calls)}",
    )


def rule_n_plus_one(ctx: RuleContext) -> Iterable[Finding]:
    """Many tiny calls of one class in a short window: a loop issuing one query per item (N+1).

    Only statements that read or write table rows can be an item loop: BEGIN, END, COMMIT, SET and
    other session statements are many and fast in every healthy application.
    """
    stats = ctx.stats
    tree = ctx.tree
    if stats is None or tree is None or not tables_of(tree):
        return
    if isinstance(tree, exp.Query):
        advice = "fetch the items in one query (IN list or JOIN)"
    elif isinstance(tree, exp.Insert | exp.Update | exp.Delete):
        advice = (
            "write the items in one statement (multi-row INSERT, or UPDATE/DELETE ... WHERE key IN (...))"
        )
    else:
        return
    calls = _calls(stats)
    if calls < ctx.thresholds.burst_min_calls:
        return
    mean = stats.query_time.total / calls
    if mean > ctx.thresholds.burst_max_mean_s:
        return
    if stats.first_seen is None or stats.last_seen is None:
        return
    window = max((stats.last_seen - stats.first_seen).total_seconds(), 1.0)
    rate = calls / window
    if window > ctx.thresholds.burst_window_s and rate < ctx.thresholds.burst_min_rate_per_s:
        return
    yield Finding(
        "n_plus_one",
        Severity.HIGH if calls >= 10 * ctx.thresholds.burst_min_calls else Severity.MEDIUM,
        f"{int(calls)} calls averaging {mean * 1000:.2f} ms within {window:.0f} s look like one query "
        f"per item in a loop; {advice}",
        f"calls={int(calls)} mean_ms={mean * 1000:.3f} window_s={window:.0f} rate_per_s={rate:.1f}",
    )


RULES: tuple[tuple[str, Rule], ...] = (
    ("select_star", rule_select_star),
    ("leading_wildcard_like", rule_leading_wildcard_like),
    ("function_on_column", rule_function_on_column),
    ("implicit_cast", rule_implicit_cast),
    ("or_across_columns", rule_or_across_columns),
    ("order_by_random", rule_order_by_random),
    ("large_offset", rule_large_offset),
    ("missing_where", rule_missing_where),
    ("rows_examined_ratio", rule_rows_examined_ratio),
    ("n_plus_one", rule_n_plus_one),
)


@dataclass(frozen=True)
class ClassAnalysis:
    """The findings for one class and the worst severity among them (None: nothing found)."""

    query_id: str | None
    findings: tuple[Finding, ...]
    severity: Severity | None
    parsed: bool


def analyze_sql(
    sql: str,
    dialect: str = "postgres",
    schema: SchemaInfo | None = None,
    stats: ClassStats | None = None,
    thresholds: Thresholds | None = None,
) -> ClassAnalysis:
    """Run every rule on one statement (and its class statistics when given)."""
    tree = parse_quietly(sql, dialect)
    ctx = RuleContext(
        sql=sql,
        dialect=dialect,
        tree=tree,
        stats=stats,
        schema=schema or SchemaInfo(),
        thresholds=thresholds or Thresholds(),
    )
    findings: list[Finding] = []
    with quiet_sqlglot():  # rules print fragments of the (unredacted) tree for their evidence
        for _name, rule in RULES:
            findings.extend(rule(ctx))
    findings.sort(key=lambda finding: finding.severity, reverse=True)
    return ClassAnalysis(
        query_id=stats.query_id if stats else None,
        findings=tuple(findings),
        severity=max((f.severity for f in findings), default=None),
        parsed=tree is not None,
    )


def analyze_class(
    stats: ClassStats,
    schema: SchemaInfo | None = None,
    dialect: str | None = None,
    thresholds: Thresholds | None = None,
) -> ClassAnalysis:
    """Analyse one aggregated class using its worst sample and its statistics."""
    dialect = dialect or DIALECTS.get(stats.sample.source, "postgres")
    return analyze_sql(stats.sample.query, dialect, schema, stats, thresholds)
