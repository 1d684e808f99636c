"""Versioned migrations of the metadata store, run by alembic from the revisions shipped in this package.

The revisions live in `alembic/versions/` beside this module, one file each, written as explicit operations:
never derived from `schema.py`, which describes only the newest schema, so a column added later reaches old
stores through its own revision. Stores made by the hand-written migrations of earlier releases (table
`datatruth_schema_version`) are adopted: stamped at the revision that matches their version, tables and rows
left as they are. A new revision starts with `new_revision("what changes")`; `schema.py` is then changed to
match, and `tests/test_store_migrations.py` checks that the two agree.
"""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from datatruth.errors import InternalError, UserError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationInfo

# alembic is imported only when a store is behind the shipped head: opening an up-to-date store (every CLI
# call) reads one row instead of loading alembic (~0.15 s).

ALEMBIC_DIR = Path(__file__).resolve().parent / "alembic"
VERSIONS_DIR = ALEMBIC_DIR / "versions"
# Prefixed like every table of ours, so that a store sharing a database with another alembic project keeps
# its own history.
VERSION_TABLE = "datatruth_alembic_version"
LEGACY_VERSION_TABLE = "datatruth_schema_version"
# Version N of the hand-written migrations created exactly what revision LEGACY_REVISIONS[N] creates.
LEGACY_REVISIONS: dict[int, str] = {1: "0001", 2: "0002", 3: "0003"}
# alembic's `context` (what env.py reads) is one proxy per process: two threads running commands at once, even
# on different stores, would read each other's connection.
_ALEMBIC_RUN = threading.Lock()


@dataclass(frozen=True)
class Migrated:
    """What one `migrate` call did: the revision a legacy store was stamped at, the revisions applied, the head."""

    adopted: str | None
    applied: tuple[str, ...]
    head: str


def _option(value: str | Path) -> str:
    # Config options go through ConfigParser interpolation: a % in a checkout's path must be doubled.
    return str(value).replace("%", "%%")


def alembic_config(connection: sa.Connection | None = None, extra_versions: Sequence[Path] = ()) -> Config:
    """An alembic Config for the shipped environment (no alembic.ini), bound to `connection` for env.py."""
    from alembic.config import Config

    # quiet: alembic's commands would otherwise print ("Generating ...") from library code.
    config = Config(cmd_opts=argparse.Namespace(quiet=True))
    config.set_main_option("script_location", _option(ALEMBIC_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations", os.pathsep.join(_option(p) for p in (VERSIONS_DIR, *extra_versions))
    )
    config.attributes["connection"] = connection
    return config


def revisions(extra_versions: Sequence[Path] = ()) -> tuple[str, ...]:
    """Every revision, oldest first."""
    from alembic.script import ScriptDirectory

    script_dir = ScriptDirectory.from_config(alembic_config(extra_versions=extra_versions))
    return tuple(reversed([script.revision for script in script_dir.walk_revisions()]))


def head_revision(extra_versions: Sequence[Path] = ()) -> str:
    """The newest revision that `migrate` upgrades to."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(extra_versions=extra_versions)).get_current_head()
    if head is None:
        raise InternalError("the shipped versions directory has no revision")
    return head


def shipped_head() -> str:
    """The newest shipped revision, from the file names alone (a revision's id is its file's number)."""
    numbers = [p.name.split("_", 1)[0] for p in VERSIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.py")]
    if not numbers:
        raise InternalError("the shipped versions directory has no revision")
    return max(numbers)


def _stored_revision(engine: sa.Engine) -> str | None:
    """The store's revision read with one query, or None (no version table yet, no row, or the store busy with
    another process's migration: `migrate` then takes the careful, locked path)."""
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(VERSION_TABLE):
                return None
            table = sa.table(VERSION_TABLE, sa.column("version_num", sa.String))
            found = conn.execute(sa.select(table.c.version_num)).scalars().all()
    except sa.exc.OperationalError:
        return None  # e.g. SQLite's "database is locked" while another process commits its revisions
    return found[0] if len(found) == 1 else None


def current_revision(conn: sa.Connection) -> str | None:
    """The revision the store is at, None for an empty store (or a legacy one not yet adopted)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def _legacy_version(conn: sa.Connection) -> int:
    if not sa.inspect(conn).has_table(LEGACY_VERSION_TABLE):
        return 0
    legacy = sa.table(LEGACY_VERSION_TABLE, sa.column("version", sa.Integer))
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(legacy.c.version), 0))).scalar_one())


def _adopt_legacy(conn: sa.Connection, config: Config) -> str | None:
    # A store that alembic already manages, or that the old code left empty, has nothing to adopt.
    if current_revision(conn) is not None:
        return None
    version = _legacy_version(conn)
    if version == 0:
        return None
    revision = LEGACY_REVISIONS.get(version)
    if revision is None:
        raise UserError(
            f"the metadata store is at schema version {version}, which this DataTruth does not know",
            "run the DataTruth release that created it, or point DATATRUTH_STORE_URL at another store",
        )
    # Only the version row is written: the tables are already those of `revision`. The legacy table is left
    # as it was, so nothing of the old store is lost.
    from alembic import command

    command.stamp(config, revision)
    return revision


def _check_known(conn: sa.Connection, config: Config) -> None:
    from alembic.script import ScriptDirectory

    current = current_revision(conn)
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    if current is not None and current not in known:
        raise UserError(
            f"the metadata store is at revision {current}, newer than this DataTruth knows",
            "upgrade DataTruth, or point DATATRUTH_STORE_URL at another store",
        )


def migrate(engine: sa.Engine, extra_versions: Sequence[Path] = ()) -> Migrated:
    """Adopt a legacy store, then upgrade to the head revision; `extra_versions` adds revision directories.

    Safe when several processes start together on a fresh store: adoption and every pending revision run in
    one transaction that only one process at a time may hold (an advisory lock on PostgreSQL, the write lock
    on SQLite), and alembic reads the store's revision inside it, so each revision runs exactly once. Both
    databases have transactional DDL, so a failing revision leaves the store at the revision it had.
    """
    if not extra_versions and _stored_revision(engine) == (head := shipped_head()):
        return Migrated(None, (), head)  # up to date: no lock, no alembic
    from alembic import command

    from datatruth.store.engine import exclusive_transaction

    applied: list[str] = []

    def record(*, step: MigrationInfo, **_: object) -> None:
        if step.is_upgrade and not step.is_stamp:
            applied.extend(step.up_revision_ids)

    # The store's lock first, then the process's: threads of one process on one store queue on the store's.
    with exclusive_transaction(engine, "migrations") as conn, _ALEMBIC_RUN:
        config = alembic_config(conn, extra_versions)
        config.attributes["on_version_apply"] = record
        adopted = _adopt_legacy(conn, config)
        _check_known(conn, config)
        command.upgrade(config, "head")
        reached = current_revision(conn)
    if reached is None:
        raise InternalError("upgrade head left the store without a revision")
    return Migrated(adopted, tuple(applied), reached)


def new_revision(message: str, directory: Path = VERSIONS_DIR) -> Path:
    """Write an empty revision file after the head (id: the next number), for a developer to fill in."""
    from alembic import command

    extra = () if directory == VERSIONS_DIR else (directory,)
    config = alembic_config(extra_versions=extra)
    numbers = [int(revision) for revision in revisions(extra) if revision.isdigit()]
    script = command.revision(
        config, message=message, rev_id=f"{max(numbers, default=0) + 1:04d}", version_path=str(directory)
    )
    if script is None or isinstance(script, list):
        raise InternalError("alembic wrote no single revision file")
    return Path(script.path)
