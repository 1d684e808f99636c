"""pt-query-digest-like reports of an `Aggregate`: a text report and a JSON-ready dict.

Numbers are formatted the way pt-query-digest formats them (times as 726ms / 91us /
4s, other values shortened with k/M/G by powers of 1024), so a report can be read
side by side with pt's. Samples pass through the redaction stage before they are
shown, unless raw samples were explicitly allowed.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from datatruth.slowlog.aggregate import Aggregate, ClassStats, MetricStats
from datatruth.slowlog.distill import distill
from datatruth.slowlog.events import MAX_ANALYSED_CHARS, MAX_EVENT_BYTES, SlowEvent
from datatruth.slowlog.fingerprint import PG_SOURCES

_LINE_LENGTH = 74
_LABEL_WIDTH = 12
_NUM_FORMAT = "# {:<12} {:>3} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}"
_DECADES = ("  1us", " 10us", "100us", "  1ms", " 10ms", "100ms", "   1s", " 10s+")
_UNITS = ("", "k", "M", "G", "T", "P", "E", "Z", "Y")


@dataclass(frozen=True)
class ReportOptions:
    """What to show: how many classes in detail, and whether samples may be shown unredacted."""

    limit: int = 10
    allow_raw: bool = False
    source_name: str = ""


def _perl_str(value: float) -> str:
    """Perl's default number-to-text conversion (15 significant digits, no trailing zeros)."""
    return f"{value:.15g}"


def micro_t(seconds: float) -> str:
    """Format a time like pt: 91us, 726ms, 4s (0 stays 0); values are cut to 6 decimals first."""
    text = _perl_str(max(seconds, 0.0))
    if "e" in text:
        text = f"{max(seconds, 0.0):.17f}"
    whole, dot, frac = text.partition(".")
    t = float(whole + dot + frac[:6]) if dot else float(whole)
    if 0 < t <= 0.000999:
        return _perl_str(t * 1_000_000) + "us"
    if 0.001 <= t <= 0.999999:
        return _perl_str(float(f"{t * 1000:.0f}")) + "ms"
    if t >= 1:
        return _perl_str(float(f"{t:.0f}")) + "s"
    return "0"


def shorten(num: float, divisor: int = 1024, precision: int = 2) -> str:
    """Shorten a number like pt: 61.48k, 129, 2.83 (divisor 1024 by default, 1000 for counts)."""
    n = 0
    while num >= divisor and n < len(_UNITS) - 1:
        num /= divisor
        n += 1
    if n or "." in _perl_str(num):
        return f"{num:.{precision}f}{_UNITS[n]}"
    return f"{int(num)}"


def percentage_of(part: float, whole: float) -> str:
    """Integer percentage like pt (truncated, 0 when the whole is 0)."""
    return f"{int((part * 100) / (whole or 1))}"


def _dialect(event: SlowEvent) -> str:
    return "postgres" if event.source in PG_SOURCES else "mysql"


def _redactor(allow_raw: bool) -> Callable[[SlowEvent], str]:
    """Redacts a class's sample for display, showing at most MAX_ANALYSED_CHARS of it."""
    redact = importlib.import_module("datatruth.slowlog.redact").redact_sample

    def shown(event: SlowEvent) -> str:
        text = redact(event.query[:MAX_ANALYSED_CHARS], allow_raw=allow_raw, dialect=_dialect(event))
        left = (event.cut_from or len(event.query)) - MAX_ANALYSED_CHARS
        return text + (f"\n/* ... {left:,} more characters not shown */" if left > 0 else "")

    return shown


def cut_note(agg: Aggregate) -> str | None:
    """The sentence that says how many events were cut before fingerprinting, when any were."""
    if not agg.cut_events:
        return None
    return (
        f"{agg.cut_events:,} event(s) longer than {MAX_EVENT_BYTES // 1024:,} KiB: only their first "
        f"{MAX_EVENT_BYTES // 1024:,} KiB were kept and fingerprinted, so their Query IDs may differ "
        "from pt-query-digest's"
    )


def _metric_line(label: str, pct: str, stats: MetricStats, is_time: bool) -> str:
    fmt: Callable[[float], str] = micro_t if is_time else shorten
    values = (stats.total, stats.min, stats.max, stats.avg, stats.p95, stats.stddev, stats.median)
    return _NUM_FORMAT.format(label, pct, *(fmt(v) for v in values)).rstrip()


def _label(name: str) -> str:
    text = name.replace("_", " ")
    if text.startswith("InnoDB "):
        text = text[len("InnoDB ") :]
        return "InnoDB trxID" if text == "trx id" else text[:_LABEL_WIDTH]
    return {"Tmp disk tables": "Tmp disk tbl", "Tmp table sizes": "Tmp tbl size"}.get(
        text, text[:_LABEL_WIDTH]
    )


def _time_range(first: datetime | None, last: datetime | None) -> str | None:
    if first is None or last is None:
        return None
    if first == last:
        return f"all events occurred at {first:%Y-%m-%d %H:%M:%S}"
    end = f"{last:%H:%M:%S}" if first.date() == last.date() else f"{last:%Y-%m-%d %H:%M:%S}"
    return f"{first:%Y-%m-%d %H:%M:%S} to {end}"


def _qps(count: int, total: float, first: datetime | None, last: datetime | None) -> tuple[float, float]:
    # pt measures the time range in whole seconds (its Unix timestamps drop the fraction).
    if first is None or last is None:
        return 0.0, 0.0
    span = (last.replace(microsecond=0) - first.replace(microsecond=0)).total_seconds()
    if span <= 0:
        return 0.0, 0.0
    return count / span, total / span


_IP = re.compile(r"(?:\d+\.){3}\d+")
_MAX_STRING = 10  # pt shortens each listed name to this many characters (addresses excepted)


def _strings(label: str, pairs: tuple[tuple[str, int], ...], count: int) -> str:
    """A 'Databases/Hosts/Users' line as pt writes it: as many values as fit in the line, then '... N more'."""
    if not pairs:
        return f"# {label}".rstrip()
    if len(pairs) == 1:
        name = pairs[0][0]
        if len(name) > _LINE_LENGTH - 30:
            name = name[: _LINE_LENGTH - 30] + "..."
        return f"# {label:<12} {name}"
    line = ""
    shown = 0
    for name, n in pairs:
        text = name if _IP.search(name) or len(name) <= _MAX_STRING else name[:_MAX_STRING] + "..."
        text += f" ({n}/{percentage_of(n, count)}%)"
        if len(line) + len(text) > _LINE_LENGTH - 27:
            break
        line += text + ", "
        shown += 1
    line = line.removesuffix(", ")
    if shown < len(pairs):
        line += f"... {len(pairs) - shown} more"
    return f"# {label:<12} {line}"


def _metric_rows(
    agg: Aggregate, stats: ClassStats | None
) -> list[tuple[str, MetricStats | None, MetricStats | None, bool]]:
    """(label, class metric, overall metric, is_time) rows in pt's order."""
    rows: list[tuple[str, MetricStats | None, MetricStats | None, bool]] = [
        ("Exec time", stats.query_time if stats else None, agg.overall_query_time, True),
        ("Lock time", stats.lock_time if stats else None, agg.overall_lock_time, True),
        ("Rows sent", stats.rows_sent if stats else None, agg.overall_rows_sent, False),
        ("Rows examine", stats.rows_examined if stats else None, agg.overall_rows_examined, False),
    ]
    overall_extra = dict(agg.overall_extra)
    extra = dict(stats.extra) if stats else overall_extra
    plain = [k for k in extra if not k.startswith("InnoDB_")]
    innodb = [k for k in extra if k.startswith("InnoDB_")]
    for key in sorted(plain):
        rows.append((_label(key), extra[key], overall_extra.get(key), key.endswith(("time", "wait"))))
    rows.append(("Query size", stats.query_size if stats else None, agg.overall_query_size, False))
    for key in sorted(innodb):
        rows.append(
            ("InnoDB:" + _label(key), extra[key], overall_extra.get(key), key.endswith(("time", "wait")))
        )
    return rows


def _overall(agg: Aggregate) -> list[str]:
    qps, conc = _qps(
        agg.events,
        agg.overall_query_time.total if agg.overall_query_time else 0.0,
        agg.first_seen,
        agg.last_seen,
    )
    line = (
        f"# Overall: {shorten(agg.events, 1000)} total, {shorten(agg.unique, 1000)} unique, "
        f"{shorten(qps, 1000)} QPS, {shorten(conc, 1000)}x concurrency "
    )
    lines = [line + "_" * max(0, _LINE_LENGTH - len(line))]
    span = _time_range(agg.first_seen, agg.last_seen)
    if span:
        lines.append(f"# Time range: {span}")
    lines.append(_NUM_FORMAT.format("Attribute", "", "total", "min", "max", "avg", "95%", "stddev", "median"))
    lines.append(_NUM_FORMAT.format("=" * 12, "", *["=" * 7] * 7))
    innodb_header = False
    for label, _cls, overall, is_time in _metric_rows(agg, None):
        if overall is None:
            continue
        if label.startswith("InnoDB:"):
            if not innodb_header:
                lines.append("# InnoDB:")
                innodb_header = True
            label = label[len("InnoDB:") :]
        lines.append(_metric_line(label, "", overall, is_time))
    return lines


def _profile(agg: Aggregate, classes: tuple[ClassStats, ...]) -> list[str]:
    total = agg.overall_query_time.total if agg.overall_query_time else 0.0
    lines = [
        "# Profile",
        "# Rank Query ID                            Response time Calls R/Call V/M   Item",
        "# ==== =================================== ============= ===== ====== ===== ====",
    ]
    for rank, cls in enumerate(classes, 1):
        share = (cls.query_time.total * 100 / total) if total else 0.0
        lines.append(
            f"# {rank:>4} {'0x' + cls.query_id:<35} {cls.query_time.total:>7.4f} {share:>4.1f}% "
            f"{cls.count:>5} {cls.query_time.avg:>6.4f} {cls.variance_to_mean:>5.2f} {distill(cls.sample.query, _dialect(cls.sample))}"
        )
    return lines


def _class_detail(
    rank: int, agg: Aggregate, cls: ClassStats, redact: Callable[[SlowEvent], str]
) -> list[str]:
    qps, conc = _qps(cls.count, cls.query_time.total, cls.first_seen, cls.last_seen)
    lines = [
        f"# Query {rank}: {shorten(qps, 1000)} QPS, {shorten(conc, 1000)}x concurrency, "
        f"ID 0x{cls.query_id} at byte {cls.sample.pos_in_log or 0}",
        f"# Scores: V/M = {cls.variance_to_mean:.2f}",
    ]
    span = _time_range(cls.first_seen, cls.last_seen)
    if span:
        lines.append(f"# Time range: {span}")
    lines.append(
        _NUM_FORMAT.format("Attribute", "pct", "total", "min", "max", "avg", "95%", "stddev", "median")
    )
    lines.append(_NUM_FORMAT.format("=" * 12, "===", *["=" * 7] * 7))
    lines.append(f"# {'Count':<12} {percentage_of(cls.count, agg.events):>3} {cls.count:>7}")
    innodb_header = False
    for label, stats, overall, is_time in _metric_rows(agg, cls):
        if stats is None:
            continue
        if label.startswith("InnoDB:"):
            if not innodb_header:
                lines.append("# InnoDB:")
                innodb_header = True
            label = label[len("InnoDB:") :]
        pct = percentage_of(stats.total, overall.total if overall else 0.0)
        lines.append(_metric_line(label, pct, stats, is_time))
    true_bools = [(k, share) for k, share in cls.booleans if share > 0]
    if true_bools:
        lines.append("# Boolean:")
        for key, share in true_bools:
            yes = int(share * 100)
            lines.append(f"# {_label(key):<12} {yes:>3}% yes, {100 - yes:>3}% no")
    lines.append("# String:")
    lines.append(_strings("Databases", cls.databases, cls.count))
    lines.append(_strings("Hosts", cls.hosts, cls.count))
    lines.append(_strings("Users", cls.users, cls.count))
    lines.append("# Query_time distribution")
    top = max(cls.histogram) or 1
    for label, n in zip(_DECADES, cls.histogram, strict=True):
        bar = "#" * (int(64 * n / top) if n else 0)
        if n and not bar:
            bar = "#"
        lines.append(f"# {label}  {bar}".rstrip())
    if cls.cut_events:
        lines.append(
            f"# Cut: {cls.cut_events} event(s) over {MAX_EVENT_BYTES // 1024:,} KiB, fingerprinted from "
            f"their first {MAX_EVENT_BYTES // 1024:,} KiB only"
        )
    lines.append(redact(cls.sample) + "\\G")
    return lines


def render_text(agg: Aggregate, options: ReportOptions | None = None) -> str:
    """The whole report as text: overall summary, profile table, then one block per class."""
    opts = options or ReportOptions()
    if agg.events == 0:
        return "\n# No events processed.\n"
    classes = agg.classes[: opts.limit] if opts.limit else agg.classes
    redact = _redactor(opts.allow_raw)
    note = cut_note(agg)
    out = [""] + _overall(agg) + ([f"# Note: {note}"] if note else []) + [""] + _profile(agg, classes)
    for rank, cls in enumerate(classes, 1):
        out += [""] + _class_detail(rank, agg, cls, redact)
    return "\n".join(out) + "\n"


def _metric_json(stats: MetricStats | None) -> dict[str, float] | None:
    if stats is None:
        return None
    return {
        "sum": stats.total,
        "min": stats.min,
        "max": stats.max,
        "avg": stats.avg,
        "pct_95": stats.p95,
        "median": stats.median,
        "stddev": stats.stddev,
        "cnt": stats.count,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def render_json(agg: Aggregate, options: ReportOptions | None = None) -> dict[str, object]:
    """A JSON-ready dict: overall metrics plus one entry per class (samples redacted)."""
    opts = options or ReportOptions()
    classes = agg.classes[: opts.limit] if opts.limit else agg.classes
    redact = _redactor(opts.allow_raw)
    return {
        "source": opts.source_name,
        "order_by": agg.order_by,
        "global": {
            "events": agg.events,
            "unique": agg.unique,
            "cut_events": agg.cut_events,
            "max_event_bytes": MAX_EVENT_BYTES,
            "first_seen": _iso(agg.first_seen),
            "last_seen": _iso(agg.last_seen),
            "metrics": {
                "Query_time": _metric_json(agg.overall_query_time),
                "Lock_time": _metric_json(agg.overall_lock_time),
                "Rows_sent": _metric_json(agg.overall_rows_sent),
                "Rows_examined": _metric_json(agg.overall_rows_examined),
                "Query_length": _metric_json(agg.overall_query_size),
                **{k: _metric_json(v) for k, v in agg.overall_extra},
            },
        },
        "classes": [
            {
                "rank": rank,
                "query_id": cls.query_id,
                "fingerprint": cls.fingerprint,
                "distill": distill(cls.sample.query, _dialect(cls.sample)),
                "count": cls.count,
                "cut_events": cls.cut_events,
                "variance_to_mean": cls.variance_to_mean,
                "first_seen": _iso(cls.first_seen),
                "last_seen": _iso(cls.last_seen),
                "metrics": {
                    "Query_time": _metric_json(cls.query_time),
                    "Lock_time": _metric_json(cls.lock_time),
                    "Rows_sent": _metric_json(cls.rows_sent),
                    "Rows_examined": _metric_json(cls.rows_examined),
                    "Query_length": _metric_json(cls.query_size),
                    **{k: _metric_json(v) for k, v in cls.extra},
                },
                "booleans": dict(cls.booleans),
                "databases": dict(cls.databases),
                "users": dict(cls.users),
                "hosts": dict(cls.hosts),
                "histogram": list(cls.histogram),
                "sample": {
                    "query": redact(cls.sample),
                    "pos_in_log": cls.sample.pos_in_log,
                    "ts": _iso(cls.sample.ts),
                    "query_time": cls.sample.query_time,
                    "db": cls.sample.db,
                },
            }
            for rank, cls in enumerate(classes, 1)
        ],
    }
