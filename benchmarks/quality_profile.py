"""Benchmark: in-warehouse profile vs ydata-profiling (minimal) on a generated 20-column table.

Each measurement runs in its own subprocess so peak memory (VmHWM) belongs to one side only, and each
side is measured --repeat times, interleaved (the machine may be shared): the table shows the median and
the range of wall time, and the CPU time, which a busy machine disturbs less.
Libraries are imported before the clock starts on both sides; connecting and reading the data are timed.

The datatruth profile timed here is the default `profile_table`, including the exact duplicate-row count:
per column count, NULLs, distinct (HyperLogLog estimate above 200,000 rows), min/max, mean and stddev
(exact), quantiles (from a 20,000-row reservoir sample above 200,000 rows), top 10 values with exact
counts, string lengths, format classes and shapes (from a block sample above 200,000 rows), freshness,
and the exact number of duplicate rows.

Usage: python benchmarks/quality_profile.py [--rows 1000000 10000000] [--ydata-max-rows 1000000]
       [--repeat 3] [--baseline OLD_PROFILE_PY]
--baseline times another version of datatruth/quality/profile.py (a file path) on the same tables, for a
before/after table. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

DUCKDB_LIMITS = {"memory_limit": "512MB", "threads": "2"}
INCLUDES = (
    "count, NULLs, distinct, min/max/mean/stddev, quantiles, top values, string lengths, "
    "format classes and shapes, freshness, exact duplicate-row count"
)


def _generate(path: Path, rows: int) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("SET memory_limit='1GB'; SET threads=2; SET enable_progress_bar=false")
    cols = []
    for i in range(8):
        cols.append(f"random() * {10 ** (i % 4 + 1)} AS num_{i}")
    for i in range(4):
        cols.append(f"(random() * 1000)::INTEGER AS int_{i}")
    for i in range(4):
        cols.append(
            f"CASE WHEN random() < 0.05 THEN NULL ELSE 'cat_' || (random() * {10 ** (i + 1)})::INTEGER END AS str_{i}"
        )
    cols.append("'user' || range || '@example.org' AS email")
    cols.append("'(212) 555-' || lpad((range % 10000)::VARCHAR, 4, '0') AS phone")
    cols.append("DATE '2020-01-01' + (range % 1500)::INTEGER AS day")
    cols.append("TIMESTAMP '2020-01-01' + to_seconds(range % 100000000) AS ts")
    con.execute(f"CREATE TABLE bench AS SELECT {', '.join(cols)} FROM range({rows})")
    con.close()


def _load_profiler(baseline: str | None):  # noqa: ANN202 - returns profile_table of either version
    if not baseline:
        from datatruth.quality.profile import profile_table

        return profile_table
    import importlib.util

    spec = importlib.util.spec_from_file_location("baseline_profile", baseline)
    module = importlib.util.module_from_spec(spec)
    sys.modules["baseline_profile"] = module
    spec.loader.exec_module(module)
    return module.profile_table


def _cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(kind: str, path: str, rows: int, baseline: str | None) -> None:
    """Profile in this process; libraries are imported before the clock starts so only the work is timed."""
    import os
    import resource
    import time

    os.environ["YDATA_PROFILING_NO_ANALYTICS"] = "True"  # no usage ping to the network
    extra: dict = {}
    if kind == "datatruth":
        import duckdb_engine  # noqa: F401 - SQLAlchemy imports the dialect lazily; keep that off the clock

        from datatruth.quality.source import Source

        profile_table = _load_profiler(baseline)
        cpu_start = _cpu_seconds()
        start = time.perf_counter()
        source = Source(f"duckdb:///{path}", connect_args={"config": dict(DUCKDB_LIMITS)})
        prof = profile_table(source, "bench")
        assert prof.row_count == rows
        assert prof.duplicate_rows is not None  # the exact duplicate-row count is part of what is timed
        extra = {"queries": prof.queries, "duplicate_rows": prof.duplicate_rows}
    else:
        import duckdb
        from ydata_profiling import ProfileReport

        cpu_start = _cpu_seconds()
        start = time.perf_counter()
        frame = duckdb.connect(path, read_only=True).execute("SELECT * FROM bench").df()
        report = ProfileReport(frame, minimal=True, progress_bar=False)
        report.get_description()
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_start
    sys.stdout.write(
        json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": _peak_mb(usage.ru_maxrss), **extra})
        + "\n"
    )


def _peak_mb(ru_maxrss_kb: int) -> float:
    """This process's own peak RSS (VmHWM).

    Linux carries the pre-exec memory's high-water mark into ru_maxrss, so a child forked from a parent that
    has just generated a big table would report the parent's size; VmHWM belongs to the new process image.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return ru_maxrss_kb / 1024


def _run(kind: str, path: Path, rows: int, baseline: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, str(path), str(rows)]
    if baseline:
        cmd += ["--baseline", baseline]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(runs: list[dict]) -> dict:
    secs = [r["seconds"] for r in runs]
    return {
        "median": statistics.median(secs),
        "min": min(secs),
        "max": max(secs),
        "cpu": statistics.median(r["cpu_seconds"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
    }


def _cell(m: dict | None) -> str:
    if m is None:
        return "skipped | skipped | skipped"
    return f"{m['median']:.2f} ({m['min']:.2f}–{m['max']:.2f}) | {m['cpu']:.2f} | {m['peak_mb']:.0f}"


def main() -> None:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--ydata-max-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", help="path of an older profile.py to time as 'before'")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], int(args.child[2]), args.baseline)
        return
    sides = (["before"] if args.baseline else []) + ["datatruth", "ydata"]
    header = " | ".join(f"{side} wall s (range) | {side} CPU s | {side} peak MB" for side in sides)
    lines = [
        f"| rows × cols | {header} | speed-up vs ydata, wall (range) |",
        "|---|" + "---|---|---|" * len(sides) + "---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            path = Path(tmp) / f"b{rows}.duckdb"
            _generate(path, rows)
            runs: dict[str, list[dict]] = {side: [] for side in sides}
            # Rounds interleave the sides so that a busy moment on a shared machine hits all of them alike.
            for _ in range(args.repeat):
                if args.baseline:
                    runs["before"].append(_run("datatruth", path, rows, args.baseline))
                runs["datatruth"].append(_run("datatruth", path, rows))
                if rows <= args.ydata_max_rows:
                    runs["ydata"].append(_run("ydata", path, rows))
            cells = [_cell(_summary(runs[side]) if runs[side] else None) for side in sides]
            speed = "n/a"
            if runs["ydata"]:
                ratios = [
                    y["seconds"] / o["seconds"] for y, o in zip(runs["ydata"], runs["datatruth"], strict=True)
                ]
                speed = f"{statistics.median(ratios):.1f}× ({min(ratios):.1f}–{max(ratios):.1f}×)"
            lines.append(f"| {rows:,} × 20 | {' | '.join(cells)} | {speed} |")
            path.unlink()
    lines.append("")
    lines.append(
        f"Wall seconds are the median of {args.repeat} runs (range in brackets), each in a fresh process, "
        "the sides interleaved run by run; the speed-up is the median (range) of the per-run ratios. "
        "CPU s is the median user+system time of the process; peak MB is the largest peak RSS (VmHWM) of the process. "
        "The datatruth profile includes: " + INCLUDES + "."
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
