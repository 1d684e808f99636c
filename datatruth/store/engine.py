"""Open the metadata store (SQLite by default, PostgreSQL when DATATRUTH_STORE_URL says so) and migrate it."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import sqlalchemy as sa

from datatruth.errors import InternalError, UserError
from datatruth.settings import Settings, load_settings
from datatruth.store.migrations import migrate

_OPEN: dict[str, Store] = {}
_LOCK = threading.Lock()


def utcnow() -> dt.datetime:
    """Naive UTC now, the one timestamp convention of the store."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The integer primary key of the row a single-row INSERT just added."""
    key = result.inserted_primary_key
    if (
        key is None
    ):  # SQLAlchemy types the key as Optional: None only for statements that are not single-row INSERTs
        raise InternalError("inserted_id() needs the result of a single-row INSERT")
    return int(key[0])


class Store:
    """A migrated metadata store; repositories in this package take it plus the workspace explicitly."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_store_engine(url)
        try:
            migrate(self.engine)
        except sa.exc.OperationalError as err:
            raise UserError(
                f"cannot open the metadata store: {str(err.orig).strip()}",
                "check DATATRUTH_STORE_URL and that the database is running",
            ) from None

    @property
    def dialect(self) -> str:
        """SQLAlchemy dialect name of the store (sqlite or postgresql)."""
        return self.engine.dialect.name

    def begin(self) -> AbstractContextManager[sa.Connection]:
        """A transaction context (use as `with store.begin() as conn:`)."""
        return self.engine.begin()

    def connect(self) -> sa.engine.base.Connection:
        """A read connection context."""
        return self.engine.connect()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[sa.Connection]:
        """A transaction that no other process runs at the same time for the same `name` (check-then-act safe).

        PostgreSQL: an advisory transaction lock keyed by `name`. SQLite: BEGIN IMMEDIATE (the database's
        write lock, so one such transaction at a time whatever the name).
        """
        with exclusive_transaction(self.engine, name) as conn:
            yield conn

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def create_store_engine(url: str) -> sa.Engine:
    """An engine for the store at `url`, set up as the store uses it (SQLite: WAL, foreign keys, busy timeout)."""
    kwargs: dict = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for `name` (PostgreSQL's pg_advisory_* take a bigint)."""
    return int.from_bytes(hashlib.sha256(f"datatruth:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def exclusive_transaction(engine: sa.Engine, name: str) -> Iterator[sa.Connection]:
    """Run a transaction serialised across processes (see Store.exclusive); commits, or rolls back on error."""
    if engine.dialect.name == "sqlite":
        # pysqlite would start a deferred transaction only at the first write, after our reads: take the
        # write lock at BEGIN instead, so "read, decide, write" cannot interleave with another process.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key(name))))
        yield conn


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    # WAL lets several app sessions read while one writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def open_store(url: str | None = None, settings: Settings | None = None) -> Store:
    """Return the (cached) store for `url` or the configured one, migrating it on first open."""
    if url is None:
        url = (settings or load_settings()).resolved_store_url()
    with _LOCK:
        store = _OPEN.get(url)
        if store is None:
            store = _OPEN[url] = Store(url)
        return store
