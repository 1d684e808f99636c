"""Which result columns of a query carry values of a workspace's sensitive columns (column lineage with sqlglot).

A result column is sensitive when any warehouse column it is derived from is marked sensitive
(`table.column` or a bare `column`), however it got there: aliases, CTEs, subqueries, UNION arms,
functions (`upper(email)`), aggregates, `SELECT *`. When the lineage of a column cannot be worked out
it counts as sensitive: the check fails closed.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope

MASK = "•••"


def mask_value(value: Any) -> Any:
    """The one way a sensitive value is shown to someone who may not see it (None stays None)."""
    return None if value is None or (isinstance(value, float) and value != value) else MASK


def marked(sensitive: Iterable[str]) -> frozenset[str]:
    """The workspace's sensitive_columns, lower-cased (table.column or bare column)."""
    return frozenset(s.strip().lower() for s in sensitive if s and s.strip())


def is_sensitive(table: str | None, column: str, marks: frozenset[str]) -> bool:
    """True when `table.column` (or the bare column) is marked sensitive."""
    col = column.lower()
    if col in marks:
        return True
    if not table:
        return False
    table = table.lower()
    return f"{table}.{col}" in marks or f"{table.rpartition('.')[2]}.{col}" in marks


def referenced_tables(sql: str, dialect: str) -> frozenset[str]:
    """Names of the warehouse tables a query reads (CTE names excluded), as schema.table when qualified."""
    try:
        tree = sqlglot.parse_one(sql, dialect=dialect)
    except SqlglotError:
        return frozenset()
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    out = set()
    for table in tree.find_all(exp.Table):
        if table.name and table.name.lower() not in ctes:
            out.add(f"{table.db}.{table.name}" if table.db else table.name)
    return frozenset(out)


def _leaf_sources(node: Any) -> set[tuple[str, str]]:
    found = set()
    for n in node.walk():
        if isinstance(n.source, exp.Table) and not n.downstream:
            column = n.expression.name if isinstance(n.expression, exp.Column) else n.name.rpartition(".")[2]
            table = n.source.name if not n.source.db else f"{n.source.db}.{n.source.name}"
            found.add((table, column.strip('"`')))
    return found


@functools.lru_cache(maxsize=2048)
def _lineage(
    sql: str,
    dialect: str,
    marks: frozenset[str],
    schema_items: tuple[tuple[str, tuple[tuple[str, str], ...]], ...],
) -> tuple[frozenset[str], frozenset[str]]:
    """(result columns derived from a sensitive column, result columns whose lineage was worked out), lower case."""
    schema: dict[str, object] | None = {table: dict(columns) for table, columns in schema_items} or None
    try:
        tree = qualify(
            sqlglot.parse_one(sql, dialect=dialect),
            schema=schema,
            dialect=dialect,
            validate_qualify_columns=False,
        )
        scope = build_scope(tree)
    except SqlglotError:
        return frozenset(), frozenset()
    if scope is None:
        return frozenset(), frozenset()
    sensitive: set[str] = set()
    resolved: set[str] = set()
    # Only a query (or CREATE ... AS query) has a scope, and each of those has selects.
    for select in tree.selects:  # type: ignore[attr-defined]
        name = select.alias_or_name
        if isinstance(select, exp.Star) or not name:
            continue  # a star qualify could not expand (a table without a schema): its columns stay unknown
        try:
            # sqlglot types lineage's schema as required, but None (no known tables) works as for qualify.
            sources = _leaf_sources(
                lineage(
                    name,
                    tree,
                    schema=schema,  # type: ignore[arg-type]
                    dialect=dialect,
                    scope=scope,
                    trim_selects=False,
                )
            )
        except (SqlglotError, KeyError, ValueError):
            continue
        resolved.add(name.lower())
        if any(is_sensitive(table, column, marks) for table, column in sources):
            sensitive.add(name.lower())
    return frozenset(sensitive), frozenset(resolved)


def columns_to_mask(
    sql: str,
    dialect: str,
    sensitive: Iterable[str],
    frame_columns: Iterable[str],
    schema: Mapping[str, Mapping[str, str]],
) -> frozenset[str]:
    """The result columns to mask: those derived from a sensitive column, and any whose lineage is unknown."""
    marks = marked(sensitive)
    if not marks:
        return frozenset()
    items = tuple(sorted((t, tuple(sorted(cols.items()))) for t, cols in schema.items()))
    derived, resolved = _lineage(sql, dialect, marks, items)
    return frozenset(
        str(c) for c in frame_columns if str(c).lower() in derived or str(c).lower() not in resolved
    )


def mask_frame(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of `frame` with every value of `columns` masked."""
    targets = [c for c in frame.columns if str(c) in set(columns)]
    if not targets:
        return frame
    out = frame.copy()
    for column in targets:
        out[column] = out[column].astype(object).map(mask_value)
    return out
