"""Rule checks per class: AST rules on samples, statistics rules on aggregated classes."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from datatruth.slowlog.aggregate import aggregate
from datatruth.slowlog.events import SlowEvent
from datatruth.slowlog.pg_log import iter_pg_events
from datatruth.slowlog.rules import (
    RULES,
    Finding,
    SchemaInfo,
    Severity,
    Thresholds,
    analyze_class,
    analyze_sql,
)

SCHEMA = SchemaInfo(
    table_rows={"shop.orders": 2_000_000, "users": 300, "events": 50_000_000},
    column_kinds={
        "shop.orders": {"id": "number", "code": "string", "created_at": "temporal", "user_id": "number"},
        "users": {"id": "number", "email": "string", "phone": "string"},
    },
)


def _rules(sql: str, dialect: str = "postgres") -> dict[str, Severity]:
    return {f.rule: f.severity for f in analyze_sql(sql, dialect, SCHEMA).findings}


@pytest.mark.parametrize(
    ("sql", "dialect", "expected"),
    [
        ("SELECT * FROM users WHERE id = 5", "postgres", {"select_star": Severity.LOW}),
        ("SELECT u.* FROM users u WHERE u.id = 5", "postgres", {"select_star": Severity.LOW}),
        ("SELECT count(*) FROM users WHERE id > 3", "postgres", {}),
        (
            "SELECT id FROM shop.orders WHERE code LIKE '%abc'",
            "postgres",
            {"leading_wildcard_like": Severity.HIGH},
        ),
        (
            "SELECT id FROM users WHERE email ILIKE '_bob%'",
            "postgres",
            {"leading_wildcard_like": Severity.MEDIUM},
        ),
        ("SELECT id FROM users WHERE email LIKE 'bob%'", "postgres", {}),
        (
            "SELECT id FROM shop.orders WHERE DATE(created_at) = '2024-01-01'",
            "mysql",
            {"function_on_column": Severity.MEDIUM},
        ),
        (
            "SELECT id FROM users WHERE lower(email) = 'a@b.c'",
            "postgres",
            {"function_on_column": Severity.MEDIUM},
        ),
        ("SELECT id FROM shop.orders WHERE id + 1 = 10", "postgres", {"function_on_column": Severity.MEDIUM}),
        ("SELECT id FROM users WHERE email = lower('A@B.C')", "postgres", {}),
        ("SELECT id FROM shop.orders WHERE code = 42", "mysql", {"implicit_cast": Severity.HIGH}),
        ("SELECT id FROM shop.orders WHERE id = '42'", "mysql", {"implicit_cast": Severity.MEDIUM}),
        ("SELECT id FROM shop.orders WHERE code IN ('a', 7)", "mysql", {"implicit_cast": Severity.HIGH}),
        ("SELECT id FROM shop.orders WHERE code = '42' AND id = 42", "mysql", {}),
        ("SELECT id FROM unknown_table WHERE code = 42", "mysql", {}),  # kind unknowable: no guess
        (
            "SELECT id FROM users WHERE email = 'x' OR phone = 'y'",
            "postgres",
            {"or_across_columns": Severity.MEDIUM},
        ),
        ("SELECT id FROM users WHERE id = 1 OR id = 2 OR id = 3", "postgres", {}),
        ("SELECT id FROM users ORDER BY RAND() LIMIT 1", "mysql", {"order_by_random": Severity.HIGH}),
        (
            "SELECT id FROM shop.orders ORDER BY random() LIMIT 1",
            "postgres",
            {"order_by_random": Severity.CRITICAL},
        ),
        (
            "SELECT id FROM users ORDER BY id LIMIT 20 OFFSET 5000",
            "postgres",
            {"large_offset": Severity.MEDIUM},
        ),
        ("SELECT id FROM users ORDER BY id LIMIT 50000, 20", "mysql", {"large_offset": Severity.HIGH}),
        ("SELECT id FROM users ORDER BY id LIMIT 20 OFFSET 100", "postgres", {}),
        ("DELETE FROM shop.orders", "postgres", {"missing_where": Severity.CRITICAL}),
        ("UPDATE events SET seen = 1", "mysql", {"missing_where": Severity.CRITICAL}),
        ("SELECT id, code FROM shop.orders", "postgres", {"missing_where": Severity.HIGH}),
        ("SELECT id FROM users", "postgres", {}),  # small table
        ("SELECT id FROM shop.orders LIMIT 10", "postgres", {}),  # reads ten rows
        ("DELETE FROM shop.orders WHERE id = 3", "postgres", {}),
    ],
)
def test_ast_rules(sql: str, dialect: str, expected: dict[str, Severity]) -> None:
    assert _rules(sql, dialect) == expected


def test_findings_are_ordered_and_severity_is_the_worst() -> None:
    analysis = analyze_sql(
        "SELECT * FROM shop.orders o WHERE o.code LIKE '%x' OR o.user_id = 3 "
        "ORDER BY random() LIMIT 10 OFFSET 20000",
        "postgres",
        SCHEMA,
    )
    severities = [f.severity for f in analysis.findings]
    assert severities == sorted(severities, reverse=True)
    assert analysis.severity is Severity.CRITICAL and analysis.parsed
    assert {f.rule for f in analysis.findings} == {
        "select_star",
        "leading_wildcard_like",
        "or_across_columns",
        "order_by_random",
        "large_offset",
    }
    assert all(isinstance(f, Finding) and f.reason for f in analysis.findings)


def test_evidence_carries_no_literal_values() -> None:
    analysis = analyze_sql(
        "SELECT id FROM users WHERE lower(email) = 'secret@example.com' "
        "AND substr(phone, 1, 3) = '555' AND email LIKE '%hidden-part'",
        "postgres",
        SCHEMA,
    )
    evidence = " ".join(f.evidence + " " + f.reason for f in analysis.findings)
    assert analysis.findings
    for secret in ("secret@example.com", "555", "hidden-part"):
        assert secret not in evidence


def test_unparsable_sample_only_runs_statistics_rules() -> None:
    analysis = analyze_sql("SELEC FROM WHERE (((", "postgres", SCHEMA)
    assert analysis.parsed is False and analysis.findings == ()


def test_rule_pipeline_is_named() -> None:
    names = [name for name, _ in RULES]
    assert len(names) == len(set(names)) == 10
    assert names[-2:] == ["rows_examined_ratio", "n_plus_one"]


# ----------------------------------------------------------------------------------------------
# statistics rules on aggregated classes
# ----------------------------------------------------------------------------------------------


def _burst(n: int, seconds_apart: float, query_time: float, **kwargs: object) -> list[SlowEvent]:
    start = datetime(2024, 5, 1, 12, 0, 0)
    return [
        SlowEvent(
            query=f"SELECT name FROM users WHERE id = {i}",
            query_time=query_time,
            ts=start + timedelta(seconds=i * seconds_apart),
            source="mysql",
            **kwargs,
        )  # type: ignore[arg-type]
        for i in range(n)
    ]


def _only_class(events: list[SlowEvent]):  # noqa: ANN202 - ClassStats
    result = aggregate(events)
    assert len(result.classes) == 1
    return result.classes[0]


@pytest.mark.parametrize(
    ("n", "apart", "qt", "expected"),
    [
        (200, 0.05, 0.0008, Severity.MEDIUM),  # 200 calls in 10 s, < 1 ms each: N+1
        (800, 0.01, 0.0005, Severity.HIGH),  # 800 calls in 8 s
        (200, 600.0, 0.0008, None),  # the same calls spread over 33 hours
        (200, 0.05, 0.2, None),  # slow calls are not an N+1 burst
        (20, 0.05, 0.0008, None),  # too few calls
    ],
)
def test_n_plus_one(n: int, apart: float, qt: float, expected: Severity | None) -> None:
    stats = _only_class(_burst(n, apart, qt))
    found = {f.rule: f.severity for f in analyze_class(stats, SCHEMA).findings}
    assert found.get("n_plus_one") == expected


def test_n_plus_one_counts_collector_calls() -> None:
    # One pg_stat_statements delta event standing for 5000 calls within a minute.
    events = [
        SlowEvent(
            query="SELECT name FROM users WHERE id = $1",
            query_time=2.5,
            source="pg_stat_statements",
            ts=datetime(2024, 5, 1, 12, 0, second),
            attributes={"calls": 2500},
        )
        for second in (0, 30)
    ]
    stats = _only_class(events)
    finding = next(f for f in analyze_class(stats, SCHEMA).findings if f.rule == "n_plus_one")
    assert "calls=5000" in finding.evidence and finding.severity is Severity.HIGH


@pytest.mark.parametrize(
    ("examined", "sent", "expected"),
    [
        (50_000, 10, Severity.MEDIUM),  # 5,000 read per row returned
        (5_000_000, 1, Severity.HIGH),
        (500_000, 100_000, None),  # returns most of what it reads
        (500, 1, None),  # too little work to matter
    ],
)
def test_rows_examined_ratio(examined: int, sent: int, expected: Severity | None) -> None:
    events = [
        SlowEvent(
            query="SELECT id FROM shop.orders WHERE code = 'x'",
            query_time=1.5,
            rows_sent=sent,
            rows_examined=examined,
            source="mysql",
            ts=datetime(2024, 1, 1, 0, i),
        )
        for i in range(3)
    ]
    stats = _only_class(events)
    found = {f.rule: f.severity for f in analyze_class(stats, SCHEMA).findings}
    assert found.get("rows_examined_ratio") == expected


def test_thresholds_are_configurable() -> None:
    sql = "SELECT id FROM users ORDER BY id LIMIT 20 OFFSET 500"
    assert "large_offset" not in {f.rule for f in analyze_sql(sql, "postgres", SCHEMA).findings}
    strict = Thresholds(large_offset=100)
    assert "large_offset" in {
        f.rule for f in analyze_sql(sql, "postgres", SCHEMA, thresholds=strict).findings
    }


def test_missing_where_uses_rows_examined_when_size_unknown() -> None:
    events = [
        SlowEvent(
            query="SELECT a, b FROM audit_trail",
            query_time=4.0,
            rows_sent=10,
            rows_examined=900_000,
            source="mysql",
        )
    ]
    stats = _only_class(events)
    found = {f.rule: f for f in analyze_class(stats).findings}
    assert found["missing_where"].severity is Severity.HIGH
    assert "avg rows examined=900000" in found["missing_where"].evidence


@pytest.mark.corpus
def test_classes_from_a_real_postgres_log(corpora: Path) -> None:
    events = list(iter_pg_events(corpora / "pgbadger" / "fixtures" / "tempfile_only.log.gz"))
    result = aggregate(events)
    analyses = [analyze_class(stats) for stats in result.classes]
    assert len(analyses) == len(result.classes) > 1
    rules = {f.rule for analysis in analyses for f in analysis.findings}
    # The log's Rails-style queries use SELECT "t".* ... and OFFSET paging.
    assert "select_star" in rules
    assert all(analysis.parsed for analysis in analyses[:5])
