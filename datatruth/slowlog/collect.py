"""Live collectors: pg_stat_statements snapshots and deltas, MariaDB/MySQL digests and slow_log table.

Events from collectors stand for many executions: `query_time` is the total time of the calls
counted (seconds), `attributes["calls"]` says how many calls, rows_* are totals over those calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa

from datatruth.errors import UserError
from datatruth.slowlog.dbconn import connect
from datatruth.slowlog.events import SlowEvent

PICOSECONDS = 1e12


class CollectorError(UserError):
    """A live collector cannot read statistics from the server (not enabled, no rights)."""


@dataclass(frozen=True)
class StatementStat:
    """One pg_stat_statements row: cumulative counters for one (user, database, queryid, toplevel)."""

    queryid: int
    user: str | None
    db: str | None
    toplevel: bool
    query: str
    calls: int
    total_exec_time_ms: float
    rows: int
    shared_blks_hit: int
    shared_blks_read: int
    temp_blks_written: int

    @property
    def key(self) -> tuple[int, str | None, str | None, bool]:
        """pg_stat_statements' own identity for a row."""
        return (self.queryid, self.user, self.db, self.toplevel)


@dataclass(frozen=True)
class Snapshot:
    """All pg_stat_statements rows at one moment, with when and where they were read."""

    taken_at: datetime
    server: str
    stats_reset: datetime | None
    rows: tuple[StatementStat, ...]


def _safe_url(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


# --------------------------------------------------------------------------------------------
# PostgreSQL: pg_stat_statements
# --------------------------------------------------------------------------------------------

_PGSS_HINT = (
    "add pg_stat_statements to shared_preload_libraries (ALTER SYSTEM SET shared_preload_libraries = "
    "'pg_stat_statements'; restart the server), then CREATE EXTENSION pg_stat_statements in this database"
)


def snapshot_pg_stat_statements(url: str) -> Snapshot:
    """Read every pg_stat_statements row of the server at `url` (a SQLAlchemy PostgreSQL URL)."""
    with connect(url) as conn:
        installed = conn.execute(
            sa.text("SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'")
        ).scalar()
        if installed is None:
            raise CollectorError(f"pg_stat_statements is not installed in {_safe_url(url)}", _PGSS_HINT)
        version = int(conn.execute(sa.text("SHOW server_version_num")).scalar() or 0)
        total = "total_exec_time" if version >= 130000 else "total_time"
        toplevel = "s.toplevel" if version >= 140000 else "true"
        sql = (
            f"SELECT s.queryid, r.rolname, d.datname, {toplevel} AS toplevel, s.query, s.calls, "
            f"s.{total} AS total_ms, s.rows, s.shared_blks_hit, s.shared_blks_read, s.temp_blks_written "
            "FROM pg_stat_statements s LEFT JOIN pg_roles r ON r.oid = s.userid "
            "LEFT JOIN pg_database d ON d.oid = s.dbid WHERE s.queryid IS NOT NULL"
        )
        try:
            result = conn.execute(sa.text(sql)).all()
            reset = None
            if version >= 140000:
                reset = conn.execute(sa.text("SELECT stats_reset FROM pg_stat_statements_info")).scalar()
        except sa.exc.DBAPIError as err:
            message = str(err.orig).strip().splitlines()[0]
            if "shared_preload_libraries" in message:
                raise CollectorError(
                    f"pg_stat_statements is installed but not loaded: {message}", _PGSS_HINT
                ) from err
            if "permission denied" in message:
                raise CollectorError(
                    f"cannot read pg_stat_statements: {message}",
                    "GRANT pg_read_all_stats TO the collecting role",
                ) from err
            raise
    rows = tuple(
        StatementStat(
            queryid=int(row.queryid),
            user=row.rolname,
            db=row.datname,
            toplevel=bool(row.toplevel),
            query=row.query or "",
            calls=int(row.calls),
            total_exec_time_ms=float(row.total_ms),
            rows=int(row.rows),
            shared_blks_hit=int(row.shared_blks_hit),
            shared_blks_read=int(row.shared_blks_read),
            temp_blks_written=int(row.temp_blks_written),
        )
        for row in result
    )
    return Snapshot(
        taken_at=datetime.now(UTC).replace(tzinfo=None),
        server=_safe_url(url),
        stats_reset=_naive_utc(reset),
        rows=rows,
    )


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _stat_event(
    stat: StatementStat, calls: int, total_ms: float, rows: int, hit: int, read: int, temp: int, ts: datetime
) -> SlowEvent:
    return SlowEvent(
        query=stat.query,
        query_time=total_ms / 1000.0,
        rows_sent=rows,
        ts=ts,
        user=stat.user,
        db=stat.db,
        attributes={
            "calls": calls,
            "queryid": str(stat.queryid),
            "mean_time": total_ms / 1000.0 / calls,
            "toplevel": stat.toplevel,
            "shared_blks_hit": hit,
            "shared_blks_read": read,
            "temp_blks_written": temp,
        },
        source="pg_stat_statements",
    )


def pg_stat_statements_delta(before: Snapshot | None, after: Snapshot) -> list[SlowEvent]:
    """Events for what ran between two snapshots: per queryid the calls, time and rows added."""
    if before is not None and before.server != after.server:
        raise CollectorError(
            f"snapshots come from different servers ({before.server} vs {after.server})",
            "take both snapshots from the same URL",
        )
    # A reset between the snapshots zeroes every counter: then `after` alone is the delta.
    was_reset = (
        before is not None and after.stats_reset is not None and after.stats_reset != before.stats_reset
    )
    earlier = {} if before is None or was_reset else {stat.key: stat for stat in before.rows}
    events: list[SlowEvent] = []
    for stat in after.rows:
        old = earlier.get(stat.key)
        if old is not None and stat.calls >= old.calls:
            calls = stat.calls - old.calls
            total = stat.total_exec_time_ms - old.total_exec_time_ms
            rows = stat.rows - old.rows
            hit = stat.shared_blks_hit - old.shared_blks_hit
            read = stat.shared_blks_read - old.shared_blks_read
            temp = stat.temp_blks_written - old.temp_blks_written
        else:
            # New entry, or evicted and re-added since (its counters started again from zero).
            calls, total, rows = stat.calls, stat.total_exec_time_ms, stat.rows
            hit, read, temp = stat.shared_blks_hit, stat.shared_blks_read, stat.temp_blks_written
        if calls <= 0:
            continue
        events.append(
            _stat_event(stat, calls, max(total, 0.0), max(rows, 0), hit, read, temp, after.taken_at)
        )
    events.sort(key=lambda event: event.query_time, reverse=True)
    return events


# --------------------------------------------------------------------------------------------
# MariaDB / MySQL
# --------------------------------------------------------------------------------------------

_MYSQL_HINT = (
    "turn on performance_schema (performance_schema=ON in my.cnf, restart), or log slow queries to a "
    "table: SET GLOBAL slow_query_log=1, log_output='TABLE', long_query_time=1 (MariaDB copies "
    "slow_query_log into each session at connect: sessions opened earlier keep the old value)"
)


def _digest_events(conn: sa.Connection, schema: str | None, limit: int) -> list[SlowEvent]:
    where = "WHERE DIGEST_TEXT IS NOT NULL" + (" AND SCHEMA_NAME = :schema" if schema else "")
    rows = conn.execute(
        sa.text(
            "SELECT SCHEMA_NAME, DIGEST, DIGEST_TEXT, COUNT_STAR, SUM_TIMER_WAIT, SUM_LOCK_TIME, SUM_ROWS_SENT, "
            "SUM_ROWS_EXAMINED, SUM_CREATED_TMP_DISK_TABLES, SUM_CREATED_TMP_TABLES, SUM_SELECT_FULL_JOIN, "
            "SUM_SELECT_SCAN, SUM_SORT_ROWS, SUM_NO_INDEX_USED, SUM_ERRORS, FIRST_SEEN, LAST_SEEN "
            f"FROM performance_schema.events_statements_summary_by_digest {where} "
            "ORDER BY SUM_TIMER_WAIT DESC LIMIT :limit"
        ),
        {"schema": schema, "limit": limit},
    ).all()
    events = []
    for row in rows:
        calls = int(row.COUNT_STAR or 0)
        if calls <= 0:
            continue
        total = (row.SUM_TIMER_WAIT or 0) / PICOSECONDS
        events.append(
            SlowEvent(
                query=row.DIGEST_TEXT,
                query_time=total,
                lock_time=(row.SUM_LOCK_TIME or 0) / PICOSECONDS,
                rows_sent=int(row.SUM_ROWS_SENT or 0),
                rows_examined=int(row.SUM_ROWS_EXAMINED or 0),
                ts=row.LAST_SEEN,
                db=row.SCHEMA_NAME,
                attributes={
                    "calls": calls,
                    "digest": row.DIGEST,
                    "mean_time": total / calls,
                    "first_seen": row.FIRST_SEEN.isoformat() if row.FIRST_SEEN else None,
                    "tmp_disk_tables": int(row.SUM_CREATED_TMP_DISK_TABLES or 0),
                    "tmp_tables": int(row.SUM_CREATED_TMP_TABLES or 0),
                    "full_joins": int(row.SUM_SELECT_FULL_JOIN or 0),
                    "full_scans": int(row.SUM_SELECT_SCAN or 0),
                    "sort_rows": int(row.SUM_SORT_ROWS or 0),
                    "no_index_used": int(row.SUM_NO_INDEX_USED or 0),
                    "errors": int(row.SUM_ERRORS or 0),
                },
                source="performance_schema",
            )
        )
    return events


def _seconds(value: object) -> float:
    # TIME(6) columns arrive as timedelta from PyMySQL; be tolerant of time/str too.
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, time):
        return value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    if value is None:
        return 0.0
    hours, minutes, seconds = str(value).split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _split_user_host(user_host: str) -> tuple[str | None, str | None]:
    # "root[root] @ localhost [127.0.0.1]": user before '[', host after '@'.
    user_part, _, host_part = (user_host or "").partition("@")
    user = user_part.split("[")[0].strip() or None
    host_bits = host_part.replace("[", " ").replace("]", " ").split()
    host = host_bits[-1] if host_bits else None
    return user, host


def _slow_log_events(
    conn: sa.Connection, schema: str | None, since: datetime | None, limit: int
) -> list[SlowEvent]:
    clauses = []
    if schema:
        clauses.append("db = :schema")
    if since:
        clauses.append("start_time >= :since")
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = conn.execute(
        sa.text(
            "SELECT start_time, user_host, query_time, lock_time, rows_sent, rows_examined, db, sql_text, "
            f"thread_id, rows_affected FROM mysql.slow_log {where} ORDER BY start_time LIMIT :limit"
        ),
        {"schema": schema, "since": since, "limit": limit},
    ).all()
    events = []
    for row in rows:
        text = (
            row.sql_text.decode("utf-8", "replace")
            if isinstance(row.sql_text, bytes)
            else str(row.sql_text or "")
        )
        user, host = _split_user_host(row.user_host)
        events.append(
            SlowEvent(
                query=text,
                query_time=_seconds(row.query_time),
                lock_time=_seconds(row.lock_time),
                rows_sent=int(row.rows_sent or 0),
                rows_examined=int(row.rows_examined or 0),
                ts=row.start_time,
                user=user,
                host=host,
                db=row.db or None,
                attributes={
                    "thread_id": int(row.thread_id or 0),
                    "rows_affected": int(row.rows_affected or 0),
                    "collector": "slow_log_table",
                },
                source="mysql",
            )
        )
    return events


def collect_mysql(
    url: str,
    source: str = "auto",
    schema: str | None = None,
    since: datetime | None = None,
    limit: int = 10_000,
) -> list[SlowEvent]:
    """Collect statement statistics from MariaDB/MySQL: performance_schema digests or mysql.slow_log."""
    if source not in ("auto", "digest", "slow_log"):
        raise UserError(f"unknown MySQL collector source {source!r}", "use auto, digest or slow_log")
    with connect(url) as conn:
        settings = conn.execute(sa.text("SELECT @@performance_schema, @@slow_query_log, @@log_output")).one()
        perf_schema, slow_log_on, log_output = (
            bool(int(settings[0])),
            bool(int(settings[1])),
            str(settings[2]),
        )
        table_logging = slow_log_on and "TABLE" in log_output.upper()
        use_digest = source == "digest" or (source == "auto" and perf_schema)
        if use_digest:
            if not perf_schema:
                raise CollectorError(f"performance_schema is off on {_safe_url(url)}", _MYSQL_HINT)
            try:
                return _digest_events(conn, schema, limit)
            except sa.exc.DBAPIError as err:
                raise CollectorError(
                    f"cannot read statement digests: {str(err.orig).strip()}",
                    "GRANT SELECT ON performance_schema.* to the collecting user",
                ) from err
        if not table_logging:
            raise CollectorError(
                f"{_safe_url(url)} does not log slow queries to a table "
                f"(slow_query_log={int(slow_log_on)}, log_output={log_output})",
                _MYSQL_HINT,
            )
        try:
            return _slow_log_events(conn, schema, since, limit)
        except sa.exc.DBAPIError as err:
            raise CollectorError(
                f"cannot read mysql.slow_log: {str(err.orig).strip()}",
                "GRANT SELECT ON mysql.slow_log to the collecting user",
            ) from err


def collect(url: str) -> list[SlowEvent]:
    """Collect from a live server (postgresql://, mysql://, mariadb://) or parse a log file path."""
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower() if "://" in url else ""
    if scheme in ("postgresql", "postgres"):
        # One snapshot: everything counted since the last reset of pg_stat_statements.
        return pg_stat_statements_delta(None, snapshot_pg_stat_statements(url))
    if scheme in ("mysql", "mariadb"):
        return collect_mysql(url)
    if scheme in ("", "file"):
        path = Path(url.split("://", 1)[1] if scheme == "file" else url)
        if path.is_file():
            return _parse_file(path)
    raise UserError(
        f"cannot collect slow queries from {url!r}",
        "give postgresql+psycopg://..., mysql+pymysql://... or the path of a slow log file",
    )


def _parse_file(path: Path) -> list[SlowEvent]:
    from datatruth.slowlog.pg_log import detect_format, iter_pg_events

    found = detect_format(path)
    if found == "mysql":
        from datatruth.slowlog.mysql_log import iter_mysql_events

        return list(iter_mysql_events(path))
    return list(iter_pg_events(path))
