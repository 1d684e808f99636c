"""Hardened warehouse connections: read-only sessions, a timeout that really stops a query, and a row cap.

These walls hold even when a statement never went through the SQL guard: DuckDB is opened read-only
with external access off and its configuration locked; PostgreSQL runs every query in a READ ONLY
transaction through a server-side cursor (one SELECT only) under statement_timeout; MySQL/MariaDB run
in a read-only session with the server's statement time limit and without multi-statements. A watchdog
thread interrupts (DuckDB, SQLite) or cancels (PostgreSQL, MySQL) a query that outlives its timeout.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine, make_url

from datatruth.errors import NotFound, QueryTimeout, UserError, WarehouseError

if TYPE_CHECKING:
    import pandas as pd

# duckdb-engine registers its dialect as a setuptools entry point; naming it here spares SQLAlchemy a scan of
# every installed package's metadata on the first DuckDB connection of a process.
sa.dialects.registry.register("duckdb", "duckdb_engine", "Dialect")

DIALECT_OF_DRIVER = {
    "duckdb": "duckdb",
    "postgresql": "postgres",
    "postgres": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "hive": "spark",
}
# Server-side limits should fire first; the client watchdog is the second wall for servers.
SERVER_GRACE_S = 0.5
# Per-process DuckDB bounds unless the workspace sets limits.memory_mb / limits.threads: DuckDB's own default
# is 80% of RAM and every core, which lets one question take the machine from everyone else.
DUCKDB_MEMORY_MB = 1024
DUCKDB_THREADS = 2
_cursor_ids = itertools.count(1)


@dataclass(frozen=True)
class QueryResult:
    """Rows of one query (at most the row cap), their column names, and whether more rows existed."""

    columns: tuple[str, ...]
    frame: pd.DataFrame
    truncated: bool
    elapsed_ms: float


@dataclass(frozen=True)
class FetchedRows:
    """The same as QueryResult with the rows as the driver returned them (tuples), before any DataFrame."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    truncated: bool
    elapsed_ms: float
    types: tuple[
        str, ...
    ] = ()  # the engine's column types where it names them (DuckDB: BIGINT, DECIMAL(18,2)...)

    def frame(self) -> pd.DataFrame:
        """The rows as the DataFrame every answer is built from (pandas is imported here, not before)."""
        import pandas as pd

        return pd.DataFrame.from_records(self.rows, columns=list(self.columns))


class _Watchdog:
    """Calls `cancel` from a timer thread when a query outlives `delay_s`; `fired` tells whether it did."""

    def __init__(
        self, delay_s: float, cancel: Callable[[], None], errors: tuple[type[BaseException], ...]
    ) -> None:
        self.fired = False
        self._cancel = cancel
        self._errors = errors
        self._timer = threading.Timer(delay_s, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        try:
            self._cancel()
        except self._errors:
            # The query ended (or its connection died) between the deadline and the cancel: nothing to stop.
            return

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


class _Backend:
    """How one kind of warehouse is opened, hardened, run and cancelled."""

    dialect = ""

    def __init__(
        self, url: URL, read_only: bool, timeout_s: float, allowed_directories: Sequence[str]
    ) -> None:
        self.url = url
        self.read_only = read_only
        self.timeout_s = timeout_s
        self.allowed_directories = tuple(allowed_directories)

    def engine_kwargs(self) -> dict[str, Any]:
        """Extra create_engine arguments (connect args, pool, creator)."""
        return {}

    def install(self, engine: Engine) -> None:
        """Attach connect-time hardening to `engine`."""

    def identity(self) -> str:
        """A stable name for the warehouse without password or query parameters."""
        url = self.url
        user = f"{url.username}@" if url.username else ""
        host = url.host or ""
        port = f":{url.port}" if url.port else ""
        return f"{self.dialect}://{user}{host}{port}/{url.database or ''}"

    def execute(self, raw: Any, sql: str, timeout_s: float) -> Any:
        """Start `sql` on the DBAPI connection and return an object with description and fetchmany."""
        raise NotImplementedError

    def cancel(self, raw: Any) -> Callable[[], None]:
        """A callable that stops the query running on `raw` (called from the watchdog thread)."""
        raise NotImplementedError

    def watchdog_delay(self, timeout_s: float) -> float:
        """Seconds after which the client watchdog steps in."""
        return timeout_s + SERVER_GRACE_S

    def is_timeout(self, err: BaseException) -> bool:
        """True when `err` is the server stopping a query for running too long."""
        return False

    def is_out_of_memory(self, err: BaseException) -> bool:
        """True when `err` is the engine refusing a query for needing more memory than it may use."""
        return False

    def column_types(self, cursor: Any) -> tuple[str, ...]:
        """The engine's names of the result's column types, when its driver gives them (else none)."""
        return ()

    def finish(self, raw: Any, cursor: Any) -> None:
        """Release the cursor and end the (read-only) transaction."""
        close = getattr(cursor, "close", None)
        if close is not None and cursor is not raw:
            close()
        raw.rollback()

    # SQL naming the schema an unqualified table name resolves to.
    default_schema_sql = "current_schema()"

    def table_names(self, engine: Engine) -> frozenset[str]:
        """Tables and views the guard may allow: default schema unqualified, other schemas qualified."""
        raise NotImplementedError

    def columns(self, engine: Engine, table: str) -> list[tuple[str, str]]:
        """(name, type) of each column of `table` (optionally schema.table), empty when it does not exist."""
        schema, _, name = table.rpartition(".")
        where_schema = "table_schema = :schema" if schema else f"table_schema = {self.default_schema_sql}"
        query = sa.text(
            "SELECT column_name, data_type FROM information_schema.columns "
            f"WHERE table_name = :name AND {where_schema} ORDER BY ordinal_position"
        )
        with engine.connect() as conn:
            rows = conn.execute(query, {"name": name, "schema": schema}).fetchall()
        return [(str(n), str(t)) for n, t in rows]

    def privilege_warnings(self, engine: Engine) -> tuple[str, ...]:
        """Privileges of the connected account that would let an unguarded query escape (none known)."""
        return ()

    def _is_system_schema(self, schema: str) -> bool:
        return schema.lower() in {
            "information_schema",
            "pg_catalog",
            "mysql",
            "performance_schema",
            "sys",
            "pg_toast",
        } or schema.lower().startswith("pg_")


class _DuckDB(_Backend):
    dialect = "duckdb"
    memory_mb = DUCKDB_MEMORY_MB
    threads = DUCKDB_THREADS

    def _path(self) -> str:
        return self.url.database or ":memory:"

    def _connect_args(self) -> dict[str, Any]:
        in_memory = self._path() == ":memory:"
        if not in_memory and not Path(self._path()).exists():
            raise WarehouseError(
                f"the DuckDB file {self._path()} does not exist",
                "build the workspace's warehouse first (datatruth demo build) or fix the URL",
            )
        # Autoload and autoinstall are refused at start-up; the remaining settings must be applied in order
        # (DuckDB refuses allowed_directories once external access is off), see _harden.
        args: dict[str, Any] = {
            "config": {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
        }
        if self.read_only and not in_memory:
            args["read_only"] = True
        return args

    def open_native(self) -> Any:
        """The process's hardened duckdb connection to this file; queries run on cursors of it (no SQLAlchemy)."""
        import duckdb

        raw = duckdb.connect(self._path(), **self._connect_args())
        try:
            self._harden(raw, None)
        except BaseException:
            raw.close()
            raise
        return raw

    def engine_kwargs(self) -> dict[str, Any]:
        return {"connect_args": self._connect_args()}

    def engine_over(self, native: Any) -> dict[str, Any]:
        """create_engine arguments whose connections are cursors of `native`: DuckDB lets one process open a
        file with one configuration only, and duckdb-engine's own connect would add its user agent to it."""
        from duckdb_engine import ConnectionWrapper

        return {"creator": lambda: ConnectionWrapper(native.cursor())}

    def install(self, engine: Engine) -> None:
        event.listen(engine, "connect", self._harden)

    def _harden(self, raw: Any, _record: Any) -> None:
        # Connections to one file in one process share a database instance: only the first one may (and
        # must) configure it; later ones verify that it is locked the way we left it.
        locked, external = raw.execute(
            "SELECT current_setting('lock_configuration'), current_setting('enable_external_access')"
        ).fetchone()
        if not locked:
            directories = [os.path.join(os.path.abspath(d), "") for d in self.allowed_directories]
            listed = ", ".join("'" + d.replace("'", "''") + "'" for d in directories)
            raw.execute(f"SET allowed_directories = [{listed}]")
            raw.execute(f"SET memory_limit = '{int(self.memory_mb)}MB'")
            raw.execute(
                f"SET max_temp_directory_size = '{4 * int(self.memory_mb)}MB'"
            )  # spilling is bounded too
            raw.execute(f"SET threads = {int(self.threads)}")
            raw.execute("SET enable_external_access = false")
            raw.execute("SET python_enable_replacements = false")
            raw.execute("SET lock_configuration = true")
        elif external:
            raise WarehouseError(
                f"the DuckDB database {self._path()} is already open in this process with "
                "external access enabled",
                "close the other connection to this file first",
            )

    def identity(self) -> str:
        path = self._path()
        return "duckdb://:memory:" if path == ":memory:" else f"duckdb://{os.path.abspath(path)}"

    def execute(self, raw: Any, sql: str, timeout_s: float) -> Any:
        statements = raw.extract_statements(sql)
        if len(statements) != 1:
            raise WarehouseError(f"one statement at a time, got {len(statements)}", "send a single SELECT")
        kind = statements[0].type.name
        if self.read_only and kind != "SELECT":
            raise WarehouseError(
                f"only SELECT runs on a read-only warehouse, got {kind}", "send a single SELECT"
            )
        return raw.execute(sql)

    def cancel(self, raw: Any) -> Callable[[], None]:
        return raw.interrupt

    def column_types(self, cursor: Any) -> tuple[str, ...]:
        return tuple(str(d[1]) for d in (cursor.description or ()))

    def is_out_of_memory(self, err: BaseException) -> bool:
        import duckdb

        return isinstance(err, duckdb.OutOfMemoryException)

    def watchdog_delay(self, timeout_s: float) -> float:
        return timeout_s

    def is_timeout(self, err: BaseException) -> bool:
        import duckdb

        return isinstance(err, duckdb.InterruptException)

    def finish(self, raw: Any, cursor: Any) -> None:
        # DuckDB's execute() returns the connection itself; there is no transaction to end.
        return None

    def table_names(self, engine: Engine) -> frozenset[str]:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_catalog = current_database() AND table_schema NOT IN ('information_schema', "
                "'pg_catalog')"
            ).fetchall()
        return frozenset(name if schema == "main" else f"{schema}.{name}" for schema, name in rows)


class _Postgres(_Backend):
    dialect = "postgres"

    def engine_kwargs(self) -> dict[str, Any]:
        options = [f"-c statement_timeout={int(self.timeout_s * 1000)}"]
        if self.read_only:
            options.append("-c default_transaction_read_only=on")
        existing = self.url.query.get("options")
        if isinstance(existing, str) and existing:
            options.insert(0, existing)
        return {"connect_args": {"options": " ".join(options), "connect_timeout": 10}, "pool_pre_ping": True}

    def execute(self, raw: Any, sql: str, timeout_s: float) -> Any:
        with raw.cursor() as setup:
            if self.read_only:
                setup.execute("SET TRANSACTION READ ONLY")
            setup.execute(f"SET LOCAL statement_timeout = {int(timeout_s * 1000)}")
        # A server-side cursor only accepts one SELECT/VALUES (DECLARE ... CURSOR FOR), so stacked
        # statements and DML fail in the server's own parser.
        cursor = raw.cursor(name=f"datatruth_{next(_cursor_ids)}")
        cursor.execute(sql)
        return cursor

    def cancel(self, raw: Any) -> Callable[[], None]:
        return lambda: raw.cancel_safe(timeout=2.0)

    def is_timeout(self, err: BaseException) -> bool:
        return getattr(err, "sqlstate", None) == "57014"

    def table_names(self, engine: Engine) -> frozenset[str]:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT table_schema, table_name, table_schema = current_schema() FROM information_schema.tables"
            ).fetchall()
        return frozenset(
            name if default else f"{schema}.{name}"
            for schema, name, default in rows
            if not self._is_system_schema(schema)
        )

    def privilege_warnings(self, engine: Engine) -> tuple[str, ...]:
        with engine.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT rolsuper, pg_has_role(current_user, 'pg_read_server_files', 'MEMBER'), "
                "pg_has_role(current_user, 'pg_write_server_files', 'MEMBER'), "
                "pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER') "
                "FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
        if row is None:
            return ()
        superuser, read_files, write_files, run_programs = row
        if superuser:
            return (
                "the warehouse account is a PostgreSQL superuser: it can read server files and run "
                "programs; connect with a SELECT-only role (see SECURITY.md)",
            )
        names = [
            n
            for n, held in (
                ("pg_read_server_files", read_files),
                ("pg_write_server_files", write_files),
                ("pg_execute_server_program", run_programs),
            )
            if held
        ]
        return tuple(f"the warehouse account is a member of {n}; revoke it (see SECURITY.md)" for n in names)


class _MySQL(_Backend):
    dialect = "mysql"
    default_schema_sql = "DATABASE()"

    def __init__(
        self, url: URL, read_only: bool, timeout_s: float, allowed_directories: Sequence[str]
    ) -> None:
        super().__init__(url, read_only, timeout_s, allowed_directories)
        self.mariadb: bool | None = None
        self.engine: Engine | None = None

    def engine_kwargs(self) -> dict[str, Any]:
        return {"connect_args": {"local_infile": False, "connect_timeout": 10}, "pool_pre_ping": True}

    def install(self, engine: Engine) -> None:
        self.engine = engine
        event.listen(engine, "do_connect", self._no_multi_statements)
        event.listen(engine, "connect", self._harden)

    @staticmethod
    def _no_multi_statements(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        from pymysql.constants import CLIENT

        cparams["client_flag"] = (
            int(cparams.get("client_flag", 0)) & ~CLIENT.MULTI_STATEMENTS & ~CLIENT.LOCAL_FILES
        )
        cparams["local_infile"] = False

    def _harden(self, raw: Any, _record: Any) -> None:
        with raw.cursor() as cur:
            if self.mariadb is None:
                cur.execute("SELECT VERSION()")
                self.mariadb = "mariadb" in str(cur.fetchone()[0]).lower()
        self._session(raw, self.timeout_s)

    def _session(self, raw: Any, timeout_s: float) -> None:
        with raw.cursor() as cur:
            cur.execute(
                "SET SESSION TRANSACTION READ ONLY"
                if self.read_only
                else "SET SESSION TRANSACTION READ WRITE"
            )
            if self.mariadb:
                cur.execute(f"SET SESSION max_statement_time = {max(timeout_s, 0.001):.3f}")
            else:
                cur.execute(f"SET SESSION max_execution_time = {max(int(timeout_s * 1000), 1)}")

    def execute(self, raw: Any, sql: str, timeout_s: float) -> Any:
        import pymysql.cursors

        # Re-assert the session on every run: a pooled connection must not keep anything a query changed.
        self._session(raw, timeout_s)
        cursor = raw.cursor(pymysql.cursors.SSCursor)
        cursor.execute(sql)
        return cursor

    def cancel(self, raw: Any) -> Callable[[], None]:
        thread_id = int(raw.thread_id())
        engine = self.engine

        def kill() -> None:
            if engine is None:
                return
            killer = engine.raw_connection()
            try:
                # pymysql's cursor is a context manager; the DB-API cursor type SQLAlchemy declares is not.
                with killer.cursor() as cur:  # type: ignore[attr-defined]
                    cur.execute(f"KILL QUERY {thread_id}")
            finally:
                killer.close()

        return kill

    def is_timeout(self, err: BaseException) -> bool:
        code = err.args[0] if err.args and isinstance(err.args[0], int) else None
        return code in (1969, 3024, 1317)

    def table_names(self, engine: Engine) -> frozenset[str]:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
            ).fetchall()
        return frozenset(name for (name,) in rows)

    def privilege_warnings(self, engine: Engine) -> tuple[str, ...]:
        with engine.connect() as conn:
            grants = [str(row[0]) for row in conn.exec_driver_sql("SHOW GRANTS").fetchall()]
        # Global grants (ON *.*) are the ones that reach files and other databases.
        global_grants = [g.upper() for g in grants if " ON *.* " in g.upper()]
        risky = [p for p in ("ALL PRIVILEGES", "FILE", "SUPER") if any(p in g for g in global_grants)]
        return tuple(
            f"the warehouse account holds the global {p} privilege; use a SELECT-only user without "
            "FILE (see SECURITY.md)"
            for p in risky
        )


class _SQLite(_Backend):
    dialect = "sqlite"

    def _path(self) -> str:
        return self.url.database or ":memory:"

    def engine_kwargs(self) -> dict[str, Any]:
        path = self._path()
        if path == ":memory:":
            return {}
        if not Path(path).exists():
            raise WarehouseError(f"the SQLite file {path} does not exist", "fix the warehouse URL")
        mode = "ro" if self.read_only else "rw"
        uri = f"{Path(path).resolve().as_uri()}?mode={mode}"

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
            if self.read_only:
                conn.set_authorizer(_sqlite_read_only)
            return conn

        return {"creator": connect}

    def identity(self) -> str:
        path = self._path()
        return "sqlite://:memory:" if path == ":memory:" else f"sqlite://{os.path.abspath(path)}"

    def execute(self, raw: Any, sql: str, timeout_s: float) -> Any:
        cursor = raw.cursor()
        cursor.execute(sql)  # sqlite3 refuses more than one statement per execute()
        return cursor

    def cancel(self, raw: Any) -> Callable[[], None]:
        return raw.interrupt

    def watchdog_delay(self, timeout_s: float) -> float:
        return timeout_s

    def is_timeout(self, err: BaseException) -> bool:
        return isinstance(err, sqlite3.OperationalError) and "interrupted" in str(err)

    def table_names(self, engine: Engine) -> frozenset[str]:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
            ).fetchall()
        return frozenset(name for (name,) in rows if not name.startswith("sqlite_"))

    def columns(self, engine: Engine, table: str) -> list[tuple[str, str]]:
        quoted = '"' + table.replace('"', '""') + '"'
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f"PRAGMA table_info({quoted})")).fetchall()
        return [(str(row[1]), str(row[2])) for row in rows]


_SQLITE_READS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)


def _sqlite_read_only(
    action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None
) -> int:
    """SQLite authorizer: reads only; pragmas only to read what `columns` and SQLAlchemy itself look up."""
    if action in _SQLITE_READS:
        return sqlite3.SQLITE_OK
    # PRAGMA table_info(x) passes x as arg2; a bare read_uncommitted only reads the setting.
    if action == sqlite3.SQLITE_PRAGMA and (
        arg1 == "table_info" or (arg1 == "read_uncommitted" and arg2 is None)
    ):
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


_BACKENDS: dict[str, type[_Backend]] = {
    "duckdb": _DuckDB,
    "postgres": _Postgres,
    "mysql": _MySQL,
    "sqlite": _SQLite,
}


def _backend_class(kind: str) -> type[_Backend]:
    """The backend for a dialect; Spark's lives in its own module and is imported only when used."""
    if kind == "spark":
        from datatruth.warehouse.spark import SparkBackend

        return SparkBackend
    return _BACKENDS[kind]


def _first_line(err: BaseException) -> str:
    lines = str(getattr(err, "orig", None) or err).strip().splitlines()
    return lines[0][:300] if lines else type(err).__name__


class Warehouse:
    """A hardened connection to one warehouse: run capped queries with a timeout, list tables and columns.

    A DuckDB warehouse runs its queries on cursors of one native connection (`native`) and builds its
    SQLAlchemy engine only when something asks for it (profiling, the catalogue): answering a question then
    imports neither duckdb-engine nor SQLAlchemy's PostgreSQL dialect that it pulls in.
    """

    def __init__(self, engine: Engine | None, backend: _Backend, native: Any = None) -> None:
        self._engine = engine
        self._backend = backend
        self._native = native
        self._engine_lock = threading.Lock()
        if native is not None:
            import duckdb

            self._errors: tuple[type[BaseException], ...] = (duckdb.Error, sa_exc.SQLAlchemyError)
        else:
            assert engine is not None  # narrows the type only: the caller passes an engine when no native one
            self._errors = (engine.dialect.loaded_dbapi.Error, sa_exc.SQLAlchemyError)

    @property
    def dialect(self) -> str:
        """The sqlglot dialect name: duckdb, postgres, mysql, sqlite or spark."""
        return self._backend.dialect

    @property
    def engine(self) -> Engine:
        """The hardened SQLAlchemy engine; other read-only readers of this warehouse (profiling) share it,
        because one process may hold a DuckDB file with only one configuration."""
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    # _engine is None only for DuckDB, whose native connection is set
                    backend, native = self._backend, self._native
                    assert isinstance(backend, _DuckDB) and native is not None  # narrows the type only
                    engine = sa.create_engine(backend.url, **backend.engine_over(native))
                    backend.install(engine)
                    self._engine = engine
        return self._engine

    @contextmanager
    def _raw_connection(self) -> Iterator[Any]:
        """A DBAPI connection for one query: a cursor of the native DuckDB connection, or one from the pool."""
        if self._native is not None:
            raw = self._native.cursor()
            try:
                yield raw
            finally:
                raw.close()
            return
        with self.engine.connect() as conn:
            yield conn.connection.dbapi_connection

    @property
    def identity(self) -> str:
        """A stable string naming the warehouse, without secrets."""
        return self._backend.identity()

    @property
    def timeout_s(self) -> float:
        """The default timeout of `run`."""
        return self._backend.timeout_s

    def run(self, sql: str, *, row_cap: int, timeout_s: float | None = None) -> QueryResult:
        """Run one query; fetch at most row_cap rows (truncated tells if there were more) within the timeout."""
        fetched = self.fetch(sql, row_cap=row_cap, timeout_s=timeout_s)
        return QueryResult(
            columns=fetched.columns,
            frame=fetched.frame(),
            truncated=fetched.truncated,
            elapsed_ms=fetched.elapsed_ms,
        )

    def fetch(self, sql: str, *, row_cap: int, timeout_s: float | None = None) -> FetchedRows:
        """`run` without the DataFrame: the capped rows as tuples, for callers that never need pandas."""
        if isinstance(row_cap, bool) or row_cap < 1:
            raise UserError(f"row cap must be 1 or more, got {row_cap!r}", "pass a positive row_cap")
        timeout = self._backend.timeout_s if timeout_s is None else timeout_s
        if timeout <= 0:
            raise UserError(f"timeout must be positive, got {timeout!r}", "pass a timeout in seconds")
        backend = self._backend
        started = time.perf_counter()
        dog: _Watchdog | None = None
        try:
            with self._raw_connection() as raw:
                dog = _Watchdog(backend.watchdog_delay(timeout), backend.cancel(raw), self._errors)
                with dog:
                    cursor = backend.execute(raw, sql, timeout)
                    columns = tuple(str(d[0]) for d in (cursor.description or ()))
                    types = backend.column_types(cursor)
                    rows = cursor.fetchmany(row_cap + 1)
                backend.finish(raw, cursor)
        except self._errors as err:
            cause = getattr(err, "orig", None) or err
            if (dog is not None and dog.fired) or backend.is_timeout(cause):
                raise QueryTimeout(
                    f"the query ran longer than {timeout:g} s and was stopped",
                    "narrow the question (fewer rows, a shorter period) or ask an admin to "
                    "raise the workspace timeout",
                ) from err
            if backend.is_out_of_memory(cause):
                raise WarehouseError(
                    "the query needed more memory than this workspace allows",
                    "narrow the question (fewer rows, fewer groups) or ask an admin to raise "
                    "limits.memory_mb in workspace.yaml",
                ) from err
            if dog is None:
                raise WarehouseError(
                    f"cannot connect to {self.identity}: {_first_line(err)}",
                    "check that the database is running and the warehouse URL is right",
                ) from err
            raise WarehouseError(
                f"the query failed in {self.identity}: {_first_line(err)}",
                "check table and column names; the SQL is shown with the answer",
            ) from err
        if dog.fired:
            # MySQL's SLEEP() returns 1 instead of failing when its query is killed.
            raise QueryTimeout(
                f"the query ran longer than {timeout:g} s and was stopped",
                "narrow the question or ask an admin to raise the workspace timeout",
            )
        elapsed_ms = (time.perf_counter() - started) * 1000
        truncated = len(rows) > row_cap
        return FetchedRows(columns, [tuple(r) for r in rows[:row_cap]], truncated, elapsed_ms, types)

    def table_names(self) -> frozenset[str]:
        """Tables and views of the warehouse: default schema unqualified, others as schema.table."""
        try:
            return self._backend.table_names(self.engine)
        except self._errors as err:
            raise WarehouseError(
                f"cannot list the tables of {self.identity}: {_first_line(err)}",
                "check that the database is running and the warehouse URL is right",
            ) from err

    def privilege_warnings(self) -> tuple[str, ...]:
        """Privileges of the connected account that would let a query that skipped the guard escape."""
        try:
            return self._backend.privilege_warnings(self.engine)
        except self._errors as err:
            raise WarehouseError(
                f"cannot read the privileges of {self.identity}: {_first_line(err)}",
                "check that the database is running",
            ) from err

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, type) of each column of `table` (optionally schema.table)."""
        try:
            found = self._backend.columns(self.engine, table)
        except self._errors as err:
            raise WarehouseError(
                f"cannot read the columns of {table}: {_first_line(err)}",
                "check that the database is running",
            ) from err
        if not found:
            raise NotFound(
                f"table {table} does not exist in {self.identity}",
                f"known tables: {', '.join(sorted(self.table_names())[:12]) or 'none'}",
            )
        return found

    def close(self) -> None:
        """Close every pooled connection (and the native DuckDB connection)."""
        if self._engine is not None:
            self._engine.dispose()
        if self._native is not None:
            self._native.close()


def open_warehouse(
    url: str,
    *,
    read_only: bool = True,
    timeout_s: float = 30,
    allowed_directories: Sequence[str] = (),
    memory_mb: int = DUCKDB_MEMORY_MB,
    threads: int = DUCKDB_THREADS,
) -> Warehouse:
    """Open a hardened connection to the warehouse at `url` (SQLAlchemy URL) and check that it answers."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError as err:
        raise WarehouseError(
            f"'{url}' is not a valid warehouse URL",
            "write it like duckdb:///path/file.duckdb, postgresql+psycopg://user@host/db or "
            "hive://user@host:10000/db (Spark)",
        ) from err
    kind = DIALECT_OF_DRIVER.get(parsed.get_backend_name())
    if kind is None:
        raise WarehouseError(
            f"unsupported warehouse type '{parsed.get_backend_name()}'",
            f"use one of: {', '.join(sorted(set(DIALECT_OF_DRIVER.values())))}",
        )
    if timeout_s <= 0:
        raise UserError(f"timeout must be positive, got {timeout_s!r}", "pass a timeout in seconds")
    backend = _backend_class(kind)(parsed, read_only, float(timeout_s), allowed_directories)
    if isinstance(backend, _DuckDB):
        backend.memory_mb, backend.threads = memory_mb, threads
        return _open_duckdb(backend)
    try:
        engine = sa.create_engine(parsed, **backend.engine_kwargs())
    except (sa_exc.ArgumentError, ImportError) as err:
        raise WarehouseError(
            f"cannot open {backend.identity()}: {_first_line(err)}",
            "check the driver name in the URL (e.g. postgresql+psycopg, mysql+pymysql)",
        ) from err
    backend.install(engine)
    warehouse = Warehouse(engine, backend)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1").fetchall()
    except warehouse._errors as err:
        engine.dispose()
        raise WarehouseError(
            f"cannot connect to {backend.identity()}: {_first_line(err)}",
            "check that the database is running and the warehouse URL is right",
        ) from err
    return warehouse


def _open_duckdb(backend: _DuckDB) -> Warehouse:
    """A DuckDB warehouse on its native connection, checked to answer; its SQLAlchemy engine comes later."""
    import duckdb

    try:
        native = backend.open_native()
        native.execute("SELECT 1").fetchall()
    except duckdb.Error as err:
        raise WarehouseError(
            f"cannot connect to {backend.identity()}: {_first_line(err)}",
            "check that the database is running and the warehouse URL is right",
        ) from err
    return Warehouse(None, backend, native)
