"""Versioned table schemas with Confluent-style compatibility verdicts (BACKWARD, FORWARD, FULL, NONE)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass

import sqlalchemy as sa

from datatruth.store.engine import Store, utcnow
from datatruth.store.schema import schema_versions

Column = tuple[str, str, bool]  # name, type, nullable
# Families of types ordered from narrow to wide; a move to the right is a widening.
_FAMILIES = [
    ["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"],
    ["REAL", "FLOAT", "DOUBLE"],
    ["DATE", "TIMESTAMP"],
]
_ALIASES = {
    "INT": "INTEGER",
    "INT4": "INTEGER",
    "INT8": "BIGINT",
    "INT2": "SMALLINT",
    "FLOAT4": "REAL",
    "FLOAT8": "DOUBLE",
    "DOUBLE PRECISION": "DOUBLE",
    "CHARACTER VARYING": "VARCHAR",
    "TEXT": "VARCHAR",
    "STRING": "VARCHAR",
    "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
    "DATETIME": "TIMESTAMP",
    "NUMERIC": "DECIMAL",
    "BOOL": "BOOLEAN",
}


@dataclass(frozen=True)
class SchemaChange:
    """One difference between two versions of a table's schema."""

    kind: str  # added | removed | renamed | widened | narrowed | retyped | nullability
    column: str
    detail: str
    breaking: bool


@dataclass(frozen=True)
class SchemaVersion:
    """A stored version of a table's schema."""

    table: str
    version: int
    columns: tuple[Column, ...]
    checksum: str
    compatibility: str | None
    breaking: bool
    changes: tuple[SchemaChange, ...]
    created_at: dt.datetime


@dataclass(frozen=True)
class Verdict:
    """The compatibility of a new schema with the previous one."""

    compatibility: str  # BACKWARD | FORWARD | FULL | NONE
    breaking: bool
    changes: tuple[SchemaChange, ...]


def _norm(type_name: str) -> tuple[str, tuple[int, ...]]:
    t = type_name.upper().strip()
    m = re.match(r"^([A-Z ]+?)\s*(?:\(([\d,\s]+)\))?$", t)
    base, args = (
        (m.group(1).strip(), tuple(int(a) for a in m.group(2).split(","))) if m and m.group(2) else (t, ())
    )
    return _ALIASES.get(base, base), args


def type_relation(old: str, new: str) -> str:
    """same | widened | narrowed | retyped between two type names."""
    (ob, oa), (nb, na) = _norm(old), _norm(new)
    if (ob, oa) == (nb, na):
        return "same"
    if ob == nb:
        if not oa or not na:
            return "widened" if not na else "narrowed"
        return "widened" if all(n >= o for n, o in zip(na, oa, strict=False)) else "narrowed"
    for family in _FAMILIES:
        if ob in family and nb in family:
            return "widened" if family.index(nb) > family.index(ob) else "narrowed"
    return "retyped"


def compare(old: tuple[Column, ...], new: tuple[Column, ...]) -> Verdict:
    """Compatibility of `new` against `old`: BACKWARD = new readers read old data, FORWARD = old readers read new data."""
    backward = forward = True
    changes: list[SchemaChange] = []
    old_by = {c[0].lower(): c for c in old}
    new_by = {c[0].lower(): c for c in new}
    removed = [c for c in old if c[0].lower() not in new_by]
    added = [c for c in new if c[0].lower() not in old_by]
    # A removed and an added column of the same type at the same position is most likely a rename.
    old_pos = {c[0].lower(): i for i, c in enumerate(old)}
    new_pos = {c[0].lower(): i for i, c in enumerate(new)}
    for r in list(removed):
        for a in list(added):
            if type_relation(r[1], a[1]) == "same" and old_pos[r[0].lower()] == new_pos[a[0].lower()]:
                changes.append(SchemaChange("renamed", r[0], f"{r[0]} -> {a[0]}", True))
                backward = forward = False
                removed.remove(r)
                added.remove(a)
                break
    for r in removed:
        # Old readers need the column unless it was optional; new readers simply ignore it in old data.
        if not r[2]:
            forward = False
        changes.append(SchemaChange("removed", r[0], f"{r[0]} {r[1]}{'' if r[2] else ' NOT NULL'}", False))
    for a in added:
        # New readers can fill an optional column with NULL in old data; a required one they cannot.
        if not a[2]:
            backward = False
        changes.append(SchemaChange("added", a[0], f"{a[0]} {a[1]}{'' if a[2] else ' NOT NULL'}", False))
    for name, o in old_by.items():
        n = new_by.get(name)
        if n is None:
            continue
        rel = type_relation(o[1], n[1])
        if rel == "widened":
            forward = False
            changes.append(SchemaChange("widened", o[0], f"{o[1]} -> {n[1]}", False))
        elif rel == "narrowed":
            backward = False
            changes.append(SchemaChange("narrowed", o[0], f"{o[1]} -> {n[1]}", True))
        elif rel == "retyped":
            backward = forward = False
            changes.append(SchemaChange("retyped", o[0], f"{o[1]} -> {n[1]}", True))
        if o[2] and not n[2]:
            backward = False
            changes.append(SchemaChange("nullability", o[0], "became NOT NULL", False))
        elif not o[2] and n[2]:
            forward = False
            changes.append(SchemaChange("nullability", o[0], "became nullable", False))
    compat = "FULL" if backward and forward else "BACKWARD" if backward else "FORWARD" if forward else "NONE"
    breaking = compat == "NONE" or any(c.breaking for c in changes)
    return Verdict(compat, breaking, tuple(changes))


def checksum(columns: tuple[Column, ...]) -> str:
    """A stable hash of a column list."""
    return hashlib.sha256(json.dumps([list(c) for c in columns]).encode()).hexdigest()


def _row_to_version(row: sa.Row) -> SchemaVersion:
    return SchemaVersion(
        table=row.table_name,
        version=row.version,
        columns=tuple((c[0], c[1], bool(c[2])) for c in row.columns),
        checksum=row.checksum,
        compatibility=row.compatibility,
        breaking=bool(row.breaking),
        changes=tuple(SchemaChange(**c) for c in (row.changes or [])),
        created_at=row.created_at,
    )


def history(store: Store, workspace: str, table: str) -> list[SchemaVersion]:
    """Every stored version of a table's schema, oldest first."""
    q = (
        sa.select(schema_versions)
        .where(schema_versions.c.workspace == workspace, schema_versions.c.table_name == table)
        .order_by(schema_versions.c.version)
    )
    with store.connect() as c:
        return [_row_to_version(r) for r in c.execute(q)]


def latest(store: Store, workspace: str, table: str) -> SchemaVersion | None:
    """The newest stored version of a table's schema."""
    versions = history(store, workspace, table)
    return versions[-1] if versions else None


def snapshot(store: Store, workspace: str, table: str, columns: tuple[Column, ...]) -> SchemaVersion:
    """Store `columns` as a new version when they differ from the newest one; return the current version."""
    digest = checksum(columns)
    prev = latest(store, workspace, table)
    if prev is not None and prev.checksum == digest:
        return prev
    verdict = compare(prev.columns, columns) if prev else Verdict("FULL", False, ())
    version = (prev.version + 1) if prev else 1
    now = utcnow()
    with store.begin() as c:
        c.execute(
            schema_versions.insert().values(
                workspace=workspace,
                table_name=table,
                version=version,
                columns=[list(col) for col in columns],
                checksum=digest,
                compatibility=verdict.compatibility if prev else None,
                breaking=verdict.breaking,
                changes=[ch.__dict__ for ch in verdict.changes],
                created_at=now,
            )
        )
    return SchemaVersion(
        table,
        version,
        columns,
        digest,
        verdict.compatibility if prev else None,
        verdict.breaking,
        verdict.changes,
        now,
    )


def tables(store: Store, workspace: str) -> list[str]:
    """Tables with at least one stored schema version."""
    q = sa.select(schema_versions.c.table_name).where(schema_versions.c.workspace == workspace).distinct()
    with store.connect() as c:
        return sorted(r[0] for r in c.execute(q))
