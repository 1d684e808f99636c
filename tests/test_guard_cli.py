"""`datatruth guard`: single statements, --json, --batch JSON lines, --workspace tables, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from datatruth.cli.main import main

SCRIPT = Path(sys.executable).parent / "datatruth"


def test_allowed_statement_prints_the_capped_sql_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["guard", "--dialect", "duckdb", "--row-cap", "10", "SELECT * FROM orders"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines() == ["allowed", "SELECT * FROM orders LIMIT 10"]


def test_rejected_statement_says_why_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["guard", "--dialect", "postgres", "SELECT pg_read_file('/etc/passwd')"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("rejected: function pg_read_file()")


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["guard", "--dialect", "mysql", "--json", "SELECT id FROM orders; DROP TABLE orders"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["allowed"] is False and "one statement" in payload["reason"]
    assert payload["sql"] is None and payload["dialect"] == "mysql"
    assert main(["guard", "--dialect", "sqlite", "--json", "SELECT a FROM t JOIN u ON t.id = u.id"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["allowed"] is True and payload["reason"] is None and payload["tables"] == ["t", "u"]


@pytest.mark.parametrize(
    "argv",
    [
        ["guard", "SELECT 1"],  # no dialect, no workspace
        ["guard", "--dialect", "duckdb"],  # neither SQL nor --batch
        ["guard", "--dialect", "duckdb", "--batch", "x.jsonl", "SELECT 1"],  # both
        ["guard", "--dialect", "duckdb", "--row-cap", "0", "SELECT 1"],
        ["guard", "--dialect", "duckdb", "--batch", "/nonexistent/cases.jsonl"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "error:" in capsys.readouterr().err


def test_unknown_dialect_is_an_argparse_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["guard", "--dialect", "oracle", "SELECT 1"])
    assert caught.value.code == 2


def test_batch_writes_one_verdict_per_line_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = [
        {"sql": "SELECT 1"},
        {"sql": "SELECT pg_sleep(5)", "dialect": "postgres"},
        {"sql": "SELECT * FROM read_csv('/etc/passwd')"},
        {"sql": "SELECT name FROM sqlite_master", "dialect": "sqlite"},
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in cases) + "\n\n", encoding="utf-8")
    assert main(["guard", "--dialect", "duckdb", "--batch", str(path)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["allowed"] for x in lines] == [True, False, False, True]
    assert all(set(x) == {"allowed", "reason"} for x in lines)
    assert "pg_sleep" in lines[1]["reason"] and "read_csv" in lines[2]["reason"]


def test_batch_reports_bad_lines_in_place_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(
        '{"sql": "SELECT 1"}\nnot json\n{"query": "SELECT 1"}\n{"sql": "SELECT 1", "dialect": "db2"}\n'
        '{"sql": "DELETE FROM t"}\n',
        encoding="utf-8",
    )
    assert main(["guard", "--dialect", "duckdb", "--batch", str(path)]) == 2
    captured = capsys.readouterr()
    lines = [json.loads(x) for x in captured.out.splitlines()]
    assert [x["allowed"] for x in lines] == [True, False, False, False, False]
    assert lines[1]["reason"].startswith("line 2:") and lines[3]["reason"].startswith("line 4:")
    assert "DELETE" in lines[4]["reason"]
    assert "not valid" in captured.err


def test_corpus_through_batch_mode(corpora: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = corpora / "sql_guard" / "guard_cases.jsonl"
    cases = [json.loads(x) for x in source.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert main(["guard", "--dialect", "duckdb", "--batch", str(source)]) == 0
    verdicts = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(verdicts) == len(cases)
    assert [v["allowed"] for v in verdicts] == [c["expect"] == "allow" for c in cases]


@pytest.fixture()
def workspace_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A workspace `guardcli` whose DuckDB warehouse holds the tables orders and customers."""
    from datatruth.workspace.registry import create_workspace

    monkeypatch.setenv("DATATRUTH_WORKSPACES_DIR", str(tmp_path / "workspaces"))
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path / "data"))
    warehouse = tmp_path / "guardcli.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE TABLE orders AS SELECT range AS id FROM range(5)")
    con.execute("CREATE TABLE customers AS SELECT range AS id FROM range(5)")
    con.close()
    create_workspace("guardcli", warehouse_url=f"duckdb:///{warehouse}")
    return "guardcli"


def test_workspace_limits_tables_and_sets_dialect_and_cap(
    workspace_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["guard", "--workspace", workspace_env, "SELECT o.id FROM orders o JOIN customers c USING (id)"])
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "allowed" and out[1].endswith("LIMIT 10000")
    assert (
        main(
            [
                "guard",
                "-w",
                workspace_env,
                "--json",
                "SELECT * FROM orders WHERE id IN (SELECT id FROM secret)",
            ]
        )
        == 1
    )
    payload = json.loads(capsys.readouterr().out)
    assert "secret" in payload["reason"] and payload["dialect"] == "duckdb"
    assert main(["guard", "-w", workspace_env, "SELECT * FROM information_schema.tables"]) == 1
    capsys.readouterr()


def test_unknown_workspace_is_a_usage_error(workspace_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["guard", "--workspace", "nosuch", "SELECT 1"]) == 2
    assert "nosuch" in capsys.readouterr().err


def test_installed_script_exit_codes() -> None:
    ok = subprocess.run(
        [str(SCRIPT), "guard", "--dialect", "duckdb", "SELECT 42"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0 and ok.stdout.splitlines() == ["allowed", "SELECT 42"]
    bad = subprocess.run(
        [str(SCRIPT), "guard", "--dialect", "mysql", "SELECT SLEEP(5)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and bad.stdout.startswith("rejected:")
    assert "Traceback" not in bad.stderr


@pytest.mark.timeout(120)
def test_batch_from_stdin_answers_each_line_before_the_next_arrives() -> None:
    proc = subprocess.Popen(
        [str(SCRIPT), "guard", "--dialect", "duckdb", "--batch", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(json.dumps({"sql": "SELECT 1"}) + "\n")
        proc.stdin.flush()
        first = json.loads(proc.stdout.readline())
        proc.stdin.write(json.dumps({"sql": "DROP TABLE orders"}) + "\n")
        proc.stdin.flush()
        second = json.loads(proc.stdout.readline())
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert first == {"allowed": True, "reason": None}
    assert second["allowed"] is False and "DROP" in second["reason"]
