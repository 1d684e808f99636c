"""Alembic migrations of the metadata store, on SQLite and on the local PostgreSQL (a fresh schema per test):
the baseline reproduces the hand-written schema, a column added later reaches old stores, legacy stores are
adopted without losing a row, and concurrent starts apply each revision once."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from datatruth.errors import UserError
from datatruth.store import history, schema
from datatruth.store.engine import Store, create_store_engine
from datatruth.store.migrations import (
    LEGACY_REVISIONS,
    LEGACY_VERSION_TABLE,
    VERSION_TABLE,
    VERSIONS_DIR,
    Migrated,
    alembic_config,
    current_revision,
    head_revision,
    migrate,
    new_revision,
    revisions,
    shipped_head,
)

LEGACY_DIR = Path(__file__).parent / "fixtures" / "store"
SHIPPED = revisions()
BASELINE = "0003"  # the last revision written for the hand-written migrations' schema
BOOKKEEPING = {VERSION_TABLE, LEGACY_VERSION_TABLE}
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5)


class Stores:
    """Hands out empty stores (URLs) of one dialect and removes them afterwards."""

    def __init__(self, dialect: str, tmp_path: Path, pg_url: str | None) -> None:
        self.dialect, self.tmp_path, self.pg_url = dialect, tmp_path, pg_url
        self.schemas: list[str] = []
        self.engines: list[sa.Engine] = []

    def url(self) -> str:
        """The URL of a new, empty store."""
        if self.dialect == "sqlite":
            return f"sqlite:///{self.tmp_path / f'meta-{uuid.uuid4().hex[:8]}.sqlite'}"
        assert self.pg_url is not None
        name = f"mig_{uuid.uuid4().hex[:8]}"
        self._admin(f'CREATE SCHEMA "{name}"')
        self.schemas.append(name)
        # lock_timeout: should the migrations lock ever break, concurrent DDL waits on itself; fail, don't hang.
        return f"{self.pg_url}?options=-csearch_path%3D{name}%20-clock_timeout%3D30s"

    def engine(self, url: str | None = None) -> sa.Engine:
        """An engine (set up as the store's) on `url` or on a new empty store."""
        engine = create_store_engine(url or self.url())
        self.engines.append(engine)
        return engine

    def _admin(self, sql: str) -> None:
        assert self.pg_url is not None
        admin = sa.create_engine(self.pg_url)
        try:
            with admin.begin() as conn:
                conn.exec_driver_sql(sql)
        finally:
            admin.dispose()

    def close(self) -> None:
        """Dispose every engine, then drop every PostgreSQL schema handed out."""
        for engine in self.engines:
            engine.dispose()
        for name in self.schemas:
            self._admin(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    pg_url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    made = Stores("sqlite" if request.param == "sqlite" else "postgresql", tmp_path, pg_url)
    yield made
    made.close()


def load_legacy(engine: sa.Engine, up_to: int) -> None:
    """Make the store that the hand-written migrations 1..`up_to` made (frozen DDL, see the fixture's header)."""
    text = (LEGACY_DIR / f"legacy_v3.{engine.dialect.name}.sql").read_text()
    sections = re.split(r"^-- version (\d+):.*$", text, flags=re.MULTILINE)[1:]
    with engine.begin() as conn:
        for number, body in zip(sections[::2], sections[1::2], strict=True):
            if int(number) > up_to:
                break
            for statement in body.split(";\n"):
                if statement.strip():
                    conn.exec_driver_sql(statement)


def describe(engine: sa.Engine) -> dict[str, tuple]:
    """Every table of the store but the version tables: columns, keys, indexes and unique constraints."""
    inspector = sa.inspect(engine)
    out: dict[str, tuple] = {}
    for table in sorted(set(inspector.get_table_names()) - BOOKKEEPING):
        out[table] = (
            [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                for c in inspector.get_columns(table)
            ],
            inspector.get_pk_constraint(table),
            inspector.get_foreign_keys(table),
            sorted(inspector.get_indexes(table), key=lambda i: str(i["name"])),
            sorted(inspector.get_unique_constraints(table), key=lambda u: str(u["name"])),
        )
    return out


def sqlite_ddl(engine: sa.Engine) -> list[tuple]:
    """SQLite keeps each table's and index's CREATE statement as it was issued: the strictest comparison."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").all()
    return [tuple(row) for row in rows if row[2] not in BOOKKEEPING]


def write_revision(directory: Path, revision: str, down: str, upgrade: str) -> None:
    """A revision file that exists only for the test (the product ships no fake column)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{revision}.py").write_text(
        textwrap.dedent("""\
        import sqlalchemy as sa
        from alembic import op

        revision = "{revision}"
        down_revision = "{down}"
        branch_labels = None
        depends_on = None


        def upgrade():
        {body}


        def downgrade():
            raise NotImplementedError
        """).format(
            revision=revision, down=down, body=textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
        )
    )


# The baseline's columns that these tests write and read, frozen here: schema.py follows later revisions, and
# its Python-side defaults would name columns an old store does not have.
USERS = sa.table(
    "users",
    sa.column("username", sa.String),
    sa.column("display_name", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("created_at", sa.DateTime),
)
HISTORY = sa.table(
    "question_history",
    sa.column("workspace", sa.String),
    sa.column("username", sa.String),
    sa.column("session_id", sa.String),
    sa.column("question", sa.Text),
    sa.column("sql", sa.Text),
    sa.column("plan", sa.JSON),
    sa.column("cached", sa.Boolean),
    sa.column("at", sa.DateTime),
)
MEMBERSHIPS = sa.table(
    "memberships",
    sa.column("workspace", sa.String),
    sa.column("username", sa.String),
    sa.column("role", sa.String),
    sa.column("incident_role", sa.String),
    sa.column("created_at", sa.DateTime),
)


def add_rows(engine: sa.Engine) -> None:
    """Rows in three tables of the baseline."""
    with engine.begin() as conn:
        conn.execute(USERS.insert().values(username="ana", display_name="Ana", active=True, created_at=WHEN))
        conn.execute(
            HISTORY.insert().values(
                workspace="alpha",
                username="ana",
                session_id="s1",
                question="revenue by month",
                sql="SELECT 1",
                plan={"metrics": ["revenue"]},
                cached=False,
                at=WHEN,
            )
        )
        conn.execute(
            MEMBERSHIPS.insert().values(
                workspace="alpha", username="ana", role="admin", incident_role="owner", created_at=WHEN
            )
        )


def rows(engine: sa.Engine) -> dict[str, list[tuple]]:
    """The rows add_rows wrote, read back."""
    u, h, m = USERS.c, HISTORY.c, MEMBERSHIPS.c
    with engine.connect() as conn:
        return {
            "users": [tuple(r) for r in conn.execute(sa.select(u.username, u.display_name))],
            "question_history": [
                tuple(r) for r in conn.execute(sa.select(h.workspace, h.question, h.sql, h.plan, h.at))
            ],
            "memberships": [tuple(r) for r in conn.execute(sa.select(m.workspace, m.username, m.role))],
        }


EXPECTED_ROWS = {
    "users": [("ana", "Ana")],
    "question_history": [("alpha", "revenue by month", "SELECT 1", {"metrics": ["revenue"]}, WHEN)],
    "memberships": [("alpha", "ana", "admin")],
}


def upgrade_to(engine: sa.Engine, revision: str) -> None:
    """Bring a fresh store to `revision` only (migrate() always goes to the head)."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def test_the_shipped_revisions_form_one_line() -> None:
    assert SHIPPED[:3] == ("0001", "0002", "0003") and head_revision() == SHIPPED[-1]
    assert tuple(LEGACY_REVISIONS.values()) == SHIPPED[:3]


def test_revisions_import_only_alembic_and_sqlalchemy() -> None:
    # A revision must create what it created the day it was written: reading schema.py (or anything of the
    # package that moves on) would make the baseline follow later changes, the bug alembic replaced.
    for path in sorted(VERSIONS_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        imported |= {
            (node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        assert imported <= {"__future__", "alembic", "sqlalchemy"}, (path.name, imported)


def test_a_fresh_store_gets_every_revision_once(stores: Stores) -> None:
    engine = stores.engine()
    assert migrate(engine) == Migrated(adopted=None, applied=SHIPPED, head=SHIPPED[-1])
    assert migrate(engine) == Migrated(adopted=None, applied=(), head=SHIPPED[-1])
    with engine.connect() as conn:
        assert current_revision(conn) == SHIPPED[-1]
        assert conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all() == [(SHIPPED[-1],)]
    # Nothing of the old bookkeeping on a store that never had it.
    assert not sa.inspect(engine).has_table(LEGACY_VERSION_TABLE)


def test_the_baseline_reproduces_the_hand_written_schema(stores: Stores) -> None:
    # At BASELINE, not the head: revisions added later change this schema on purpose.
    fresh, legacy = stores.engine(), stores.engine()
    upgrade_to(fresh, BASELINE)
    load_legacy(legacy, 3)
    assert describe(fresh) == describe(legacy)
    assert len(describe(fresh)) == 19
    if stores.dialect == "sqlite":
        assert sqlite_ddl(fresh) == sqlite_ddl(legacy)


def test_the_newest_revision_matches_schema_py(stores: Stores) -> None:
    # The revisions and schema.py are written separately; alembic's comparison proves they agree.
    engine = stores.engine()
    migrate(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, schema.metadata) == []


def test_a_column_added_later_reaches_an_old_store(stores: Stores, tmp_path: Path) -> None:
    old = stores.engine()
    migrate(old)
    add_rows(old)
    later = tmp_path / "later_versions"
    write_revision(
        later,
        "9001_tags",
        head_revision(),
        """
        op.add_column("question_history", sa.Column("tags", sa.JSON(), nullable=True))
        op.add_column("users", sa.Column("locale", sa.String(20), nullable=False, server_default="en"))
        """,
    )

    assert migrate(old, extra_versions=[later]) == Migrated(None, ("9001_tags",), "9001_tags")
    columns = {t: [c["name"] for c in sa.inspect(old).get_columns(t)] for t in ("question_history", "users")}
    assert columns["question_history"][-1] == "tags" and columns["users"][-1] == "locale"
    assert rows(old) == EXPECTED_ROWS
    with old.connect() as conn:
        assert conn.execute(sa.text("SELECT locale FROM users")).all() == [("en",)]
        assert conn.execute(sa.text("SELECT tags FROM question_history")).all() == [(None,)]
    # The old store, upgraded, is the store a fresh start makes with the same revisions.
    fresh = stores.engine()
    assert migrate(fresh, extra_versions=[later]).applied == (*SHIPPED, "9001_tags")
    assert describe(old) == describe(fresh)
    assert migrate(old, extra_versions=[later]).applied == ()


def test_a_failing_revision_leaves_the_store_as_it_was(stores: Stores, tmp_path: Path) -> None:
    engine = stores.engine()
    migrate(engine)
    add_rows(engine)
    broken = tmp_path / "broken_versions"
    write_revision(
        broken,
        "9001_broken",
        head_revision(),
        """
        op.add_column("users", sa.Column("locale", sa.String(20), nullable=True))
        op.execute("SELECT no_such_column FROM users")
        """,
    )
    with pytest.raises(sa.exc.DBAPIError):
        migrate(engine, extra_versions=[broken])
    with engine.connect() as conn:
        assert current_revision(conn) == SHIPPED[-1]
    assert "locale" not in [c["name"] for c in sa.inspect(engine).get_columns("users")]
    assert rows(engine) == EXPECTED_ROWS


@pytest.mark.parametrize("legacy_version", [3, 1])
def test_a_store_made_by_the_hand_written_migrations_is_adopted(stores: Stores, legacy_version: int) -> None:
    url = stores.url()
    engine = stores.engine(url)
    load_legacy(engine, legacy_version)
    add_rows(engine)

    done = migrate(engine)
    assert done.adopted == LEGACY_REVISIONS[legacy_version]
    assert done.applied == SHIPPED[legacy_version:]
    assert done.head == SHIPPED[-1]
    assert rows(engine) == EXPECTED_ROWS
    # The adopted store is the store a fresh start makes: the tables it lacked are created as there.
    fresh = stores.engine()
    migrate(fresh)
    assert describe(engine) == describe(fresh)
    with engine.connect() as conn:
        legacy = conn.execute(sa.text(f"SELECT version FROM {LEGACY_VERSION_TABLE} ORDER BY version")).all()
    assert [v for (v,) in legacy] == list(range(1, legacy_version + 1))  # left as it was

    # The adopted store works through the repositories and is not adopted twice.
    store = Store(url)
    try:
        history.add(store, "alpha", "bob", "orders by region")
        assert [h.question for h in history.recent(store, "alpha")] == [
            "orders by region",
            "revenue by month",
        ]
    finally:
        store.dispose()
    assert migrate(engine) == Migrated(adopted=None, applied=(), head=SHIPPED[-1])


MIGRATE_AT = r"""
import json, sys, time
from datatruth.store.engine import create_store_engine
from datatruth.store.migrations import migrate

url, start = sys.argv[1], float(sys.argv[2])
engine = create_store_engine(url)
time.sleep(max(start - time.time(), 0))  # every process calls migrate() at the same instant
print(json.dumps(migrate(engine).applied))
engine.dispose()
"""


def test_processes_migrating_a_fresh_store_together_apply_each_revision_once(stores: Stores) -> None:
    url = stores.url()
    start = time.time() + 3  # time for every interpreter to import before the start line
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_AT, url, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=180) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], [err for _, err in outputs]
    applied = [json.loads(out) for out, _ in outputs]
    assert sorted(r for revs in applied for r in revs) == list(SHIPPED)  # each revision once, in one process
    with stores.engine(url).connect() as conn:
        assert conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all() == [(SHIPPED[-1],)]


def test_threads_migrating_two_fresh_stores_together_apply_each_revision_once(stores: Stores) -> None:
    # Two threads per store, two stores: alembic's per-process state must not mix the stores up.
    urls = [stores.url(), stores.url()]
    engines = [stores.engine(url) for url in urls for _ in range(2)]
    start = threading.Barrier(len(engines))

    def run(engine: sa.Engine) -> Migrated:
        start.wait()  # every thread reaches migrate() at the same instant
        return migrate(engine)

    with ThreadPoolExecutor(len(engines)) as pool:
        results = [future.result(timeout=120) for future in [pool.submit(run, e) for e in engines]]
    for store in (0, 1):
        mine = results[2 * store : 2 * store + 2]
        assert sorted(r for result in mine for r in result.applied) == list(SHIPPED)
        assert {result.head for result in mine} == {SHIPPED[-1]}
    for engine in engines[::2]:
        assert set(describe(engine)) >= {"users", "dashboards", "proposals"}


def test_a_legacy_version_this_release_does_not_know_is_refused(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'meta.sqlite'}")
    load_legacy(engine, 3)
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"INSERT INTO {LEGACY_VERSION_TABLE} (version, name) VALUES (4, 'from the future')")
        )
    with pytest.raises(UserError, match="schema version 4"):
        migrate(engine)
    assert not sa.inspect(engine).has_table(VERSION_TABLE)  # nothing was written
    engine.dispose()


def test_a_store_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'meta.sqlite'}")
    later = tmp_path / "later_versions"
    write_revision(
        later, "9001_newer", head_revision(), 'op.create_table("extra", sa.Column("id", sa.Integer))'
    )
    migrate(engine, extra_versions=[later])
    with pytest.raises(UserError, match="revision 9001_newer, newer than this DataTruth knows"):
        migrate(engine)
    engine.dispose()


def test_new_revision_follows_the_head(tmp_path: Path) -> None:
    following = f"{int(SHIPPED[-1]) + 1:04d}"
    path = new_revision("add a note to users", directory=tmp_path)
    assert path.parent == tmp_path and path.name == f"{following}_add_a_note_to_users.py"
    text = path.read_text()
    assert f'revision = "{following}"' in text and f'down_revision = "{SHIPPED[-1]}"' in text
    assert head_revision(extra_versions=[tmp_path]) == following


def test_the_head_read_from_file_names_is_alembic_s_head() -> None:
    assert shipped_head() == head_revision()


def test_an_up_to_date_store_opens_without_loading_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    migrate(create_store_engine(url))  # brought to the head first (this loads alembic)
    probe = (
        "import sys; from datatruth.store.engine import create_store_engine;"
        "from datatruth.store.migrations import migrate;"
        f"done = migrate(create_store_engine({url!r}));"
        "print(done.applied, 'alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["()", "False"]
