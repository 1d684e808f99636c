"""`datatruth slowlog ...`: analyze (text, JSON, damaged logs, PostgreSQL dispatch) and fingerprint."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from pathlib import Path

import pytest

from datatruth.cli.main import main

pytestmark = pytest.mark.corpus
REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / ".venv" / "bin" / "datatruth"


def _slowlogs(corpora: Path) -> Path:
    return corpora / "percona" / "slowlogs"


def test_analyze_text_report(corpora: Path, capsys) -> None:
    assert main(["slowlog", "analyze", str(_slowlogs(corpora) / "slow002.txt"), "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "# Overall: 8 total, 7 unique" in out
    assert "# Rank Query ID" in out
    assert "ID 0x45FE45AEC222350466825DDC008FFA89 at byte 338" in out
    assert len(re.findall(r"^# Query \d+:", out, re.M)) == 2  # --limit 2 detail blocks


def test_analyze_json_and_order_by_count(corpora: Path, capsys) -> None:
    code = main(
        ["slowlog", "analyze", str(_slowlogs(corpora) / "slow052.txt"), "--json", "--order-by", "count"]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["global"]["events"] == 200 and payload["order_by"] == "count"
    assert payload["parse"] == {"events_read": 200, "truncated": False, "problems": []}
    counts = [c["count"] for c in payload["classes"]]
    assert counts == sorted(counts, reverse=True)


def test_gzip_log(corpora: Path, tmp_path: Path, capsys) -> None:
    packed = tmp_path / "slow.log.gz"
    packed.write_bytes(gzip.compress((_slowlogs(corpora) / "slow002.txt").read_bytes()))
    assert main(["slowlog", "analyze", str(packed), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["global"]["events"] == 8


def test_truncated_log_reports_what_was_read_and_warns(corpora: Path, tmp_path: Path, capsys) -> None:
    text = (_slowlogs(corpora) / "slow052.txt").read_text()
    cut = tmp_path / "cut.log"
    cut.write_text(text[: text.index("# Query_time", len(text) // 2)])
    assert main(["slowlog", "analyze", str(cut), "--json"]) == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert 0 < payload["global"]["events"] < 200
    assert payload["parse"]["truncated"] is True
    assert "warning:" in captured.err and "truncated" in captured.err and "cut.log:" in captured.err


def test_nothing_readable_exits_2(corpora: Path, tmp_path: Path, capsys) -> None:
    assert main(["slowlog", "analyze", str(_slowlogs(corpora) / "slow015.txt")]) == 2
    assert "no events could be read" in capsys.readouterr().err
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 10)
    assert main(["slowlog", "analyze", str(junk), "--format", "mysql"]) == 2
    assert "does not look like a MySQL slow query log" in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["slowlog", "analyze", str(tmp_path / "none.log")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_empty_log_is_not_an_error(corpora: Path, capsys) -> None:
    assert main(["slowlog", "analyze", str(_slowlogs(corpora) / "empty"), "--format", "mysql"]) == 0
    assert "No events processed" in capsys.readouterr().out


def test_postgres_log_is_detected_and_read(tmp_path: Path, capsys) -> None:
    log = tmp_path / "postgresql.log"
    log.write_text(
        "2024-01-01 10:00:00.123 UTC [123] LOG:  duration: 12.345 ms  statement: SELECT * FROM t WHERE id = 1\n"
        "2024-01-01 10:00:01.123 UTC [124] LOG:  duration: 2.000 ms  statement: SELECT * FROM t WHERE id = 2\n"
    )
    assert main(["slowlog", "analyze", str(log), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["global"]["events"] == 2 and payload["global"]["unique"] == 1
    assert payload["classes"][0]["fingerprint"] == "select * from t where id = ?"
    assert main(["slowlog", "analyze", str(log), "--format", "postgres", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["global"]["events"] == 2


def test_fingerprint_single(capsys) -> None:
    assert main(["slowlog", "fingerprint", "SELECT * FROM t WHERE id IN (1, 2) AND b = 'x'"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "select * from t where id in(?+) and b = ?"
    assert out[1].startswith("# Query ID 0x") and len(out[1]) == len("# Query ID 0x") + 32
    assert (
        main(
            [
                "slowlog",
                "fingerprint",
                "--style",
                "sqlglot",
                "--dialect",
                "postgres",
                "--json",
                "SELECT a FROM t WHERE b = 5",
            ]
        )
        == 0
    )
    payload = json.loads(capsys.readouterr().out)
    assert payload["fingerprint"] == "SELECT a FROM t WHERE b = ?" and len(payload["query_id"]) == 32


def test_fingerprint_batch_keeps_order(tmp_path: Path, capsys) -> None:
    batch = tmp_path / "q.jsonl"
    sqls = [
        "SELECT 1",
        "select * from t where a = 5",
        "SELECT * FROM t WHERE a = 7",
        "administrator command: Quit",
    ]
    batch.write_text("\n".join(json.dumps({"sql": s}) for s in sqls) + "\n")
    assert main(["slowlog", "fingerprint", "--batch", str(batch)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["fingerprint"] for r in rows] == [
        "select ?",
        "select * from t where a = ?",
        "select * from t where a = ?",
        "administrator command: Quit",
    ]
    assert rows[1]["query_id"] == rows[2]["query_id"]


def test_fingerprint_batch_reports_every_bad_line(tmp_path: Path, capsys) -> None:
    batch = tmp_path / "bad.jsonl"
    batch.write_text('{"sql": "SELECT 1"}\nnot json\n{"query": "x"}\n')
    assert main(["slowlog", "fingerprint", "--batch", str(batch)]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl:2" in err and "bad.jsonl:3" in err


def test_fingerprint_needs_sql(capsys) -> None:
    assert main(["slowlog", "fingerprint"]) == 2
    assert "no SQL given" in capsys.readouterr().err


def test_help_teaches(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["slowlog", "analyze", "--help"])
    out = capsys.readouterr().out
    assert "Examples:" in out and "--order-by" in out


def test_installed_script(corpora: Path) -> None:
    proc = subprocess.run(
        [str(SCRIPT), "slowlog", "analyze", str(_slowlogs(corpora) / "slow013.txt"), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["global"]["events"] == 5
    proc = subprocess.run(
        [str(SCRIPT), "slowlog", "fingerprint", "--batch", "-"],
        input='{"sql": "SELECT 5"}\n',
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0 and json.loads(proc.stdout)["fingerprint"] == "select ?"
