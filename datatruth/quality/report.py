"""Full ydata-profiling HTML reports of a table, computed on a SQL-side sample, in the background with progress."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from datatruth.errors import UserError
from datatruth.quality import stats_sql
from datatruth.quality.checks import REDACTED
from datatruth.quality.source import Source, open_source

if TYPE_CHECKING:
    import pandas as pd

    from datatruth.workspace.registry import Workspace

DEFAULT_SAMPLE_ROWS = 100_000
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ReportResult:
    """A written report."""

    table: str
    path: Path
    rows: int
    seconds: float
    created_at: dt.datetime


def report_path(ws: Workspace, table: str) -> Path:
    """Where the report of `table` is kept (inside the workspace's own data dir)."""
    return ws.data_dir / "reports" / f"{table}.html"


def sample_frame(
    source: Source, table: str, rows: int, sensitive: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """A random sample of `rows` rows taken in SQL, with sensitive columns masked."""
    import pandas as pd

    columns = source.columns(table)
    q = stats_sql.sample_query(
        source.dialect, source.table(table), [stats_sql.col(c.name) for c in columns], rows
    )
    frame = pd.DataFrame(source.rows(q), columns=[c.name for c in columns])
    for c in columns:
        if f"{table}.{c.name}".lower() in sensitive:
            frame[c.name] = frame[c.name].where(frame[c.name].isna(), REDACTED)
    return frame


def build_report(
    ws: Workspace, table: str, *, sample_rows: int = DEFAULT_SAMPLE_ROWS, progress: Progress | None = None
) -> ReportResult:
    """Sample the table in SQL, profile the sample with ydata-profiling (offline) and write the HTML."""
    if sample_rows < 1:
        raise UserError("the report sample must hold at least one row", "pass a positive sample size")
    report = progress or (lambda _f, _m: None)
    started = time.perf_counter()
    # ydata-profiling pings its vendor with usage analytics unless told not to; nothing here may reach the network.
    os.environ["YDATA_PROFILING_NO_ANALYTICS"] = "True"
    from ydata_profiling import ProfileReport

    source = open_source(ws)
    try:
        if table not in source.table_names():
            raise UserError(
                f"table '{table}' does not exist in workspace {ws.name}", "pick a table from the list"
            )
        report(0.05, f"sampling {sample_rows:,} rows of {table} in SQL")
        sensitive = (
            frozenset()
            if ws.config.allow_raw_samples
            else frozenset(s.lower() for s in ws.config.sensitive_columns)
        )
        frame = sample_frame(source, table, sample_rows, sensitive)
    finally:
        source.close()
    report(0.25, f"profiling {len(frame):,} sampled rows")
    profile = ProfileReport(
        frame,
        title=f"{ws.name}.{table} (sample of {len(frame):,} rows)",
        progress_bar=False,
        explorative=False,
        correlations=None,
        interactions=None,
        samples={"head": 5, "tail": 0},
        html={"inline": True, "use_local_assets": True},
    )
    profile.get_description()
    report(0.8, "rendering HTML")
    html = profile.to_html()
    path = report_path(ws, table)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    report(1.0, f"report written ({len(html) // 1024:,} KB)")
    return ReportResult(
        table, path, len(frame), time.perf_counter() - started, dt.datetime.now(dt.UTC).replace(tzinfo=None)
    )


class ReportJob:
    """A report being built in a background thread; the page polls `progress` and `message`."""

    def __init__(self, ws: Workspace, table: str, sample_rows: int) -> None:
        self.table = table
        self.progress = 0.0
        self.message = "queued"
        self.result: ReportResult | None = None
        self.error: UserError | None = None
        self._thread = threading.Thread(target=self._work, args=(ws, table, sample_rows), daemon=True)

    def _update(self, fraction: float, message: str) -> None:
        self.progress, self.message = fraction, message

    def _work(self, ws: Workspace, table: str, sample_rows: int) -> None:
        try:
            self.result = build_report(ws, table, sample_rows=sample_rows, progress=self._update)
        except UserError as err:
            self.error = err
            self.message = err.message

    @property
    def done(self) -> bool:
        """True once the thread finished (with a result or an error)."""
        return not self._thread.is_alive() and (self.result is not None or self.error is not None)


_JOBS: dict[tuple[str, str], ReportJob] = {}
_LOCK = threading.Lock()


def start_report(ws: Workspace, table: str, sample_rows: int = DEFAULT_SAMPLE_ROWS) -> ReportJob:
    """Start (or return the running) background report job for one table of one workspace."""
    with _LOCK:
        job = _JOBS.get((ws.name, table))
        if job is None or job.done:
            job = _JOBS[(ws.name, table)] = ReportJob(ws, table, sample_rows)
            job._thread.start()
        return job


def report_job(ws: Workspace, table: str) -> ReportJob | None:
    """The latest report job of a table in this process, if any."""
    return _JOBS.get((ws.name, table))
