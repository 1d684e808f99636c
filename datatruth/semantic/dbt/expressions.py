"""dbt SQL snippets as portable SQL: expressions, `ref()`/`source()` model names, plain column names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlglot
from sqlglot import exp

_REF_RE = re.compile(r"^\s*ref\(\s*['\"]([^'\"]+)['\"](?:\s*,\s*['\"]([^'\"]+)['\"])?\s*(?:,[^)]*)?\)\s*$")
_SOURCE_RE = re.compile(r"^\s*source\(\s*['\"]([^'\"]+)['\"]\s*,\s*['\"]([^'\"]+)['\"]\s*\)\s*$")


class Unsupported(Exception):
    """A construct that cannot be carried over; the stage that meets it notes it and skips the item."""


def normalize_tree(tree: exp.Expr) -> exp.Expr:
    """Lower-case unquoted identifiers: tables are loaded with lower-case columns, and PostgreSQL folds too."""
    for ident in tree.find_all(exp.Identifier):
        if not ident.quoted:
            ident.set("this", ident.this.lower())
    return tree


def portable_sql(text: Any, dialect: str) -> str:
    """A dbt SQL expression rewritten as portable SQL (read in the project's dialect, identifiers lower-cased)."""
    raw = str(text).strip()
    try:
        tree = sqlglot.parse_one(raw, read=dialect)
    except sqlglot.errors.ParseError as err:
        raise Unsupported(f"expression {raw!r} is not SQL: {str(err).splitlines()[0]}") from None
    return normalize_tree(tree).sql()


def parse_portable(text: str) -> exp.Expr:
    """An already converted (portable) expression of the model, as a tree."""
    return normalize_tree(sqlglot.parse_one(text))


def table_of(model_ref: Any, ref_map: Mapping[str, str]) -> str:
    """The table a dbt `model:` reads: `ref('x')` or `source('s', 'x')`, through the ref map, lower-cased."""
    text = str(model_ref or "")
    match = _REF_RE.match(text)
    if match:
        name = match.group(2) or match.group(1)
        return ref_map.get(name, name).lower()
    match = _SOURCE_RE.match(text)
    if match:
        key = f"{match.group(1)}.{match.group(2)}"
        return ref_map.get(key, ref_map.get(match.group(2), match.group(2))).lower()
    raise Unsupported(f"model '{text}' is neither ref('…') nor source('…', '…')")


def plain_column(expr: str | None, default: str) -> str | None:
    """The column an item reads when its expression (or, without one, its name) is a bare column, else None."""
    text = expr if expr is not None else default
    try:
        tree = sqlglot.parse_one(text)
    except sqlglot.errors.ParseError:
        return None
    return tree.name if isinstance(tree, exp.Column) and not tree.table else None
