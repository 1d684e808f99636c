"""The "distilled" form of a statement shown in the profile's Item column: verbs plus tables.

Like pt-query-digest's distill ("SELECT film", "INSERT SELECT abtemp.coxed foo",
"SHOW INDEX"), but read from the sqlglot AST: the verbs come from the statement
and its nested statements, the tables from its table nodes, in order.
"""

from __future__ import annotations

import re
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from datatruth.slowlog.events import MAX_ANALYSED_CHARS
from datatruth.slowlog.fingerprint import too_deep
from datatruth.slowlog.rules import quiet_sqlglot

_DIGITS = re.compile(r"(_?)[0-9]+")  # applied to table *names*, to merge tbl1/tbl2 shards
_SHOW_ALIASES = {
    "INDEXES": "INDEX",
    "KEYS": "INDEX",
    "SCHEMAS": "DATABASES",
    "STORAGE ENGINES": "ENGINES",
    "CREATE SCHEMA": "CREATE DATABASE",
}


def _table_name(table: exp.Table) -> str:
    parts = [p for p in (table.args.get("db"), table.this) if p is not None]
    name = ".".join(p.name for p in parts)
    return _DIGITS.sub(r"\1?", name)


def _tables(tree: exp.Expr) -> list[str]:
    names: list[str] = []
    for table in tree.find_all(exp.Table):
        if not table.name:
            continue
        name = _table_name(table)
        if not names or names[-1] != name:
            names.append(name)
    return names


def _verbs(tree: exp.Expr, first: str) -> list[str]:
    verbs = [first]
    if isinstance(tree, exp.Insert):
        if isinstance(tree.expression, exp.Query):
            verbs.append("SELECT")
        if tree.args.get("conflict"):
            verbs.append("UPDATE")
    elif isinstance(tree, exp.Update | exp.Delete) and tree.find(exp.Select):
        verbs.append("SELECT")
    elif isinstance(tree, exp.Union):
        verbs = ["SELECT", "UNION"]
    return verbs


def _show(tree: exp.Show) -> str:
    what = str(tree.this).upper()
    if what == "ENGINE" and tree.args.get("target") is not None:
        what = f"{tree.args['target'].name.upper()} STATUS"
    if tree.args.get("global_"):
        what = f"GLOBAL {what}"
    return "SHOW " + _SHOW_ALIASES.get(what, what)


_KEYWORDS: dict[type, str] = {
    exp.Transaction: "BEGIN",
    exp.Commit: "COMMIT",
    exp.Rollback: "ROLLBACK",
    exp.Set: "SET",
}


def _from_tree(tree: exp.Expr) -> str:
    if isinstance(tree, exp.Show):
        return _show(tree)
    if isinstance(tree, exp.Use):
        return "USE"
    if isinstance(tree, exp.Command):
        verb = str(tree.this).split()[0].upper()
        raw = tree.expression
        rest = raw.name if isinstance(raw, exp.Expr) else str(raw or "")
        if verb == "CALL" and rest:
            return f"CALL {rest.split('(')[0].strip()}"
        if verb == "REPLACE" and rest:
            # sqlglot keeps REPLACE as raw text; its grammar is INSERT's.
            return "REPLACE" + _from_sql("INSERT " + rest)[len("INSERT") :]
        return verb
    if isinstance(tree, exp.Create | exp.Drop | exp.Alter):
        kind = str(tree.args.get("kind") or "").upper()
        verb = type(tree).__name__.upper()
        tables = _tables(tree)
        return " ".join([verb] + ([kind] if kind else []) + tables[:1])
    if isinstance(tree, exp.TruncateTable):
        return " ".join(["TRUNCATE TABLE"] + _tables(tree)[:1])
    keyword = _KEYWORDS.get(type(tree))
    if keyword:
        return keyword
    name = type(tree).__name__.upper()
    statement = {"SELECT": "SELECT", "INSERT": "INSERT", "UPDATE": "UPDATE", "DELETE": "DELETE"}.get(name)
    if statement is None and isinstance(tree, exp.Query):
        statement = "SELECT"
    if statement is None:
        return name
    return " ".join(_verbs(tree, statement) + _tables(tree))


def _first_word(sql: str) -> str:
    words = sql.split(maxsplit=1)
    return words[0].upper() if words and words[0].isalpha() else ""


@lru_cache(maxsize=4096)
def _from_sql(sql: str, dialect: str = "mysql") -> str:
    if too_deep(sql):
        return _first_word(sql)
    try:
        with quiet_sqlglot():
            trees = sqlglot.parse(sql, read=dialect)
    except SqlglotError:
        return _first_word(sql)
    parsed = [t for t in trees if t is not None]
    if not parsed:
        return ""
    return _from_tree(parsed[0])


def distill(sql: str, dialect: str = "mysql") -> str:
    """A short 'VERB table ...' label for a statement, e.g. 'SELECT film' or 'SHOW STATUS'."""
    text = sql[:MAX_ANALYSED_CHARS].strip()
    if text.startswith("administrator command:"):
        return text.replace("administrator command:", "ADMIN", 1).upper()
    if text.lower().startswith("start"):
        return "START" if text.lower() == "start" else _from_sql(text, dialect)
    return _from_sql(text, dialect)
