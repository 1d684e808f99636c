"""Live collectors against the local PostgreSQL (pg_stat_statements) and MariaDB (digests, slow_log)."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from datatruth.errors import UserError
from datatruth.slowlog.collect import (
    CollectorError,
    Snapshot,
    StatementStat,
    collect,
    collect_mysql,
    pg_stat_statements_delta,
    snapshot_pg_stat_statements,
)

SUFFIX = f"{os.getpid()}_{int(time.time() * 1000) % 1_000_000}"


def _database(url: str) -> str:
    """The database a test URL names (each helper runs on its own, e.g. test_<name>)."""
    return str(sa.make_url(url).database)


@pytest.fixture()
def pg_schema(pg_url: str):  # noqa: ANN201 - yields the schema name
    name = f"slowlog_collect_{SUFFIX}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {name}"))
        conn.execute(
            sa.text(
                f"CREATE TABLE {name}.items AS SELECT g AS id, g % 10 AS grp FROM generate_series(1, 2000) g"
            )
        )
    yield name
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
    engine.dispose()


@pytest.mark.postgres
def test_pg_stat_statements_delta_counts_the_workload(pg_url: str, pg_schema: str) -> None:
    before = snapshot_pg_stat_statements(pg_url)
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        for grp in range(25):
            conn.execute(
                sa.text(f"SELECT count(*) FROM {pg_schema}.items WHERE grp = :g"), {"g": grp % 10}
            ).scalar()
        for _ in range(3):
            conn.execute(sa.text(f"SELECT id FROM {pg_schema}.items WHERE id < 50")).all()
    engine.dispose()
    after = snapshot_pg_stat_statements(pg_url)
    events = pg_stat_statements_delta(before, after)
    ours = [e for e in events if pg_schema in e.query]
    by_text = {e.query.split(" WHERE ")[1]: e for e in ours}
    counted = by_text["grp = $1"]
    assert counted.attributes["calls"] == 25
    assert counted.rows_sent == 25  # one count(*) row per call
    assert (
        counted.source == "pg_stat_statements"
        and counted.db == _database(pg_url)
        and counted.user == "postgres"
    )
    listed = by_text["id < $1"]
    assert listed.attributes["calls"] == 3 and listed.rows_sent == 3 * 49
    assert 0 < listed.query_time < 5 and listed.attributes["mean_time"] == pytest.approx(
        listed.query_time / 3
    )
    # Statements that did not run in between are not in the delta.
    assert all(e.attributes["calls"] > 0 for e in events)


def _stat(queryid: int, calls: int, total: float, rows: int) -> StatementStat:
    return StatementStat(
        queryid=queryid,
        user="u",
        db="d",
        toplevel=True,
        query=f"q{queryid}",
        calls=calls,
        total_exec_time_ms=total,
        rows=rows,
        shared_blks_hit=0,
        shared_blks_read=0,
        temp_blks_written=0,
    )


@pytest.mark.parametrize(
    ("before_rows", "after_rows", "reset_changed", "expected"),
    [
        ([_stat(1, 10, 100.0, 10)], [_stat(1, 15, 180.0, 16)], False, {1: (5, 0.08, 6)}),
        ([], [_stat(2, 4, 40.0, 4)], False, {2: (4, 0.04, 4)}),  # new entry
        ([_stat(3, 50, 500.0, 50)], [_stat(3, 7, 70.0, 7)], False, {3: (7, 0.07, 7)}),  # evicted + re-added
        ([_stat(4, 5, 50.0, 5)], [_stat(4, 5, 50.0, 5)], False, {}),  # nothing ran
        ([_stat(5, 9, 90.0, 9)], [_stat(5, 12, 120.0, 12)], True, {5: (12, 0.12, 12)}),  # stats were reset
    ],
)
def test_delta_arithmetic(before_rows: list, after_rows: list, reset_changed: bool, expected: dict) -> None:
    first = datetime(2024, 1, 1)
    before = Snapshot(taken_at=first, server="pg", stats_reset=first, rows=tuple(before_rows))
    after = Snapshot(
        taken_at=datetime(2024, 1, 2),
        server="pg",
        stats_reset=datetime(2024, 1, 1, 12) if reset_changed else first,
        rows=tuple(after_rows),
    )
    got = {
        int(e.attributes["queryid"]): (e.attributes["calls"], round(e.query_time, 6), e.rows_sent)
        for e in pg_stat_statements_delta(before, after)
    }
    assert got == expected


def test_delta_refuses_mixed_servers() -> None:
    one = Snapshot(taken_at=datetime(2024, 1, 1), server="a", stats_reset=None, rows=())
    two = Snapshot(taken_at=datetime(2024, 1, 1), server="b", stats_reset=None, rows=())
    with pytest.raises(CollectorError):
        pg_stat_statements_delta(one, two)


@pytest.mark.postgres
def test_missing_extension_is_a_user_error(pg_url: str) -> None:
    name = f"slowlog_noext_{SUFFIX}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        other = sa.engine.make_url(pg_url).set(database=name).render_as_string(hide_password=False)
        with pytest.raises(CollectorError) as err:
            snapshot_pg_stat_statements(other)
        assert "CREATE EXTENSION pg_stat_statements" in err.value.hint
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE {name}"))
        admin.dispose()


@pytest.mark.postgres
def test_collect_dispatches_postgres(pg_url: str, pg_schema: str) -> None:
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        conn.execute(sa.text(f"SELECT max(id) FROM {pg_schema}.items")).scalar()
    engine.dispose()
    events = collect(pg_url)
    assert any(pg_schema in e.query and e.attributes["calls"] >= 1 for e in events)


@pytest.fixture()
def mysql_table(mysql_url: str):  # noqa: ANN201 - yields the table name
    name = f"slowlog_collect_{SUFFIX}"
    engine = sa.create_engine(mysql_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {name} (id INT PRIMARY KEY, grp INT)"))
        conn.execute(sa.text(f"INSERT INTO {name} SELECT seq, seq % 10 FROM seq_1_to_2000"))
    yield name
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {name}"))
    engine.dispose()


@pytest.mark.mysql
def test_mysql_digests(mysql_url: str, mysql_table: str) -> None:
    engine = sa.create_engine(mysql_url)
    with engine.connect() as conn:
        if not conn.execute(sa.text("SELECT @@performance_schema")).scalar():
            pytest.fail("performance_schema is off: run .ci/setup_services.sh")
    before = {
        e.attributes["digest"]: e
        for e in collect_mysql(mysql_url, source="digest", schema=_database(mysql_url))
    }
    with engine.connect() as conn:
        for grp in range(12):
            conn.execute(
                sa.text(f"SELECT count(*) FROM {mysql_table} WHERE grp = :g"), {"g": grp % 10}
            ).scalar()
    engine.dispose()
    after = collect_mysql(mysql_url, source="digest", schema=_database(mysql_url))
    ours = [e for e in after if mysql_table in e.query and "count" in e.query.lower()]
    assert len(ours) == 1
    event = ours[0]
    old = before.get(event.attributes["digest"])
    calls = event.attributes["calls"] - (old.attributes["calls"] if old else 0)
    assert calls == 12
    assert "?" in event.query and event.source == "performance_schema" and event.db == _database(mysql_url)
    assert event.rows_examined >= 12 * 2000 and event.attributes["full_scans"] >= 12


@pytest.mark.mysql
def test_mysql_slow_log_table(mysql_url: str, mysql_table: str) -> None:
    engine = sa.create_engine(mysql_url)
    with engine.connect() as conn:
        saved = conn.execute(sa.text("SELECT @@global.slow_query_log, @@global.log_output")).one()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SET GLOBAL slow_query_log = 0"))
            conn.execute(sa.text("SET GLOBAL log_output = 'FILE'"))
        with pytest.raises(CollectorError) as err:
            collect_mysql(mysql_url, source="slow_log")
        assert "log_output" in err.value.hint
        start = datetime.now().replace(microsecond=0)
        with engine.connect() as conn:
            conn.execute(sa.text("SET GLOBAL slow_query_log = 1"))
            conn.execute(sa.text("SET GLOBAL log_output = 'FILE,TABLE'"))
        with engine.connect() as conn:
            # Only this session logs everything; the server-wide threshold is left alone. MariaDB copies
            # slow_query_log into each session when it connects, so the session turns it on itself.
            conn.execute(sa.text("SET SESSION slow_query_log = 1, long_query_time = 0"))
            for grp in range(5):
                conn.execute(sa.text(f"SELECT id FROM {mysql_table} WHERE grp = {grp} AND id < 100")).all()
        events = [
            e for e in collect_mysql(mysql_url, source="slow_log", since=start) if mysql_table in e.query
        ]
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f"SET GLOBAL slow_query_log = {int(saved[0])}"))
            conn.execute(sa.text(f"SET GLOBAL log_output = '{saved[1]}'"))
        engine.dispose()
    selects = [e for e in events if e.query.startswith("SELECT id")]
    assert len(selects) == 5
    # ids 1..99 by primary-key range: grp 0 has 9 of them, grp 1..4 have 10 each.
    assert sorted(e.rows_sent for e in selects) == [9, 10, 10, 10, 10]
    assert all(e.rows_examined == 99 and e.host == "127.0.0.1" for e in selects)
    assert all(e.user == "root" and e.db == _database(mysql_url) and e.source == "mysql" for e in selects)
    assert all(e.attributes["collector"] == "slow_log_table" for e in selects)
    assert all(e.query_time >= 0 and e.ts is not None and e.ts >= start for e in selects)


@pytest.mark.mysql
def test_collect_dispatches_mysql(mysql_url: str) -> None:
    events = collect(mysql_url)
    assert events and all(e.attributes["calls"] >= 1 for e in events)


@pytest.mark.corpus
def test_collect_reads_log_files(corpora: Path) -> None:
    pg = collect(str(corpora / "pgbadger" / "fixtures" / "stmt_type.log"))
    assert len(pg) == 12 and pg[0].source == "postgres"
    mysql = collect("file://" + str(corpora / "percona" / "slowlogs" / "slow002.txt"))
    assert mysql and mysql[0].source == "mysql"


def test_collect_rejects_unknown_sources() -> None:
    with pytest.raises(UserError):
        collect("redis://127.0.0.1:6379")
    with pytest.raises(UserError):
        collect("/no/such/file.log")
