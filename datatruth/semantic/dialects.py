"""Targets the compiler reaches by rewriting another dialect's tree: Spark SQL is built from DuckDB's fragments.

The compiler builds every query from fragments written in a dialect it speaks natively (DuckDB for Spark,
whose date functions and types are close), then `rewrite` turns that tree into one sqlglot renders as
correct Spark SQL:

- exact percentiles stay exact (sqlglot would write PERCENTILE_APPROX or a PERCENTILE_CONT Spark rejects);
- ISO day of week becomes EXTRACT(DAYOFWEEK_ISO ...) (sqlglot's DAYOFWEEK arithmetic puts Sunday on 2);
- strings never need a backslash escape (see `datatruth.sql.sparksql`);
- QUALIFY becomes a filtered subquery whose ORDER BY and LIMIT stay outside (sqlglot moves them inside,
  where they neither order the result nor limit it after the filter);
- an ORDER BY without NULLS FIRST/LAST keeps DuckDB's order (NULLs last), whatever the target's default.

`rewrite` takes and returns a sqlglot tree, so any compiler stage that produces one can call it last.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlglot import exp

from datatruth.errors import UserError
from datatruth.semantic import sqlparts as sp
from datatruth.sql import sparksql

# target dialect -> the native dialect whose fragments the compiler builds the tree from
BUILT_FROM = {"spark": "duckdb"}
_ALIASES = {"hive": "spark", "sparksql": "spark", "spark2": "spark"}
_QUALIFY_ALIAS = "qualified"


def target_dialect(dialect: str) -> str:
    """The compiler's name for `dialect`: a rewritten target (spark) or one of the native dialects."""
    name = _ALIASES.get(dialect.lower(), dialect.lower())
    return name if name in BUILT_FROM else sp.normalize_dialect(dialect)


def build_dialect(target: str) -> str:
    """The native dialect the compiler builds a tree in for `target`."""
    return BUILT_FROM.get(target, target)


def rewrite(tree: exp.Expr, target: str) -> exp.Expr:
    """The tree (rewritten in place) in a form that renders as correct SQL for `target`."""
    if target != "spark":
        return tree
    tree = sparksql.prepare(tree)
    tree = tree.transform(_iso_weekday, copy=False)
    for node in list(tree.find_all(exp.Ordered)):
        if node.args.get("nulls_first") is None:
            # DuckDB (the fragments' dialect) sorts NULLs last both ways; Spark puts them first when ascending.
            node.set("nulls_first", False)
    for select in reversed(list(tree.find_all(exp.Select))):
        if select.args.get("qualify") is not None:
            lifted = _lift_qualify(select)
            if select is tree:
                tree = lifted
            else:
                select.replace(lifted)
    return tree


def retarget(compiled: Any, target: str) -> Any:
    """A compiled query (built in `build_dialect(target)`) rewritten and rendered for `target`."""
    if compiled.dialect == target:
        return compiled
    tree = rewrite(compiled.ast.copy(), target)
    sql = tree.sql(dialect=target, pretty=True)
    return dataclasses.replace(compiled, sql=sql, ast=tree, dialect=target)


def _iso_weekday(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.DayOfWeekIso):
        return exp.Extract(this=exp.var("DAYOFWEEK_ISO"), expression=node.this)
    return node


def _output_name(projection: exp.Expression) -> str:
    name = projection.alias_or_name
    if isinstance(projection, exp.Star) or not name:
        raise UserError(
            "a QUALIFY query must name every output column to run on Spark",
            "give each selected expression an alias",
        )
    return name


def _lift_qualify(select: exp.Select) -> exp.Select:
    """SELECT cols FROM (SELECT cols, windows FROM ...) WHERE condition ORDER BY ... LIMIT ..."""
    inner = select.copy()
    condition = inner.args["qualify"].this
    order = inner.args.get("order")
    tail = {key: inner.args.get(key) for key in ("limit", "offset", "distinct")}
    with_ = next((inner.args.get(k) for k in ("with_", "with") if inner.args.get(k) is not None), None)
    for key in ("qualify", "order", "limit", "offset", "distinct", "with_", "with"):
        if key in inner.arg_types:
            inner.set(key, None)
    names = [_output_name(p) for p in inner.expressions]
    hidden: list[exp.Expr] = []

    def hide(expr: exp.Expression, prefix: str) -> exp.Column:
        alias = f"_{_QUALIFY_ALIAS}_{prefix}{len(hidden) + 1}"
        hidden.append(exp.alias_(expr.copy(), alias))
        return exp.column(alias)

    def outside(expr: exp.Expression, prefix: str) -> exp.Expression:
        # An expression the outer query can read: an output column, or a hidden column of the subquery.
        for name, projection in zip(names, inner.expressions, strict=True):
            if expr == projection.unalias() or (
                isinstance(expr, exp.Column) and not expr.table and expr.name == name
            ):
                return exp.column(name, quoted=True)
        return hide(expr, prefix)

    def lift_windows(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Window):
            return hide(node, "w")
        if isinstance(node, exp.Column):
            return outside(node, "c")
        return node

    condition = condition.copy().transform(lift_windows)
    ordered = []
    for item in order.expressions if order is not None else []:
        moved = item.copy()
        moved.set("this", outside(item.this, "o"))
        ordered.append(moved)
    inner.set("expressions", inner.expressions + hidden)
    outer = exp.select(*[exp.column(n, quoted=True) for n in names]).from_(
        exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(_QUALIFY_ALIAS)))
    )
    outer = outer.where(condition)
    if ordered:
        outer.set("order", exp.Order(expressions=ordered))
    for key, value in tail.items():
        if value is not None:
            outer.set(key, value)
    if with_ is not None:
        outer.set("with_" if "with_" in outer.arg_types else "with", with_)
    return outer
