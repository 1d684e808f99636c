"""Cold start: what a person waits for before the first number, each beside its peer measured in the same run.

CLI rows (each a new process, interleaved with its peer, `--repeat` times; medians with the range):

- `datatruth ask -w flights --refresh --json "number of flights by origin"` (snapshots in place, the result
  cache bypassed so the query really runs) beside python + duckdb running the same SQL on the same file;
- the same ask right after a model or data change (no snapshots: the layer is activated and the planner
  built again), beside the same peer;
- `datatruth --help` beside a bare `python -c pass`.

App rows (`--app`, needs /usr/bin/chromium; the helpers of tests/browser start the app and drive it):

- the first answer of a fresh `streamlit run app.py` (Enter pressed → answer with its chart shown; the
  question is sent as soon as the page is idle after signing in), beside the CLI ask of the same question
  in the same run;
- every page of retail and flights (sidebar click → page finished), idle, beside the same page while one
  other process keeps a core busy.

    .venv/bin/python benchmarks/cold_start.py [--repeat 3] [--app | --app-only]

Bytecode caching is on for every child (as for an installed package), whatever this shell says.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
QUESTION = "number of flights by origin"
APP_QUESTION = {"retail": "revenue by month last year", "flights": "average departure delay by airline"}


@dataclass(frozen=True)
class Run:
    """One measured process: wall and CPU seconds, peak RSS, and what it printed."""

    wall: float
    cpu: float
    rss_mb: float
    stdout: str


@dataclass
class Series:
    """Repeated measurements of one thing."""

    name: str
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)

    def add(self, run: Run) -> None:
        """Record a run."""
        self.walls.append(run.wall)
        self.cpus.append(run.cpu)
        self.rss.append(run.rss_mb)

    def cell(self) -> str:
        """'median (min–max) s'."""
        return f"{statistics.median(self.walls):.2f} s ({min(self.walls):.2f}–{max(self.walls):.2f})"


def child_env(data_dir: Path) -> dict[str, str]:
    """The environment of every measured process: this checkout's code, a private data dir, bytecode cached."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "DATATRUTH_DATA_DIR": str(data_dir),
            "DATATRUTH_STORE_URL": f"sqlite:///{data_dir / 'metadata.sqlite'}",
            "DATATRUTH_LOCAL_USER": "local",
        }
    )
    return env


def measure_rusage(argv: list[str], env: dict[str, str]) -> Run:
    """Run a process to its end: wall time, its own CPU time and peak RSS (wait4, before anything reaps it)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        process = subprocess.Popen(argv, env=env, cwd=REPO, stdout=out_file, stderr=err_file)
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read().decode(), err_file.read().decode()
    if process.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}):\n{err[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out)


def prepare(root: Path) -> Path:
    """A private data dir holding copies of the demo warehouses (built with `datatruth demo build` if missing)."""
    built = REPO / ".datatruth"
    if not all((built / ws / "warehouse.build.json").exists() for ws in ("retail", "flights")):
        subprocess.run(
            [sys.executable, "-m", "datatruth.cli.main", "demo", "build"],
            cwd=REPO,
            check=True,
            env={**os.environ, "PYTHONPATH": str(REPO), "DATATRUTH_DATA_DIR": str(built)},
        )
    data = root / "data"
    for ws in ("retail", "flights"):
        (data / ws).mkdir(parents=True)
        for name in ("warehouse.duckdb", "warehouse.build.json"):
            shutil.copy2(built / ws / name, data / ws / name)
    return data


def datatruth(*args: str) -> list[str]:
    """The installed `datatruth` script with arguments (the code comes from this checkout via PYTHONPATH)."""
    script = VENV_BIN / "datatruth"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "datatruth.cli.main", *args]


PEER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.execute(sys.argv[2]).fetchall()
print(len(rows))
"""
# The same, ending in a pandas DataFrame as DataTruth's answers do (pandas and pyarrow imports included).
PEER_FRAME = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
frame = con.execute(sys.argv[2]).df()
print(len(frame))
"""


def cli_rows(data: Path, repeat: int) -> list[tuple[str, Series, Series]]:
    """The CLI ask (with and without snapshots) and --help, interleaved with their peers."""
    env = child_env(data)
    ask = datatruth("ask", "-w", "flights", "--refresh", "--json", QUESTION)
    warm = measure_rusage(ask, env)  # writes bytecode, value index and snapshots; not counted
    sql = json.loads(warm.stdout)["sql"]
    peer = [sys.executable, "-c", PEER, str(data / "flights" / "warehouse.duckdb"), sql]
    peer_frame = [sys.executable, "-c", PEER_FRAME, str(data / "flights" / "warehouse.duckdb"), sql]
    snapshots = [data / "flights" / "ask" / name for name in ("layer.pickle", "planner.pickle")]
    cold, cold_peer, frame_peer = Series("ask"), Series("peer"), Series("peer frame")
    fresh, fresh_peer = Series("ask, no snapshots"), Series("peer")
    help_run, bare = Series("--help"), Series("python -c pass")
    for _ in range(repeat):
        cold.add(measure_rusage(ask, env))
        cold_peer.add(measure_rusage(peer, env))
        frame_peer.add(measure_rusage(peer_frame, env))
        for path in snapshots:
            path.unlink(missing_ok=True)
        fresh.add(measure_rusage(ask, env))
        fresh_peer.add(measure_rusage(peer, env))
        help_run.add(measure_rusage(datatruth("--help"), env))
        bare.add(measure_rusage([sys.executable, "-c", "pass"], env))
    return [
        (f'`datatruth ask -w flights --refresh --json "{QUESTION}"` (new process)', cold, cold_peer),
        ("the same ask (same runs)", cold, frame_peer),
        ("the same ask after a model or data change (no snapshots)", fresh, fresh_peer),
        ("`datatruth --help`", help_run, bare),
    ]


def _ratio(a: Series, b: Series) -> str:
    return f"{statistics.median(a.walls) / statistics.median(b.walls):.1f}×"


def print_cli(rows: list[tuple[str, Series, Series]], peers: dict[str, str]) -> None:
    """A markdown table of the CLI rows."""
    print("| what | median wall (range) | CPU s | peak RSS | peer | peer wall (range) | ratio |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: |")
    for label, mine, peer in rows:
        cpu = f"{statistics.median(mine.cpus):.2f}" if mine.cpus else "—"
        rss = f"{statistics.median(mine.rss):.0f} MB" if mine.rss else "—"
        print(
            f"| {label} | {mine.cell()} | {cpu} | {rss} | {peers[peer.name]} | {peer.cell()} | {_ratio(mine, peer)} |"
        )


# -- the app -------------------------------------------------------------------------------------------------


def _browser_helpers() -> Any:
    sys.path.insert(0, str(REPO / "tests"))
    from browser import conftest, test_walk

    return conftest, test_walk


def _answer_seconds(page: Any, conftest: Any, question: str) -> float:
    """Send a question on the Ask page; seconds from Enter until the answer shows its chart."""
    from playwright.sync_api import Error as PlaywrightError

    box = page.get_by_test_id("stChatInputTextArea")
    for attempt in range(3):
        # Text sent while Streamlit reruns the page can be dropped (tests/browser/test_walk.py types it
        # again, like a person), and a rerun can briefly show the old input beside the new one: the clock
        # starts at the Enter that got through.
        conftest.wait_idle(page)
        try:
            box.fill(question)
            started = time.perf_counter()
            box.press("Enter")
            page.get_by_test_id("stChatMessage").first.wait_for(timeout=15_000)
            break
        except PlaywrightError:  # a timeout, or two inputs for a moment
            if attempt == 2:
                raise
    answer = page.get_by_test_id("stChatMessage").nth(1)
    answer.wait_for(timeout=180_000)
    answer.get_by_test_id("stPlotlyChart").first.wait_for(timeout=180_000)
    return time.perf_counter() - started


def _page_ready(page: Any, conftest: Any, walk: Any, title: str, workspace: str) -> None:
    """What tests/browser/test_walk.py waits for on each page, without its fixed settling pause."""
    kind, text = walk.READY[title]
    if kind == "chat":
        target = page.get_by_test_id("stChatInputTextArea")
    elif kind == "button":
        target = page.get_by_role("button", name=text, include_hidden=True)
    elif kind == "either":
        target = page.get_by_role("button", name=text[0]).or_(page.get_by_text(text[1]))
    else:
        target = page.get_by_text(text)
    target.first.wait_for(state="attached", timeout=120_000)
    if title == "Dashboards":  # every tile ends with its link
        deadline = time.monotonic() + 120
        while target.count() < len(walk.PINS[workspace]) and time.monotonic() < deadline:
            page.wait_for_timeout(50)
    conftest.wait_idle(page, settle_ms=0)


def _busy() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def app_rows(
    root: Path, data: Path, repeat: int
) -> tuple[list[tuple[str, Series, Series]], dict[tuple[str, str], tuple[Series, Series]]]:
    """The first answer of fresh apps (beside the CLI ask of the same question) and every page's load time."""
    conftest, walk = _browser_helpers()
    from playwright.sync_api import sync_playwright

    app_env = conftest.prepare_env(root / "app", data)
    seed_log = app_env.root / "walk-slow.log"
    entries = [
        walk.ENTRY.format(
            minute=n,
            n=n,
            seconds=1.5 + n / 10,
            examined=400_000 + n,
            sql=f"SELECT count(*) FROM order_lines WHERE product_id = {n}",
        )
        for n in range(12)
    ]
    seed_log.write_text(walk.SLOW_LOG.format(entries="".join(entries)))
    subprocess.run(
        [sys.executable, "-c", walk.SEED, repr(walk.PINS), str(app_env.root), str(seed_log)],
        env={**app_env.env, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    env = {k: v for k, v in app_env.env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO)
    app_env = conftest.AppEnv(
        app_env.root, app_env.data_dir, app_env.workspaces_dir, app_env.credentials, app_env.passwords, env
    )
    first, first_peer = Series("first answer"), Series("cli")
    pages: dict[tuple[str, str], tuple[Series, Series]] = {}
    cli = datatruth("ask", "-w", "retail", "--refresh", "--json", APP_QUESTION["retail"])
    with sync_playwright() as playwright:
        browser = conftest.launch_browser(playwright)
        for round_ in range(repeat):
            app = conftest.start_app(app_env, name=f"bench-{round_}")
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.set_default_timeout(conftest.WAIT_MS)
                page = context.new_page()
                conftest.login(page, app, "admin", app_env.passwords["admin"])
                conftest.signed_in(page, "admin")
                first.walls.append(_answer_seconds(page, conftest, APP_QUESTION["retail"]))
                first_peer.add(measure_rusage(cli, env))
                for busy in (False, True):
                    burner = _busy() if busy else None
                    try:
                        for workspace in walk.WORKSPACES:
                            walk._switch(page, workspace)
                            nav = page.get_by_test_id("stSidebarNav")
                            titles = [t for t in walk.HEADINGS if nav.get_by_role("link", name=t).count()]
                            for title in titles[1:] + titles[:1]:
                                began = time.perf_counter()
                                conftest.sidebar_nav(page, title, walk.HEADINGS[title])
                                conftest.wait_idle(page, settle_ms=0)
                                _page_ready(page, conftest, walk, title, workspace)
                                idle, loaded = pages.setdefault(
                                    (workspace, title), (Series("idle"), Series("busy"))
                                )
                                (loaded if busy else idle).walls.append(time.perf_counter() - began)
                    finally:
                        if burner is not None:
                            burner.kill()
                            burner.wait()
                context.close()
            finally:
                app.stop()
        browser.close()
    return [
        (
            f'first answer of a fresh `streamlit run app.py` ("{APP_QUESTION["retail"]}", retail)',
            first,
            first_peer,
        )
    ], pages


def print_pages(pages: dict[tuple[str, str], tuple[Series, Series]]) -> None:
    """A markdown table of page loads, idle and beside one busy process."""
    print("| page | retail idle | retail, one busy process | flights idle | flights, one busy process |")
    print("| --- | ---: | ---: | ---: | ---: |")
    titles = list(dict.fromkeys(title for _ws, title in pages))
    for title in titles:
        cells = []
        for ws in ("retail", "flights"):
            idle, busy = pages.get((ws, title), (Series("idle"), Series("busy")))
            cells += [idle.cell() if idle.walls else "—", busy.cell() if busy.walls else "—"]
        print(f"| {title} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    """Measure and print the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument(
        "--app", action="store_true", help="also the app: first answer and page loads (chromium)"
    )
    parser.add_argument(
        "--app-only", action="store_true", help="only the app rows (the CLI's own rows are skipped)"
    )
    args = parser.parse_args(argv)
    peers = {
        "peer": "python + duckdb, same SQL, rows",
        "peer frame": "python + duckdb, same SQL, pandas frame",
        "python -c pass": "`python -c pass`",
        "cli": "`datatruth ask --refresh` of the same question",
    }
    with tempfile.TemporaryDirectory(prefix="dt-cold-") as tmp:
        root = Path(tmp)
        data = prepare(root)
        rows = [] if args.app_only else cli_rows(data, args.repeat)
        load = os.getloadavg()
        pages: dict[tuple[str, str], tuple[Series, Series]] = {}
        if args.app or args.app_only:
            app, pages = app_rows(root, data, args.repeat)
            rows += app
        print(
            f"\n{args.repeat} rounds, interleaved; 1-minute load average before the app rounds: "
            f"{load[0]:.1f}, at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n"
        )
        print_cli(rows, peers)
        if pages:
            print(f"\nPage loads (sidebar click → page finished), median (range) of {args.repeat} rounds\n")
            print_pages(pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
