"""Fingerprints: Percona's pt-fingerprint cases, Query IDs, huge inputs, the sqlglot style, distill."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

import pytest

from datatruth.slowlog.distill import distill
from datatruth.slowlog.fingerprint import fingerprint_pt, fingerprint_sqlglot, query_id

pytestmark = pytest.mark.corpus
# Read at collection time for parametrisation; every test also takes the `corpora` fixture,
# which skips (or fails under CI) when the corpora are missing.
CORPUS = (
    Path(
        os.environ.get("DATATRUTH_CORPORA")
        or Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"
    )
    / "percona"
)
SPECIAL = ("rewriter_options", "call_options", "cli_options")


def _cases() -> list[dict]:
    path = CORPUS / "fingerprint_cases.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _input(case: dict) -> str:
    if case["input"] is not None:
        return case["input"]
    path = CORPUS / case["input_file"]
    if path.suffix != ".gz":
        return path.read_text()
    lines = gzip.decompress(path.read_bytes()).decode().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    tail = int(case["input_extract"].split()[-1])  # "zcat | tail -n N"
    return "\n".join(lines[-tail:])


def _options(case: dict) -> dict[str, bool]:
    flags = case.get("rewriter_options") or {}
    cli = case.get("cli_options") or []
    return {
        "match_md5_checksums": bool(flags.get("match_md5_checksums")) or "--match-md5-checksums" in cli,
        "match_embedded_numbers": bool(flags.get("match_embedded_numbers"))
        or "--match-embedded-numbers" in cli,
    }


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["test_name"][:60])
def test_percona_fingerprint_case(corpora: Path, case: dict) -> None:
    started = time.perf_counter()
    assert fingerprint_pt(_input(case), **_options(case)) == case["expected"]
    assert time.perf_counter() - started < 2.0  # huge inputs must not backtrack


def test_plain_cases_agree_at_least_95_percent(corpora: Path) -> None:
    plain = [c for c in _cases() if not any(k in c for k in SPECIAL)]
    agree = sum(fingerprint_pt(_input(c)) == c["expected"] for c in plain)
    assert len(plain) >= 40
    assert agree / len(plain) >= 0.95, f"{agree}/{len(plain)}"


@pytest.mark.parametrize(
    "text",
    [
        "select '" + "-" * 200_000 + "x",  # long dash run before an unclosed quote
        "select 1 -- " + "'" * 100_000,
        "insert into t values " + "(1, 'a')," * 50_000 + "(2, 'b')",
        "select * from t where a in (" + "1, " * 100_000 + "2)",
        "select " + "a union select " * 5_000 + "a",
        "select /* " + "x" * 200_000,  # unclosed comment
        "select 'it\\'s " + "\\\\" * 50_000 + "'",
    ],
)
def test_pathological_inputs_finish_quickly(text: str) -> None:
    started = time.perf_counter()
    fingerprint_pt(text)
    assert time.perf_counter() - started < 2.0


def test_query_id_matches_pt_query_digest_report(corpora: Path) -> None:
    fp = fingerprint_pt(
        "update db2.tuningdetail_21_265507 n\n      inner join db1.gonzo a using(gonzo) \n"
        "      set n.column1 = a.column1, n.word3 = a.word3"
    )
    assert query_id(fp) == "45FE45AEC222350466825DDC008FFA89"  # slow002 report, Query 1
    assert len(query_id("x")) == 32 and query_id("x") == query_id("x").upper()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("SELECT * FROM t WHERE id = 5", "SELECT * FROM t WHERE id = 99"),
        ("SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (4)"),
        ("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')", "INSERT INTO t (a, b) VALUES (3, 'z')"),
        ("SELECT * FROM t WHERE name = 'bob' LIMIT 10", "SELECT * FROM t WHERE name = 'alice' LIMIT 20"),
        (
            "SELECT a FROM t WHERE flag = TRUE AND x IS NULL",
            "SELECT a FROM t WHERE flag = FALSE AND x IS NULL",
        ),
    ],
)
def test_sqlglot_style_groups_statements_differing_only_in_literals(a: str, b: str) -> None:
    assert fingerprint_sqlglot(a, "mysql") == fingerprint_sqlglot(b, "mysql")


def test_sqlglot_style_output(corpora: Path) -> None:
    fp = fingerprint_sqlglot("SELECT * FROM orders WHERE id IN (1, 2, 3) AND name = 'bob' LIMIT 5", "mysql")
    assert fp == "SELECT * FROM orders WHERE id IN (?+) AND name = ? LIMIT ?"
    assert fingerprint_sqlglot("SELECT a FROM t WHERE b = -1", "postgres") == "SELECT a FROM t WHERE b = ?"
    assert fingerprint_sqlglot("SELECT a FROM T WHERE b = 1", "postgres") == "SELECT a FROM t WHERE b = ?"
    # Different statements stay different.
    assert fingerprint_sqlglot("SELECT a FROM t", "mysql") != fingerprint_sqlglot("SELECT b FROM t", "mysql")


def test_sqlglot_style_falls_back_to_pt_when_it_cannot_parse(corpora: Path) -> None:
    text = "administrator command: Quit"
    assert fingerprint_sqlglot(text, "mysql") == fingerprint_pt(text)
    broken = "SELECT FROM WHERE ((("
    assert fingerprint_sqlglot(broken, "mysql") == fingerprint_pt(broken)


def _distill_cases() -> list[dict]:
    path = CORPUS / "distill_cases.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_distill_agrees_with_pt_on_most_cases(corpora: Path) -> None:
    cases = _distill_cases()
    agree = sum(distill(c["input"]) == c["expected"] for c in cases)
    assert len(cases) > 150
    assert agree / len(cases) >= 0.75, f"{agree}/{len(cases)}"


@pytest.mark.parametrize(
    ("sql", "item"),
    [
        ("SELECT * FROM film WHERE id = 1", "SELECT film"),
        ("insert into abtemp.coxed select foo.bar from foo", "INSERT SELECT abtemp.coxed foo"),
        ("administrator command: Quit", "ADMIN QUIT"),
        ("SHOW STATUS", "SHOW STATUS"),
        ("UPDATE orders JOIN customers USING (id) SET a = 1", "UPDATE orders customers"),
        ("UPDATE t1 JOIN t2 USING (id) SET a = 1", "UPDATE t?"),  # shards merge, like pt
    ],
)
def test_distill_examples(sql: str, item: str) -> None:
    assert distill(sql) == item


def test_memoised_fingerprinter_equals_the_plain_function(corpora: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import random

    from slowlog_throughput import _statement, _templates

    from datatruth.slowlog.fingerprint import PtFingerprinter

    rng = random.Random(5)
    texts = [c["input"] for c in _cases() if c["input"]]
    texts += [_statement(t, rng) for t in _templates(rng, 120) for _ in range(3)]
    texts += [
        "CALL p1(1)",
        "CALL p2(1)",
        "administrator command: Binlog Dump 1",
        "administrator command: Binlog Dump 2",
        "select * from tbl1 where a = 5",
        "select * from tbl2 where a = 6",
        "SELECT 0x1F",
        "SELECT 0x2E",
    ]
    memo = PtFingerprinter(max_entries=50)  # small, so it also gets cleared on the way
    for text in texts + texts[::-1]:
        assert memo(text) == fingerprint_pt(text), text
