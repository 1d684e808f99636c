"""Slow-log faults (issues 14.6 and 18): killed runs, compressed and damaged logs, absurd numbers and sizes.

Each test reproduces one reported fault through the face a user meets (the CLI as a
process, or the service the app calls) and checks the clear outcome: no traceback, a
message that says what is wrong, bounded memory and time.
"""

from __future__ import annotations

import bz2
import gzip
import json
import logging
import lzma
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datatruth.cli.main import main
from datatruth.errors import LogFormatError
from datatruth.slowlog import service
from datatruth.slowlog.events import MAX_EVENT_BYTES
from datatruth.slowlog.parallel import MIN_PARALLEL_BYTES

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "datatruth.cli.main"]
HEADER = (
    "# Time: 2024-03-01T08:00:{sec:02d}.000000Z\n"
    "# User@Host: app[app] @ web-1 [10.0.0.1]  Id: 7\n"
    "# Query_time: {qt}  Lock_time: 0.000010 Rows_sent: 1  Rows_examined: 10\n"
)


def _mysql_log(statements: list[str], times: list[str] | None = None) -> str:
    times = times or ["0.250000"] * len(statements)
    return "".join(
        HEADER.format(sec=i % 60, qt=qt) + sql + ";\n"
        for i, (sql, qt) in enumerate(zip(statements, times, strict=True))
    )


def _run_cli(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, as a user runs it (tracebacks would land on its stderr)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        CLI + args, capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env, check=False
    )


def _no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]


# ---------------------------------------------------------------------------------------------
# 18.6: kill -9 of `slowlog analyze` leaves no worker behind
# ---------------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_workers_exit_when_analyze_is_killed(tmp_path: Path) -> None:
    log = tmp_path / "big-slow.log"
    # Enough events that the parallel path runs and the workers are still busy when the parent dies.
    one = _mysql_log([f"SELECT * FROM orders WHERE id = {i} AND note = 'x{i}'" for i in range(2000)])
    with open(log, "w") as out:
        while out.tell() < MIN_PARALLEL_BYTES * 3:
            out.write(one)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        CLI + ["slowlog", "analyze", str(log), "--jobs", "2"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and not workers:
            workers = _children(proc.pid)
            time.sleep(0.05)
        assert workers, "the parallel path started no worker"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.1)
        left = [pid for pid in workers if _alive(pid)]
        assert not left, f"workers {left} outlived their killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------------
# 18.8: bz2/xz MySQL logs, PostgreSQL's '#' operator
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "suffix,pack", [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)]
)
def test_compressed_mysql_logs_read_like_plain(tmp_path: Path, capsys, suffix: str, pack) -> None:
    text = _mysql_log(["SELECT * FROM t WHERE id = 1", "SELECT * FROM t WHERE id = 2", "UPDATE t SET a = 1"])
    plain = tmp_path / "slow.log"
    plain.write_text(text)
    packed = tmp_path / f"slow.log{suffix}"
    packed.write_bytes(pack(text.encode()))
    assert main(["slowlog", "analyze", str(plain), "--json"]) == 0
    want = json.loads(capsys.readouterr().out)
    assert main(["slowlog", "analyze", str(packed), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["global"]["events"] == 3 and got["parse"]["problems"] == []
    assert [c["query_id"] for c in got["classes"]] == [c["query_id"] for c in want["classes"]]


def test_postgres_hash_operator_is_not_a_comment(tmp_path: Path, capsys) -> None:
    log = tmp_path / "postgresql.log"
    log.write_text(
        "2024-03-01 08:00:00.000 UTC [42] LOG:  duration: 5.000 ms  statement: "
        "SELECT a # b FROM t WHERE x = 1\n"
        "2024-03-01 08:00:01.000 UTC [42] LOG:  duration: 7.000 ms  statement: "
        "SELECT a # b FROM t WHERE x = 2\n"
        "2024-03-01 08:00:02.000 UTC [42] LOG:  duration: 9.000 ms  statement: SELECT a FROM t\n"
    )
    assert main(["slowlog", "analyze", str(log), "--json"]) == 0
    classes = json.loads(capsys.readouterr().out)["classes"]
    fingerprints = {c["fingerprint"]: c["count"] for c in classes}
    # MySQL's rules would cut both at '#' and merge them with 'select a from t'.
    assert fingerprints == {"select a # b from t where x = ?": 2, "select a from t": 1}


# ---------------------------------------------------------------------------------------------
# Tracebacks that reached users
# ---------------------------------------------------------------------------------------------


def _damaged_gzip(tmp_path: Path) -> Path:
    data = bytearray(gzip.compress(_mysql_log([f"SELECT {i} FROM t" for i in range(300)]).encode()))
    for i in range(30, len(data) - 10, 7):
        data[i] ^= 0x55
    path = tmp_path / "slow.log.gz"
    path.write_bytes(bytes(data))
    return path


def test_corrupt_gzip_log_is_a_clear_message(tmp_path: Path) -> None:
    path = _damaged_gzip(tmp_path)
    proc = _run_cli(["slowlog", "analyze", str(path)])
    _no_traceback(proc)
    assert proc.returncode == 2
    assert "damaged compressed file" in proc.stderr and "hint:" in proc.stderr
    # The app's path says the same, naming the uploaded file only.
    with pytest.raises(LogFormatError) as err:
        service.triage_upload("slow.log.gz", path.read_bytes(), tmp_path / "uploads")
    assert "slow.log.gz is a damaged compressed file" in err.value.message
    assert str(tmp_path) not in err.value.message


def test_gzip_damaged_in_the_middle_keeps_what_was_read(tmp_path: Path) -> None:
    data = gzip.compress(_mysql_log([f"SELECT * FROM t{i % 7} WHERE id = {i}" for i in range(4000)]).encode())
    path = tmp_path / "slow.log.gz"
    middle = len(data) // 2
    path.write_bytes(
        data[:middle] + bytes(b ^ 0x5A for b in data[middle : middle + 64]) + data[middle + 64 :]
    )
    proc = _run_cli(["slowlog", "analyze", str(path), "--json"])
    _no_traceback(proc)
    assert proc.returncode == 0
    payload = json.loads(proc.stdout)
    assert 0 < payload["global"]["events"] < 4000 and payload["parse"]["truncated"] is True
    assert "compressed input is damaged" in proc.stderr


def test_query_time_1e400_skips_the_event_with_a_warning(tmp_path: Path) -> None:
    log = tmp_path / "slow.log"
    log.write_text(
        _mysql_log(["SELECT 1 FROM t", "SELECT 2 FROM u", "SELECT 3 FROM v"], ["1e400", "0.5", "9" * 400])
    )
    proc = _run_cli(["slowlog", "analyze", str(log), "--json"])
    _no_traceback(proc)
    assert proc.returncode == 0
    payload = json.loads(proc.stdout)
    assert payload["global"]["events"] == 1
    assert payload["global"]["metrics"]["Query_time"]["sum"] == 0.5
    assert "Query_time: 1e400 is not a usable number" in proc.stderr
    assert "Query_time: 999" in proc.stderr


def test_postgres_duration_of_400_digits_is_skipped(tmp_path: Path, capsys) -> None:
    log = tmp_path / "postgresql.log"
    log.write_text(
        f"2024-03-01 08:00:00.000 UTC [42] LOG:  duration: {'9' * 400} ms  statement: SELECT 1\n"
        "2024-03-01 08:00:01.000 UTC [42] LOG:  duration: 3.000 ms  statement: SELECT 2\n"
    )
    assert main(["slowlog", "analyze", str(log), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["global"]["events"] == 1
    assert "is not a usable number" in captured.err


def test_postgres_statement_with_100000_brackets(tmp_path: Path) -> None:
    deep = "SELECT " + "(" * 100_000 + "1" + ")" * 100_000
    log = tmp_path / "postgresql.log"
    log.write_text(
        f"2024-03-01 08:00:00.000 UTC [42] LOG:  duration: 12.500 ms  statement: {deep}\n"
        "2024-03-01 08:00:01.000 UTC [42] LOG:  duration: 2.500 ms  statement: SELECT 1\n"
    )
    proc = _run_cli(["slowlog", "analyze", str(log)])
    _no_traceback(proc)
    assert proc.returncode == 0
    assert "# Overall: 2 total, 2 unique" in proc.stdout
    assert "more characters not shown" in proc.stdout  # the 200 KB sample is shown cut
    # The app's path: rules, redaction and the readable fingerprint all bound the work.
    triage = service.triage_file(log)
    assert triage.aggregate.events == 2 and all(not c.analysis.parsed for c in triage.classes[:1])


def _unquiet_sqlglot() -> None:
    # Another command module may have silenced sqlglot when it was imported; a user's process need not.
    logging.getLogger("sqlglot").setLevel(logging.NOTSET)


def test_sqlglot_warnings_never_reach_stderr(tmp_path: Path, capsys, caplog) -> None:
    _unquiet_sqlglot()
    caplog.set_level(logging.WARNING)
    # Each of these makes sqlglot log a warning (unsupported syntax, a bad JSON path) when not silenced.
    statements = ["LOCK TABLES t WRITE", "SELECT j->'$.a[' FROM t", "VACUUM ANALYZE t"]
    for sql in statements:
        assert main(["slowlog", "fingerprint", "--style", "sqlglot", sql]) == 0
    log = tmp_path / "slow.log"
    log.write_text(_mysql_log(statements))
    assert main(["slowlog", "analyze", str(log)]) == 0
    service.triage_file(log)
    assert not [r for r in caplog.records if r.name.startswith("sqlglot")]
    assert "unsupported syntax" not in capsys.readouterr().err


def test_unknown_dialect_is_a_clear_message() -> None:
    proc = _run_cli(["slowlog", "fingerprint", "--style", "sqlglot", "--dialect", "nosuch", "SELECT 1"])
    _no_traceback(proc)
    assert proc.returncode == 2 and "unknown SQL dialect 'nosuch'" in proc.stderr


# ---------------------------------------------------------------------------------------------
# 14.6: one huge event stays within bounds
# ---------------------------------------------------------------------------------------------


def _huge_mysql_event(path: Path, size: int) -> None:
    """A log whose second event is one `IN (...)` statement of about `size` bytes."""
    chunk = ", ".join(str(1_000_000 + i) for i in range(100_000))  # ~900 KB
    with open(path, "w") as out:
        out.write(_mysql_log(["SELECT * FROM small WHERE id = 1"]))
        out.write(HEADER.format(sec=1, qt="3.500000") + "SELECT * FROM big WHERE id IN (")
        written = 0
        while written < size:
            out.write(chunk + ", ")
            written += len(chunk) + 2
        out.write("0);\n")
        out.write(_mysql_log(["SELECT * FROM small WHERE id = 2"]))


def _peak_rss_mb(args: list[str], timeout: float) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run the CLI under a fresh interpreter that reports its child's peak RSS (MB) and wall time (s)."""
    probe = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.monotonic()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(p.stderr)\n"
        "sys.stdout.write(json.dumps({'out': p.stdout, 'code': p.returncode, 's': time.monotonic() - t,\n"
        "  'rss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-c", probe, *CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
        check=False,
    )
    report = json.loads(proc.stdout)
    done = subprocess.CompletedProcess(args, report["code"], report["out"], proc.stderr)
    return done, report["rss_kb"] / 1024, report["s"]


def test_150_mb_mysql_event_stays_bounded(tmp_path: Path) -> None:
    log = tmp_path / "huge-slow.log"
    _huge_mysql_event(log, 150 << 20)
    proc, rss_mb, seconds = _peak_rss_mb(["slowlog", "analyze", str(log), "--json"], timeout=60)
    _no_traceback(proc)
    assert proc.returncode == 0
    payload = json.loads(proc.stdout)
    assert payload["global"]["events"] == 3 and payload["global"]["cut_events"] == 1
    big = next(c for c in payload["classes"] if c["cut_events"])
    assert big["metrics"]["Query_length"]["max"] > 150 << 20  # the logged size, not the kept one
    assert "only its first 1,048,576 bytes were kept" in proc.stderr
    assert rss_mb < 1536, f"peak RSS {rss_mb:.0f} MB"
    assert seconds < 60


def test_150_mb_event_in_the_app_path_and_the_text_report(tmp_path: Path) -> None:
    log = tmp_path / "huge-slow.log"
    _huge_mysql_event(log, 150 << 20)
    proc, rss_mb, _seconds = _peak_rss_mb(["slowlog", "analyze", str(log)], timeout=60)
    _no_traceback(proc)
    assert "# Note: 1 event(s) longer than 1,024 KiB" in proc.stdout
    assert rss_mb < 1536, f"peak RSS {rss_mb:.0f} MB"
    triage = service.triage_file(log)
    big = next(c for c in triage.classes if c.stats.cut_events)
    assert len(big.stats.sample.query) <= MAX_EVENT_BYTES and big.stats.sample.cut_from > 150 << 20
    assert len(big.sample) < 100_000  # what the store and the page keep


def test_150_mb_postgres_statement_stays_bounded(tmp_path: Path) -> None:
    log = tmp_path / "postgresql.log"
    chunk = ", ".join(str(1_000_000 + i) for i in range(100_000))
    with open(log, "w") as out:
        out.write(
            "2024-03-01 08:00:00.000 UTC [42] LOG:  duration: 3500.000 ms  statement: "
            "SELECT * FROM big WHERE id IN ("
        )
        written = 0
        while written < 150 << 20:  # one line of 75 MB, then 75 MB of continuation lines
            out.write(chunk + (", " if written < 75 << 20 else ",\n"))
            written += len(chunk) + 2
        out.write("0)\n2024-03-01 08:00:01.000 UTC [42] LOG:  duration: 2.000 ms  statement: SELECT 1\n")
    proc, rss_mb, seconds = _peak_rss_mb(["slowlog", "analyze", str(log), "--json"], timeout=60)
    _no_traceback(proc)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["global"]["events"] == 2
    assert "only its first" in proc.stderr
    assert rss_mb < 1536, f"peak RSS {rss_mb:.0f} MB"
    assert seconds < 60
