"""What a data-quality check run hands to the incident board: one frozen outcome per check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[str, ...] = get_args(Severity)


@dataclass(frozen=True)
class CheckOutcome:
    """The result of one check in one run."""

    check_name: str  # unique within the workspace's checks.yaml; the incident dedup key
    check_type: str  # not_null, unique, accepted_values, range, regex, freshness, ...
    table: str | None
    column: str | None
    status: str  # pass | fail | error
    severity: str  # info | warning | critical
    owner: str | None
    metric_value: float | None  # the measured value (e.g. null share, duplicate count, z-score)
    threshold: str | None  # what it was compared with, as text
    message: str  # one readable line: what was found
    example_rows: tuple[dict[str, Any], ...] = ()  # a few failing rows, sensitive columns already redacted
    auto_resolve: bool = True
    run_id: str = ""
    at: dt.datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """True for a failing or erroring check."""
        return self.status in ("fail", "error")
