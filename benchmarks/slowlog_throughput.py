"""Throughput of `datatruth slowlog analyze` against pt-query-digest on the same generated slow log.

Generates a deterministic MySQL 5.7-style slow log (default 400,000 events over a few
hundred query classes with varying literals), runs datatruth (one process, then two)
and pt-query-digest on it in the same run, each --repeat times interleaved, and prints
a markdown table of medians (with ranges) of wall time, events/s, CPU time and peak RSS,
the speed-up against pt, and whether every run put the same query classes (by Query ID)
in the same top-10 order as pt.

    .venv/bin/python benchmarks/slowlog_throughput.py [--events 400000] [--repeat 3] [--seed 7] [--keep DIR]

pt-query-digest comes from Debian's percona-toolkit package
(`apt-get install -y percona-toolkit`); without it only datatruth is measured.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

DATATRUTH = REPO / ".venv" / "bin" / "datatruth"

TABLES = [
    "orders",
    "customers",
    "products",
    "invoices",
    "payments",
    "shipments",
    "carts",
    "sessions",
    "reviews",
    "coupons",
    "stock",
    "suppliers",
    "returns",
    "wishlists",
    "categories",
    "prices",
    "audit_log",
    "events",
    "users",
    "accounts",
    "tickets",
    "messages",
    "refunds",
    "warehouses",
    "carriers",
    "regions",
    "taxes",
    "discounts",
    "banners",
    "newsletters",
]
COLUMNS = ["id", "customer_id", "status", "created_at", "amount", "region", "email", "sku", "qty", "note"]
USERS = ["app", "app", "app", "report", "batch", "admin"]
HOSTS = ["web-1", "web-2", "web-3", "worker-1", "cron-1"]


@dataclass(frozen=True)
class Template:
    """One query class: a statement shape with slots for literals, and its latency profile."""

    shape: int
    table: str
    other: str
    column: str
    median_s: float
    weight: float


def _templates(rng: random.Random, count: int) -> list[Template]:
    out = []
    for i in range(count):
        table = TABLES[i % len(TABLES)]
        other = TABLES[(i * 7 + 3) % len(TABLES)]
        column = COLUMNS[(i // len(TABLES)) % len(COLUMNS)]
        shape = (i // len(TABLES) + i) % 10
        median = 10 ** rng.uniform(-4.5, 0.3)
        weight = 1.0 / (1 + i) ** 0.9  # Zipf-like: a few classes dominate, a long tail
        out.append(Template(shape, table, other, column, median, weight))
    return out


def _literal(rng: random.Random, column: str) -> str:
    if column in ("status", "region", "email", "sku", "note"):
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10)))
        return f"'{word}@example.com'" if column == "email" else f"'{word}'"
    if column == "created_at":
        return f"'2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:00:00'"
    return str(rng.randint(1, 10_000_000))


def _statement(t: Template, rng: random.Random) -> str:
    lit = _literal(rng, t.column)
    n = rng.randint(1, 3000)
    if t.shape == 0:
        return f"SELECT * FROM {t.table} WHERE {t.column} = {lit}"
    if t.shape == 1:
        ids = ", ".join(str(rng.randint(1, 99999)) for _ in range(rng.randint(1, 12)))
        return f"SELECT id, {t.column} FROM {t.table} WHERE id IN ({ids}) ORDER BY id ASC"
    if t.shape == 2:
        return (
            f"SELECT t.{t.column}, COUNT(*) AS n\nFROM {t.table} t\n  JOIN {t.other} o ON o.id = t.id\n"
            f"WHERE t.created_at >= '2024-01-{rng.randint(1, 28):02d}'\nGROUP BY t.{t.column}\n"
            f"ORDER BY n DESC\nLIMIT {rng.randint(5, 50)}"
        )
    if t.shape == 3:
        return f"UPDATE {t.table} SET {t.column} = {lit}, updated_at = NOW() WHERE id = {n}"
    if t.shape == 4:
        rows = ", ".join(
            f"({rng.randint(1, 10**6)}, {_literal(rng, 'note')}, {rng.random():.4f})"
            for _ in range(rng.randint(1, 5))
        )
        return f"INSERT INTO {t.table} (ref, note, score) VALUES {rows}"
    if t.shape == 5:
        return f"DELETE FROM {t.table} WHERE {t.column} = {lit} LIMIT {rng.randint(100, 1000)}"
    if t.shape == 6:
        return (
            f"SELECT SUM(amount) FROM {t.table} WHERE {t.column} = {lit} "
            f"AND created_at BETWEEN '2024-01-01' AND '2024-0{rng.randint(2, 9)}-01'"
        )
    if t.shape == 7:
        return f"SELECT /* {t.table} page */ * FROM {t.table} WHERE {t.column} > {n} LIMIT {n}, 20"
    if t.shape == 8:
        return f"SELECT * FROM {t.table} t LEFT JOIN {t.other} o ON o.ref = t.id WHERE t.{t.column} = {lit}"
    return f"REPLACE INTO {t.table} (id, {t.column}) VALUES ({n}, {lit})"


def generate(path: Path, events: int, seed: int, classes: int = 300) -> None:
    """Write a deterministic MySQL 5.7 slow log with `events` events over `classes` query classes."""
    rng = random.Random(seed)
    templates = _templates(rng, classes)
    weights = [t.weight for t in templates]
    start = datetime(2024, 3, 1, 8, 0, 0)
    picks = rng.choices(templates, weights=weights, k=events)
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            "/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:\n"
            "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\n"
            "Time                 Id Command    Argument\n"
        )
        current_db = None
        for i, t in enumerate(picks):
            when = start + timedelta(microseconds=i * 7919)
            qt = t.median_s * rng.lognormvariate(0, 0.6)
            lock = qt * rng.uniform(0, 0.05)
            rows = rng.randint(0, 500)
            examined = rows + rng.randint(0, 200_000 if qt > 0.1 else 2_000)
            user = rng.choice(USERS)
            host = rng.choice(HOSTS)
            out.write(
                f"# Time: {when:%Y-%m-%dT%H:%M:%S.%f}Z\n"
                f"# User@Host: {user}[{user}] @ {host} [10.0.0.{HOSTS.index(host) + 10}]  Id: {1000 + i % 500}\n"
                f"# Query_time: {qt:.6f}  Lock_time: {lock:.6f} Rows_sent: {rows}  Rows_examined: {examined}\n"
            )
            db = "shop" if i % 11 else "analytics"
            if db != current_db:
                out.write(f"use {db};\n")
                current_db = db
            out.write(f"SET timestamp={int(when.timestamp())};\n")
            if i % 997 == 0:
                out.write("# administrator command: Ping;\n")
                continue
            out.write(_statement(t, rng) + ";\n")


@dataclass(frozen=True)
class Run:
    """One tool's run: wall seconds, peak RSS and the Query IDs of its top classes."""

    tool: str
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    top_ids: tuple[str, ...]


_ID = re.compile(r"^# Query \d+: .*ID 0x([0-9A-F]+)", re.M)


def _measure(tool: str, argv: list[str]) -> Run:
    """Run a command under /usr/bin/time -v (peak RSS of that command only)."""
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = usage_before.ru_maxrss
    cpu_before = usage_before.ru_utime + usage_before.ru_stime
    t0 = time.perf_counter()
    proc = subprocess.run(timer + argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{tool} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    user = re.search(r"User time \(seconds\): ([\d.]+)", proc.stderr)
    system = re.search(r"System time \(seconds\): ([\d.]+)", proc.stderr)
    if match and user and system:
        peak_kb = int(match.group(1))
        cpu = float(user.group(1)) + float(system.group(1))
    else:
        # No /usr/bin/time: the children's counters are the best we have.
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_kb = max(before, usage.ru_maxrss)
        cpu = usage.ru_utime + usage.ru_stime - cpu_before
    return Run(tool, seconds, cpu, peak_kb / 1024, tuple(_ID.findall(proc.stdout)[:10]))


@dataclass(frozen=True)
class Summary:
    """Medians and ranges of one tool's repeated runs."""

    tool: str
    runs: tuple[Run, ...]

    def median(self, pick: str) -> float:
        """Median of one measure (seconds, cpu_seconds, peak_rss_mb) over the runs."""
        return statistics.median(getattr(run, pick) for run in self.runs)

    def span(self, pick: str) -> tuple[float, float]:
        """Smallest and largest value of one measure over the runs."""
        values = [getattr(run, pick) for run in self.runs]
        return min(values), max(values)


def _row(summary: Summary, events: int) -> str:
    wall, cpu = summary.median("seconds"), summary.median("cpu_seconds")
    low, high = summary.span("seconds")
    rates = sorted(events / run.seconds for run in summary.runs)
    return (
        f"| {summary.tool} | {wall:.2f} ({low:.2f}–{high:.2f}) | {events / wall:,.0f} "
        f"({rates[0]:,.0f}–{rates[-1]:,.0f}) | {cpu:.2f} | {events / cpu:,.0f} | {summary.median('peak_rss_mb'):.0f} |"
    )


def main(argv: list[str] | None = None) -> int:
    """Generate the log, time every tool on it --repeat times (interleaved), print the markdown table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--classes", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each tool, interleaved (default: 3)")
    parser.add_argument("--keep", type=Path, help="write the log here and keep it")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="slowlog-bench-"))
    log_path = (args.keep or workdir) / "bench-slow.log"
    try:
        t0 = time.perf_counter()
        generate(log_path, args.events, args.seed, args.classes)
        size_mb = log_path.stat().st_size / 1e6
        print(
            f"generated {args.events} events ({size_mb:.0f} MB, {args.classes} templates, seed {args.seed}) "
            f"in {time.perf_counter() - t0:.1f}s: {log_path}",
            file=sys.stderr,
        )

        analyze = [str(DATATRUTH), "slowlog", "analyze", str(log_path), "--limit", "10"]
        tools: list[tuple[str, list[str]]] = [
            ("datatruth slowlog analyze --jobs 1", analyze + ["--jobs", "1"]),
            ("datatruth slowlog analyze --jobs 2", analyze + ["--jobs", "2"]),
        ]
        pt = shutil.which("pt-query-digest")
        if pt:
            tools.append(("pt-query-digest", [pt, "--limit", "10", str(log_path)]))
        else:
            print(
                "pt-query-digest not found (apt-get install -y percona-toolkit); measuring datatruth only",
                file=sys.stderr,
            )
        load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        runs: dict[str, list[Run]] = {name: [] for name, _ in tools}
        for round_no in range(args.repeat):
            for name, command in tools:  # interleaved, so a busy minute hits every tool alike
                run = _measure(name, command)
                runs[name].append(run)
                print(
                    f"round {round_no + 1}: {name}: {run.seconds:.2f} s wall, {run.cpu_seconds:.2f} s CPU",
                    file=sys.stderr,
                )
        load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        summaries = [Summary(name, tuple(found)) for name, found in runs.items()]

        print(
            f"\nSlow-log analysis, {args.events:,} events ({size_mb:.0f} MB), {os.cpu_count()} CPU(s), same file, "
            f"same run; medians of {args.repeat} interleaved runs (range in brackets)\n"
        )
        print("| tool | wall time (s) | events/s (wall) | CPU time (s) | events/CPU-s | peak RSS (MB) |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for summary in summaries:
            print(_row(summary, args.events))
        print(
            f"\n(1-minute load average: {load_before:.1f} before, {load_after:.1f} after; with other work on "
            "the machine wall times stretch, and a second job only helps when a core is free)"
        )
        single, parallel = summaries[0], summaries[1]
        print(
            f"\n{parallel.tool} vs --jobs 1: {single.median('seconds') / parallel.median('seconds'):.2f}x "
            "(median wall)"
        )
        if len(summaries) == 3:
            theirs = summaries[2]
            for ours in (single, parallel):
                ratios = sorted(t.seconds / o.seconds for t, o in zip(theirs.runs, ours.runs, strict=True))
                print(
                    f"speed-up of {ours.tool} vs pt-query-digest: {theirs.median('seconds') / ours.median('seconds'):.2f}x "
                    f"(median wall; per round {ratios[0]:.2f}–{ratios[-1]:.2f}x), "
                    f"{theirs.median('cpu_seconds') / ours.median('cpu_seconds'):.2f}x in CPU time"
                )
            agree = True
            for ours in (single, parallel):
                same = all(run.top_ids == theirs.runs[0].top_ids for run in ours.runs)
                same_set = all(set(run.top_ids) == set(theirs.runs[0].top_ids) for run in ours.runs)
                agree = agree and same
                print(f"{ours.tool}: top-10 query IDs identical to pt's, in order, in every run: {same}")
                if not same_set:
                    print(f"  datatruth: {ours.runs[0].top_ids}\n  pt:        {theirs.runs[0].top_ids}")
            return 0 if agree else 1
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
