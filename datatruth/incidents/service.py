"""Incident workflow: open or append on failure, escalate, auto-resolve, reopen; human actions by role."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from datatruth import access
from datatruth.errors import UserError
from datatruth.incidents import notify
from datatruth.quality.outcome import CheckOutcome
from datatruth.store import audit, users
from datatruth.store import incidents as repo
from datatruth.store.engine import Store

if TYPE_CHECKING:
    from datatruth.workspace.registry import Workspace

SYSTEM = "system"
SEVERITY_ORDER = ("info", "warning", "critical")
ESCALATE_EVERY = 3  # occurrences while still active before the severity goes up one level
OUTCOMES = ("expected", "false_positive", "wont_fix")
# Closed as "expected" or "won't fix": further failures are recorded but do not reopen or notify.
MUTED = ("expected", "wont_fix")


@dataclass(frozen=True)
class Signal:
    """A failure (or a recovery) from any source that may open, update or resolve an incident."""

    source: str  # check | schema | slow_query | alert
    dedup_key: str
    title: str
    severity: str
    failed: bool
    table: str | None = None
    owner: str | None = None
    metric_value: float | None = None
    message: str = ""
    example_rows: tuple[dict[str, Any], ...] = ()
    auto_resolve: bool = True
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProcessReport:
    """What processing a batch of signals did."""

    opened: tuple[int, ...] = ()
    appended: tuple[int, ...] = ()
    escalated: tuple[int, ...] = ()
    resolved: tuple[int, ...] = ()
    reopened: tuple[int, ...] = ()
    muted: tuple[int, ...] = ()


@dataclass(frozen=True)
class BoardStats:
    """Counts and response times for the board header."""

    by_status: dict[str, int]
    by_severity: dict[str, int]
    active: int
    mean_minutes_to_ack: float | None
    mean_minutes_to_resolve: float | None


def signal_from_outcome(outcome: CheckOutcome) -> Signal:
    """Map a quality check outcome to an incident signal (dedup per check)."""
    return Signal(
        source="check",
        dedup_key=f"check:{outcome.check_name}",
        title=f"{outcome.check_name}: {outcome.message}" if outcome.failed else outcome.check_name,
        severity=outcome.severity if outcome.severity in SEVERITY_ORDER else "warning",
        failed=outcome.failed,
        table=outcome.table,
        owner=outcome.owner,
        metric_value=outcome.metric_value,
        message=outcome.message,
        example_rows=tuple(outcome.example_rows),
        auto_resolve=outcome.auto_resolve,
        detail={
            "check_type": outcome.check_type,
            "column": outcome.column,
            "threshold": outcome.threshold,
            "run_id": outcome.run_id,
            "status": outcome.status,
        },
    )


def redact_rows(
    rows: Iterable[dict[str, Any]], table: str | None, sensitive: Sequence[str]
) -> list[dict[str, Any]]:
    """Mask values of columns the workspace marks sensitive (table.column or bare column names)."""
    marked = {s.lower() for s in sensitive}
    out = []
    for row in rows:
        clean = {}
        for key, value in row.items():
            name = str(key).lower()
            if name in marked or (table and f"{table.lower()}.{name}" in marked):
                clean[key] = None if value is None else _mask(str(value))
            else:
                clean[key] = value
        out.append(clean)
    return out


def _mask(text: str) -> str:
    from datatruth.sql.sensitive import MASK

    return MASK if text else text  # one mask everywhere; a first letter is already a hint


def _escalated(severity: str) -> str:
    i = SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else 1
    return SEVERITY_ORDER[min(i + 1, len(SEVERITY_ORDER) - 1)]


def _occurrence_detail(sig: Signal, rows: list[dict[str, Any]]) -> dict[str, Any]:
    from datatruth.store.checks import jsonable

    return jsonable(
        {"metric_value": sig.metric_value, "message": sig.message, "example_rows": rows[:10], **sig.detail}
    )


def process_signals(store: Store, ws: Workspace, signals: Iterable[Signal]) -> ProcessReport:
    """Open, append, escalate, resolve or reopen incidents for a batch of signals; then notify."""
    opened: list[int] = []
    appended: list[int] = []
    escalated: list[int] = []
    resolved: list[int] = []
    reopened: list[int] = []
    muted: list[int] = []
    notifications: list[tuple[str, int]] = []
    name = ws.name
    for sig in signals:
        rows = redact_rows(sig.example_rows, sig.table, ws.config.sensitive_columns)
        with store.begin() as conn:
            current = repo.latest_for_key(conn, name, sig.dedup_key)
            if not sig.failed:
                if current and current.status in repo.ACTIVE and sig.auto_resolve:
                    repo.update(conn, name, current.id, status="resolved", resolved_at=_now())
                    repo.add_event(
                        conn,
                        name,
                        current.id,
                        "auto_resolved",
                        username=SYSTEM,
                        detail={"metric_value": sig.metric_value, "message": "the check passes again"},
                    )
                    audit.record(store, name, SYSTEM, "incident.auto_resolve", str(current.id), conn=conn)
                    resolved.append(current.id)
                    notifications.append(("resolved", current.id))
                continue
            detail = _occurrence_detail(sig, rows)
            if current and current.status in repo.ACTIVE:
                count = current.occurrences + 1
                values: dict[str, Any] = {"occurrences": count, "detail": detail}
                repo.add_event(conn, name, current.id, "occurrence", username=SYSTEM, detail=detail)
                if count % ESCALATE_EVERY == 0 and current.severity != SEVERITY_ORDER[-1]:
                    values["severity"] = _escalated(current.severity)
                    repo.add_event(
                        conn,
                        name,
                        current.id,
                        "escalated",
                        username=SYSTEM,
                        detail={
                            "from": current.severity,
                            "to": values["severity"],
                            "reason": f"failed {count} times in a row",
                        },
                    )
                    escalated.append(current.id)
                    notifications.append(("escalated", current.id))
                repo.update(conn, name, current.id, **values)
                appended.append(current.id)
            elif current and current.status in MUTED:
                repo.update(conn, name, current.id, occurrences=current.occurrences + 1)
                repo.add_event(conn, name, current.id, "occurrence_muted", username=SYSTEM, detail=detail)
                muted.append(current.id)
            elif current and current.status == "resolved":
                repo.update(
                    conn,
                    name,
                    current.id,
                    status="open",
                    occurrences=current.occurrences + 1,
                    resolved_at=None,
                    acknowledged_at=None,
                    detail=detail,
                )
                repo.add_event(conn, name, current.id, "reopened", username=SYSTEM, detail=detail)
                audit.record(store, name, SYSTEM, "incident.reopen", str(current.id), conn=conn)
                reopened.append(current.id)
                notifications.append(("reopened", current.id))
            else:
                # Nothing yet, or the last one was a false positive: this failure is new information.
                new_id = repo.insert(
                    conn,
                    name,
                    source=sig.source,
                    dedup_key=sig.dedup_key,
                    title=sig.title,
                    severity=sig.severity,
                    table_name=sig.table,
                    owner=sig.owner,
                    detail=detail,
                )
                repo.add_event(conn, name, new_id, "opened", username=SYSTEM, detail=detail)
                audit.record(
                    store, name, SYSTEM, "incident.open", str(new_id), {"key": sig.dedup_key}, conn=conn
                )
                opened.append(new_id)
                notifications.append(("opened", new_id))
    _notify(store, ws, notifications)
    return ProcessReport(
        tuple(opened), tuple(appended), tuple(escalated), tuple(resolved), tuple(reopened), tuple(muted)
    )


def process_outcomes(store: Store, ws: Workspace, outcomes: Iterable[CheckOutcome]) -> ProcessReport:
    """The quality hand-off: one signal per check outcome."""
    return process_signals(store, ws, [signal_from_outcome(o) for o in outcomes])


def _notify(store: Store, ws: Workspace, notifications: list[tuple[str, int]]) -> None:
    if not ws.config.webhook_url:
        return
    for event, incident_id in notifications:
        # In the background: an unreachable receiver must not hold up the page or the run that opened it.
        notify.deliver(
            store,
            ws.name,
            ws.config.webhook_url,
            event,
            repo.get(store, ws.name, incident_id),
            ws.config.title,
        )


def _now() -> dt.datetime:
    from datatruth.store.engine import utcnow

    return utcnow()


def acknowledge(store: Store, ws_name: str, incident_id: int, user: str, comment: str) -> repo.Incident:
    """Acknowledge an open incident; a comment saying what is being done is required."""
    if not comment or not comment.strip():
        raise UserError(
            "acknowledging needs a comment",
            "say what you are doing about it, e.g. --comment 'looking into the loader'",
        )
    access.require(store, ws_name, user, "incident_ack")
    with store.begin() as conn:
        inc = repo.lock(conn, ws_name, incident_id)
        if inc.status != "open":
            raise UserError(
                f"incident {incident_id} is {inc.status}, not open", "only open incidents can be acknowledged"
            )
        repo.update(
            conn, ws_name, incident_id, status="acknowledged", acknowledged_at=_now(), owner=inc.owner or user
        )
        repo.add_event(conn, ws_name, incident_id, "acknowledged", username=user, comment=comment.strip())
        audit.record(store, ws_name, user, "incident.ack", str(incident_id), conn=conn)
    return repo.get(store, ws_name, incident_id)


def bulk_acknowledge(store: Store, ws_name: str, ids: Sequence[int], user: str, comment: str) -> list[int]:
    """Acknowledge several open incidents with one comment; returns those acknowledged."""
    done = []
    for incident_id in ids:
        if repo.get(store, ws_name, incident_id).status == "open":
            acknowledge(store, ws_name, incident_id, user, comment)
            done.append(incident_id)
    return done


def add_comment(store: Store, ws_name: str, incident_id: int, user: str, text: str) -> None:
    """Append a comment to the timeline."""
    if not text or not text.strip():
        raise UserError("the comment is empty", "write something for your team to read")
    access.require(store, ws_name, user, "incident_comment")
    with store.begin() as conn:
        repo.lock(conn, ws_name, incident_id)
        repo.add_event(conn, ws_name, incident_id, "comment", username=user, comment=text.strip())
        audit.record(store, ws_name, user, "incident.comment", str(incident_id), conn=conn)


def resolve(store: Store, ws_name: str, incident_id: int, user: str, comment: str = "") -> repo.Incident:
    """Resolve an incident by hand (maintainers and owners)."""
    return _close(store, ws_name, incident_id, user, "resolved", comment)


def set_outcome(
    store: Store, ws_name: str, incident_id: int, outcome: str, user: str, comment: str = ""
) -> repo.Incident:
    """Close as expected / false positive / won't fix; anomaly checks exclude those points from training."""
    if outcome not in OUTCOMES:
        raise UserError(f"unknown outcome '{outcome}'", f"use one of {', '.join(OUTCOMES)}")
    return _close(store, ws_name, incident_id, user, outcome, comment)


def _close(
    store: Store, ws_name: str, incident_id: int, user: str, status: str, comment: str
) -> repo.Incident:
    access.require(store, ws_name, user, "incident_manage")
    with store.begin() as conn:
        inc = repo.lock(conn, ws_name, incident_id)
        if inc.status == status:
            raise UserError(f"incident {incident_id} is already {status}", "nothing to do")
        repo.update(conn, ws_name, incident_id, status=status, resolved_at=_now())
        repo.add_event(
            conn,
            ws_name,
            incident_id,
            status,
            username=user,
            comment=comment or None,
            detail={"from": inc.status},
        )
        audit.record(store, ws_name, user, f"incident.{status}", str(incident_id), conn=conn)
    return repo.get(store, ws_name, incident_id)


def assign(store: Store, ws_name: str, incident_id: int, owner: str, user: str) -> repo.Incident:
    """Give an incident an owner (maintainers and owners); the new owner must be an active member."""
    access.require(store, ws_name, user, "incident_manage")
    owner = owner.strip()
    members = sorted(m.username for m in users.list_memberships(store, ws_name) if m.active)
    choices = (
        f"members of '{ws_name}': {', '.join(members)}"
        if members
        else "invite the person to the workspace first"
    )
    if not owner:
        raise UserError("type the user name of the person who should own this incident", choices)
    if owner not in members:
        # The assigner is allowed; the name they typed is not someone who could work on the incident.
        raise UserError(
            f"'{owner}' is not an active member of workspace '{ws_name}', so cannot own the incident", choices
        )
    with store.begin() as conn:
        inc = repo.lock(conn, ws_name, incident_id)
        repo.update(conn, ws_name, incident_id, owner=owner)
        repo.add_event(
            conn, ws_name, incident_id, "assigned", username=user, detail={"from": inc.owner, "to": owner}
        )
        audit.record(store, ws_name, user, "incident.assign", str(incident_id), {"owner": owner}, conn=conn)
    return repo.get(store, ws_name, incident_id)


def board_stats(store: Store, ws_name: str) -> BoardStats:
    """Counts by status and severity, and mean minutes to acknowledge and to resolve."""
    counts = repo.status_counts(store, ws_name)
    by_status: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    for (status, severity), n in counts.items():
        by_status[status] += n
        if status in repo.ACTIVE:
            by_severity[severity] += n
    ack = [
        (at - opened).total_seconds() / 60
        for opened, at in repo.response_times(store, ws_name, "acknowledged")
    ]
    res = [
        (at - opened).total_seconds() / 60 for opened, at in repo.response_times(store, ws_name, "resolved")
    ]
    return BoardStats(
        by_status=dict(by_status),
        by_severity=dict(by_severity),
        active=sum(by_status[s] for s in repo.ACTIVE),
        mean_minutes_to_ack=round(statistics.fmean(ack), 1) if ack else None,
        mean_minutes_to_resolve=round(statistics.fmean(res), 1) if res else None,
    )


def excluded_points(store: Store, ws_name: str, check_name: str) -> list[dict[str, Any]]:
    """Occurrences of a check that people closed as false positive or expected: keep them out of training."""
    closed = {
        i.id
        for i in repo.search(
            store, ws_name, status=("false_positive", "expected"), limit=10_000, with_detail=False
        )
        if i.dedup_key == f"check:{check_name}"
    }
    points = []
    for ev in repo.events_of_kind(
        store, ws_name, f"check:{check_name}", ("opened", "occurrence", "reopened")
    ):
        if ev.incident_id in closed:
            points.append(
                {
                    "at": ev.at,
                    "run_id": (ev.detail or {}).get("run_id"),
                    "metric_value": (ev.detail or {}).get("metric_value"),
                }
            )
    return points
