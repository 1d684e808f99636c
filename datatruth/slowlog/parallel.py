"""Aggregate a large plain MySQL slow log on several cores: one slice per process, merged in order.

Slices end on record boundaries chosen so that no record needs to look past its
slice (the line before the boundary is a statement line, not a header), each slice
starts with the clock of the last '# Time:' line before it, and the partial
aggregates are merged in file order, so the result equals a single pass.

Each worker is a forked process that parses one slice and sends back one result on
its own pipe; there is no task queue to wait on. A worker exits as soon as its parent
dies (a kill -9 of `slowlog analyze` leaves nothing behind): the kernel signals it
(Linux PR_SET_PDEATHSIG), and a watchdog thread checks the parent elsewhere.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from datatruth.errors import InternalError, UserError
from datatruth.slowlog.aggregate import Aggregator
from datatruth.slowlog.events import ParseProblem
from datatruth.slowlog.logfile import file_compression
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
_PR_SET_PDEATHSIG = 1
_WATCH_EVERY_S = 0.5


@dataclass(frozen=True)
class SliceResult:
    """One worker's output: its aggregator, the problems it met, and what it saw."""

    aggregator: Aggregator
    problems: tuple[ParseProblem, ...]
    events: int
    saw_content: bool
    saw_header: bool


def default_jobs() -> int:
    """How many processes to use: one per free CPU (CPUs this process may use minus the load), 1 to MAX_JOBS.

    A second process only helps when a core is free: on a busy machine it just shares this one's
    CPU time, and the slicing and merging are paid for nothing (measured: benchmarks/slowlog_throughput.py).
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    free = int(cpus - load)  # cores nobody else is using; this run takes one of them
    return max(1, min(MAX_JOBS, cpus, free + 1))


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
    """Parse and aggregate one slice (in a worker, or in the parent for the first slice)."""
    problems: list[ParseProblem] = []
    state = ScanState()
    clock, database = context_before(Path(path), start) if start else (None, None)
    aggregator = Aggregator()
    count = aggregator.add_all(
        iter_mysql_slice(Path(path), start, end, problems, state, clock, database, on_row=aggregator.add_row)
    )
    aggregator.flush()
    return SliceResult(
        aggregator, tuple(problems), count + aggregator.rows, state.saw_content, state.saw_header
    )


def _die_with_parent(parent: int) -> None:
    """Make this worker end when `parent` ends: a kernel signal on Linux, a watchdog thread everywhere."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(_WATCH_EVERY_S)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _worker(parent: int, conn: Connection, path: str, start: int, end: int) -> None:
    """Process body: arm the parent watch, parse the slice, send ('ok', result) or ('error', exception)."""
    _die_with_parent(parent)
    try:
        payload: tuple[str, object] = ("ok", _run_slice(path, start, end))
    except Exception as err:  # noqa: BLE001 - sent to the parent, which raises it again
        payload = ("error", err)
    conn.send(payload)
    conn.close()


def _collect(proc: multiprocessing.process.BaseProcess, conn: Connection) -> SliceResult:
    """The result a worker sent, or the error it met; a worker that died says how."""
    try:
        kind, value = conn.recv()
    except EOFError:
        proc.join()
        raise UserError(
            f"a worker process stopped before it finished its part of the log (exit code {proc.exitcode})",
            "run again with --jobs 1, which reads the log in this process",
        ) from None
    finally:
        conn.close()
    proc.join()
    if kind == "error" and isinstance(value, BaseException):
        raise value
    if kind != "ok" or not isinstance(value, SliceResult):
        raise InternalError(f"a worker process sent {kind!r} with a {type(value).__name__}")
    return value


def aggregate_mysql_file(path: Path, jobs: int | None = None) -> tuple[Aggregator, list[ParseProblem], int]:
    """Aggregate a MySQL slow log, in parallel when it is a large plain file; returns (aggregator, problems, events)."""
    jobs = default_jobs() if jobs is None else max(1, jobs)
    methods = multiprocessing.get_all_start_methods()
    if (
        jobs == 1
        or "fork" not in methods
        or path.stat().st_size < MIN_PARALLEL_BYTES
        or file_compression(path) is not None
    ):
        problems: list[ParseProblem] = []
        aggregator = Aggregator()
        count = aggregator.add_all(iter_mysql_events(path, problems, on_row=aggregator.add_row))
        return aggregator, problems, count + aggregator.rows

    slices = plan_slices(path, jobs)
    # fork: the workers start at once with everything imported; no pickled task is sent to them.
    context = multiprocessing.get_context("fork")
    parent = os.getpid()
    workers: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    try:
        for start, end in slices[1:]:
            receive, send = context.Pipe(duplex=False)
            proc = context.Process(target=_worker, args=(parent, send, str(path), start, end), daemon=True)
            proc.start()
            send.close()  # only the worker writes; its end closing tells us when it is gone
            workers.append((proc, receive))
        # The first slice runs here while the workers run the others.
        results = [_run_slice(str(path), *slices[0])]
        results += [_collect(worker, conn) for worker, conn in workers]
    finally:
        for started, _conn in workers:
            if started.is_alive():
                started.kill()
                proc.join()

    merged = results[0].aggregator
    for later in results[1:]:
        merged.merge(later.aggregator)
    all_problems = [p for r in results for p in r.problems]
    events = sum(r.events for r in results)
    if events == 0 and any(r.saw_content for r in results) and not any(r.saw_header for r in results):
        raise not_a_slow_log_error(all_problems)
    return merged, all_problems, events
