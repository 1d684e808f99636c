"""Dashboards: pins survive a restart and re-run from the plan, filters, roles, share links, exports, alerts, CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
import re
import subprocess
import threading
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pandas as pd
import pytest
from isolation import demo_env, open_demo

from datatruth import resources
from datatruth.ask import pipeline
from datatruth.dashboards import alerts, export, run, service
from datatruth.errors import ConfigError, NotFound, PermissionDenied, UserError
from datatruth.incidents import notify
from datatruth.semantic.plan import QueryPlan
from datatruth.settings import Settings, load_settings
from datatruth.store import audit
from datatruth.store import dashboards as repo
from datatruth.store import incidents as incident_repo
from datatruth.store.engine import Store
from datatruth.workspace.registry import Workspace

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def demo_vars(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Settings for this module's private data dir, the built demo warehouses copied in."""
    return demo_env(tmp_path_factory.mktemp("dashboards"))


@pytest.fixture(scope="session")
def settings(demo_vars: dict[str, str]) -> Settings:
    """The settings every workspace of this module is opened with."""
    return load_settings(demo_vars)


@pytest.fixture(scope="session")
def retail(settings: Settings) -> Iterator[tuple[Workspace, Store]]:
    """The retail demo and its store, shared by this module's tests."""
    ws, store = open_demo(settings, "retail")
    yield ws, store
    resources.invalidate(ws.name)
    ws.close()


@pytest.fixture(scope="session")
def flights(settings: Settings) -> Iterator[tuple[Workspace, Store]]:
    """The flights demo and its store, shared by this module's tests."""
    ws, store = open_demo(settings, "flights")
    yield ws, store
    resources.invalidate(ws.name)
    ws.close()


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def pin_question(ws: Workspace, store: Store, user: str, board: str | int, question: str, **kw) -> repo.Tile:
    plan, _ = pipeline.plan_only(ws, question, store=store)
    return service.pin(store, ws, user, board, question, question, plan, **kw)


# -- pin, restart, re-run -----------------------------------------------------------------------------------


def test_pinned_answer_survives_a_restart_and_rerenders_from_its_plan(settings: Settings, retail) -> None:
    ws, store = retail
    answer = pipeline.ask(ws, "revenue by month in 2025", user="ana", store=store)
    board = unique("Sales")
    tile = service.pin(store, ws, "ana", board, "Revenue 2025", answer.question, answer.plan)
    assert tile.plan == answer.plan.to_dict() and tile.model_version and tile.model_version.startswith("v")
    assert set(tile.plan) <= {"metrics", "dimensions", "time_range", "evidence"}  # a plan, never rows

    ws2, store2 = open_demo(settings, "retail")  # a new process: new workspace, warehouse and store objects
    try:
        (found,) = repo.tiles_of(store2, "retail", tile.dashboard_id)
        assert found.id == tile.id and found.title == "Revenue 2025"
        result = run.run_dashboard(ws2, store2, "vic", tile.dashboard_id)
        (tile_run,) = result.tiles
        assert not tile_run.stale and tile_run.answer is not None
        assert tile_run.answer.sql == answer.sql
        pd.testing.assert_frame_equal(tile_run.answer.frame, answer.frame)
        assert tile_run.answer.cached  # re-runs go through the result cache
        fresh = run.run_dashboard(ws2, store2, "vic", tile.dashboard_id, refresh=True).tiles[0].answer
        assert fresh is not None and not fresh.cached
    finally:
        resources.invalidate(ws2.name)
        ws2.close()
        store2.dispose()
    assert [e.action for e in audit.entries(store, "retail", username="ana", action="dashboard.")][:2] == [
        "dashboard.pin",
        "dashboard.create",
    ]


def test_a_tile_does_not_count_as_a_question(retail) -> None:
    from datatruth.store import history

    ws, store = retail
    tile = pin_question(ws, store, "ana", unique("Quota"), "orders by channel")
    before = len(history.recent(store, "retail", "rey", limit=1000))
    run.run_dashboard(ws, store, "rey", tile.dashboard_id)
    assert len(history.recent(store, "retail", "rey", limit=1000)) == before


def test_stale_tile_says_so_and_replans_from_its_question(retail) -> None:
    ws, store = retail
    board = service.create_dashboard(store, "retail", "ana", unique("Stale"))
    # A plan pinned under an older model whose metric was since renamed: it no longer compiles.
    tile = repo.add_tile(
        store,
        "retail",
        board.id,
        title="Old revenue",
        question="revenue by month",
        plan={"metrics": ["revenue_old"], "dimensions": [{"name": "metric_time", "grain": "month"}]},
        model_version="v0",
    )
    (tile_run,) = run.run_dashboard(ws, store, "vic", board.id).tiles
    assert tile_run.stale and tile_run.answer is None
    assert "revenue_old" in tile_run.error and "re-plan" in tile_run.hint and "v0" in tile_run.hint
    with pytest.raises(PermissionDenied):
        service.replan(store, ws, "vic", tile.id)
    fixed = service.replan(store, ws, "ana", tile.id)
    assert fixed.plan["metrics"] == ["revenue"] and fixed.model_version != "v0"
    (tile_run,) = run.run_dashboard(ws, store, "vic", board.id).tiles
    assert not tile_run.stale and tile_run.answer is not None and tile_run.answer.row_count > 12


def test_pin_refuses_a_plan_the_model_cannot_answer(retail) -> None:
    ws, store = retail
    with pytest.raises(UserError):
        service.pin(store, ws, "ana", unique("Bad"), "x", "x", {"metrics": ["no_such_metric"]})


# -- filters ------------------------------------------------------------------------------------------------


def test_dashboard_filters_apply_where_the_dimension_exists(retail) -> None:
    ws, store = retail
    board = unique("Filtered")
    by_month = pin_question(ws, store, "ana", board, "revenue by month")
    by_region = pin_question(ws, store, "ana", board, "revenue by customer region")
    spend = pin_question(ws, store, "ana", board, "marketing spend by month")
    filters = run.Filters(
        dt.date(2025, 1, 1), dt.date(2025, 6, 30), (run.CategoryFilter("customer__region", ("West",)),)
    )
    result = run.run_dashboard(ws, store, "vic", by_month.dashboard_id, filters)
    runs = {t.tile.id: t for t in result.tiles}

    month = runs[by_month.id]
    assert month.answer is not None and month.answer.row_count == 6  # Jan..Jun 2025
    assert month.answer.frame.iloc[0, 0] == dt.date(2025, 1, 1)
    assert month.applied == ("date 2025-01-01 to 2025-06-30", "customer__region in (West)")
    region = runs[by_region.id]
    assert region.answer is not None and region.answer.frame["customer__region"].tolist() == ["West"]
    # The same numbers as the plan with the filter written by hand.
    expected = QueryPlan.from_dict(
        {
            "metrics": ["revenue"],
            "dimensions": [{"name": "customer__region"}],
            "filters": [{"dimension": "customer__region", "op": "in", "values": ["West"]}],
            "time_range": {"start": "2025-01-01", "end": "2025-07-01"},
        }
    )
    by_hand = run.run_plan(ws, expected, user="vic", store=store)
    assert float(by_hand.frame["revenue"].iloc[0]) == float(region.answer.frame["revenue"].iloc[0])
    assert float(month.answer.frame["revenue"].astype(float).sum()) == pytest.approx(
        float(by_hand.frame["revenue"].iloc[0])
    )
    # Marketing spend has no customers: the region filter is skipped (and said so), the dates still apply.
    other = runs[spend.id]
    assert other.answer is not None and other.answer.row_count == 6
    assert other.applied == ("date 2025-01-01 to 2025-06-30",)
    assert len(other.skipped) == 1 and "customer__region" in other.skipped[0]


def test_unknown_filter_dimension_is_skipped_and_saved_filters_are_used(retail) -> None:
    ws, store = retail
    tile = pin_question(ws, store, "ana", unique("Saved"), "orders by channel")
    saved = run.Filters(
        categories=(
            run.CategoryFilter("airline__carrier", ("UA",)),
            run.CategoryFilter("order__channel", ("Online",)),
        )
    )
    with pytest.raises(PermissionDenied):
        service.save_filters(store, "retail", "vic", tile.dashboard_id, saved)
    service.save_filters(store, "retail", "ana", tile.dashboard_id, saved)
    (tile_run,) = run.run_dashboard(ws, store, "vic", tile.dashboard_id).tiles
    assert tile_run.skipped == ("airline__carrier in (UA): this model has no airline__carrier",)
    assert tile_run.answer is not None and tile_run.answer.frame["order__channel"].tolist() == ["Online"]
    assert run.Filters.from_dict(repo.get(store, "retail", tile.dashboard_id).filters) == saved


@pytest.mark.parametrize(
    "data",
    [
        {"start": "2025-02-01", "end": "2025-01-01"},
        {"start": "yesterday"},
        {"categories": [{"values": ["x"]}]},
    ],
)
def test_malformed_filters_are_user_errors(data: dict) -> None:
    with pytest.raises(UserError):
        run.Filters.from_dict(data)


# -- roles, ordering, sharing -------------------------------------------------------------------------------


def test_analyst_edits_viewer_views_but_cannot_edit(retail) -> None:
    ws, store = retail
    board = unique("Roles")
    first = pin_question(ws, store, "rey", board, "orders by channel")
    second = pin_question(ws, store, "rey", board, "revenue")
    third = pin_question(ws, store, "rey", board, "units")
    plan = QueryPlan.from_dict(first.plan)
    edits = [
        lambda: service.pin(store, ws, "vic", first.dashboard_id, "t", "q", plan),
        lambda: service.create_dashboard(store, "retail", "vic", unique("Nope")),
        lambda: service.move_tile(store, "retail", "vic", second.id, -1),
        lambda: service.remove_tile(store, "retail", "vic", second.id),
        lambda: service.rename_tile(store, "retail", "vic", second.id, "x"),
        lambda: service.set_alert(store, "retail", "vic", second.id, alerts.parse_rule("revenue < 1")),
        lambda: service.delete_dashboard(store, "retail", "vic", first.dashboard_id),
    ]
    for edit in edits:
        with pytest.raises(PermissionDenied):
            edit()
    view = service.open_dashboard(store, "retail", "vic", first.dashboard_id)
    assert not view.can_edit and [t.id for t in view.tiles] == [first.id, second.id, third.id]
    assert service.open_dashboard(store, "retail", "rey", first.dashboard_id).can_edit

    service.move_tile(store, "retail", "rey", third.id, -1)
    assert [t.id for t in repo.tiles_of(store, "retail", first.dashboard_id)] == [
        first.id,
        third.id,
        second.id,
    ]
    service.move_tile(store, "retail", "rey", first.id, -1)  # already first: nothing moves
    service.move_tile(store, "retail", "rey", first.id, +1)
    assert [t.id for t in repo.tiles_of(store, "retail", first.dashboard_id)] == [
        third.id,
        first.id,
        second.id,
    ]
    service.remove_tile(store, "retail", "rey", first.id)
    assert [t.id for t in repo.tiles_of(store, "retail", first.dashboard_id)] == [third.id, second.id]
    service.delete_dashboard(store, "retail", "rey", first.dashboard_id)
    with pytest.raises(NotFound):
        service.open_dashboard(store, "retail", "vic", first.dashboard_id)


def test_share_link_opens_for_members_and_never_for_others(retail, flights) -> None:
    ws, store = retail
    tile = pin_question(ws, store, "ana", unique("Shared"), "revenue by customer region")
    link = service.share_link("retail", tile.dashboard_id, tile.id, base_url="https://dt.example.com/")
    assert link == f"https://dt.example.com/dashboards?ws=retail&dashboard={tile.dashboard_id}&tile={tile.id}"
    assert service.open_shared(store, "retail", "vic", tile.dashboard_id).dashboard.id == tile.dashboard_id
    only = service.open_shared(store, "retail", "vic", tile.dashboard_id, tile.id)
    assert [t.id for t in only.tiles] == [tile.id]
    from datatruth.store.users import ensure_user

    ensure_user(store, "mallory")  # a real user, but not a member of retail
    for outsider in ("mallory", "nobody"):
        with pytest.raises(PermissionDenied):
            service.open_shared(store, "retail", outsider, tile.dashboard_id)
        with pytest.raises(PermissionDenied):
            run.run_dashboard(ws, store, outsider, tile.dashboard_id)
    # A retail dashboard id does not open under another workspace, even for a member there.
    fws, fstore = flights
    with pytest.raises(NotFound):
        service.open_shared(fstore, "flights", "vic", tile.dashboard_id)


# -- exports ------------------------------------------------------------------------------------------------


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str | None] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.sources.append(found.get("src"))
        if tag == "link" and found.get("href"):
            self.links.append(found["href"] or "")


def test_html_export_is_standalone_escaped_and_audited(retail) -> None:
    ws, store = retail
    board = unique("Export")
    chart = pin_question(ws, store, "ana", board, "revenue by month in 2025")
    pin_question(ws, store, "ana", board, "orders by channel", kind="table")
    service.rename_tile(store, "retail", "ana", chart.id, "<script>alert(1)</script> Revenue")
    page = export.export_dashboard_html(ws, store, "vic", chart.dashboard_id)
    parser = _Scripts()
    parser.feed(page)
    assert parser.sources and all(src is None for src in parser.sources)  # every script is inline
    assert not parser.links
    assert page.count("plotly.js v") >= 1 and "Plotly.newPlot" in page  # the library itself is inlined
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Revenue" in page and "<script>alert(1)" not in page
    assert "<th>Sales channel</th>" in page and "<table" in page and "order__channel" not in page  # labels
    (entry,) = audit.entries(store, "retail", username="vic", action="dashboard.export", limit=1)
    assert entry.target == f"dashboard:{chart.dashboard_id}" and entry.detail["format"] == "html"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_tile_data_export_round_trips_and_is_audited(retail, fmt: str) -> None:
    ws, store = retail
    tile = pin_question(ws, store, "ana", unique("Data"), "orders by channel in 2025")
    name, payload = export.export_tile_data(ws, store, "vic", tile.id, fmt)
    assert name == f"orders-by-channel-in-2025.{fmt}"  # the file says what it holds
    frame = pd.read_csv(io.BytesIO(payload)) if fmt == "csv" else pd.read_excel(io.BytesIO(payload))
    answer = run.run_dashboard(ws, store, "vic", tile.dashboard_id).tiles[0].answer
    assert answer is not None
    assert list(frame.columns) == ["Sales channel", "Orders"]  # labels, not model names
    assert frame["Sales channel"].tolist() == answer.frame["order__channel"].tolist()
    assert frame["Orders"].tolist() == answer.frame["orders"].tolist()
    assert pd.api.types.is_integer_dtype(frame["Orders"])  # numbers, not text
    entry = audit.entries(store, "retail", username="vic", action="dashboard.export", limit=1)[0]
    assert entry.target == f"tile:{tile.id}" and entry.detail == {"format": fmt, "rows": answer.row_count}


# -- alerts -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metric", "op", "value"),
    [
        ("on_time_rate < 75%", "on_time_rate", "<", 0.75),
        ("on_time_rate<0.75", "on_time_rate", "<", 0.75),
        ("revenue >= 1000000", "revenue", ">=", 1_000_000.0),
        ("revenue > -5", "revenue", ">", -5.0),
        ("orders <= 12.5", "orders", "<=", 12.5),
        ("orders == 0", "orders", "==", 0.0),
        ("orders != 3", "orders", "!=", 3.0),
    ],
)
def test_parse_rule(text: str, metric: str, op: str, value: float) -> None:
    rule = alerts.parse_rule(text)
    assert (rule.metric, rule.op) == (metric, op) and rule.value == pytest.approx(value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "on_time_rate",
        "< 5",
        "revenue < abc",
        "revenue < 5 and orders > 3",
        "5 < revenue",
        "revenue ~ 5",
        "drop table x",
    ],
)
def test_bad_rules_are_user_errors(text: str) -> None:
    with pytest.raises(UserError):
        alerts.parse_rule(text)


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        _Receiver.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.received = []
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_a_viewer_cannot_refresh_alerts(flights) -> None:
    # Issue 14, finding 5: a refresh opens and resolves incidents for everyone, so it needs the analyst role.
    ws, store = flights
    board = unique("Viewer refresh")
    kpi = pin_question(ws, store, "ana", board, "on time rate")
    service.set_alert(store, "flights", "ana", kpi.id, alerts.parse_rule("on_time_rate < 200%"))
    before = len(incident_repo.search(store, "flights"))
    for user in ("vic", "stranger"):
        with pytest.raises(PermissionDenied):
            alerts.refresh(store, ws, user, kpi.dashboard_id)
    assert len(incident_repo.search(store, "flights")) == before
    assert alerts.refresh(store, ws, "ana", kpi.dashboard_id).fired, "an analyst may"


def test_alert_breach_opens_an_incident_calls_the_webhook_and_recovery_resolves(
    settings: Settings, flights, webhook: str
) -> None:
    base, store = flights
    ws = Workspace(dataclasses.replace(base.config, webhook_url=webhook), settings)
    try:
        board = unique("Ops")
        kpi = pin_question(ws, store, "ana", board, "on time rate")
        quiet = pin_question(ws, store, "ana", board, "flights by month")
        value = float(run.run_dashboard(ws, store, "ana", kpi.dashboard_id).tiles[0].answer.frame.iloc[0, 0])
        service.set_alert(
            store, "flights", "ana", kpi.id, alerts.parse_rule(f"on_time_rate < {value * 100 + 5}%")
        )
        service.set_alert(store, "flights", "ana", quiet.id, alerts.parse_rule("flights < 1"))
        with pytest.raises(UserError):
            service.set_alert(store, "flights", "ana", kpi.id, alerts.parse_rule("revenue < 1"))

        first = alerts.refresh(store, ws, "local", kpi.dashboard_id)
        assert first.tiles_refreshed == 2 and [a.tile.id for a in first.fired] == [kpi.id]
        assert first.fired[0].check.value == pytest.approx(value)
        (incident_id,) = first.incidents.opened
        incident = incident_repo.get(store, "flights", incident_id)
        assert incident.source == "alert" and incident.dedup_key == alerts.dedup_key(kpi)
        assert "on_time_rate" in incident.title and incident.status == "open"
        notify.flush(timeout_s=60)  # deliveries run in the background
        assert [m["datatruth"]["event"] for m in _Receiver.received] == ["opened"]

        second = alerts.refresh(store, ws, "local", kpi.dashboard_id)  # still breached: same incident
        assert second.incidents.opened == () and second.incidents.appended == (incident_id,)

        service.set_alert(
            store, "flights", "ana", kpi.id, alerts.parse_rule(f"on_time_rate < {value * 100 - 5}%")
        )
        third = alerts.refresh(store, ws, "local", kpi.dashboard_id)
        assert third.fired == () and third.incidents.resolved == (incident_id,)
        assert incident_repo.get(store, "flights", incident_id).status == "resolved"
        notify.flush(timeout_s=60)
        assert [m["datatruth"]["event"] for m in _Receiver.received] == ["opened", "resolved"]
    finally:
        resources.invalidate(ws.name)


def test_alert_by_category_fires_when_any_row_breaches(flights) -> None:
    ws, store = flights
    tile = pin_question(ws, store, "ana", unique("Carriers"), "on time rate by carrier")
    answer = run.run_dashboard(ws, store, "ana", tile.dashboard_id).tiles[0].answer
    assert answer is not None
    worst = answer.frame.sort_values("on_time_rate").iloc[0]
    check = alerts.evaluate(
        alerts.AlertRule("on_time_rate", "<", float(worst["on_time_rate"]) + 1e-9), answer
    )
    # the breaching row is named by its key and its label ("F9, Frontier Airlines Inc.")
    assert check.breached and check.where == f"{worst['airline__carrier']}, {worst['airline__name']}"
    assert check.shown().endswith("%")
    assert not alerts.evaluate(
        alerts.AlertRule("on_time_rate", "<", float(worst["on_time_rate"])), answer
    ).breached


def test_alert_on_a_time_series_looks_at_the_latest_period(retail) -> None:
    ws, store = retail
    answer = run.run_plan(
        ws,
        QueryPlan.from_dict(
            {"metrics": ["orders"], "dimensions": [{"name": "metric_time", "grain": "month"}]}
        ),
        user="ana",
        store=store,
    )
    last = float(answer.frame.sort_values("metric_time__month")["orders"].iloc[-1])
    check = alerts.evaluate(alerts.AlertRule("orders", "<=", last), answer)
    assert check.breached and check.value == last and check.where.startswith("2026-10")


# -- CLI ----------------------------------------------------------------------------------------------------


def test_cli_pin_list_show_export_refresh(
    demo_vars: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from datatruth.cli.main import main

    for key, value in demo_vars.items():
        monkeypatch.setenv(key, value)
    board = unique("CLI")
    assert (
        main(
            [
                "dashboards",
                "pin",
                "-w",
                "flights",
                "--user",
                "ana",
                board,
                "on time rate by carrier",
                "--alert",
                "on_time_rate < 101%",
                "--severity",
                "critical",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "pinned tile" in out and "?ws=flights&dashboard=" in out
    assert main(["dashboards", "list", "-w", "flights", "--json"]) == 0
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)}
    assert listed[board]["tiles"] == 1
    assert main(["dashboards", "show", "-w", "flights", board, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["tiles"][0]["answer"]["columns"] == ["airline__carrier", "airline__name", "on_time_rate"]
    target = tmp_path / "ops.html"
    assert main(["dashboards", "export", "-w", "flights", board, "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (
        main(["dashboards", "export", "-w", "flights", board, "--format", "csv", "-o", str(tmp_path / "csv")])
        == 0
    )
    assert len(list((tmp_path / "csv").glob("*.csv"))) == 1
    capsys.readouterr()
    # Every carrier is below 101%: the alert fires, the exit code says so for cron.
    assert main(["dashboards", "refresh", "-w", "flights", "--dashboard", board, "--json"]) == 1
    (report,) = json.loads(capsys.readouterr().out)
    assert report["alerts"][0]["fired"] and report["incidents"]["opened"]
    assert main(["dashboards", "pin", "-w", "flights", "--user", "vic", board, "flights"]) == 2
    assert "may not edit dashboard" in capsys.readouterr().err
    assert main(["dashboards", "show", "-w", "flights", "no such board"]) == 2


def test_installed_script_help_teaches_with_examples(demo_vars: dict[str, str]) -> None:
    script = REPO / ".venv" / "bin" / "datatruth"
    result = subprocess.run(
        [str(script), "dashboards", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **demo_vars},
    )
    assert result.returncode == 0
    for word in ("list", "show", "refresh", "export", "pin", "Examples:", "exit 1"):
        assert word in result.stdout
    listed = subprocess.run(
        [str(script), "dashboards", "list", "-w", "retail"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **demo_vars},
    )
    assert listed.returncode == 0, listed.stderr


# -- the repository on PostgreSQL (the shared-deployment store) ----------------------------------------------


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    import sqlalchemy as sa

    schema = f"dashboards_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    store = Store(f"{pg_url}?options=-csearch_path%3D{schema}")
    yield store
    store.dispose()
    with admin.begin() as c:
        c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_repository_on_postgres(pg_store: Store) -> None:
    board = repo.create(pg_store, "retail", "Sales", "ana")
    with pytest.raises(UserError):
        repo.create(pg_store, "retail", "sales", "rey")  # names are unique per workspace, any case
    other = repo.create(pg_store, "flights", "Sales", "ana")  # the same name in another workspace is fine
    plan = {"metrics": ["revenue"], "dimensions": [{"name": "metric_time", "grain": "month"}]}
    a = repo.add_tile(
        pg_store, "retail", board.id, title="A", question="revenue by month", plan=plan, model_version="v1"
    )
    b = repo.add_tile(pg_store, "retail", board.id, title="B", question=None, plan=plan, model_version="v1")
    assert (a.position, b.position) == (0, 1)
    repo.update_tile(pg_store, "retail", b.id, alert={"metric": "revenue", "op": "<", "value": 1.0})
    repo.update_tile(pg_store, "retail", a.id, alert={"metric": "revenue", "op": ">", "value": 2.0})
    repo.update_tile(pg_store, "retail", a.id, alert=None)
    assert [t.id for t in repo.alert_tiles(pg_store, "retail")] == [b.id]
    filters = run.Filters(dt.date(2025, 1, 1), None, (run.CategoryFilter("customer__region", ("West",)),))
    repo.set_filters(pg_store, "retail", board.id, filters.to_dict())
    assert run.Filters.from_dict(repo.get(pg_store, "retail", board.id).filters) == filters
    assert repo.tiles_of(pg_store, "retail", board.id)[0].plan == plan
    with pytest.raises(NotFound):
        repo.get(pg_store, "flights", board.id)
    with pg_store.begin() as conn:
        repo.delete(pg_store, "retail", board.id, conn)
    assert repo.list_all(pg_store, "retail") == [] and repo.list_all(pg_store, "flights") == [other]


# -- issue 19: duplicates, absolute links, export chart heights ------------------------------------------------


def test_pinning_the_same_answer_twice_keeps_one_tile(retail) -> None:
    ws, store = retail
    board = unique("Twice")
    first = pipeline.ask(ws, "revenue by month in 2025", user="ana", store=store)
    again = pipeline.ask(
        ws, "revenue per month in 2025", user="ana", store=store
    )  # same numbers, other words
    added = service.pin_answer(store, ws, "ana", board, "Revenue", first.question, first.plan)
    repeat = service.pin_answer(store, ws, "ana", board, "Revenue again", again.question, again.plan)
    assert added.added and not repeat.added and repeat.tile.id == added.tile.id
    other = service.pin_answer(
        store,
        ws,
        "ana",
        board,
        "Orders",
        "orders by month in 2025",
        pipeline.plan_only(ws, "orders by month in 2025", store=store)[0],
    )
    assert other.added
    assert [t.title for t in repo.tiles_of(store, "retail", added.tile.dashboard_id)] == ["Revenue", "Orders"]
    pins = audit.entries(store, "retail", username="ana", action="dashboard.pin", limit=50)
    assert sum(1 for e in pins if e.detail.get("dashboard_id") == added.tile.dashboard_id) == 2


def test_share_links_are_absolute_from_the_base_url_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATATRUTH_BASE_URL", "https://datatruth.example.com/team/")
    assert (
        service.share_link("retail", 3, 7)
        == "https://datatruth.example.com/team/dashboards?ws=retail&dashboard=3&tile=7"
    )
    monkeypatch.delenv("DATATRUTH_BASE_URL")
    assert service.share_link("retail", 3).startswith("http://localhost:8501/dashboards?")
    for bad in ("datatruth.example.com", "ftp://x", "https://x/?a=1"):
        with pytest.raises(ConfigError, match="DATATRUTH_BASE_URL"):
            load_settings({"DATATRUTH_BASE_URL": bad})


def test_export_gives_every_chart_a_height_in_pixels(retail) -> None:
    ws, store = retail
    board = unique("Heights")
    for question in ("revenue by month in 2025", "revenue in 2025", "orders by channel in 2025"):
        pin_question(ws, store, "ana", board, question)
    board_id = service.resolve(store, "retail", board).id
    page = export.export_dashboard_html(ws, store, "ana", board_id)
    # plotly wraps each chart in a div of the given size; "100%" of a tile without a height collapsed it.
    heights = re.findall(r'<div style="height:(\d+)px; width:100%;">', page)
    assert len(heights) == 3 and all(int(h) >= 200 for h in heights), heights
    assert '<div style="height:100%' not in page
    # The tile shows its title once, above the chart: the chart's own title is dropped.
    assert page.count(">revenue in 2025</h2>") == 1
    assert not re.search(
        r'"title":\{"text":"Revenue"\},"(template|xaxis|yaxis)', page
    )  # the layout's own title
