"""Shared event types produced by every slow-log parser and collector."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SlowEvent:
    """One slow statement as read from a log or a live collector."""

    query: str                      # the statement text as logged (not yet redacted)
    query_time: float               # seconds
    lock_time: float = 0.0
    rows_sent: int | None = None
    rows_examined: int | None = None
    ts: datetime | None = None      # naive UTC or as logged
    user: str | None = None
    host: str | None = None
    db: str | None = None
    pos_in_log: int | None = None   # byte offset of the event start
    attributes: Mapping[str, object] = field(default_factory=dict)  # other numeric/bool attrs
    source: str = "mysql"           # mysql | postgres | pg_stat_statements | performance_schema


@dataclass(frozen=True)
class ParseProblem:
    """Something in a log that could not be read, with its 1-based line number."""

    line: int
    message: str


@dataclass(frozen=True)
class ParseReport:
    """Summary of one parse: how many events were read and what went wrong."""

    events_read: int
    problems: tuple[ParseProblem, ...]
    truncated: bool
