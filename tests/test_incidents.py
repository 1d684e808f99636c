"""Incident workflow: dedup, escalation, auto-resolve and reopen, roles, webhooks, concurrency."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from datatruth.cli.main import main
from datatruth.errors import PermissionDenied, UserError
from datatruth.incidents import notify, service
from datatruth.quality.outcome import CheckOutcome
from datatruth.settings import load_settings
from datatruth.store import audit
from datatruth.store import incidents as repo
from datatruth.store.engine import Store
from datatruth.store.users import seed_from_config
from datatruth.workspace.config import Member
from datatruth.workspace.registry import Workspace, load_config

REPO = Path(__file__).resolve().parent.parent
MEMBERS = (
    Member("olga", "admin", "owner"),
    Member("max", "analyst", "maintainer"),
    Member("rita", "analyst", "reviewer"),
    Member("vic", "viewer", "viewer"),
)


def make_ws(tmp_path: Path, webhook: str | None = None) -> Workspace:
    settings = load_settings(
        {"DATATRUTH_DATA_DIR": str(tmp_path / "data"), "DATATRUTH_WORKSPACES_DIR": str(REPO / "workspaces")}
    )
    config = dataclasses.replace(load_config("retail", settings), members=MEMBERS, webhook_url=webhook)
    return Workspace(config, settings)


def outcome(
    name: str, status: str = "fail", severity: str = "warning", value: float = 1.0, **kw
) -> CheckOutcome:
    return CheckOutcome(
        check_name=name,
        check_type="not_null",
        table="customers",
        column="email",
        status=status,
        severity=severity,
        owner="max",
        metric_value=value,
        threshold="<= 0",
        message=f"{value:g} rows with a null email",
        run_id=uuid.uuid4().hex[:8],
        **kw,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'meta.sqlite'}")
    seed_from_config(s, "retail", MEMBERS)
    yield s
    s.dispose()


def test_dedup_escalate_resolve_reopen(store: Store, tmp_path: Path) -> None:
    ws = make_ws(tmp_path)
    first = service.process_outcomes(store, ws, [outcome("emails_not_null"), outcome("ok_check", "pass")])
    assert len(first.opened) == 1 and not first.resolved
    (iid,) = first.opened
    second = service.process_outcomes(store, ws, [outcome("emails_not_null", value=2)])
    assert second.appended == (iid,) and not second.opened  # no duplicate incident
    third = service.process_outcomes(store, ws, [outcome("emails_not_null", value=3)])
    assert third.escalated == (iid,)
    inc = repo.get(store, "retail", iid)
    assert (inc.occurrences, inc.severity, inc.status) == (3, "critical", "open")
    fixed = service.process_outcomes(store, ws, [outcome("emails_not_null", "pass", value=0)])
    assert fixed.resolved == (iid,) and repo.get(store, "retail", iid).status == "resolved"
    again = service.process_outcomes(store, ws, [outcome("emails_not_null")])
    assert again.reopened == (iid,) and repo.get(store, "retail", iid).status == "open"
    kinds = [e.kind for e in repo.events(store, "retail", iid)]
    assert kinds == ["opened", "occurrence", "occurrence", "escalated", "auto_resolved", "reopened"]
    values = [
        e.detail["metric_value"]
        for e in repo.events(store, "retail", iid)
        if e.kind in ("opened", "occurrence")
    ]
    assert values == [1.0, 2.0, 3.0]


def test_no_auto_resolve_when_disabled(store: Store, tmp_path: Path) -> None:
    ws = make_ws(tmp_path)
    (iid,) = service.process_outcomes(store, ws, [outcome("manual", auto_resolve=False)]).opened
    service.process_outcomes(store, ws, [outcome("manual", "pass", auto_resolve=False)])
    assert repo.get(store, "retail", iid).status == "open"


def test_workflow_and_roles(store: Store, tmp_path: Path) -> None:
    ws = make_ws(tmp_path)
    (iid,) = service.process_outcomes(store, ws, [outcome("emails_not_null")]).opened
    with pytest.raises(UserError, match="needs a comment"):
        service.acknowledge(store, "retail", iid, "rita", "  ")
    with pytest.raises(PermissionDenied):
        service.acknowledge(store, "retail", iid, "vic", "I am only a viewer")
    service.acknowledge(store, "retail", iid, "rita", "looking at the loader")
    with pytest.raises(PermissionDenied):
        service.resolve(store, "retail", iid, "rita")  # reviewers acknowledge and comment only
    with pytest.raises(PermissionDenied):
        service.add_comment(store, "retail", iid, "vic", "viewers read")
    service.add_comment(store, "retail", iid, "rita", "found it")
    service.assign(store, "retail", iid, "rita", "max")
    inc = service.resolve(store, "retail", iid, "max", "backfilled")
    assert inc.status == "resolved" and inc.owner == "rita" and inc.acknowledged_at and inc.resolved_at
    actions = [e.action for e in audit.entries(store, "retail", action="incident")]
    assert {
        "incident.open",
        "incident.ack",
        "incident.comment",
        "incident.assign",
        "incident.resolved",
    } <= set(actions)
    stats = service.board_stats(store, "retail")
    assert stats.by_status == {"resolved": 1} and stats.mean_minutes_to_ack is not None


def test_outcomes_and_training_exclusions(store: Store, tmp_path: Path) -> None:
    ws = make_ws(tmp_path)
    (fp,) = service.process_outcomes(store, ws, [outcome("volume_anomaly", value=9.5)]).opened
    service.set_outcome(store, "retail", fp, "false_positive", "max", "holiday sale")
    points = service.excluded_points(store, "retail", "volume_anomaly")
    assert [p["metric_value"] for p in points] == [9.5]
    # After a false positive, a new failure is new information: a new incident.
    (new,) = service.process_outcomes(store, ws, [outcome("volume_anomaly", value=8.0)]).opened
    assert new != fp
    service.set_outcome(store, "retail", new, "wont_fix", "olga")
    muted = service.process_outcomes(store, ws, [outcome("volume_anomaly", value=7.0)])
    assert muted.muted == (new,) and not muted.opened
    with pytest.raises(UserError):
        service.set_outcome(store, "retail", new, "whatever", "olga")


def test_sensitive_columns_are_redacted(store: Store, tmp_path: Path) -> None:
    ws = make_ws(tmp_path)
    rows = ({"customer_id": 7, "email": "jane.doe@example.org", "phone": "(212) 555-0101", "region": "West"},)
    (iid,) = service.process_outcomes(store, ws, [outcome("dupes", example_rows=rows)]).opened
    stored = repo.get(store, "retail", iid).detail["example_rows"][0]
    assert stored["email"] == "•••" and stored["phone"] == "•••" and stored["region"] == "West"
    assert "jane.doe" not in json.dumps([e.detail for e in repo.events(store, "retail", iid)])


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []
    fail_first = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if _Receiver.fail_first > 0:
            _Receiver.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        _Receiver.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.received = []
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_webhook_on_open_escalate_resolve_with_retries(store: Store, tmp_path: Path, receiver: str) -> None:
    ws = make_ws(tmp_path, webhook=receiver)
    _Receiver.fail_first = 2  # the first delivery succeeds on the third attempt
    (iid,) = service.process_outcomes(store, ws, [outcome("emails_not_null")]).opened
    service.process_outcomes(store, ws, [outcome("emails_not_null")])
    service.process_outcomes(store, ws, [outcome("emails_not_null")])
    service.process_outcomes(store, ws, [outcome("emails_not_null", "pass")])
    notify.flush(timeout_s=60)  # deliveries run in the background
    events = [m["datatruth"]["event"] for m in _Receiver.received]
    assert events == ["opened", "escalated", "resolved"]
    assert all("text" in m and m["blocks"] for m in _Receiver.received)
    log = repo.deliveries(store, "retail")
    assert [d["attempts"] for d in reversed(log)] == [3, 1, 1] and all(d["status_code"] == 200 for d in log)
    # Issue 14, finding 9: the webhook URL is a secret; the delivery log keeps only its host.
    assert {d["url"] for d in log} == {receiver.rsplit("/", 1)[0] + "/***"}


def test_webhook_failure_is_logged_not_raised(store: Store, tmp_path: Path) -> None:
    ws = make_ws(tmp_path, webhook="http://127.0.0.1:9/unreachable")
    service.process_outcomes(store, ws, [outcome("emails_not_null")])
    notify.flush(timeout_s=60)
    (delivery,) = repo.deliveries(store, "retail")
    assert delivery["status_code"] is None and delivery["attempts"] == 3 and delivery["error"]
    assert delivery["url"] == "http://127.0.0.1:9/***" and "unreachable" not in delivery["error"]


def test_concurrent_sessions_lose_nothing_on_postgres(pg_url: str, tmp_path: Path) -> None:
    schema = f"incidents_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{pg_url}?options=-csearch_path%3D{schema}"
    try:
        a, b = Store(url), Store(url)
        seed_from_config(a, "retail", MEMBERS)
        (iid,) = service.process_outcomes(a, make_ws(tmp_path), [outcome("emails_not_null")]).opened
        errors: list[BaseException] = []

        def session(store: Store, user: str) -> None:
            try:
                for n in range(15):
                    service.add_comment(store, "retail", iid, user, f"{user} note {n}")
                    if user == "rita" and n == 5:
                        service.acknowledge(store, "retail", iid, user, "on it")
                    if user == "max" and n == 7:
                        service.assign(store, "retail", iid, "max", "max")
            except BaseException as err:  # noqa: BLE001 - surface thread failures in the main thread
                errors.append(err)

        threads = [
            threading.Thread(target=session, args=(a, "rita")),
            threading.Thread(target=session, args=(b, "max")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        timeline = repo.events(a, "retail", iid)
        comments = [e.comment for e in timeline if e.kind == "comment"]
        assert len(comments) == 30 and len(set(comments)) == 30
        assert [e.kind for e in timeline].count("acknowledged") == 1
        final = repo.get(b, "retail", iid)
        assert final.status == "acknowledged" and final.owner == "max"
        assert final.row_version == 1 + 2  # ack and assign each bump the version once
        a.dispose()
        b.dispose()
    finally:
        with admin.begin() as c:
            c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_cli_list_ack_resolve_assign(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings()
    from datatruth.store import open_store

    store = open_store(settings=settings)
    ws = Workspace(load_config("retail", settings), settings)
    seed_from_config(store, "retail", ws.config.members)
    (iid,) = service.process_outcomes(store, ws, [outcome("emails_not_null")]).opened
    assert main(["incidents", "list", "-w", "retail", "--json", "--status", "open"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [i["id"] for i in listed] == [iid]
    assert main(["incidents", "ack", str(iid), "-w", "retail", "--user", "rey", "--comment", "checking"]) == 0
    assert main(["incidents", "assign", str(iid), "ana", "-w", "retail", "--user", "ana"]) == 0
    assert main(["incidents", "resolve", str(iid), "-w", "retail", "--user", "vic"]) == 2  # viewer
    assert "may not" in capsys.readouterr().err
    assert main(["incidents", "resolve", str(iid), "-w", "retail", "--user", "ana"]) == 0
    assert repo.get(store, "retail", iid).status == "resolved"
    assert main(["incidents", "ack", "99999", "-w", "retail", "--comment", "x"]) == 2
