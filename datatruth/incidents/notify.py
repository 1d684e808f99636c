"""Webhook notifications (Slack-compatible JSON) with retries and a delivery log."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from datatruth.logs import get_logger, mask_url
from datatruth.store import incidents as repo
from datatruth.store.engine import Store

log = get_logger("incidents.notify")
SEVERITY_EMOJI = {"info": "ℹ️", "warning": "⚠️", "critical": "🔴"}


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
    fields = [f"*Severity:* {incident.severity}", f"*Status:* {incident.status}",
              f"*Table:* {incident.table_name or '—'}", f"*Owner:* {incident.owner or 'unassigned'}",
              f"*Occurrences:* {incident.occurrences}"]
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": headline}},
              {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]}]
    if link:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the incident board>"}]})
    return {"text": headline, "blocks": blocks,
            "datatruth": {"event": event, "incident_id": incident.id, "workspace": incident.workspace,
                          "severity": incident.severity, "status": incident.status, "dedup_key": incident.dedup_key}}


def send(store: Store, workspace: str, url: str, event: str, incident: repo.Incident, workspace_title: str, *,
         retries: int = 3, backoff_s: float = 0.2, timeout_s: float = 5.0) -> Delivery:
    """POST the payload, retrying on errors and 5xx/429 with exponential backoff; log the delivery."""
    body = payload(event, incident, workspace_title)
    status: int | None = None
    error: str | None = None
    attempt = 0
    for attempt in range(1, retries + 1):
        try:
            response = httpx.post(url, json=body, timeout=timeout_s)
            status = response.status_code
            if status < 400:
                error = None
                break
            error = f"HTTP {status}"
            if status < 500 and status != 429:
                break  # a client error will not get better by retrying
        except httpx.HTTPError as err:
            status, error = None, f"{type(err).__name__}: {err}"
        if attempt < retries:
            time.sleep(backoff_s * 2 ** (attempt - 1))
    # The webhook URL is a secret (Slack's path is the credential): the log keeps only its host.
    shown = mask_url(url)
    error = error.replace(url, shown) if error else error
    repo.record_delivery(store, workspace, incident.id, event, shown, status, attempt, error)
    if error:
        log.warning("webhook delivery failed", extra={"fields": {"workspace": workspace, "incident": incident.id,
                                                                 "event": event, "error": error}})
    return Delivery(error is None, status, attempt, error)
