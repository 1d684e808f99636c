"""Aggregate a large plain MySQL slow log on several cores: one slice per process, merged in order.

Slices end on record boundaries chosen so that no record needs to look past its
slice (the line before the boundary is a statement line, not a header), each slice
starts with the clock of the last '# Time:' line before it, and the partial
aggregates are merged in file order, so the result equals a single pass.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from datatruth.slowlog.aggregate import Aggregator
from datatruth.slowlog.events import ParseProblem
from datatruth.slowlog.mysql_log import (
    ScanState,
    context_before,
    iter_mysql_events,
    iter_mysql_slice,
    not_a_slow_log_error,
)

MIN_PARALLEL_BYTES = 16 << 20  # below this, starting processes costs more than it saves
MAX_JOBS = 8
_SEP = b";\n#"
_HEADER_STARTS = (b"#", b"use ", b"SET ")


@dataclass(frozen=True)
class SliceResult:
    """One worker's output: its aggregator, the problems it met, and what it saw."""

    aggregator: Aggregator
    problems: tuple[ParseProblem, ...]
    events: int
    saw_content: bool
    saw_header: bool


def default_jobs() -> int:
    """How many processes to use: the CPUs this process may run on, at most MAX_JOBS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_JOBS, cpus))


def _boundary_after(path: Path, offset: int, size: int) -> int | None:
    """First safe record boundary at or after `offset` (just past a ';\\n#' after a statement line)."""
    window = 1 << 20
    with open(path, "rb") as fh:
        pos = offset
        while pos < size:
            fh.seek(pos)
            block = fh.read(window + len(_SEP))
            idx = block.find(_SEP)
            while idx >= 0:
                line_start = block.rfind(b"\n", 0, idx) + 1
                if line_start > 0 and not block[line_start:idx].startswith(_HEADER_STARTS):
                    return pos + idx + len(_SEP)
                idx = block.find(_SEP, idx + 1)
            pos += window
    return None


def plan_slices(path: Path, jobs: int) -> list[tuple[int, int]]:
    """Byte ranges [start, end) covering the file, cut at safe record boundaries."""
    size = path.stat().st_size
    cuts = [0]
    for k in range(1, jobs):
        cut = _boundary_after(path, size * k // jobs, size)
        if cut is not None and cut > cuts[-1] and cut < size:
            cuts.append(cut)
    cuts.append(size)
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _run_slice(path: str, start: int, end: int) -> SliceResult:
    """Worker: parse and aggregate one slice."""
    problems: list[ParseProblem] = []
    state = ScanState()
    clock, database = context_before(Path(path), start) if start else (None, None)
    aggregator = Aggregator()
    count = aggregator.add_all(iter_mysql_slice(Path(path), start, end, problems, state, clock, database))
    return SliceResult(aggregator, tuple(problems), count, state.saw_content, state.saw_header)


def aggregate_mysql_file(path: Path, jobs: int | None = None) -> tuple[Aggregator, list[ParseProblem], int]:
    """Aggregate a MySQL slow log, in parallel when it is a large plain file; returns (aggregator, problems, events)."""
    jobs = default_jobs() if jobs is None else max(1, jobs)
    is_gzip = path.open("rb").read(2) == b"\x1f\x8b"
    if jobs == 1 or is_gzip or path.stat().st_size < MIN_PARALLEL_BYTES:
        problems: list[ParseProblem] = []
        aggregator = Aggregator()
        count = aggregator.add_all(iter_mysql_events(path, problems))
        return aggregator, problems, count

    slices = plan_slices(path, jobs)
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=len(slices) - 1 or 1, mp_context=context) as pool:
        futures = [pool.submit(_run_slice, str(path), start, end) for start, end in slices[1:]]
        # The first slice runs here while the workers run the others.
        results = [_run_slice(str(path), *slices[0])] + [f.result() for f in futures]

    merged = results[0].aggregator
    for later in results[1:]:
        merged.merge(later.aggregator)
    all_problems = [p for r in results for p in r.problems]
    events = sum(r.events for r in results)
    if events == 0 and any(r.saw_content for r in results) and not any(r.saw_header for r in results):
        raise not_a_slow_log_error(all_problems)
    return merged, all_problems, events
