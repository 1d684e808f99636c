"""The worst requests of issue 14, each in its own process: do they stay under 1.5 GB RSS and 60 s, with a message?

Cases (each a real CLI command, as a user would run it):

- big query: a 66-million-row SELECT DISTINCT over retail's order lines (`datatruth sql`); with DuckDB's
  defaults it reached 5.2 GB. `--peer` also runs the same query in plain DuckDB with its defaults;
- long question: a 40 KB question (`datatruth ask`);
- slow-log event: one 150 MB query text in a MySQL slow log (`datatruth slowlog analyze`);
- alias bombs: a workspace.yaml with a 7-level YAML alias bomb (`datatruth workspace list` and `show`) and
  a semantic model file with a 6-level one (`datatruth semantic validate`).

A process tree is killed when it passes the time limit or 3 GB (twice the target), so a case that would
exhaust the machine is reported instead of run to the end. Peak RSS is the largest of the command's own
high-water mark (wait4) and the RSS polled every 50 ms of each process in its tree.

    .venv/bin/python benchmarks/worst_cases.py [--only NAME ...] [--peer] [--timeout 60] [--keep DIR]

Needs the retail demo (`datatruth demo build`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parent.parent
TARGET_MB = 1500
TARGET_S = 60.0
KILL_MB = 3000
BIG_QUERY = "SELECT count(*) AS n FROM (SELECT DISTINCT a.*, r.range FROM order_lines a, range(60) r)"


@dataclass(frozen=True)
class Case:
    """One worst case: a name, the command line and extra environment."""

    name: str
    argv: list[str]
    env: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    """What one case did."""

    case: Case
    exit_code: int | None
    seconds: float
    peak_mb: float
    killed: str
    message: str

    @property
    def within(self) -> bool:
        """Under both targets and ended on its own."""
        return not self.killed and self.seconds < TARGET_S and self.peak_mb < TARGET_MB

    @property
    def clear(self) -> bool:
        """It answered, or said what was wrong without a traceback."""
        if self.exit_code is None:
            return False  # killed: it said nothing in time
        return self.exit_code == 0 or (bool(self.message) and "Traceback" not in self.message)


def _cli() -> str:
    found = Path(sys.executable).parent / "datatruth"
    return str(found) if found.exists() else shutil.which("datatruth") or "datatruth"


def _tree_rss_mb(proc: psutil.Process) -> float:
    biggest = 0.0
    try:
        family = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    for p in family:
        try:
            biggest = max(biggest, p.memory_info().rss / 2**20)
        except psutil.Error:
            continue
    return biggest


def _kill_tree(proc: psutil.Process) -> None:
    try:
        family = [*proc.children(recursive=True), proc]
    except psutil.Error:
        return
    for p in family:
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.Error:
            continue


def _drain(child: subprocess.Popen, into: list[bytes]) -> None:
    assert child.stdout is not None
    head = child.stdout.read(4096)
    tail = b""
    for block in iter(lambda: child.stdout.read(65536), b""):
        tail = (tail + block)[-4096:]
    into.append(head + b"\n" + tail)


def run_case(case: Case, timeout_s: float) -> Outcome:
    """Run one case in its own process tree, watching time and memory."""
    env = {**os.environ, **case.env}
    started = time.perf_counter()
    child = subprocess.Popen(case.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    watched = psutil.Process(child.pid)
    peak = 0.0
    killed = ""
    err_chunks: list[bytes] = []
    # Keep only the first and last output: a command's message is there, and a big answer must not fill memory.
    reader = threading.Thread(target=_drain, args=(child, err_chunks))
    reader.start()
    while True:
        done_pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if done_pid:
            break
        peak = max(peak, _tree_rss_mb(watched))
        elapsed = time.perf_counter() - started
        if peak > KILL_MB:
            killed = f"killed above {KILL_MB:,} MB"
        elif elapsed > timeout_s:
            killed = f"killed after {timeout_s:g} s"
        if killed:
            _kill_tree(watched)
            _, status, usage = os.wait4(child.pid, 0)
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=10)
    peak = max(peak, usage.ru_maxrss / 1024)
    stderr = b"".join(err_chunks).decode(errors="replace").strip()
    lines = [
        ln.strip()
        for ln in stderr.splitlines()
        if ln.strip() and not ln.startswith(("[", "|")) and "%" not in ln[:5]
    ]  # no progress or table lines
    message = " / ".join(lines[:2])[:160] if lines else ""
    if "Traceback" in stderr:
        message = "Traceback: " + (lines[-1][:140] if lines else "")
    return Outcome(case, None if killed else child.returncode, seconds, peak, killed, message)


# -- inputs ------------------------------------------------------------------------------------------------------


def _alias_bomb(levels: int, width: int = 9) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _workspaces(root: Path) -> Path:
    """A workspaces folder with the two demos, a workspace.yaml bomb and a model-file bomb."""
    folder = root / "workspaces"
    shutil.copytree(REPO / "workspaces", folder, ignore=shutil.ignore_patterns("*.duckdb"))
    # The demos name their models relative to the repo; point them back at it.
    for name in ("retail", "flights"):
        path = folder / name / "workspace.yaml"
        doc = yaml.safe_load(path.read_text())
        doc["semantic_models"] = [
            str((REPO / "workspaces" / name / m).resolve()) for m in doc["semantic_models"]
        ]
        if doc.get("checks"):
            doc["checks"] = str((REPO / "workspaces" / name / doc["checks"]).resolve())
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    bomb = folder / "bomb"
    bomb.mkdir()
    (bomb / "workspace.yaml").write_text("title: Alias bomb\ndescription: " + "\n" + _alias_bomb(7))
    model = folder / "modelbomb"
    (model / "models").mkdir(parents=True)
    (model / "models" / "bomb.yaml").write_text(_alias_bomb(6) + "semantic_models: []\n")
    (model / "workspace.yaml").write_text(
        yaml.safe_dump(
            {
                "title": "Model bomb",
                "semantic_models": ["models"],
                "demo": None,
                "warehouse": {"url": f"duckdb:///{REPO / '.datatruth' / 'retail' / 'warehouse.duckdb'}"},
                "members": [{"user": "local", "role": "admin"}],
            }
        )
    )
    return folder


def _slow_log(path: Path, megabytes: int) -> Path:
    """A MySQL slow log with one ordinary event and one whose query text is `megabytes` MB."""
    chunk = ",".join(str(100000 + i) for i in range(15000)) + ","
    with path.open("w", encoding="ascii") as out:
        out.write(
            "/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:\n"
            "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\nTime                 Id Command    Argument\n"
        )
        for i, ids in enumerate(("1", None)):
            out.write(
                f"# Time: 2024-01-01T00:00:0{i}.000000Z\n# User@Host: app[app] @ localhost []  Id: {i + 1}\n"
                "# Query_time: 2.500000  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 1000000\n"
                f"SET timestamp=170406720{i};\nSELECT * FROM orders WHERE order_id IN ("
            )
            if ids is not None:
                out.write(ids)
            else:
                written = 0
                while written < megabytes * 2**20:
                    out.write(chunk)
                    written += len(chunk)
                out.write("1")
            out.write(");\n")
    return path


def cases(root: Path, peer: bool) -> list[Case]:
    """Every worst case, with its inputs written under `root`."""
    cli = _cli()
    spaces = _workspaces(root)
    bomb_env = {"DATATRUTH_WORKSPACES_DIR": str(spaces), "DATATRUTH_DATA_DIR": str(root / "data")}
    words = (
        "revenue by region and channel for customers in texas last quarter compared with the year before "
        "top 10 products by margin "
    )
    question = (words * (40 * 1024 // len(words) + 1))[: 40 * 1024]
    out = [
        Case("big query (66M-row DISTINCT)", [cli, "sql", "-w", "retail", BIG_QUERY], {}),
        Case("40 KB question", [cli, "ask", "-w", "retail", question], {}),
        Case(
            "150 MB slow-log event", [cli, "slowlog", "analyze", str(_slow_log(root / "slow.log", 150))], {}
        ),
        Case("alias bomb: workspace list", [cli, "workspace", "list"], bomb_env),
        Case("alias bomb: workspace show", [cli, "workspace", "show", "bomb"], bomb_env),
        Case("alias bomb: semantic validate", [cli, "semantic", "validate", "-w", "modelbomb"], bomb_env),
    ]
    if peer:
        database = REPO / ".datatruth" / "retail" / "warehouse.duckdb"
        script = (
            "import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); "
            "print(c.execute(sys.argv[2]).fetchall())"
        )
        out.insert(
            1,
            Case(
                "peer: same query, DuckDB defaults",
                [sys.executable, "-c", script, str(database), BIG_QUERY],
                {},
            ),
        )
    return out


def main() -> int:
    """Run the cases and print a markdown table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", nargs="*", default=None, help="run only cases whose name contains one of these"
    )
    parser.add_argument(
        "--peer", action="store_true", help="also run the big query in DuckDB with its defaults"
    )
    parser.add_argument("--timeout", type=float, default=TARGET_S, help="seconds before a case is killed")
    parser.add_argument("--keep", type=Path, default=None, help="write the inputs here and keep them")
    args = parser.parse_args()
    if not (REPO / ".datatruth" / "retail" / "warehouse.duckdb").exists():
        print("build the retail demo first: datatruth demo build", file=sys.stderr)
        return 2
    root = args.keep or Path(tempfile.mkdtemp(prefix="dt-worst-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        todo = [
            c
            for c in cases(root, args.peer)
            if not args.only or any(word.lower() in c.name.lower() for word in args.only)
        ]
        print(
            f"| case | exit | wall s | peak RSS MB | < {TARGET_MB:,} MB and < {TARGET_S:g} s | clear message | "
            "message |"
        )
        print("|---|---:|---:|---:|---|---|---|")
        results = []
        for case in todo:
            result = run_case(case, args.timeout)
            results.append(result)
            exit_text = result.killed or str(result.exit_code)
            print(
                f"| {case.name} | {exit_text} | {result.seconds:.1f} | {result.peak_mb:,.0f} | "
                f"{'yes' if result.within else 'NO'} | {'yes' if result.clear else 'NO'} | "
                f"{result.message.replace('|', '/')} |",
                flush=True,
            )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    ours = [r for r in results if not r.case.name.startswith("peer")]
    return 0 if all(r.within and r.clear for r in ours) else 1


if __name__ == "__main__":
    sys.exit(main())
