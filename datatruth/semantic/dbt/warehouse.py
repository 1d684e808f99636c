"""Steps after the conversion that need the loaded DuckDB warehouse: check columns, repair types, split roles.

Each reads the warehouse (and `repair_types` alters empty columns), and returns a new DbtImport; the
converted plain data is copied, never changed in place.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from datatruth.semantic.dbt.convert import DbtImport
from datatruth.semantic.dbt.expressions import plain_column
from datatruth.yamlsource import Issue

ColumnTypes = Mapping[str, Mapping[str, tuple[str, bool]]]  # table → column → (type, all values NULL)
_INTEGERS = ("BIGINT", "INTEGER", "SMALLINT", "HUGEINT")
_KEYS = ("primary", "unique", "natural")


def column_types(database: Path) -> dict[str, dict[str, tuple[str, bool]]]:
    """table → column → (type, all values NULL), read from the loaded DuckDB file."""
    import duckdb

    con = duckdb.connect(str(database), read_only=True)
    try:
        out: dict[str, dict[str, tuple[str, bool]]] = {}
        for table, column, kind in con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main'"
        ).fetchall():
            empty = con.execute(f'SELECT COUNT("{column}") = 0 FROM "{table}"').fetchall()[0][0]
            out.setdefault(table, {})[column] = (str(kind), bool(empty))
        return out
    finally:
        con.close()


# -- columns the tables lack ----------------------------------------------------------------------------------


def check_columns(result: DbtImport, types: ColumnTypes) -> DbtImport:
    """Leave out entities and dimensions whose column the loaded table lacks, each reported as a note.

    A near-identical column (a typo in the dbt file) is only suggested in the note's hint, never taken:
    reading another column than the one the project names would change what its numbers mean.
    """
    notes: list[Issue] = []
    files = []
    for f in result.files:
        content = copy.deepcopy(f.content)
        for model in content.get("semantic_models", []):
            notes += _drop_missing(model, types.get(model["table"], {}), result.origins, f.source)
        files.append(replace(f, content=content))
    return replace(result, files=tuple(files), notes=result.notes + tuple(notes))


def _drop_missing(
    model: dict[str, Any], columns: Mapping[str, Any], origins: Mapping[tuple[str, str], Any], source: str
) -> list[Issue]:
    """Remove the items of one model (copied) whose plain column is not in `columns`; their notes."""
    if not columns:
        return []  # the table is not loaded: nothing to check against
    notes = []
    for key, what in (("entities", "entity"), ("dimensions", "dimension")):
        kept = []
        for item in model.get(key, []):
            col = plain_column(item.get("expr"), item["name"])
            if col is None or col in columns:
                kept.append(item)
                continue
            file, line = origins.get((model["name"], item["name"]), (source, None))
            notes.append(
                Issue(
                    file,
                    line,
                    f"model '{model['name']}': {what} '{item['name']}' reads column '{col}', "
                    f"which table {model['table']} does not have; {what} left out",
                    _near_column(col, columns),
                )
            )
        if kept:
            model[key] = kept
        else:
            model.pop(key, None)
    return notes


def _near_column(column: str, columns: Mapping[str, Any]) -> str:
    from rapidfuzz import process

    best = process.extractOne(column, sorted(columns), score_cutoff=90)
    if best:
        return f"did you mean '{best[0]}'? fix the column in the dbt file and import again"
    return "fix the column in the dbt file, or load the table that has it, and import again"


# -- empty columns typed as the model uses them ----------------------------------------------------------------


@dataclass(frozen=True)
class _TypeRepair:
    """What retyping decided: the adjusted import, the changes in words, and the ALTERs still to run."""

    result: DbtImport
    changes: tuple[str, ...]
    alters: Mapping[tuple[str, str], str]  # (table, column) → type


def repair_types(result: DbtImport, database: Path) -> tuple[DbtImport, list[str]]:
    """Give all-empty seed columns the type the model uses them as, and read year numbers as dates.

    Seed CSVs often hold columns with no values at all; type inference makes them text, which a date
    truncation, a sum or a join to a numeric key rejects. An all-NULL column changes type without any
    value changing. Returns the adjusted import and one line per change.
    """
    import duckdb

    plan = plan_type_repairs(result, column_types(database))
    changes = list(plan.changes)
    if plan.alters:
        con = duckdb.connect(str(database))
        try:
            for (table, col), kind in sorted(plan.alters.items()):
                con.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{col}" TYPE {kind}').fetchall()
                changes.append(f"{table}.{col}: empty column typed {kind} (as the semantic model uses it)")
        finally:
            con.close()
    return plan.result, changes


def plan_type_repairs(result: DbtImport, types: ColumnTypes) -> _TypeRepair:
    """The retyping `repair_types` would do, decided from the column types alone (no SQL)."""
    key_types = _key_types(result, types)
    alters: dict[tuple[str, str], str] = {}
    changes: list[str] = []
    files = []
    for f in result.files:
        content = copy.deepcopy(f.content)
        for model in content.get("semantic_models", []):
            cols = types.get(model["table"], {})
            changes += _time_repairs(model, cols, alters)
            _measure_repairs(model, cols, alters)
            _key_repairs(model, cols, key_types, alters)
        files.append(replace(f, content=content))
    return _TypeRepair(replace(result, files=tuple(files)), tuple(changes), alters)


def _key_types(result: DbtImport, types: ColumnTypes) -> dict[str, str]:
    """Entity → the type of the first non-empty key column that declares it."""
    key_types: dict[str, str] = {}
    for model in (m for f in result.files for m in f.content.get("semantic_models", [])):
        cols = types.get(model["table"], {})
        for ent in model.get("entities", []):
            col = plain_column(ent.get("expr"), ent["name"])
            if col is not None and col in cols and not cols[col][1] and ent["type"] in _KEYS:
                key_types.setdefault(ent["name"], cols[col][0])
    return key_types


def _time_repairs(
    model: dict[str, Any], cols: Mapping[str, tuple[str, bool]], alters: dict[tuple[str, str], str]
) -> list[str]:
    changes = []
    for dim in model.get("dimensions", []):
        col = plain_column(dim.get("expr"), dim["name"])
        if dim["type"] != "time" or col is None or col not in cols:
            continue
        kind, empty = cols[col]
        if empty and "DATE" not in kind and "TIME" not in kind:
            alters[(model["table"], col)] = "DATE"
        elif kind.upper() in _INTEGERS and dim.get("time_granularity") == "year":
            dim["expr"] = f"CAST(CAST({col} AS VARCHAR) || '-01-01' AS DATE)"
            changes.append(
                f"{model['name']}.{dim['name']}: year numbers in {model['table']}.{col} are read "
                "as the first day of that year"
            )
    return changes


def _measure_repairs(
    model: dict[str, Any], cols: Mapping[str, tuple[str, bool]], alters: dict[tuple[str, str], str]
) -> None:
    for mea in model.get("measures", []):
        col = plain_column(mea.get("expr"), mea["name"])
        if (
            col is not None
            and col in cols
            and cols[col][1]
            and cols[col][0] == "VARCHAR"
            and mea["agg"] not in ("count", "count_distinct")
        ):
            alters[(model["table"], col)] = "DOUBLE"


def _key_repairs(
    model: dict[str, Any],
    cols: Mapping[str, tuple[str, bool]],
    key_types: Mapping[str, str],
    alters: dict[tuple[str, str], str],
) -> None:
    for ent in model.get("entities", []):
        col = plain_column(ent.get("expr"), ent["name"])
        wanted = key_types.get(ent["name"])
        if col is not None and col in cols and cols[col][1] and wanted and cols[col][0] != wanted:
            alters[(model["table"], col)] = wanted


# -- key order of the written files -------------------------------------------------------------------------


def alphabetical(result: DbtImport) -> DbtImport:
    """The import with every mapping's keys in alphabetical order, as workspace files have always listed them."""
    return replace(result, files=tuple(replace(f, content=_sorted(f.content)) for f in result.files))


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


# -- role tables ---------------------------------------------------------------------------------------------


def _snake(label: str) -> str:
    """`PolicyHolder`, `Policy holder` → `policy_holder`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", label)
    return "_".join(w.lower() for w in re.findall(r"[A-Za-z0-9]+", spaced)) or "role"


def _role_labels(types: ColumnTypes, read: set[str], column: str, con: Any) -> dict[str, str]:
    """Code → name from a loaded table no model reads that has the code column (unique) and a `*_name` column."""
    for table in sorted(types):
        cols = types[table]
        names = [c for c in cols if c.endswith("_name") and not cols[c][1]]
        if table in read or column not in cols or not names:
            continue
        rows = con.execute(
            f'SELECT CAST("{column}" AS VARCHAR), CAST("{names[0]}" AS VARCHAR) FROM "{table}"'
        ).fetchall()
        labels = {str(code): str(name) for code, name in rows if code is not None and name is not None}
        if len(labels) == len(rows):
            return labels
    return {}


@dataclass(frozen=True)
class _RoleContext:
    """What splitting one model needs besides the model: the warehouse, its columns, names already used."""

    types: ColumnTypes
    read: set[str]  # tables some model reads (a lookup of role names is a table none reads)
    taken: set[str]  # model names in use; role models add theirs
    con: Any
    max_roles: int


def split_roles(result: DbtImport, database: Path, max_roles: int = 12) -> tuple[DbtImport, list[str]]:
    """Demote primary keys that repeat in the data; split role tables into one model per named role.

    dbt lets a link table such as agreement_party_role declare the agreement as its primary entity although
    each agreement has one row per role (policy holder, agent). Joined as one-to-one it would repeat every
    fact row once per role. Here the key is demoted to foreign (its dimensions are then refused as a fan-out),
    and each role becomes its own model over `SELECT * … WHERE code = 'X'`, where the key is unique, with one
    dimension named after the role (from a lookup table of the codes when the seeds hold one) whose value is
    the row's other column: "loss payments by agent" groups by the agent's party identifier.
    """
    import duckdb

    types = column_types(database)
    models = [m for f in result.files for m in f.content.get("semantic_models", [])]
    con = duckdb.connect(str(database), read_only=True)
    try:
        ctx = _RoleContext(
            types, {m["table"] for m in models if m.get("table")}, {m["name"] for m in models}, con, max_roles
        )
        changes: list[str] = []
        files = []
        for f in result.files:
            content = copy.deepcopy(f.content)
            added: list[dict[str, Any]] = []
            for model in content.get("semantic_models", []):
                split, change = _split_model(model, ctx)
                added += split
                changes += change
            if added:
                content["semantic_models"] = content["semantic_models"] + added
            files.append(replace(f, content=content))
    finally:
        con.close()
    return replace(result, files=tuple(files)), changes


def _split_model(model: dict[str, Any], ctx: _RoleContext) -> tuple[list[dict[str, Any]], list[str]]:
    """One model's role models (its repeating key demoted in place) and the change in words."""
    before = [e["type"] for e in model.get("entities", [])]
    split = _split_one(model, ctx.types.get(model.get("table", ""), {}), ctx)
    demoted = [
        e["name"] for kind, e in zip(before, model.get("entities", []), strict=True) if kind != e["type"]
    ]
    if split:
        roles = ", ".join(m["name"] for m, _code in split)
        return [m for m, _code in split], [
            f"{model['name']}: entity '{demoted[0]}' repeats once per "
            f"{split[0][1]}; made foreign, with one model per role: {roles}"
        ]
    if demoted:
        return [], [
            f"{model['name']}: primary entity '{demoted[0]}' repeats in {model['table']}; made foreign so "
            "that joining to it cannot repeat rows"
        ]
    return [], []


def _split_one(
    model: dict[str, Any], cols: Mapping[str, tuple[str, bool]], ctx: _RoleContext
) -> list[tuple[dict[str, Any], str]]:
    """The role models of one model with their code column (and its key demoted), or [] when not a role table."""
    primaries = [e for e in model.get("entities", []) if e["type"] == "primary"]
    key = plain_column(primaries[0].get("expr"), primaries[0]["name"]) if len(primaries) == 1 else None
    if key is None or key not in cols or cols[key][1]:
        return []
    total, distinct = ctx.con.execute(
        f'SELECT COUNT(*), COUNT(DISTINCT "{key}") FROM "{model["table"]}"'
    ).fetchall()[0]
    if total == distinct:
        return []
    categorical = [
        c
        for d in model.get("dimensions", [])
        if d["type"] == "categorical"
        for c in [plain_column(d.get("expr"), d["name"])]
        if c is not None
    ]
    codes = [c for c in categorical if c in cols and c != key]
    labelled = {
        c: labels for c in dict.fromkeys(codes) if (labels := _role_labels(ctx.types, ctx.read, c, ctx.con))
    }
    primaries[0]["type"] = "foreign"  # not unique in the data: joining to it as one-to-one would repeat rows
    # a column whose codes a lookup table names is the role; the other column is who plays it
    for code, labels in labelled.items():
        others = {c for c in categorical if c not in (code, key, None)}
        values = _role_values(model["table"], key, code, total, ctx) if len(others) == 1 else None
        if values is not None and set(values) <= set(labels):
            player = others.pop()
            return [
                (_role_model(model, primaries[0], code, value, labels, player, cols, ctx.taken), code)
                for value in values
            ]
    return []


def _role_values(table: str, key: str, code: str, total: int, ctx: _RoleContext) -> list[str] | None:
    """The codes of a role column, or None unless each (key, code) pair is unique, none is NULL and few."""
    roles, pairs, nulls = ctx.con.execute(
        f'SELECT COUNT(DISTINCT "{code}"), COUNT(DISTINCT ("{key}", "{code}")), COUNT(*) - COUNT("{code}") '
        f'FROM "{table}"'
    ).fetchall()[0]
    if pairs != total or nulls or roles > ctx.max_roles:
        return None
    return [
        str(r[0])
        for r in ctx.con.execute(
            f'SELECT DISTINCT CAST("{code}" AS VARCHAR) FROM "{table}" ORDER BY 1'
        ).fetchall()
    ]


def _role_model(
    model: Mapping[str, Any],
    primary: Mapping[str, Any],
    code: str,
    value: str,
    labels: Mapping[str, str],
    player: str,
    cols: Mapping[str, tuple[str, bool]],
    taken: set[str],
) -> dict[str, Any]:
    """The model of the rows whose `code` is `value`, where the key is unique (`taken` gets its name)."""
    table = model["table"]
    label = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", labels.get(value, value))
    role = _snake(label)
    name = role if role not in taken else f"{model['name']}_{role}"
    taken.add(name)
    literal = exp.Literal.string(value) if cols[code][0] == "VARCHAR" else sqlglot.parse_one(value)
    where = exp.EQ(this=exp.column(code), expression=literal)
    return {
        "name": name,
        "sql": exp.select("*").from_(table).where(where).sql(),
        "description": f"The {table} rows whose {code} is {value} ({label}): one per {primary['name']}.",
        "entities": [dict(primary, type="primary")],
        "dimensions": [
            {
                "name": role,
                "type": "categorical",
                "expr": player,
                "label": label,
                "description": f"{player} of the {label.lower()} ({code} = {value})",
            }
        ],
    }
