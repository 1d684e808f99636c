"""Inline reports for the %dt_quality, %dt_incidents and %dt_slowlog magics, as DataFrames plus a headline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from IPython.display import Markdown, display

from datatruth.store import incidents as incident_repo
from datatruth.store.engine import Store

if TYPE_CHECKING:
    from datatruth.workspace.registry import Workspace


def quality_report(ws: Workspace, table: str) -> pd.DataFrame:
    """Profile one table in the warehouse, score it with the workspace's checks, return one row per column."""
    from datatruth.quality.profile import profile_table
    from datatruth.quality.scores import score_table
    from datatruth.quality.source import open_source

    source = open_source(ws)
    try:
        if table.lower() not in {t.lower() for t in source.table_names()}:
            from datatruth.errors import NotFound

            raise NotFound(
                f"table '{table}' is not in workspace '{ws.name}'",
                f"tables: {', '.join(sorted(source.table_names()))}",
            )
        from datatruth.quality.profile import masked_profile
        from datatruth.quality.runner import sensitive_of

        profile = masked_profile(profile_table(source, table), sensitive_of(ws))
    finally:
        source.close()
    score = score_table(profile, [])
    dims = ", ".join(f"{d.dimension} {d.score:.0f}" for d in score.dimensions if d.score is not None)
    headline = f"**{table}**: {profile.row_count:,} rows · score {score.score:.0f}/100 · {dims}"
    if profile.duplicate_rows:
        headline += f" · {profile.duplicate_rows:,} duplicate rows"
    display(Markdown(headline))
    return pd.DataFrame(
        [
            {
                "column": c.name,
                "type": c.type,
                "nulls %": round(100 * c.null_share, 2),
                "distinct": c.distinct,
                "min": c.min,
                "max": c.max,
                "mean": c.mean,
                "low quality": c.low_quality,
            }
            for c in profile.columns
        ]
    )


def incidents_table(store: Store, workspace: str, status: str | None = None) -> pd.DataFrame:
    """Incidents of a workspace (active ones by default) as a DataFrame."""
    items = incident_repo.search(store, workspace, status=status or "active")
    return pd.DataFrame(
        [
            {
                "id": i.id,
                "title": i.title,
                "severity": i.severity,
                "status": i.status,
                "table": i.table_name,
                "owner": i.owner,
                "occurrences": i.occurrences,
                "opened_at": i.opened_at,
            }
            for i in items
        ],
        columns=["id", "title", "severity", "status", "table", "owner", "occurrences", "opened_at"],
    )


def slowlog_table(path: str, limit: int = 20) -> pd.DataFrame:
    """Triage a slow log and return the ranked classes (samples redacted)."""
    from datatruth.slowlog.service import triage_file

    triage = triage_file(Path(path), limit=limit)
    agg = triage.aggregate
    display(
        Markdown(
            f"**{Path(path).name}**: {agg.events:,} events in {agg.unique:,} classes"
            + (f" · {len(triage.problems)} unreadable part(s)" if triage.problems else "")
        )
    )
    return pd.DataFrame(
        [
            {
                "rank": c.rank,
                "query_id": c.stats.query_id,
                "calls": c.stats.count,
                "total_s": round(c.stats.query_time.total, 6),
                "p95_s": round(c.stats.query_time.p95, 6),
                "severity": c.severity,
                "findings": "; ".join(f.rule for f in c.analysis.findings),
                "sample": c.sample,
            }
            for c in triage.classes
        ]
    )
