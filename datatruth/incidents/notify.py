"""Webhook notifications (Slack-compatible JSON) delivered in the background, with retries and a delivery log.

`deliver` queues a notification and returns at once: a page or a quality run never waits for a slow or
unreachable receiver (it cost ~15 s per incident). One background thread per process sends them in order
(`send`: up to 3 attempts, retrying connection errors, 5xx and 429, waiting what the receiver's
`Retry-After` asks for, capped at MAX_RETRY_AFTER_S, else an exponential backoff) and writes every
outcome to the delivery log. A CLI process waits for its queue before it exits; `flush` waits on demand.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from datatruth.logs import get_logger, mask_url
from datatruth.store import incidents as repo
from datatruth.store.engine import Store

log = get_logger("incidents.notify")
SEVERITY_EMOJI = {"info": "ℹ️", "warning": "⚠️", "critical": "🔴"}
MAX_RETRY_AFTER_S = 60.0


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending one notification."""

    ok: bool
    status_code: int | None
    attempts: int
    error: str | None


def payload(event: str, incident: repo.Incident, workspace_title: str, link: str | None = None) -> dict:
    """A Slack-compatible message: `text` for simple receivers, `blocks` for Slack."""
    emoji = SEVERITY_EMOJI.get(incident.severity, "")
    headline = f"{emoji} [{workspace_title}] Incident #{incident.id} {event}: {incident.title}"
    fields = [
        f"*Severity:* {incident.severity}",
        f"*Status:* {incident.status}",
        f"*Table:* {incident.table_name or '—'}",
        f"*Owner:* {incident.owner or 'unassigned'}",
        f"*Occurrences:* {incident.occurrences}",
    ]
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
    ]
    if link:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the incident board>"}]}
        )
    return {
        "text": headline,
        "blocks": blocks,
        "datatruth": {
            "event": event,
            "incident_id": incident.id,
            "workspace": incident.workspace,
            "severity": incident.severity,
            "status": incident.status,
            "dedup_key": incident.dedup_key,
        },
    }


class _RetryableStatus(Exception):
    """The receiver answered 429 or 5xx: worth another attempt."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def _post(url: str, body: dict, timeout_s: float) -> httpx.Response:
    response = httpx.post(url, json=body, timeout=timeout_s)
    if response.status_code == 429 or response.status_code >= 500:
        raise _RetryableStatus(response)
    return response  # 2xx-3xx, or a 4xx that will not get better by retrying


def retry_after_s(response: httpx.Response, now: dt.datetime | None = None) -> float | None:
    """Seconds the receiver asks us to wait (Retry-After as seconds or an HTTP date), or None."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - (now or dt.datetime.now(dt.UTC))).total_seconds(), 0.0)


def send(
    store: Store,
    workspace: str,
    url: str,
    event: str,
    incident: repo.Incident,
    workspace_title: str,
    *,
    retries: int = 3,
    backoff_s: float = 0.2,
    timeout_s: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST the payload now (retrying errors, 5xx and 429, honouring Retry-After) and log the delivery."""
    body = payload(event, incident, workspace_title)

    def wait(state: object) -> float:
        failure = state.outcome.exception()  # type: ignore[attr-defined]
        asked = retry_after_s(failure.response) if isinstance(failure, _RetryableStatus) else None
        if asked is not None:
            return min(asked, MAX_RETRY_AFTER_S)
        return backoff_s * 2 ** (state.attempt_number - 1)  # type: ignore[attr-defined]

    retrying = Retrying(
        stop=stop_after_attempt(retries),
        wait=wait,
        sleep=sleep,
        reraise=True,
        retry=retry_if_exception_type((httpx.HTTPError, _RetryableStatus)),
    )
    status: int | None = None
    error: str | None = None
    try:
        response = retrying(_post, url, body, timeout_s)
        status = response.status_code
        error = f"HTTP {status}" if status >= 400 else None
    except _RetryableStatus as err:
        status, error = err.response.status_code, f"HTTP {err.response.status_code}"
    except httpx.HTTPError as err:
        status, error = None, f"{type(err).__name__}: {err}"
    attempts = int(retrying.statistics.get("attempt_number", 1))
    # The webhook URL is a secret (Slack's path is the credential): the log keeps only its host.
    shown = mask_url(url)
    error = error.replace(url, shown) if error else error
    repo.record_delivery(store, workspace, incident.id, event, shown, status, attempts, error)
    if error:
        log.warning(
            "webhook delivery failed",
            extra={
                "fields": {"workspace": workspace, "incident": incident.id, "event": event, "error": error}
            },
        )
    return Delivery(error is None, status, attempts, error)


_OUTBOX: ThreadPoolExecutor | None = None
_PENDING: set[Future] = set()
_OUTBOX_LOCK = threading.Lock()


def deliver(
    store: Store, workspace: str, url: str, event: str, incident: repo.Incident, workspace_title: str
) -> Future:
    """Queue a notification for the background sender and return at once (its Future gives the Delivery)."""
    global _OUTBOX
    with _OUTBOX_LOCK:
        if _OUTBOX is None:
            # One worker keeps each workspace's notifications in order (opened before escalated before resolved).
            _OUTBOX = ThreadPoolExecutor(max_workers=1, thread_name_prefix="datatruth-webhook")
        future = _OUTBOX.submit(send, store, workspace, url, event, incident, workspace_title)
        _PENDING.add(future)
    future.add_done_callback(_finished)
    return future


def _finished(future: Future) -> None:
    _PENDING.discard(future)
    failure = future.exception()
    if failure is not None:  # e.g. the store went away: nobody waits on this future, so say it here
        log.error("webhook delivery crashed: %s: %s", type(failure).__name__, failure)


def flush(timeout_s: float | None = None) -> list[Delivery]:
    """Wait until every queued notification was sent (or gave up); return their outcomes."""
    with _OUTBOX_LOCK:
        pending = list(_PENDING)
    return [f.result(timeout=timeout_s) for f in pending]
