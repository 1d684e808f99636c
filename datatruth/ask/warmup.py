"""Warming a workspace in the background, so the first question of a new app process does not pay for it.

A fresh process would otherwise do all of this on its first question: open the warehouse, activate the
semantic layer (or read its snapshot), build the planner and its value index, compile a first query (the SQL
dialect, compiler and guard) and import what the pages draw with. `start()` runs these steps, in order, on a daemon thread, once per process and workspace;
`status()` says which step runs and how far along it is, for a progress bar. The steps fill the same
process-wide memos the pipeline reads (datatruth.ask.pipeline, datatruth.ask.planner), so the question that
follows finds them ready. A step that fails stops the warm-up with its message; the question then meets the
same error, in the place where errors are shown.
"""

from __future__ import annotations

import functools
import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from datatruth import resources
from datatruth.errors import UserError
from datatruth.logs import get_logger

log = get_logger("warmup")


@dataclass(frozen=True)
class WarmupStatus:
    """Where a workspace's warm-up is: the step running (or last run), the share done, and how it ended."""

    workspace: str
    step: str
    fraction: float
    finished: bool
    error: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class Step:
    """One named warm-up step."""

    label: str
    run: Callable[[], object]


def steps(ws: Any, store: Any, modules: tuple[str, ...] = ()) -> tuple[Step, ...]:
    """The warm-up steps of a workspace: warehouse, semantic layer, planner, a first query, then `modules`."""
    from datatruth.ask import pipeline

    def layer() -> object:
        return pipeline.workspace_resources(ws, store)

    def planner() -> object:
        found = pipeline.workspace_resources(ws, store)
        return pipeline.planner_for(ws, store, found.layer) if found.layer is not None else None

    def first_query() -> object:
        # Compiling and guarding one plan loads the SQL dialect, compiler and guard; nothing is run with it.
        from datatruth.semantic.plan import QueryPlan

        found = pipeline.workspace_resources(ws, store)
        if found.layer is None or not found.layer.metrics:
            return None
        plan = QueryPlan(metrics=(found.layer.metrics[0].name,))
        request = pipeline.AskRequest(ws, plan.describe(), "", store)
        state = pipeline.AskState(request, time.perf_counter(), resources=found, plan=plan)
        return pipeline.stage_guard(pipeline.stage_compile(state))

    out = [
        Step("opening the warehouse", lambda: ws.warehouse.run("SELECT 1", row_cap=1)),
        # the SQLAlchemy engine is built on first use (the CLI's JSON path never needs it); the app's quality
        # profiles, catalogue and column masking do, so the app builds it here rather than on a first visit
        Step("connecting the warehouse's SQL toolkit", lambda: ws.warehouse.engine),
        Step("activating the semantic model", layer),
        Step("building the planner and its value index", planner),
        Step("compiling a first query", first_query),
    ]
    out += [Step(f"loading {name}", functools.partial(importlib.import_module, name)) for name in modules]
    return tuple(out)


class Warmup:
    """The warm-up of one workspace in this process."""

    def __init__(self, workspace: str, work: tuple[Step, ...]) -> None:
        self.workspace = workspace
        self._steps = work
        self._lock = threading.Lock()
        self._status = WarmupStatus(workspace, "waiting", 0.0, False)
        self._thread: threading.Thread | None = None
        self._done = threading.Event()

    def start(self) -> None:
        """Run the steps on a daemon thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name=f"warmup-{self.workspace}", daemon=True)
            self._thread.start()

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._status = WarmupStatus(**{**self._status.__dict__, **changes})

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            for i, step in enumerate(self._steps):
                self._set(step=step.label, fraction=i / len(self._steps))
                step.run()
        except UserError as err:
            # The question that follows meets the same error where the page shows errors.
            self._set(error=err.message)
            log.warning("warm-up stopped", extra={"workspace": self.workspace, "error": err.message})
        finally:
            seconds = round(time.perf_counter() - started, 3)
            self._set(finished=True, fraction=1.0, seconds=seconds)
            log.info("warm-up finished", extra={"workspace": self.workspace, "seconds": seconds})
            self._done.set()

    def status(self) -> WarmupStatus:
        """A snapshot of the progress."""
        with self._lock:
            return self._status

    def wait(self, timeout: float | None = None) -> WarmupStatus:
        """Block until the warm-up finished (or `timeout` seconds passed); return its status."""
        self._done.wait(timeout)
        return self.status()


def start(ws: Any, store: Any, modules: tuple[str, ...] = ()) -> Warmup:
    """Start (once per process and workspace settings) warming `ws` in the background; return its Warmup."""
    warmup = resources.get(
        "warmup",
        ws.name,
        lambda: Warmup(ws.name, steps(ws, store, modules)),
        slot=resources.workspace_stamp(ws),
    )
    warmup.start()
    return warmup


def find(ws: Any) -> Warmup | None:
    """The warm-up started for this workspace (with these settings), if any."""
    return resources.peek("warmup", ws.name, slot=resources.workspace_stamp(ws))
