"""Versioned migrations of the metadata store: an ordered list applied once each, recorded in a version table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from datatruth.store import schema

version_table = sa.Table(
    "datatruth_schema_version", sa.MetaData(),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
)


@dataclass(frozen=True)
class Migration:
    """One schema change, identified by its position in MIGRATIONS."""

    version: int
    name: str
    apply: Callable[[sa.Connection], None]


def _initial(conn: sa.Connection) -> None:
    # The first version creates every table known at the time; later changes get their own entries.
    schema.metadata.create_all(conn, tables=[
        schema.users, schema.memberships, schema.audit_log, schema.question_history, schema.feedback,
        schema.learned_synonyms, schema.verified_questions, schema.semantic_versions, schema.check_runs,
        schema.schema_versions, schema.incidents, schema.incident_events, schema.webhook_deliveries,
        schema.slow_snapshots, schema.slow_classes, schema.slow_samples,
    ])


def _dashboards(conn: sa.Connection) -> None:
    schema.metadata.create_all(conn, tables=[schema.dashboards, schema.tiles])


def _proposals(conn: sa.Connection) -> None:
    schema.metadata.create_all(conn, tables=[schema.proposals])


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial tables", _initial),
    Migration(2, "dashboards and tiles", _dashboards),
    Migration(3, "proposals to teach a workspace", _proposals),
)


def current_version(conn: sa.Connection) -> int:
    """The highest applied migration, 0 for an empty store."""
    if not sa.inspect(conn).has_table(version_table.name):
        return 0
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(version_table.c.version), 0))).scalar_one())


def migrate(engine: sa.Engine) -> list[int]:
    """Apply every pending migration in order, each in its own transaction; return those applied.

    Safe when several processes start together on a fresh store: every step runs in a transaction that
    only one process at a time may hold (an advisory lock on PostgreSQL, the write lock on SQLite), and
    re-reads the applied version inside it, so each migration runs exactly once.
    """
    from datatruth.store.engine import exclusive_transaction

    applied: list[int] = []
    with exclusive_transaction(engine, "migrations") as conn:
        version_table.create(conn, checkfirst=True)
    for migration in MIGRATIONS:
        with exclusive_transaction(engine, "migrations") as conn:
            if current_version(conn) >= migration.version:
                continue
            migration.apply(conn)
            conn.execute(version_table.insert().values(version=migration.version, name=migration.name))
            applied.append(migration.version)
    return applied
