"""Faults 10 and 11: webhooks delivered synchronously inside the page; logging never configured; sqlglot's own
warnings printed on stderr before the real error."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from datatruth.incidents import notify, service
from datatruth.quality.outcome import CheckOutcome
from datatruth.settings import load_settings
from datatruth.store import incidents as repo
from datatruth.store.engine import Store
from datatruth.store.users import seed_from_config
from datatruth.workspace.config import Member
from datatruth.workspace.registry import Workspace, create_workspace, load_config

SCRIPT = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "datatruth"


class _Hook(BaseHTTPRequestHandler):
    release = threading.Event()
    answers: list[tuple[int, dict[str, str]]] = []
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Hook.release.wait(30)  # a slow receiver: holds every request until the test lets go
        status, headers = _Hook.answers.pop(0) if _Hook.answers else (200, {})
        if status == 200:
            _Hook.received.append(body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def hook() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hook.release.clear()
    _Hook.answers, _Hook.received = [], []
    yield f"http://127.0.0.1:{server.server_port}/hook"
    _Hook.release.set()
    notify.flush(timeout_s=60)
    server.shutdown()


@pytest.fixture()
def shop(private_dirs: dict[str, str], hook: str):
    settings = load_settings()
    create_workspace("shop", settings=settings)
    config = dataclasses.replace(
        load_config("shop", settings), webhook_url=hook, members=(Member("ana", "admin", "owner"),)
    )
    store = Store(private_dirs["DATATRUTH_STORE_URL"])
    seed_from_config(store, "shop", config.members)
    return Workspace(config, settings), store


def _failed_check() -> CheckOutcome:
    return CheckOutcome(
        check_name="orders_not_null",
        check_type="not_null",
        table="orders",
        column="id",
        status="fail",
        severity="warning",
        owner="ana",
        metric_value=3.0,
        threshold="<= 0",
        message="3 rows with no id",
        run_id=uuid.uuid4().hex[:8],
    )


def test_notifications_leave_the_caller_at_once_and_arrive_later(shop) -> None:
    ws, store = shop
    report = service.process_outcomes(store, ws, [_failed_check()])  # the receiver is still holding
    assert report.opened and _Hook.received == [] and repo.deliveries(store, "shop") == []
    _Hook.release.set()
    (delivery,) = notify.flush(timeout_s=60)
    assert delivery.ok and delivery.attempts == 1
    assert [m["datatruth"]["event"] for m in _Hook.received] == ["opened"]
    assert repo.deliveries(store, "shop")[0]["status_code"] == 200


@pytest.mark.parametrize("retry_after", ["2", "date"])
def test_retries_wait_what_retry_after_asks(shop, retry_after: str) -> None:
    ws, store = shop
    _Hook.release.set()
    value = (
        retry_after
        if retry_after != "date"
        else email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True)
    )
    _Hook.answers = [(429, {"Retry-After": value}), (503, {}), (200, {})]
    quiet = Workspace(dataclasses.replace(ws.config, webhook_url=None), ws.settings)  # an incident to send
    (iid,) = service.process_outcomes(store, quiet, [_failed_check()]).opened
    waits: list[float] = []
    delivery = notify.send(
        store,
        "shop",
        ws.config.webhook_url,
        "opened",
        repo.get(store, "shop", iid),
        "Shop",
        backoff_s=0.01,
        sleep=waits.append,
    )
    assert delivery.ok and delivery.attempts == 3
    if retry_after == "2":
        assert waits[0] == 2.0
    else:
        assert 25 <= waits[0] <= 30
    assert waits[1] == pytest.approx(0.02)  # no Retry-After on the 503: exponential backoff


def test_a_receiver_that_keeps_failing_is_logged_not_raised(shop) -> None:
    ws, store = shop
    _Hook.release.set()
    _Hook.answers = [(500, {})] * 3
    service.process_outcomes(store, ws, [_failed_check()])
    (delivery,) = notify.flush(timeout_s=60)
    assert not delivery.ok and delivery.attempts == 3 and delivery.status_code == 500


def _cli(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PROBE = (
    "from datatruth.cli.main import main; from datatruth.logs import get_logger; "
    "code = main(['workspace', 'list']); "
    "get_logger('probe').info('probe line', extra={'fields': {'api_key': 'sk-1', 'rows': [1]}}); "
    "raise SystemExit(code)"
)


def test_the_log_level_comes_from_the_environment(private_dirs: dict[str, str]) -> None:
    info = _cli(PROBE, {**private_dirs, "DATATRUTH_LOG_LEVEL": "info"})
    assert info.returncode == 0
    (line,) = [json.loads(x) for x in info.stderr.splitlines() if x.startswith("{")]
    assert (
        line["msg"] == "probe line"
        and line["level"] == "INFO"
        and line["api_key"] == "***"
        and "rows" not in line
    )
    quiet = _cli(PROBE, {**private_dirs, "DATATRUTH_LOG_LEVEL": "WARNING"})
    assert quiet.returncode == 0 and "probe line" not in quiet.stderr
    bad = _cli(PROBE, {**private_dirs, "DATATRUTH_LOG_LEVEL": "LOUD"})
    assert bad.returncode == 2 and "DATATRUTH_LOG_LEVEL is 'LOUD', which is not a log level" in bad.stderr


def test_sqlglot_warnings_do_not_reach_the_terminal(private_dirs: dict[str, str], tmp_path: Path) -> None:
    from datatruth.workspace.load_files import load_files

    create_workspace("mine", settings=load_settings())
    (tmp_path / "t.csv").write_text("a\n1\n")
    load_files("mine", [tmp_path / "t.csv"], load_settings())
    result = subprocess.run(
        [str(SCRIPT), "sql", "-w", "mine", "VACUUM t"],
        env={**os.environ, **private_dirs},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2 and result.stderr.startswith("error: only a read-only query")
    assert "unsupported syntax" not in result.stderr and "Falling back" not in result.stderr
