"""Every check type against a small DuckDB table with known faults; bad checks.yaml reports every issue with its line."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from datatruth.errors import ConfigError
from datatruth.quality.checks import CheckContext, run_check
from datatruth.quality.source import Source
from datatruth.quality.spec import parse_checks

NOW = dt.datetime(2025, 3, 31, 23, 59, 59)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A DuckDB file with events (known faults) and a users table."""
    path = tmp_path_factory.mktemp("qc") / "w.duckdb"
    con = duckdb.connect(str(path))
    rng = np.random.default_rng(1)
    con.execute("CREATE TABLE users (user_id INTEGER, email VARCHAR, status VARCHAR, score DOUBLE)")
    rows = []
    for i in range(1, 501):
        email = None if i % 50 == 0 else f"u{i}@x.org"
        status = "active" if i % 7 else "ACTIVE?"  # 71 bad values
        rows.append((i, email, status, float(rng.normal(50, 5))))
    rows.append((500, "u500@x.org", "active", 50.0))  # duplicate id
    rows.append((501, "bad-email", "active", 5000.0))  # far outlier and a bad email
    con.register("urows", pd.DataFrame(rows, columns=["user_id", "email", "status", "score"]))
    con.execute("INSERT INTO users SELECT * FROM urows")
    con.execute(
        "CREATE TABLE events (event_id INTEGER, user_id INTEGER, event_ts TIMESTAMP, loaded_at TIMESTAMP, "
        "amount DOUBLE)"
    )
    ev = []
    start = dt.datetime(2025, 1, 1)
    k = 0
    for day in range(90):
        n = 40 if day < 89 else 400  # the last day spikes
        for _ in range(n):
            k += 1
            ts = start + dt.timedelta(days=day, minutes=int(rng.integers(0, 1400)))
            lag = dt.timedelta(hours=50) if day == 30 else dt.timedelta(minutes=5)
            uid = int(rng.integers(1, 500)) if k % 100 else 9999  # orphans
            ev.append((k, uid, ts, ts + lag, float(rng.gamma(2, 10))))
    frame = pd.DataFrame(ev, columns=["event_id", "user_id", "event_ts", "loaded_at", "amount"])
    con.register("frame", frame)
    con.execute("INSERT INTO events SELECT * FROM frame")
    con.close()
    src = Source(f"duckdb:///{path}")
    yield src
    src.close()


def _run(source: Source, yaml_text: str, **ctx_kw):
    suite = parse_checks(yaml_text)
    ctx = CheckContext(
        source=source, workspace="t", run_id="r1", now=NOW, sensitive=frozenset({"users.email"}), **ctx_kw
    )
    return [run_check(ctx, s) for s in suite.checks]


CASES = [
    ("type: not_null\n    table: users\n    column: email", "fail", 10 / 502),
    ("type: not_null\n    table: users\n    column: email\n    min_completeness: 0.95", "pass", 10 / 502),
    ("type: not_null\n    table: users\n    column: user_id", "pass", 0.0),
    ("type: unique\n    table: users\n    column: user_id", "fail", 1),
    (
        "type: unique\n    table: users\n    columns: [user_id, email]",
        "pass",
        0,
    ),  # user 500's first email is NULL
    ("type: unique\n    table: users\n    columns: [user_id, status]", "fail", 1),
    ("type: unique\n    table: events\n    column: event_id", "pass", 0),
    (
        "type: accepted_values\n    table: users\n    column: status\n    values: [active, inactive]",
        "fail",
        71 / 502,
    ),
    ("type: range\n    table: users\n    column: score\n    min: 0\n    max: 100", "fail", 1 / 502),
    ("type: range\n    table: users\n    column: score\n    min: 0\n    max: 10000", "pass", 0.0),
    ("type: regex\n    table: users\n    column: email\n    format: email", "fail", 1 / 492),
    ("type: format\n    table: users\n    column: email\n    pattern: '^u[0-9]+@x[.]org$'", "fail", 1 / 492),
    ("type: freshness\n    table: events\n    column: event_ts\n    max_age: 2d", "pass", None),
    ("type: freshness\n    table: events\n    column: event_ts\n    max_age: 10m", "fail", None),
    (
        "type: latency\n    table: events\n    column: loaded_at\n    event_column: event_ts\n    max_latency: 1d",
        "fail",
        40,
    ),
    ("type: row_count\n    table: users\n    min: 10\n    max: 1000", "pass", 502),
    ("type: row_count\n    table: users\n    min: 1000", "fail", 502),
    ("type: volume\n    table: events\n    time_column: event_ts\n    min_training: 14", "fail", None),
    (
        "type: volume\n    table: events\n    time_column: event_ts\n    seasonality: day_of_week\n    min_training: 50",
        "pass",
        None,
    ),
    (
        "type: referential\n    table: events\n    column: user_id\n    references: users.user_id",
        "fail",
        None,
    ),
    ("type: outliers\n    table: users\n    columns: [score]\n    detector: ecod", "fail", 1),
    ("type: outliers\n    table: events\n    columns: [amount]\n    fence: 10", "pass", 0),
    (
        "type: schema\n    table: users\n    columns: {user_id: INTEGER, email: VARCHAR, score: numeric}",
        "pass",
        0,
    ),
    ("type: schema\n    table: users\n    columns: {user_id: VARCHAR, missing: INTEGER}", "fail", 2),
    (
        "type: drift\n    table: events\n    column: amount\n    baseline_where: \"event_ts < '2025-02-01'\"\n"
        "    current_where: \"event_ts >= '2025-02-01'\"",
        "pass",
        None,
    ),
    (
        "type: drift\n    table: users\n    column: score\n    baseline_where: 'user_id < 250'\n"
        "    current_where: 'user_id >= 250'\n    method: ks\n    threshold: 0.5",
        "pass",
        None,
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "metric"), CASES, ids=[c[0].split("\n")[0][6:] + str(i) for i, c in enumerate(CASES)]
)
def test_check_types(source: Source, body: str, status: str, metric: float | None) -> None:
    (outcome,) = _run(source, f"checks:\n  - name: c\n    {body}\n")
    assert outcome.status == status, outcome.message
    if metric is not None:
        assert outcome.metric_value == pytest.approx(metric)
    if status == "fail":
        assert outcome.message
    assert outcome.check_name == "c" and outcome.run_id == "r1"


def test_failing_rows_are_examples_with_sensitive_columns_masked(source: Source) -> None:
    (o,) = _run(
        source,
        "checks:\n  - name: s\n    type: accepted_values\n    table: users\n    column: status\n"
        "    values: [active]\n",
    )
    assert o.example_rows and all(r["status"] == "ACTIVE?" for r in o.example_rows)
    assert all(r["email"] in ("•••", None) for r in o.example_rows)


def test_stored_drift_baseline_then_drift(source: Source) -> None:
    store: dict = {}
    kw = {"baseline_get": store.get, "baseline_put": store.__setitem__}
    text = "checks:\n  - name: d\n    type: drift\n    table: events\n    column: amount\n{where}"
    (first,) = _run(source, text.format(where="    where: \"event_ts < '2025-02-01'\"\n"), **kw)
    assert first.status == "pass" and "baseline stored" in first.message and "d" in store
    (same,) = _run(source, text.format(where="    where: \"event_ts < '2025-02-01'\"\n"), **kw)
    assert same.status == "pass" and same.metric_value == pytest.approx(0.0)
    (shifted,) = _run(source, text.format(where="    where: 'amount > 40'\n"), **kw)
    assert shifted.status == "fail" and shifted.metric_value > 0.2


def test_volume_from_run_history(source: Source) -> None:
    text = "checks:\n  - name: v\n    type: volume\n    table: users\n    min_training: 3\n"
    (o,) = _run(source, text, history=lambda _n: [500.0, 501.0, 499.0, 502.0])
    assert o.status == "pass" and o.metric_value == 502
    (o,) = _run(source, text, history=lambda _n: [100.0, 101.0, 99.0, 100.0])
    assert o.status == "fail"


def test_breaking_schema_change_fails_schema_check(source: Source) -> None:
    (o,) = _run(
        source,
        "checks:\n  - name: s\n    type: schema\n    table: users\n",
        breaking_changes={"users": ["renamed mail -> email"]},
    )
    assert o.status == "fail" and "breaking change" in o.message


def test_custom_sql_without_guard_is_an_error_outcome_or_runs(source: Source) -> None:
    (o,) = _run(
        source,
        "checks:\n  - name: q\n    type: custom_sql\n    table: users\n"
        "    sql: SELECT user_id FROM users WHERE score > 1000\n",
        exposed_tables=frozenset({"users"}),
    )
    try:
        import datatruth.sql.guard  # noqa: F401
    except ModuleNotFoundError:
        assert o.status == "error" and "guard" in o.message
    else:
        assert o.status == "fail" and o.metric_value == 1


BAD = """\
defaults:
  severity: warning
checks:
  - name: a
    type: not_null
    table: users
  - name: a
    type: unique
    table: users
    column: id
    columns: [x]
  - name: b
    type: nope
    table: users
  - name: c
    type: range
    table: users
    column: score
    severity: urgent
    colour: blue
  - name: d
    type: freshness
    table: events
    max_age: soon
"""


def test_bad_checks_yaml_reports_every_issue_with_lines() -> None:
    with pytest.raises(ConfigError) as info:
        parse_checks(BAD, "checks.yaml")
    text = [str(i) for i in info.value.issues]
    expected = [
        ("checks.yaml:4", "needs 'column'"),
        ("checks.yaml:7", "duplicate check name 'a'"),
        ("checks.yaml:7", "exactly one of 'column' or 'columns'"),
        ("checks.yaml:13", "unknown check type 'nope'"),
        ("checks.yaml:15", "needs 'min', 'max'"),
        ("checks.yaml:19", "unknown severity 'urgent'"),
        ("checks.yaml:20", "unknown key 'colour'"),
        ("checks.yaml:24", "max_age"),
    ]
    for where, what in expected:
        assert any(t.startswith(where) and what in t for t in text), (where, what, text)
    assert len(text) == len(expected)
