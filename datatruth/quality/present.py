"""Plain-data views of runs and profiles for JSON output and the quality page."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from datatruth.quality.profile import TableProfile
from datatruth.quality.runner import QualityRun
from datatruth.store.checks import jsonable


def profile_to_dict(profile: TableProfile) -> dict[str, Any]:
    """A table profile as JSON-safe data."""
    out = jsonable(asdict(profile))
    for col, c in zip(out["columns"], profile.columns, strict=True):
        col["null_share"] = c.null_share
        col["low_quality"] = c.low_quality
    return out


def run_to_dict(run: QualityRun) -> dict[str, Any]:
    """A run (outcomes, scores, schema versions) as JSON-safe data."""
    return jsonable(
        {
            "run_id": run.run_id,
            "started": run.started,
            "finished": run.finished,
            "critical_failed": run.critical_failed,
            "failed": len(run.failed),
            "outcomes": [asdict(o) for o in run.outcomes],
            "scores": asdict(run.scores),
            "schema_versions": [
                {
                    "table": v.table,
                    "version": v.version,
                    "compatibility": v.compatibility,
                    "breaking": v.breaking,
                }
                for v in run.schema_versions
            ],
        }
    )
