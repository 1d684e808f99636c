"""Apache Spark as a warehouse, through a Spark Thrift server (HiveServer2 protocol, PyHive's hive:// URLs).

Spark has neither a read-only session nor transactions, so the SQL guard is the wall (SECURITY.md); this
backend adds what the server allows:
- every session turns off variable substitution (the server would expand ${env:NAME} inside any query),
  pins string-literal parsing and uses UTC, so answers do not depend on the server's defaults;
- a query runs asynchronously under the server's own limit (spark.sql.thriftServer.queryTimeout), and the
  client polls it and cancels it at its deadline. Cancelling a synchronous execute from another thread
  corrupts the Thrift connection, so the watchdog thread other engines use does nothing here;
- tables come from SHOW TABLES and columns from DESCRIBE (Spark has no information_schema);
- DATE values, which the protocol sends as text, come back as datetime.date, and arrays, maps and structs
  (sent as JSON text) as lists and dicts; DECIMAL stays Decimal and TIMESTAMP arrives as datetime, as from
  the other engines.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlglot
from pyhive.exc import OperationalError
from sqlalchemy.engine import URL, Engine
from sqlglot import exp
from sqlglot.errors import SqlglotError
from TCLIService.ttypes import TOperationState

from datatruth.errors import WarehouseError
from datatruth.warehouse.engine import SERVER_GRACE_S, _Backend

# Settings every session gets; a query cannot change them (the guard refuses SET).
SESSION_SETTINGS = {
    "spark.sql.variable.substitute": "false",
    "spark.sql.parser.escapedStringLiterals": "false",
    "spark.sql.session.timeZone": "UTC",
}
# The client watchdog only marks a run as timed out after this much more than the deadline: the poll loop
# cancels the query itself, in the thread that owns the connection.
WATCHDOG_SLACK_S = 30.0
_POLL_FIRST_S = 0.002
_POLL_MAX_S = 0.05  # a status call costs ~1 ms; a long pause would add up to its length to every answer


_RUNNING = (TOperationState.INITIALIZED_STATE, TOperationState.RUNNING_STATE, TOperationState.PENDING_STATE)
_STOPPED = (TOperationState.TIMEDOUT_STATE, TOperationState.CANCELED_STATE)


class SparkQueryTimeout(OperationalError):
    """The query outlived its deadline and was cancelled (or the server's own limit stopped it)."""


def quote(name: str) -> str:
    """A Spark identifier in backticks."""
    return "`" + name.replace("`", "``") + "`"


def _convert(type_name: str) -> Callable[[Any], Any] | None:
    if type_name == "DATE_TYPE":
        return lambda v: dt.date.fromisoformat(v) if isinstance(v, str) else v
    if type_name in ("ARRAY_TYPE", "MAP_TYPE", "STRUCT_TYPE"):
        return lambda v: json.loads(v) if isinstance(v, str) else v
    return None


def typed_rows(description: Sequence[Sequence[Any]] | None, rows: list[Any]) -> list[tuple[Any, ...]]:
    """Rows with DATE columns turned from ISO text into datetime.date, and arrays/maps/structs from JSON."""
    converters = [_convert(str(d[1])) for d in (description or ())]
    if not any(converters):
        return [tuple(r) for r in rows]
    return [
        tuple(c(v) if c is not None and v is not None else v for c, v in zip(converters, r, strict=True))
        for r in rows
    ]


class _TypedCursor:
    """A finished PyHive cursor whose rows come back typed like the other engines'."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.description = cursor.description

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        return typed_rows(self.description, self._cursor.fetchmany(size))

    def close(self) -> None:
        self._cursor.close()


def apply_session(raw: Any, settings: dict[str, str]) -> None:
    """Run SET key=value for each setting on one DBAPI connection."""
    cursor = raw.cursor()
    try:
        for key, value in settings.items():
            cursor.execute(f"SET {key}={value}")
    finally:
        cursor.close()


def run_async(raw: Any, sql: str, deadline_s: float) -> Any:
    """Start `sql`, poll until it finishes, cancel it at the deadline; return the finished cursor."""
    cursor = raw.cursor()
    cursor.execute(sql, async_=True)
    deadline = time.monotonic() + deadline_s
    pause = _POLL_FIRST_S
    while True:
        status = cursor.poll(get_progress_update=False)
        state = status.operationState
        if state == TOperationState.FINISHED_STATE:
            return cursor
        if state in _STOPPED:
            cursor.close()
            raise SparkQueryTimeout(f"Spark stopped the query ({status.errorMessage or 'timed out'})")
        if state not in _RUNNING:
            message = _short(status.errorMessage or f"operation state {state}")
            cursor.close()
            raise OperationalError(message)
        if time.monotonic() >= deadline:
            # Same thread as the execute: cancelling here leaves the connection usable.
            cursor.cancel()
            cursor.close()
            raise SparkQueryTimeout(f"cancelled after {deadline_s:g} s")
        time.sleep(pause)
        pause = min(pause * 2, _POLL_MAX_S)


_JAVA_PREFIXES = (
    "org.apache.hive.service.cli.HiveSQLException: ",
    "Error running query: ",
    "org.apache.spark.sql.AnalysisException: ",
)


def _short(message: str) -> str:
    """The first line of a server error without the Java exception names in front of Spark's own words."""
    line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    for prefix in _JAVA_PREFIXES:
        line = line.replace(prefix, "")
    return line


def run_query(raw: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one query under the session's server-side limit; return its column names and typed rows.

    The DBAPI cursor is used directly: SQLAlchemy's exec_driver_sql would make PyHive %-format the text.
    """
    cursor = run_async(raw, sql, math.inf)
    try:
        names = [str(d[0]) for d in (cursor.description or ())]
        return names, typed_rows(cursor.description, cursor.fetchall())
    finally:
        cursor.close()


def list_tables(raw: Any, database: str | None = None) -> list[str]:
    """Permanent tables and views of `database` (default: the session's), from SHOW TABLES."""
    cursor = raw.cursor()
    try:
        cursor.execute("SHOW TABLES" + (f" IN {quote(database)}" if database else ""))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    # Columns: namespace, tableName, isTemporary. Temporary views belong to one session, not the workspace.
    return sorted(str(name) for _namespace, name, temporary in rows if not temporary)


def describe(raw: Any, table: str, database: str | None = None) -> list[tuple[str, str]]:
    """(name, type) of each column of `table`, from DESCRIBE; [] when the table does not exist."""
    db, _, name = table.rpartition(".")
    db = db or database or ""
    if name.lower() not in {t.lower() for t in list_tables(raw, db or None)}:
        return []
    target = f"{quote(db)}.{quote(name)}" if db else quote(name)
    cursor = raw.cursor()
    try:
        cursor.execute(f"DESCRIBE TABLE {target}")
        rows = cursor.fetchall()
    finally:
        cursor.close()
    columns = []
    for col_name, data_type, *_ in rows:
        # Partition and detail sections start with a blank or '#' row.
        if not col_name or str(col_name).startswith("#"):
            break
        columns.append((str(col_name), str(data_type)))
    return columns


def _single_select(sql: str) -> None:
    """Refuse anything but one query: Spark has no read-only session to stop a write the guard missed."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="spark") if s is not None]
    except SqlglotError as err:
        raise WarehouseError("the Spark query could not be read", "send one SELECT") from err
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise WarehouseError(
            "only one SELECT runs on a Spark warehouse (it has no read-only mode)", "send a single SELECT"
        )


class SparkBackend(_Backend):
    """Spark Thrift server: async execute + poll + cancel, session settings, SHOW/DESCRIBE introspection."""

    dialect = "spark"
    default_schema_sql = "current_database()"

    def __init__(
        self, url: URL, read_only: bool, timeout_s: float, allowed_directories: Sequence[str]
    ) -> None:
        super().__init__(url, read_only, timeout_s, allowed_directories)
        # The timeout each live DBAPI connection's session holds (keyed by id; set again on every new one).
        self._session_timeouts: dict[int, dict[str, str]] = {}

    def engine_kwargs(self) -> dict[str, Any]:
        return {"pool_pre_ping": True}

    def install(self, engine: Engine) -> None:
        from sqlalchemy import event

        event.listen(engine, "connect", self._session)

    def _session(self, raw: Any, _record: Any) -> None:
        setting = self._timeout_setting(self.timeout_s)
        apply_session(raw, {**SESSION_SETTINGS, **setting})
        self._session_timeouts[id(raw)] = setting

    @staticmethod
    def _timeout_setting(timeout_s: float) -> dict[str, str]:
        # The server counts whole seconds and reads 0 as "no limit": round up, never down to 0.
        return {"spark.sql.thriftServer.queryTimeout": f"{max(1, math.ceil(timeout_s))}s"}

    def identity(self) -> str:
        url = self.url
        user = f"{url.username}@" if url.username else ""
        port = f":{url.port}" if url.port else ""
        return f"spark://{user}{url.host or ''}{port}/{url.database or 'default'}"

    def execute(self, raw: Any, sql: str, timeout_s: float) -> Any:
        if self.read_only:
            _single_select(sql)
        # A pooled connection keeps the timeout its previous run set: change it only when it differs.
        setting = self._timeout_setting(timeout_s)
        if self._session_timeouts.get(id(raw)) != setting:
            apply_session(raw, setting)
            self._session_timeouts[id(raw)] = setting
        return _TypedCursor(run_async(raw, sql, timeout_s))

    def cancel(self, raw: Any) -> Callable[[], None]:
        return lambda: None  # see the module docstring: run_async cancels in the owning thread

    def watchdog_delay(self, timeout_s: float) -> float:
        return timeout_s + SERVER_GRACE_S + WATCHDOG_SLACK_S

    def is_timeout(self, err: BaseException) -> bool:
        return isinstance(err, SparkQueryTimeout)

    def finish(self, raw: Any, cursor: Any) -> None:
        # No transactions: PyHive's rollback() raises NotSupportedError.
        cursor.close()

    def table_names(self, engine: Engine) -> frozenset[str]:
        with engine.connect() as conn:
            return frozenset(list_tables(conn.connection.dbapi_connection))

    def columns(self, engine: Engine, table: str) -> list[tuple[str, str]]:
        with engine.connect() as conn:
            return describe(conn.connection.dbapi_connection, table)

    def privilege_warnings(self, engine: Engine) -> tuple[str, ...]:
        return (
            "Spark has no read-only session: the SQL guard is the only wall in DataTruth; connect through "
            "a read-only catalog or with Spark SQL authorization (see SECURITY.md and docs/scaling.md)",
        )
