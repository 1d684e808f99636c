"""Our own guard cases: tenant escapes in every syntactic position, benign SQL that must pass, the row cap."""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import pytest

from datatruth.errors import GuardRejected, UserError
from datatruth.sql import denylist
from datatruth.sql.guard import GuardVerdict, check_sql, guard_sql

EXPOSED = frozenset({"orders", "customers", "sales.regions"})

# Each SQL references the table `secret` (not exposed) in one syntactic position.
ESCAPES = [
    ("from", "SELECT * FROM secret"),
    ("join", "SELECT o.id FROM orders o JOIN secret s ON s.id = o.id"),
    ("left-join", "SELECT o.id FROM orders o LEFT JOIN secret s ON s.id = o.id"),
    ("comma-join", "SELECT o.id FROM orders o, secret s"),
    ("where-in", "SELECT id FROM orders WHERE id IN (SELECT id FROM secret)"),
    ("where-exists", "SELECT id FROM orders WHERE EXISTS (SELECT 1 FROM secret)"),
    ("select-scalar", "SELECT (SELECT max(id) FROM secret) AS m FROM orders"),
    ("having", "SELECT id FROM orders GROUP BY id HAVING count(*) > (SELECT count(*) FROM secret)"),
    ("order-by", "SELECT id FROM orders ORDER BY (SELECT max(id) FROM secret)"),
    ("cte-body", "WITH x AS (SELECT * FROM secret) SELECT * FROM x"),
    ("nested-cte", "WITH x AS (WITH y AS (SELECT * FROM secret) SELECT * FROM y) SELECT * FROM x"),
    ("union-arm", "SELECT id FROM orders UNION ALL SELECT id FROM secret"),
    ("intersect-arm", "SELECT id FROM orders INTERSECT SELECT id FROM secret"),
    ("derived-table", "SELECT * FROM (SELECT * FROM secret) AS d"),
    ("lateral", "SELECT * FROM orders o, LATERAL (SELECT * FROM secret s WHERE s.id = o.id) AS l"),
    ("table-function-arg", "SELECT * FROM unnest((SELECT array_agg(id) FROM secret)) AS t(x)"),
    ("case-branch", "SELECT CASE WHEN id > 0 THEN (SELECT 1 FROM secret) END FROM orders"),
    ("window-arg", "SELECT sum(id) OVER (PARTITION BY (SELECT 1 FROM secret)) FROM orders"),
    ("cte-self-shadow", "WITH secret AS (SELECT * FROM secret) SELECT * FROM secret"),
    (
        "cte-out-of-scope",
        "SELECT * FROM (WITH secret AS (SELECT 1) SELECT * FROM secret) s JOIN secret ON true",
    ),
    ("cte-forward-ref", "WITH a AS (SELECT * FROM secret), secret AS (SELECT 1) SELECT * FROM a"),
]
ESCAPE_DIALECTS = ("duckdb", "postgres", "mysql", "sqlite")
UNPARSEABLE_IN = {
    ("mysql", "table-function-arg"),
    ("sqlite", "table-function-arg"),
    ("sqlite", "lateral"),
    ("mysql", "lateral"),
}


@pytest.mark.parametrize("dialect", ESCAPE_DIALECTS)
@pytest.mark.parametrize("position,sql", ESCAPES, ids=[p for p, _ in ESCAPES])
def test_tenant_escape_is_refused_in_every_position(position: str, sql: str, dialect: str) -> None:
    verdict = check_sql(sql, dialect, EXPOSED)
    assert not verdict.allowed
    if (dialect, position) not in UNPARSEABLE_IN:
        assert "secret" in (verdict.reason or ""), verdict.reason


QUALIFIED = [
    ("postgres", "SELECT * FROM tenant_b.orders", "tenant_b.orders"),
    ("postgres", 'SELECT * FROM "tenant_b"."orders"', "tenant_b.orders"),
    ("postgres", "SELECT * FROM public.orders", "public.orders"),
    ("postgres", 'SELECT * FROM "Orders"', "Orders"),
    ("postgres", 'SELECT * FROM "ORDERS"', "ORDERS"),
    ("postgres", "SELECT * FROM sales.regions r JOIN tenant_b.regions t ON true", "tenant_b.regions"),
    ("postgres", "SELECT * FROM information_schema.tables", "information_schema.tables"),
    ("postgres", "SELECT * FROM pg_catalog.pg_class", "pg_class"),
    ("postgres", "SELECT * FROM pg_user", "pg_user"),
    ("duckdb", "SELECT * FROM tenant_b.main.orders", "tenant_b.main.orders"),
    ("duckdb", "SELECT * FROM main.orders", "main.orders"),
    ("duckdb", "SELECT * FROM duckdb_tables", "duckdb_tables"),
    ("duckdb", "SELECT * FROM sqlite_master", "sqlite_master"),
    ("duckdb", "SELECT * FROM information_schema.columns", "information_schema.columns"),
    ("duckdb", "SELECT * FROM '/data/tenant_b/orders.parquet'", "orders.parquet"),
    ("duckdb", 'SELECT * FROM "s3://bucket/orders"', "s3://bucket/orders"),
    ("mysql", "SELECT * FROM tenant_b.orders", "tenant_b.orders"),
    ("mysql", "SELECT * FROM `tenant_b`.`orders`", "tenant_b.orders"),
    ("mysql", "SELECT * FROM Orders", "case-sensitive"),
    ("mysql", "SELECT * FROM mysql.user", "mysql.user"),
    ("mysql", "SELECT * FROM information_schema.columns", "information_schema.columns"),
    ("sqlite", "SELECT * FROM sqlite_master", "sqlite_master"),
    ("sqlite", "SELECT * FROM other.orders", "other.orders"),
]


@pytest.mark.parametrize("dialect,sql,named", QUALIFIED, ids=[f"{d}-{n}" for d, _, n in QUALIFIED])
def test_qualified_quoted_and_case_tricks_are_refused(dialect: str, sql: str, named: str) -> None:
    verdict = check_sql(sql, dialect, EXPOSED)
    assert not verdict.allowed
    assert named in (verdict.reason or ""), verdict.reason


ALLOWED_NAMES = [
    ("duckdb", 'SELECT * FROM "ORDERS"', ("orders",)),  # DuckDB names are case-insensitive, even quoted
    ("duckdb", "SELECT * FROM Orders", ("orders",)),
    ("postgres", "SELECT * FROM ORDERS", ("orders",)),  # unquoted names fold to lower case
    ("postgres", 'SELECT * FROM "sales"."regions"', ("sales.regions",)),
    ("postgres", "SELECT * FROM sales.regions r JOIN orders o ON true", ("sales.regions", "orders")),
    ("mysql", "SELECT * FROM `orders` JOIN customers USING (id)", ("orders", "customers")),
    ("sqlite", "SELECT * FROM ORDERS", ("orders",)),
]


@pytest.mark.parametrize(
    "dialect,sql,tables", ALLOWED_NAMES, ids=[f"{d}-{i}" for i, (d, _, _) in enumerate(ALLOWED_NAMES)]
)
def test_exposed_tables_pass_and_are_reported(dialect: str, sql: str, tables: tuple[str, ...]) -> None:
    verdict = check_sql(sql, dialect, EXPOSED)
    assert verdict.allowed, verdict.reason
    assert verdict.tables == tables


BENIGN = [
    ("duckdb", "WITH secret AS (SELECT 1 AS id) SELECT * FROM secret"),  # a CTE named like a table
    ("duckdb", "WITH orders AS (SELECT id FROM customers) SELECT * FROM orders"),
    (
        "postgres",
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT * FROM t",
    ),
    ("duckdb", "WITH a AS (SELECT id FROM orders), b AS (SELECT * FROM a) SELECT * FROM b"),
    ("duckdb", "SELECT id, sum(id) OVER (PARTITION BY id ORDER BY id ROWS 2 PRECEDING) FROM orders"),
    ("duckdb", "SELECT * FROM orders QUALIFY row_number() OVER (PARTITION BY id ORDER BY id) = 1"),
    ("duckdb", "SELECT * FROM orders PIVOT (sum(id) FOR id IN (1, 2))"),
    ("duckdb", "SELECT * FROM orders UNPIVOT (v FOR k IN (a, b))"),
    ("duckdb", "SELECT o.id FROM orders o ASOF JOIN customers c ON o.id >= c.id"),
    ("duckdb", "SELECT 'DROP TABLE orders; --' AS s FROM orders"),
    ("postgres", "SELECT 'DELETE FROM customers' AS s, $$; DROP TABLE x$$ AS t FROM orders"),
    ("mysql", "SELECT 'DROP TABLE orders' AS s, `update` FROM orders"),
    ("sqlite", "SELECT 'ATTACH DATABASE x' AS s FROM orders"),
    ("postgres", "SELECT DISTINCT ON (id) id FROM orders ORDER BY id"),
    ("postgres", "SELECT id FROM orders GROUP BY ROLLUP (id)"),
    ("postgres", "SELECT * FROM generate_series(1, 3) AS g(n) JOIN orders ON orders.id = g.n"),
    ("duckdb", "SELECT * FROM range(3) r JOIN orders ON true"),
    ("duckdb", "FROM orders SELECT id"),
    ("duckdb", "SELECT list_transform([1, 2], x -> x + 1), {'a': 1}.a"),
    ("mysql", "SELECT DATE_FORMAT(created_at, '%Y') AS y, COUNT(*) FROM orders GROUP BY y"),
    ("sqlite", "SELECT strftime('%Y', created_at), iif(id > 1, 'a', 'b') FROM orders"),
    ("postgres", "VALUES (1, 'a'), (2, 'b')"),
    ("postgres", "(SELECT id FROM orders)"),
    ("postgres", "SELECT 'naïve' AS \"Straße\" FROM orders -- plain ascii comment"),
]


@pytest.mark.parametrize("dialect,sql", BENIGN, ids=[f"{d}-{i}" for i, (d, _) in enumerate(BENIGN)])
def test_benign_queries_stay_allowed(dialect: str, sql: str) -> None:
    verdict = check_sql(sql, dialect, EXPOSED, row_cap=50)
    assert verdict.allowed, verdict.reason
    assert check_sql(verdict.sql, dialect, EXPOSED, row_cap=50).sql == verdict.sql


REFUSED = [
    ("postgres", "SELECT pg_catalog.pg_sleep(1)", "schema-qualified"),
    ("duckdb", "SELECT * FROM read_csv('x.csv') UNION SELECT * FROM orders", "read_csv"),
    ("duckdb", "SELECT * FROM orders WHERE id = getvariable('x')", "getvariable"),
    ("duckdb", "SELECT * FROM (DESCRIBE orders)", "describe"),
    ("duckdb", "SELECT * FROM (PIVOT orders ON id USING sum(id))", "pivot"),
    ("duckdb", "SELECT my_udf(id) FROM orders", "allow-list"),
    ("duckdb", "SELECT * FROM upper('x')", "table function"),
    ("postgres", "SELECT $1", "parameters"),
    ("duckdb", "SELECT * FROM orders WHERE id = ?", "parameters"),
    ("mysql", "SELECT @@version", "server variables"),
    ("mysql", "SELECT @x := 1", "parameters"),
    ("mysql", 'SELECT "x" FROM orders', "double-quoted"),
    ("mysql", "SELECT 'a\\nb' FROM orders", "backslash"),
    ("postgres", "SELECT 'it\\''s' FROM orders", "backslash"),
    ("postgres", "SELECT 1 /*+ SeqScan(orders) */", "hints"),
    ("duckdb", "SELECT 1 -- ünïcode comment", "non-ASCII"),
    ("duckdb", "SELECT\u00a01", "non-ASCII"),
    ("duckdb", "SELECT 1\u200b", "non-ASCII"),
    ("postgres", "SELECT id FROM orders FOR SHARE", "locks"),
    ("duckdb", "SELECT 1;\nSELECT 2", "one statement"),
    ("duckdb", "   ", "empty"),
    ("duckdb", "SELECT " + "(" * 3000 + "1" + ")" * 3000, "parsed"),
    ("postgres", "EXPLAIN SELECT 1", "EXPLAIN"),
    ("postgres", "TABLE secret", "secret"),
    ("postgres", "SELECT", "column list"),
    ("postgres", "SELECT 1 OPERATOR(public.+) 2", "operator"),
    ("postgres", 'SELECT "Age"(ts) FROM orders', "allow-list"),
    ("duckdb", "SELECT 1 UNION SELECT", "column list"),
    ("mysql", "SELECT a FROM SELECT * FROM orders x", "parentheses"),
    ("postgres", "SELECT * FROM orders QUALIFY row_number() OVER (ORDER BY id) = 1", "natively"),
    ("mysql", "SELECT 'line one\nline two' AS s FROM orders", "ambiguity"),
]


@pytest.mark.parametrize("dialect,sql,words", REFUSED, ids=[f"{d}-{w}" for d, _, w in REFUSED])
def test_refused_with_a_reason_that_says_why(dialect: str, sql: str, words: str) -> None:
    verdict = check_sql(sql, dialect, EXPOSED, row_cap=100)
    assert not verdict.allowed
    assert words.lower() in (verdict.reason or "").lower(), verdict.reason


def _denied_names() -> list:
    params = []
    for dialect in denylist.DIALECTS:
        names = set(denylist.COMMON_DENIED_FUNCTIONS) | set(denylist.DENIED_FUNCTIONS[dialect])
        params += [pytest.param(dialect, name, id=f"{dialect}-{name}") for name in sorted(names)]
    return params


@pytest.mark.parametrize("dialect,name", _denied_names())
def test_every_denied_function_is_refused_as_scalar_and_table_function(dialect: str, name: str) -> None:
    for sql in (
        f"SELECT {name}('x')",
        f"SELECT * FROM {name}('x')",
        f"SELECT {name.upper()}(1, 2)",
        f'SELECT "{name}"(1)' if dialect != "mysql" else f"SELECT `{name}`(1)",
    ):
        verdict = check_sql(sql, dialect)
        assert not verdict.allowed, sql


CAPS = [
    ("duckdb", "SELECT * FROM t", 5, "SELECT * FROM t LIMIT 5", 5),
    ("duckdb", "SELECT * FROM t LIMIT 3", 5, "SELECT * FROM t LIMIT 3", 3),
    ("duckdb", "SELECT * FROM t LIMIT 50", 5, "SELECT * FROM t LIMIT 5", 5),
    (
        "duckdb",
        "SELECT * FROM t ORDER BY n DESC LIMIT 50 OFFSET 10",
        5,
        "SELECT * FROM t ORDER BY n DESC LIMIT 5 OFFSET 10",
        5,
    ),
    (
        "duckdb",
        "SELECT n FROM t UNION ALL SELECT n FROM t",
        7,
        "SELECT n FROM t UNION ALL SELECT n FROM t LIMIT 7",
        7,
    ),
    (
        "duckdb",
        "(SELECT n FROM t LIMIT 50) UNION ALL (SELECT n FROM t LIMIT 2)",
        7,
        "(SELECT n FROM t LIMIT 50) UNION ALL (SELECT n FROM t LIMIT 2) LIMIT 7",
        7,
    ),
    (
        "duckdb",
        "WITH x AS (SELECT * FROM t LIMIT 90) SELECT * FROM x",
        4,
        "WITH x AS (SELECT * FROM t LIMIT 90) SELECT * FROM x LIMIT 4",
        4,
    ),
    (
        "duckdb",
        "SELECT * FROM t LIMIT (SELECT 50)",
        5,
        "SELECT * FROM (SELECT * FROM t LIMIT (SELECT 50)) AS guard_capped LIMIT 5",
        5,
    ),
    ("duckdb", "VALUES (1), (2), (3)", 2, "SELECT * FROM (VALUES (1), (2), (3)) AS guard_capped LIMIT 2", 2),
    ("duckdb", "SELECT count(*) FROM t", 5, "SELECT COUNT(*) FROM t LIMIT 5", 1),
    ("postgres", "SELECT * FROM t FETCH FIRST 50 ROWS ONLY", 5, "SELECT * FROM t FETCH FIRST 5 ROWS ONLY", 5),
    (
        "postgres",
        "SELECT * FROM t LIMIT ALL",
        5,
        "SELECT * FROM (SELECT * FROM t LIMIT ALL) AS guard_capped LIMIT 5",
        5,
    ),
    ("mysql", "SELECT * FROM t LIMIT 10, 50", 5, "SELECT * FROM t LIMIT 5 OFFSET 10", 5),
    ("sqlite", "SELECT * FROM t", 5, "SELECT * FROM t LIMIT 5", 5),
]


@pytest.mark.parametrize(
    "dialect,sql,cap,expected,rows", CAPS, ids=[f"{d}-{i}" for i, (d, *_rest) in enumerate(CAPS)]
)
def test_row_cap_applies_to_the_outermost_query(
    dialect: str, sql: str, cap: int, expected: str, rows: int
) -> None:
    verdict = check_sql(sql, dialect, row_cap=cap)
    assert verdict.allowed, verdict.reason
    assert verdict.sql == expected
    if dialect == "duckdb":
        con = duckdb.connect()
        con.execute("CREATE TABLE t AS SELECT range AS n FROM range(100)")
        assert len(con.execute(verdict.sql).fetchall()) == rows


def test_guard_sql_raises_with_message_and_hint() -> None:
    with pytest.raises(GuardRejected) as caught:
        guard_sql("SELECT * FROM secret", "duckdb", EXPOSED, row_cap=10)
    assert "secret" in caught.value.message and "orders" in caught.value.hint
    assert guard_sql("SELECT * FROM orders", "duckdb", EXPOSED, row_cap=10) == "SELECT * FROM orders LIMIT 10"


def test_verdict_is_frozen_and_argument_mistakes_are_user_errors() -> None:
    verdict = check_sql("SELECT 1", "duckdb")
    assert isinstance(verdict, GuardVerdict) and verdict.allowed and verdict.tables == ()
    with pytest.raises(AttributeError):
        verdict.allowed = False  # type: ignore[misc]
    with pytest.raises(UserError, match="unknown SQL dialect"):
        check_sql("SELECT 1", "oracle")
    with pytest.raises(UserError, match="row cap"):
        check_sql("SELECT 1", "duckdb", row_cap=0)


def test_allowed_tables_are_matched_case_insensitively_as_given() -> None:
    assert check_sql("SELECT * FROM orders", "duckdb", frozenset({"ORDERS"})).allowed
    assert not check_sql("SELECT * FROM orders", "duckdb", frozenset()).allowed


MUTATIONS = [
    ";",
    "'",
    '"',
    "`",
    "/*",
    "*/",
    "--",
    "\n",
    "$$",
    "\\",
    "(",
    ")",
    " UNION SELECT ",
    " FROM secret ",
    "#",
    "/*!",
    "E'",
    "$a$",
    " WITH x AS (SELECT 1) ",
    " LIMIT 5",
    ",",
    " OR 1=1",
    "\u00a0",
    "é",
]


def test_mutated_corpus_never_crashes_and_allowed_output_is_stable(corpora: Path) -> None:
    """Seeded mutations of the corpus: the guard returns a verdict, and allowed SQL re-checks unchanged."""
    cases = [
        json.loads(x) for x in (corpora / "sql_guard" / "guard_cases.jsonl").read_text("utf-8").splitlines()
    ]
    rnd = random.Random(20240601)
    allowed = 0
    for _ in range(3000):
        sql = rnd.choice(cases)["sql"]
        for _ in range(rnd.randint(1, 3)):
            at = rnd.randint(0, len(sql))
            if rnd.random() < 0.6:
                sql = sql[:at] + rnd.choice(MUTATIONS) + sql[at:]
            else:
                sql = sql[:at] + sql[at + rnd.randint(1, 5) :]
        dialect = rnd.choice(denylist.DIALECTS)
        verdict = check_sql(sql, dialect, EXPOSED, row_cap=100)
        assert verdict.allowed == (verdict.sql is not None) == (verdict.reason is None)
        if verdict.allowed:
            allowed += 1
            again = check_sql(verdict.sql, dialect, EXPOSED, row_cap=100)
            assert again.allowed and again.sql == verdict.sql, (sql, verdict.sql, again.reason)
            assert set(verdict.tables) <= EXPOSED
    assert allowed > 0
