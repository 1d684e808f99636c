"""Shared event types produced by every slow-log parser and collector, and the bounds they keep to."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# Statement text kept per event. A longer statement keeps only its first MAX_EVENT_BYTES, and its
# class is fingerprinted from that prefix (the report says how many events were cut), so one huge
# event costs bounded memory and time. 1 MiB keeps the class of real multi-megabyte INSERTs: their
# fingerprint stops after the first VALUES row anyway.
MAX_EVENT_BYTES = 1 << 20
# Statement text the AST stages (rules, redaction, distill) look at: sqlglot needs far more memory
# and time per byte than the fingerprint, and a sample longer than this is cut for them.
MAX_ANALYSED_CHARS = 64 << 10
# Largest magnitude accepted for a logged number; past it (or inf/nan) the value is not a measurement.
MAX_METRIC = 1e15


def usable_number(value: float) -> bool:
    """True when a logged time or count is finite and within MAX_METRIC (1e400 and nan are not)."""
    return math.isfinite(value) and -MAX_METRIC <= value <= MAX_METRIC


@dataclass(frozen=True)
class SlowEvent:
    """One slow statement as read from a log or a live collector."""

    query: str  # the statement text as logged (not yet redacted), at most MAX_EVENT_BYTES
    query_time: float  # seconds
    lock_time: float = 0.0
    rows_sent: int | None = None
    rows_examined: int | None = None
    ts: datetime | None = None  # naive UTC or as logged
    user: str | None = None
    host: str | None = None
    db: str | None = None
    pos_in_log: int | None = None  # byte offset of the event start
    attributes: Mapping[str, object] = field(default_factory=dict)  # other numeric/bool attrs
    source: str = "mysql"  # mysql | postgres | pg_stat_statements | performance_schema
    cut_from: int | None = None  # the statement's logged length in bytes when `query` is only its prefix


# The hot path of the MySQL reader hands the aggregator plain tuples instead of SlowEvents (building a
# frozen dataclass per event was a tenth of the run time); the few rows that become a class's sample
# are turned into SlowEvents by event_from_row.
# (query, query_time, lock_time, rows_sent, rows_examined, ts, user, host, db, pos_in_log, ip, thread_id, timestamp,
#  user_host); the four numbers are the logged digits (text), ts is a datetime or the usual ISO text
# 'YYYY-MM-DDTHH:MM:SS.ffffff' (fixed width, so it sorts like the time), user_host the logged
# 'user[user] @ host [ip]' (one string to count instead of two).
EventRow = tuple[
    str,
    str,
    str,
    str,
    str,
    "datetime | str | None",
    str,
    "str | None",
    "str | None",
    int,
    str,
    "str | None",
    "str | None",
    str,
]


def as_datetime(stamp: datetime | str | None) -> datetime | None:
    """A row's time as a datetime: rows keep the usual 'YYYY-MM-DDTHH:MM:SS.ffffff' as text until needed."""
    return datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp


def event_from_row(row: EventRow) -> SlowEvent:
    """The SlowEvent a MySQL hot-path row stands for (same fields the general parser would give)."""
    query, qt, lt, rs, rx, ts, user, host, db, pos, ip, tid, stamp, _user_host = row
    attrs: dict[str, object] = {"ip": ip}
    if tid:
        attrs["Thread_id"] = int(tid)
    if stamp:
        attrs["timestamp"] = int(stamp)
    return SlowEvent(
        query, float(qt), float(lt), int(rs), int(rx), as_datetime(ts), user, host, db, pos, attrs, "mysql"
    )


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
