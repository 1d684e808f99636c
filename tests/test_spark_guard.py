"""The SQL guard in the Spark dialect: the shared corpus, and what is dangerous on Spark in particular."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot
from test_guard_corpus import CORPUS_FILE, ROW_CAP

from datatruth.sql import sparksql
from datatruth.sql.guard import check_sql

# Allow cases that are not Spark SQL in any spelling; each is refused for the reason given, on purpose.
NOT_SPARK = {
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'": "catalog view information_schema.columns is not allowed",  # Spark has no information_schema
    "SELECT COUNT(*) FROM information_schema.columns A, information_schema.columns B, information_schema.columns C": "catalog view information_schema.columns is not allowed",
    "SELECT name FROM sqlite_master WHERE type = 'table'": "system catalog sqlite_master",
    # RANDOMBLOB is SQLite's; an unknown function is refused, never passed through.
    "SELECT 1337=LIKE('ABCDEFG',UPPER(HEX(RANDOMBLOB(1000000000/2))))": "randomblob() is not on the guard's allow-list",
    # sqlglot transpiles generate_series ... AS m(month) into EXPLODE(SEQUENCE(1, 12), _u(m)), which is not SQL.
    "SELECT * FROM generate_series(1, 12) AS m(month)": "_u() is not on the guard's allow-list",
    # sqlglot reads PostgreSQL's E'...' as a byte string and writes it back with a backslash escape.
    "SELECT E'it\\'s; fine' AS s": "a backslash in a Spark string",
}


def _corpus(corpora: Path) -> list[tuple[int, dict]]:
    lines = (corpora / CORPUS_FILE).read_text(encoding="utf-8").splitlines()
    return [(n, json.loads(line)) for n, line in enumerate(lines, start=1) if line.strip()]


def to_spark(sql: str, dialect: str) -> str:
    """The query as a Spark user would write it: parsed in its own dialect, rendered as Spark SQL."""
    trees = [t for t in sqlglot.parse(sql, read=dialect) if t is not None]
    return "; ".join(
        sparksql.prepare(t).sql("spark", unsupported_level=sqlglot.ErrorLevel.RAISE) for t in trees
    )


@pytest.mark.corpus
def test_every_reject_case_of_the_corpus_is_rejected_in_spark(corpora: Path) -> None:
    # The text as it is, read as Spark SQL: SQL written for one engine is often pasted into another.
    leaks = [
        f"line {n} ({c['dialect']}, {c['why']}): {c['sql'][:80]!r} -> {v.sql}"
        for n, c in _corpus(corpora)
        if c["expect"] == "reject"
        for v in [check_sql(c["sql"], "spark", row_cap=ROW_CAP)]
        if v.allowed
    ]
    assert not leaks, "\n".join(leaks)
    assert sum(c["expect"] == "reject" for _n, c in _corpus(corpora)) >= 200


@pytest.mark.corpus
def test_every_allow_case_of_the_corpus_is_allowed_in_spark(corpora: Path) -> None:
    refused, explained = [], 0
    for number, case in _corpus(corpora):
        if case["expect"] != "allow":
            continue
        verdict = check_sql(to_spark(case["sql"], case["dialect"]), "spark", row_cap=ROW_CAP)
        if case["sql"] in NOT_SPARK:
            assert not verdict.allowed and NOT_SPARK[case["sql"]] in verdict.reason, (number, verdict.reason)
            explained += 1
            continue
        if not verdict.allowed:
            refused.append(f"line {number} ({case['dialect']}): {case['sql'][:80]!r}: {verdict.reason}")
            continue
        again = check_sql(verdict.sql, "spark", row_cap=ROW_CAP)
        assert again.allowed and again.sql == verdict.sql, (number, verdict.sql, again.reason or again.sql)
    assert not refused, "\n".join(refused)
    assert explained <= len(NOT_SPARK)


@pytest.mark.parametrize(
    "sql, reason",
    [
        ("SELECT reflect('java.lang.System', 'getProperty', 'user.home')", "reflect() is not allowed"),
        ("SELECT java_method('java.lang.Runtime', 'getRuntime')", "java_method() is not allowed"),
        ("SELECT try_reflect('java.lang.System', 'exit', 0)", "try_reflect() is not allowed"),
        ("SELECT TRANSFORM(carrier) USING 'cat /etc/passwd' AS (x) FROM airlines", "runs a shell command"),
        ("SELECT '${env:AWS_SECRET_ACCESS_KEY}' AS k", "${...} is not allowed"),
        ("SELECT name FROM airlines WHERE name = '${system:user.home}'", "${...} is not allowed"),
        ("SELECT `${hiveconf:x}` FROM airlines", "${...} is not allowed"),
        ("SELECT * FROM parquet.`/etc/passwd`", "looks like a file path"),
        ("SELECT * FROM text.passwd", "reads a file directly"),
        ("SELECT * FROM csv.`file:///etc/hosts`", "looks like a file path"),
        ("SELECT input_file_name() FROM flights", "input_file_name() is not allowed"),
        ("SELECT xpath_string('<a/>', '/a') AS x", "xpath_string() is not allowed"),
        ("SELECT * FROM read_files('/data')", "read_files() is not allowed"),
        ("SELECT secret('scope', 'key')", "secret() is not allowed"),
        ("SELECT ai_query('endpoint', carrier) FROM airlines", "ai_query() is not allowed"),
        ("SELECT * FROM global_temp.shared_view", "system catalog"),
        ("ADD JAR '/tmp/evil.jar'", "adds a jar"),
        ("ADD FILE '/etc/passwd'", "adds a jar"),
        ("LIST FILES", "read-only query"),
        ("SET spark.sql.variable.substitute=true", "changes settings"),
        ("CACHE TABLE flights", "read-only query"),
        ("INSERT OVERWRITE DIRECTORY '/tmp/x' SELECT * FROM flights", "read-only query"),
        ("EXECUTE IMMEDIATE 'DROP TABLE flights'", "read-only query"),
        ("SELECT 1 /* /* */ ; DROP TABLE flights; -- */", "nested block comments"),
        ('SELECT "carrier" FROM airlines', "double-quoted text is ambiguous"),
        ("SELECT 'it\\'s' AS s", "a backslash in a Spark string"),
        ("SELECT 'O''Reilly' AS s", "doubled quote"),
        ("SELECT my_python_udf(carrier) FROM airlines", "not on the guard's allow-list"),
    ],
)
def test_spark_specific_dangers_are_rejected(sql: str, reason: str) -> None:
    verdict = check_sql(sql, "spark", row_cap=100)
    assert not verdict.allowed
    assert reason in verdict.reason


@pytest.mark.parametrize(
    "sql, rendered",
    [
        (
            "SELECT carrier, COUNT(*) AS n FROM flights GROUP BY carrier",
            "SELECT carrier, COUNT(*) AS n FROM flights GROUP BY carrier LIMIT 100",
        ),
        (
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY dep_delay) AS m FROM flights",
            "SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY dep_delay) AS m FROM flights LIMIT 100",
        ),
        (
            "SELECT percentile(dep_delay, 0.9) AS p, median(dep_delay) AS m FROM flights",
            "SELECT PERCENTILE(dep_delay, 0.9) AS p, MEDIAN(dep_delay) AS m FROM flights LIMIT 100",
        ),
        (
            "SELECT a FROM t LATERAL VIEW explode(b) x AS a",
            "SELECT a FROM t LATERAL VIEW EXPLODE(b) x AS a LIMIT 100",
        ),
        ("SELECT concat('O', chr(39), 'Hare') AS s", "SELECT CONCAT('O', CHR(39), 'Hare') AS s LIMIT 100"),
        (
            "SELECT weekday(flight_date) AS d FROM flights",
            "SELECT WEEKDAY(flight_date) AS d FROM flights LIMIT 100",
        ),
        ("SELECT `drop` FROM `update`", "SELECT `drop` FROM `update` LIMIT 100"),
    ],
)
def test_spark_queries_are_allowed_and_stay_exact(sql: str, rendered: str) -> None:
    verdict = check_sql(sql, "spark", row_cap=100)
    assert verdict.allowed, verdict.reason
    assert verdict.sql == rendered
    assert "APPROX" not in verdict.sql


def test_a_string_with_a_quote_is_rendered_without_backslashes() -> None:
    tree = sqlglot.parse_one("SELECT name FROM airports WHERE name = 'Martha''s Vineyard'", read="duckdb")
    sql = sparksql.prepare(tree).sql("spark")
    assert "\\" not in sql and "CHR(39)" in sql
    verdict = check_sql(sql, "spark", row_cap=10)
    assert verdict.allowed, verdict.reason


def test_explicit_approximation_is_kept_but_never_added() -> None:
    assert check_sql("SELECT percentile_approx(dep_delay, 0.5) AS m FROM flights", "spark").allowed
    assert (
        sparksql.approximate_calls(
            list(sqlglot.tokenize("SELECT approx_count_distinct(a), percentile(b, 1)"))
        )
        == 1
    )
