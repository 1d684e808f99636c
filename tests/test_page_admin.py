"""Admin core (workspaces, settings, LLM test, members, audit, cache, health) and the Admin page."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from fake_openai import FakeOpenAI, Reply
from streamlit.testing.v1 import AppTest

from datatruth.admin import health
from datatruth.admin import workspaces as admin
from datatruth.ask.cache import CacheKey, workspace_cache
from datatruth.auth import MAX_LOGIN_ATTEMPTS
from datatruth.errors import ConfigError, PermissionDenied, UserError, WarehouseError
from datatruth.settings import load_settings
from datatruth.store import audit, open_store, users
from datatruth.store.users import seed_from_config
from datatruth.ui.context import USER_KEY
from datatruth.workspace.config import LLMConfig
from datatruth.workspace.registry import load_workspace

REPO = Path(__file__).resolve().parent.parent
ADMIN_PAGE = str(REPO / "pages" / "admin.py")


def _duckdb_file(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE orders (order_id INTEGER, amount DECIMAL(10,2), placed DATE)").fetchall()
    con.execute(
        "INSERT INTO orders VALUES (1, 9.5, DATE '2024-01-02'), (2, 20, DATE '2024-02-03')"
    ).fetchall()
    con.execute("CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 10").fetchall()
    con.close()
    return path


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A tiny workspace 'shop' (admin: local, analyst: ana, viewer: vic) in its own data and workspaces dirs."""
    wh = _duckdb_file(tmp_path / "shop.duckdb")
    folder = tmp_path / "workspaces" / "shop"
    folder.mkdir(parents=True)
    (folder / "workspace.yaml").write_text(
        yaml.safe_dump(
            {
                "title": "Shop",
                "warehouse": {"url": f"duckdb:///{wh}"},
                "semantic_models": [],
                "llm": {"provider": "none", "api_key_env": "DATATRUTH_WS_SHOP__OPENAI_KEY"},
                "limits": {"row_cap": 500, "timeout_s": 10},
                "members": [
                    {"user": "local", "role": "admin", "incident_role": "owner"},
                    {"user": "ana", "role": "analyst"},
                    {"user": "vic", "role": "viewer"},
                ],
            },
            sort_keys=False,
        )
    )
    for key, value in {
        "DATATRUTH_DATA_DIR": tmp_path / "data",
        "DATATRUTH_WORKSPACES_DIR": tmp_path / "workspaces",
        "DATATRUTH_DEFAULT_WORKSPACE": "shop",
        "DATATRUTH_CREDENTIALS": tmp_path / "creds.yaml",
        "DATATRUTH_WAREHOUSE_ROOT": tmp_path,
    }.items():
        monkeypatch.setenv(key, str(value))
    monkeypatch.delenv("DATATRUTH_STORE_URL", raising=False)
    monkeypatch.chdir(REPO)
    settings = load_settings()
    store = open_store(settings=settings)
    ws = load_workspace("shop", settings)
    seed_from_config(store, "shop", ws.config.members)
    yield store, settings, ws
    ws.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- access is checked in the core ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda store, settings, ws, u: admin.check_connection(store, "shop", u, "duckdb:///:memory:"),
        lambda store, settings, ws, u: admin.update_settings(store, ws, u, admin.SettingsEdit.of(ws.config)),
        lambda store, settings, ws, u: admin.check_llm(store, "shop", u, LLMConfig()),
        lambda store, settings, ws, u: admin.members(store, settings, "shop", u),
        lambda store, settings, ws, u: admin.invite(
            store, settings, "shop", u, username="x", role="viewer", password="long-enough-1"
        ),
        lambda store, settings, ws, u: admin.change_role(store, "shop", u, "vic", "admin", "owner"),
        lambda store, settings, ws, u: admin.set_member_active(store, "shop", u, "vic", False),
        lambda store, settings, ws, u: admin.unlock(store, settings, "shop", u, "vic"),
        lambda store, settings, ws, u: admin.audit_log(store, "shop", u),
        lambda store, settings, ws, u: admin.cache_stats(store, ws, u),
        lambda store, settings, ws, u: admin.clear_cache(store, ws, u),
        lambda store, settings, ws, u: health.system_health(store, ws, u),
    ],
    ids=[
        "connection",
        "settings",
        "llm",
        "members",
        "invite",
        "role",
        "active",
        "unlock",
        "audit",
        "cache-stats",
        "cache-clear",
        "health",
    ],
)
def test_every_admin_function_refuses_non_admins(shop, call) -> None:
    store, settings, ws = shop
    for user in ("ana", "vic", "stranger"):  # analyst, viewer, not a member
        with pytest.raises(PermissionDenied):
            call(store, settings, ws, user)
    assert users.membership(store, "shop", "vic").role == "viewer"
    assert not audit.entries(store, "shop", action="admin."), "nothing was changed or audited"


# -- workspaces ----------------------------------------------------------------------------------------------


def test_connection_introspects_tables_views_and_columns(shop, tmp_path: Path) -> None:
    store, _, _ = shop
    wh = _duckdb_file(tmp_path / "other.duckdb")
    report = admin.check_connection(store, "shop", "local", f"duckdb:///{wh}")
    assert report.dialect == "duckdb"
    by_name = {t.name: t for t in report.tables}
    assert by_name["orders"].columns == ("order_id", "amount", "placed")
    assert by_name["big_orders"].columns == ("order_id", "amount", "placed")


def test_connection_errors_are_for_people(shop, tmp_path: Path) -> None:
    store, _, _ = shop
    with pytest.raises(WarehouseError):
        admin.check_connection(
            store, "shop", "local", f"postgresql+psycopg://nobody@127.0.0.1:{_free_port()}/x"
        )
    with pytest.raises(UserError, match="not set"):
        admin.check_connection(
            store, "shop", "local", "postgresql+psycopg://a:${DATATRUTH_WS_SHOP__UNSET}@h/db"
        )
    with pytest.raises(UserError, match="empty"):
        admin.check_connection(store, "shop", "local", "  ")


def test_create_workspace_from_url(shop, tmp_path: Path) -> None:
    store, settings, _ = shop
    wh = _duckdb_file(tmp_path / "sales.duckdb")
    made = admin.create_from_url(
        store, settings, "shop", "local", name="sales", url=f"duckdb:///{wh}", title="Sales"
    )
    assert made.path == settings.workspaces_dir / "sales" / "workspace.yaml" and made.path.exists()
    assert {t.name for t in made.report.tables} == {"orders", "big_orders"}
    assert users.membership(store, "sales", "local").role == "admin"
    assert [e.action for e in audit.entries(store, "sales", action="admin.workspace_create")]
    assert [e.target for e in audit.entries(store, "shop", action="admin.workspace_create")] == ["sales"]
    with pytest.raises(UserError, match="already exists"):
        admin.create_from_url(store, settings, "shop", "local", name="sales", url=f"duckdb:///{wh}")


def test_settings_edit_is_validated_written_and_audited(shop) -> None:
    store, settings, ws = shop
    before = ws.config.path.read_text()
    edit = admin.SettingsEdit.of(ws.config)
    bad = admin.SettingsEdit(**{**edit.__dict__, "row_cap": 0, "llm_provider": "openai", "llm_model": ""})
    with pytest.raises(ConfigError) as caught:
        admin.update_settings(store, ws, "local", bad)
    assert len(caught.value.issues) == 2, "every problem is reported at once"
    assert all(str(ws.config.path) == i.file for i in caught.value.issues)
    assert ws.config.path.read_text() == before, "an invalid edit never reaches disk"
    assert not list(ws.config.directory.glob(".*.new"))

    good = admin.SettingsEdit(
        **{
            **edit.__dict__,
            "row_cap": 250,
            "llm_provider": "ollama",
            "llm_model": "llama3",
            "llm_base_url": "http://127.0.0.1:9/v1",
        }
    )
    config = admin.update_settings(store, ws, "local", good)
    assert config.limits.row_cap == 250 and config.llm.provider == "ollama" and config.llm.base_url
    assert config.members == ws.config.members, "other keys are kept"
    (entry,) = audit.entries(store, "shop", action="admin.workspace_settings")
    assert entry.detail["changed"]["row_cap"] == [500, 250]
    assert "llm_timeout_s" not in entry.detail["changed"]


def test_llm_probe_ok_and_errors() -> None:
    with FakeOpenAI() as fake:
        fake.push(Reply(content="OK"))
        ok = admin.probe_llm(LLMConfig(provider="openai", model="m", base_url=fake.base_url), env={})
        assert ok.ok and "answered" in ok.message
        fake.push(Reply(status=500, error="boom"))
        failed = admin.probe_llm(LLMConfig(provider="openai", model="m", base_url=fake.base_url), env={})
        assert not failed.ok and "HTTP 500" in failed.message
        slow = Reply(content="OK", delay_s=3)
        fake.push(slow)
        timed_out = admin.probe_llm(
            LLMConfig(provider="openai", model="m", base_url=fake.base_url), env={}, timeout_s=0.5
        )
        assert not timed_out.ok and "within" in timed_out.message
    down = admin.probe_llm(
        LLMConfig(provider="openai", model="m", base_url=f"http://127.0.0.1:{_free_port()}/v1"), env={}
    )
    assert not down.ok and "connect" in down.message
    no_key = admin.probe_llm(LLMConfig(provider="openai", model="m", api_key_env="DT_NO_SUCH_KEY"), env={})
    assert not no_key.ok and "DT_NO_SUCH_KEY" in no_key.message
    assert not admin.probe_llm(LLMConfig(), env={}).ok


# -- members -------------------------------------------------------------------------------------------------


def test_invite_role_deactivate_unlock(shop) -> None:
    store, settings, _ = shop
    admin.invite(
        store,
        settings,
        "shop",
        "local",
        username="zoe",
        role="analyst",
        incident_role="reviewer",
        email="zoe@example.com",
        password="zoe-password-1",
    )
    creds = yaml.safe_load(settings.credentials_path.read_text())["credentials"]["usernames"]
    assert creds["zoe"]["password"].startswith("$2")
    with pytest.raises(UserError, match="already sign in"):
        admin.invite(
            store, settings, "shop", "local", username="zoe", role="viewer", password="another-pass-1"
        )

    admin.change_role(store, "shop", "local", "zoe", "viewer", "viewer")
    assert users.membership(store, "shop", "zoe").role == "viewer"
    admin.set_member_active(store, "shop", "local", "zoe", False)
    assert not users.membership(store, "shop", "zoe").active

    creds["zoe"]["failed_login_attempts"] = MAX_LOGIN_ATTEMPTS
    settings.credentials_path.write_text(yaml.safe_dump({"credentials": {"usernames": creds}}))
    row = next(m for m in admin.members(store, settings, "shop", "local") if m.username == "zoe")
    assert row.locked and row.can_sign_in and not row.active
    admin.unlock(store, settings, "shop", "local", "zoe")
    row = next(m for m in admin.members(store, settings, "shop", "local") if m.username == "zoe")
    assert not row.locked
    actions = [e.action for e in audit.entries(store, "shop", username="local")]
    assert {"admin.invite", "admin.membership", "admin.user_active", "admin.unlock"} <= set(actions)


def test_last_admin_is_protected(shop) -> None:
    store, _, _ = shop
    with pytest.raises(UserError, match="last active admin"):
        admin.change_role(store, "shop", "local", "local", "viewer", "viewer")
    with pytest.raises(UserError, match="last active admin"):
        admin.set_member_active(store, "shop", "local", "local", False)
    admin.change_role(store, "shop", "local", "ana", "admin", "owner")
    admin.change_role(store, "shop", "local", "local", "analyst", "viewer")
    assert users.membership(store, "shop", "local").role == "analyst"


def test_audit_filters(shop) -> None:
    store, _, _ = shop
    audit.record(store, "shop", "ana", "ask.question", "revenue")
    audit.record(store, "shop", "vic", "ask.question", "orders")
    audit.record(store, "other", "ana", "ask.question", "not this workspace")
    every = admin.audit_log(store, "shop", "local")
    assert {e.workspace for e in every} == {"shop"}
    assert [e.target for e in admin.audit_log(store, "shop", "local", admin.AuditFilter(username="ana"))] == [
        "revenue"
    ]
    assert len(admin.audit_log(store, "shop", "local", admin.AuditFilter(action="ask."))) == 2
    today = dt.datetime.now(dt.UTC).date()
    assert (
        admin.audit_log(store, "shop", "local", admin.AuditFilter(until=today - dt.timedelta(days=1))) == []
    )
    assert (
        admin.audit_log(store, "shop", "local", admin.AuditFilter(since=today + dt.timedelta(days=1))) == []
    )
    rows = admin.audit_rows(every)
    assert pd.DataFrame(rows).columns.tolist() == ["at", "user", "action", "target", "detail"]


def test_cache_stats_and_clear(shop) -> None:
    store, _, ws = shop
    cache = workspace_cache(ws)
    assert cache.put(CacheKey("SELECT 1", "v1", "duckdb"), pd.DataFrame({"x": [1]}))
    assert cache.get(CacheKey("SELECT 1", "v1", "duckdb")) is not None
    stats = admin.cache_stats(store, ws, "local")
    assert (stats.entries, stats.hits) == (1, 1) and stats.bytes > 0
    assert admin.clear_cache(store, ws, "local") == 1
    assert admin.cache_stats(store, ws, "local").entries == 0
    (entry,) = audit.entries(store, "shop", action="admin.cache_clear")
    assert entry.detail == {"entries": 1}


def test_system_health(shop) -> None:
    store, _, ws = shop
    checks = {c.component: c for c in health.system_health(store, ws, "local")}
    assert checks["metadata store"].status == "ok" and "sqlite" in checks["metadata store"].detail
    assert checks["warehouse"].status == "ok" and "2 table(s)" in checks["warehouse"].detail
    assert checks["vector index"].status in ("ok", "not installed", "error")
    assert checks["LLM"].status == "off"
    assert all(c.status in health.STATUSES for c in checks.values())


def test_health_reports_an_unreachable_llm(shop) -> None:
    store, _, ws = shop
    admin.update_settings(
        store,
        ws,
        "local",
        admin.SettingsEdit(
            **{
                **admin.SettingsEdit.of(ws.config).__dict__,
                "llm_provider": "openai",
                "llm_model": "m",
                "llm_base_url": f"http://127.0.0.1:{_free_port()}/v1",
            }
        ),
    )
    fresh = load_workspace("shop", ws.settings)
    llm = health.check_llm(fresh)
    assert llm.status == "error" and "connect" in llm.detail


# -- the page ------------------------------------------------------------------------------------------------


def _page(user: str) -> AppTest:
    at = AppTest.from_file(ADMIN_PAGE, default_timeout=60)
    at.session_state[USER_KEY] = user
    return at.run()


def test_page_for_admin_shows_every_tab(shop) -> None:
    at = _page("local")
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Workspace", "Users and roles", "Audit log", "Cache", "Health"]
    assert {"Save settings", "Test LLM", "Test connection", "Create workspace", "Invite"} <= {
        b.label for b in at.button
    }


def test_page_for_viewer_is_closed(shop) -> None:
    at = _page("vic")
    assert not at.exception
    assert not at.tabs and not at.button
    assert any("Admins only" in i.value for i in at.info)


def test_page_invites_and_saves_settings(shop) -> None:
    store, settings, ws = shop
    at = _page("local")
    invite_form = [t for t in at.text_input if t.label == "User name"][0]
    invite_form.input("newbie")
    [t for t in at.text_input if t.label.startswith("Initial password")][0].input("newbie-pass-1")
    next(b for b in at.button if b.label == "Invite").click().run()
    assert not at.exception
    assert users.membership(store, "shop", "newbie").role == "viewer"
    assert any("Invited newbie" in s.value for s in at.success)

    next(n for n in at.number_input if n.label == "Row cap").set_value(321)
    next(b for b in at.button if b.label == "Save settings").click().run()
    assert not at.exception
    assert yaml.safe_load(ws.config.path.read_text())["limits"]["row_cap"] == 321


def test_page_llm_button_reports_errors(shop) -> None:
    at = _page("local")
    next(s for s in at.selectbox if s.label == "LLM provider").set_value("openai")
    next(t for t in at.text_input if t.label == "Model").input("m")
    next(t for t in at.text_input if t.label.startswith("Base URL")).input(
        f"http://127.0.0.1:{_free_port()}/v1"
    )
    next(b for b in at.button if b.label == "Test LLM").click().run()
    assert not at.exception
    assert any("LLM error" in e.value for e in at.error)
