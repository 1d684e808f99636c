"""Issue 14's criticals: a workspace admin stays inside the workspace (env variables, LLM endpoints, warehouse URLs).

Each attack is tried through the core functions and through the Admin page (Streamlit AppTest).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
import yaml
from fake_openai import FakeOpenAI, Reply
from streamlit.testing.v1 import AppTest

from datatruth.admin import workspaces as admin
from datatruth.errors import ConfigError, UserError
from datatruth.settings import load_settings
from datatruth.store import open_store, users
from datatruth.store.users import seed_from_config
from datatruth.ui.context import USER_KEY
from datatruth.workspace.boundary import EnvPolicy, env_policy
from datatruth.workspace.config import LLMConfig
from datatruth.workspace.registry import load_workspace

REPO = Path(__file__).resolve().parent.parent
ADMIN_PAGE = str(REPO / "pages" / "admin.py")
COOKIE_KEY = "Zq8vL2pX9wR4tY7uI1oP3aS6dF0gH5jK8lZ2xC4vB7nM"
STORE_PASSWORD = "store-password-do-not-leak"


def _duckdb(path: Path, table: str = "customers") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE {table} (id INTEGER, email VARCHAR)")
    con.execute(f"INSERT INTO {table} VALUES (1, 'secret@rival.example')")
    con.close()
    return path


def _workspace(root: Path, name: str, admin_user: str) -> None:
    folder = root / "workspaces" / name
    folder.mkdir(parents=True)
    (folder / "workspace.yaml").write_text(
        yaml.safe_dump(
            {
                "title": name.title(),
                "warehouse": {"url": "duckdb:///{data_dir}/warehouse.duckdb"},
                "llm": {"provider": "none"},
                "members": [{"user": admin_user, "role": "admin", "incident_role": "owner"}],
            }
        )
    )
    _duckdb(root / "data" / name / "warehouse.duckdb")


def _env(monkeypatch: pytest.MonkeyPatch, root: Path, **extra: str) -> None:
    values = {
        "DATATRUTH_DATA_DIR": str(root / "data"),
        "DATATRUTH_WORKSPACES_DIR": str(root / "workspaces"),
        "DATATRUTH_DEFAULT_WORKSPACE": "shop",
        "DATATRUTH_COOKIE_KEY": COOKIE_KEY,
        "PGPASSWORD": STORE_PASSWORD,
        **extra,
    }
    for key in (
        "DATATRUTH_STORE_URL",
        "DATATRUTH_CREDENTIALS",
        "DATATRUTH_HOSTED",
        "DATATRUTH_WORKSPACE_ENV",
        "DATATRUTH_LLM_BASE_URLS",
        "DATATRUTH_WAREHOUSE_ROOT",
    ):
        monkeypatch.delenv(key, raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Two tenants with sign-ins on: 'shop' (admin mallory) and 'rival' (admin rita)."""
    _workspace(tmp_path, "shop", "mallory")
    _workspace(tmp_path, "rival", "rita")
    _env(monkeypatch, tmp_path, DATATRUTH_CREDENTIALS=str(tmp_path / "creds.yaml"))
    monkeypatch.chdir(REPO)
    settings = load_settings()
    store = open_store(settings=settings)
    ws = load_workspace("shop", settings)
    seed_from_config(store, "shop", ws.config.members)
    yield store, settings, ws, tmp_path
    ws.close()


def _edit(ws, **changes) -> admin.SettingsEdit:
    return admin.SettingsEdit(**{**admin.SettingsEdit.of(ws.config).__dict__, **changes})


# -- critical 1: the server's secrets ----------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["DATATRUTH_COOKIE_KEY", "PGPASSWORD", "DATATRUTH_WS_RIVAL__OPENAI_KEY"])
def test_test_llm_never_sends_a_server_secret(team, monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    store, settings, _, _ = team
    monkeypatch.setenv("DATATRUTH_WS_RIVAL__OPENAI_KEY", "sk-rival")
    with FakeOpenAI() as attacker:
        attacker.push(Reply(content="OK"))
        check = admin.check_llm(
            store,
            "shop",
            "mallory",
            LLMConfig(provider="openai", model="m", base_url=attacker.base_url, api_key_env=variable),
            settings=settings,
        )
        assert not check.ok and "may not read" in check.message and variable in check.message
        assert attacker.requests == [], "nothing was sent, so no Authorization header left the server"


def test_saved_llm_settings_cannot_name_a_server_secret(team) -> None:
    store, _, ws, _ = team
    before = ws.config.path.read_text()
    for variable in ("DATATRUTH_COOKIE_KEY", "PGPASSWORD"):
        with pytest.raises(ConfigError) as caught:
            admin.update_settings(
                store,
                ws,
                "mallory",
                _edit(ws, llm_provider="openai", llm_model="m", llm_api_key_env=variable),
            )
        assert any(variable in i.message and "may not read" in i.message for i in caught.value.issues)
        assert ws.config.path.read_text() == before
    with pytest.raises(ConfigError) as caught:
        admin.update_settings(store, ws, "mallory", _edit(ws, row_cap=10**9, timeout_s=10**6))
    assert {i.message.split("'")[1] for i in caught.value.issues} == {"row_cap", "timeout_s"}, (
        "the server's ceilings"
    )
    made = admin.update_settings(
        store,
        ws,
        "mallory",
        _edit(ws, llm_provider="openai", llm_model="m", llm_api_key_env="DATATRUTH_WS_SHOP__OPENAI_KEY"),
    )
    assert made.llm.api_key_env == "DATATRUTH_WS_SHOP__OPENAI_KEY", "the workspace's own prefix is allowed"


def test_env_expansion_in_urls_follows_the_same_rule(team, tmp_path: Path) -> None:
    store, settings, ws, _ = team
    for url in ("postgresql+psycopg://u:${PGPASSWORD}@127.0.0.1:1/x", "duckdb:///${DATATRUTH_COOKIE_KEY}"):
        with pytest.raises(UserError, match="may not read"):
            admin.check_connection(store, "shop", "mallory", url, settings=settings)
    # A workspace.yaml that expands a server secret anywhere (warehouse, base_url, webhook) does not load.
    path = ws.config.path
    doc = yaml.safe_load(path.read_text())
    doc["webhook_url"] = "https://hooks.example/${DATATRUTH_COOKIE_KEY}"
    doc["llm"] = {"provider": "openai", "model": "m", "base_url": "http://x/${PGPASSWORD}"}
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as caught:
        load_workspace("shop", settings)
    assert {i.message for i in caught.value.issues} >= {
        "workspace 'shop' may not read the environment variable DATATRUTH_COOKIE_KEY",
        "workspace 'shop' may not read the environment variable PGPASSWORD",
        "workspace 'shop' may not read the environment variable OPENAI_API_KEY",
    }


def test_env_policy_is_the_operators() -> None:
    team = env_policy(load_settings({"DATATRUTH_CREDENTIALS": "/etc/dt/creds.yaml"}))
    assert team.allows("shop", "DATATRUTH_WS_SHOP__KEY")
    assert not team.allows("shop", "OPENAI_API_KEY")
    assert not team.allows("shop", "DATATRUTH_WS_RIVAL__KEY")
    assert not team.allows("a", "DATATRUTH_WS_A__B__KEY"), "workspace a__b's variables are not a's"
    assert not team.allows("retail", "DATATRUTH_COOKIE_KEY")
    local = env_policy(load_settings({}))
    assert local.allows("shop", "PGPASSWORD") and local.allows("shop", "OPENAI_API_KEY"), (
        "local mode stays easy"
    )
    assert not local.allows("shop", "DATATRUTH_COOKIE_KEY"), "the app's own settings never"
    listed = env_policy(
        load_settings({"DATATRUTH_HOSTED": "true", "DATATRUTH_WORKSPACE_ENV": "retail:PGPASSWORD, OPENAI_*"})
    )
    assert listed.allows("retail", "PGPASSWORD") and not listed.allows("shop", "PGPASSWORD")
    assert listed.allows("shop", "OPENAI_API_KEY")
    assert not listed.allows("shop", "DATATRUTH_STORE_URL")
    assert EnvPolicy(((None, "*"),)).allows("x", "HOME")


def test_hosted_llm_base_urls_come_from_the_operators_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _workspace(tmp_path, "shop", "mallory")
    with FakeOpenAI() as allowed, FakeOpenAI() as attacker:
        _env(
            monkeypatch,
            tmp_path,
            DATATRUTH_CREDENTIALS=str(tmp_path / "creds.yaml"),
            DATATRUTH_HOSTED="true",
            DATATRUTH_LLM_BASE_URLS=allowed.base_url,
            DATATRUTH_WS_SHOP__KEY="sk-shop",
        )
        monkeypatch.chdir(REPO)
        settings = load_settings()
        store = open_store(settings=settings)
        ws = load_workspace("shop", settings)
        seed_from_config(store, "shop", ws.config.members)
        config = LLMConfig(
            provider="openai", model="m", base_url=attacker.base_url, api_key_env="DATATRUTH_WS_SHOP__KEY"
        )
        refused = admin.check_llm(store, "shop", "mallory", config, settings=settings)
        assert not refused.ok and "not one the operator allows" in refused.message and not attacker.requests
        with pytest.raises(ConfigError, match="not valid"):
            admin.update_settings(
                store,
                ws,
                "mallory",
                _edit(
                    ws,
                    llm_provider="openai",
                    llm_model="m",
                    llm_base_url=attacker.base_url,
                    llm_api_key_env="DATATRUTH_WS_SHOP__KEY",
                ),
            )
        allowed.push(Reply(content="OK"))
        ok = admin.check_llm(
            store,
            "shop",
            "mallory",
            LLMConfig(
                provider="openai",
                model="m",
                base_url=allowed.base_url + "/",
                api_key_env="DATATRUTH_WS_SHOP__KEY",
            ),
            settings=settings,
        )
        assert ok.ok and allowed.requests[0].headers["authorization"] == "Bearer sk-shop"
        assert admin.llm_endpoints(settings) == ("", allowed.base_url)
        ws.close()


# -- critical 2: another tenant's data ---------------------------------------------------------------------------


def test_create_from_url_refuses_other_workspaces_and_the_store(team) -> None:
    store, settings, _, root = team
    attacks = {
        f"duckdb:///{root / 'data' / 'rival' / 'warehouse.duckdb'}": "other workspaces",
        f"duckdb:///{root / 'data' / 'shop' / '..' / 'rival' / 'warehouse.duckdb'}": "other workspaces",
        f"sqlite:///{root / 'data' / 'metadata.sqlite'}": "metadata store",
        f"sqlite:///file:{root / 'data' / 'metadata.sqlite'}?mode=ro&uri=true": "metadata store|query string",
        f"duckdb:///{root / 'workspaces' / 'rival' / 'x.duckdb'}": "other workspaces",
    }
    link = root / "innocent.duckdb"
    os.symlink(root / "data" / "rival" / "warehouse.duckdb", link)
    attacks[f"duckdb:///{link}"] = "other workspaces|outside the folder|warehouse files are off"
    for url, why in attacks.items():
        with pytest.raises(UserError, match=why):
            admin.create_from_url(store, settings, "shop", "mallory", name="loot", url=url)
    assert not (settings.workspaces_dir / "loot").exists()
    assert users.membership(store, "loot", "mallory") is None


def test_file_warehouses_need_the_operators_root(
    team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _, _, root = team
    outside = _duckdb(tmp_path / "elsewhere" / "sales.duckdb", "orders")
    with pytest.raises(UserError, match="warehouse files are off"):
        admin.check_connection(store, "shop", "mallory", f"duckdb:///{outside}")
    monkeypatch.setenv("DATATRUTH_WAREHOUSE_ROOT", str(tmp_path / "shared-files"))
    with pytest.raises(UserError, match="outside the folder"):
        admin.check_connection(store, "shop", "mallory", f"duckdb:///{outside}")
    inside = _duckdb(tmp_path / "shared-files" / "sales.duckdb", "orders")
    made = admin.create_from_url(
        store, load_settings(), "shop", "mallory", name="sales", url=f"duckdb:///{inside}"
    )
    assert [t.name for t in made.report.tables] == ["orders"]


def test_a_network_url_to_the_metadata_store_is_refused(team, monkeypatch: pytest.MonkeyPatch) -> None:
    store, _, _, _ = team
    monkeypatch.setenv("DATATRUTH_STORE_URL", "postgresql+psycopg://dt:${PW}@db.internal:5432/datatruth")
    settings = load_settings()
    for url in (
        "postgresql+psycopg://mallory@db.internal/datatruth",
        "postgresql://x@DB.internal:5432/datatruth",
    ):
        with pytest.raises(UserError, match="metadata store"):
            admin.check_connection(store, "shop", "mallory", url, settings=settings)


def test_local_single_user_mode_stays_easy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _workspace(tmp_path, "shop", "local")
    _env(monkeypatch, tmp_path)
    monkeypatch.chdir(REPO)
    settings = load_settings()
    store = open_store(settings=settings)
    seed_from_config(store, "shop", load_workspace("shop", settings).config.members)
    mine = _duckdb(tmp_path / "anywhere" / "mine.duckdb", "orders")
    monkeypatch.setenv("DT_LOCAL_FOLDER", str(mine.parent))
    made = admin.create_from_url(
        store, settings, "shop", "local", name="mine", url="duckdb:///${DT_LOCAL_FOLDER}/mine.duckdb"
    )
    assert [t.name for t in made.report.tables] == ["orders"]
    assert "${DT_LOCAL_FOLDER}" in made.path.read_text(), "the YAML keeps the variable, not its value"
    assert admin.key_variables(settings, "shop") is None and admin.llm_endpoints(settings) is None
    with pytest.raises(UserError, match="metadata store"):
        admin.check_connection(store, "shop", "local", f"sqlite:///{tmp_path / 'data' / 'metadata.sqlite'}")


# -- the same attacks through the Admin page ----------------------------------------------------------------------


def _page(user: str) -> AppTest:
    at = AppTest.from_file(ADMIN_PAGE, default_timeout=60)
    at.session_state[USER_KEY] = user
    return at.run()


def test_admin_page_offers_only_allowed_key_variables(team, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATATRUTH_WS_SHOP__OPENAI_KEY", "sk-shop")
    at = _page("mallory")
    assert not at.exception
    keys = next(s for s in at.selectbox if s.label == "API key variable")
    assert "DATATRUTH_WS_SHOP__OPENAI_KEY" in keys.options
    assert not {"DATATRUTH_COOKIE_KEY", "PGPASSWORD"} & set(keys.options), "secrets are not even offered"
    assert not any(t.label == "API key variable" for t in at.text_input), "the name is picked, never typed"


def test_admin_page_test_llm_cannot_send_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Local single-user mode keeps a free text field: the refusal must come from the core.
    _workspace(tmp_path, "shop", "local")
    _env(monkeypatch, tmp_path)
    monkeypatch.chdir(REPO)
    with FakeOpenAI() as attacker:
        attacker.push(Reply(content="OK"))
        at = _page("local")
        next(s for s in at.selectbox if s.label == "LLM provider").set_value("openai")
        next(t for t in at.text_input if t.label == "Model").input("m")
        next(t for t in at.text_input if t.label == "API key variable").input("DATATRUTH_COOKIE_KEY")
        next(t for t in at.text_input if t.label.startswith("Base URL")).input(attacker.base_url)
        next(b for b in at.button if b.label == "Test LLM").click().run()
        assert not at.exception
        assert any("may not read the environment variable DATATRUTH_COOKIE_KEY" in e.value for e in at.error)
        next(b for b in at.button if b.label == "Save settings").click().run()
        assert any("may not read" in str(e.value) for e in at.error) or any(
            "not valid" in str(e.value) for e in at.error
        )
        assert attacker.requests == []
    assert "DATATRUTH_COOKIE_KEY" not in (tmp_path / "workspaces" / "shop" / "workspace.yaml").read_text()


def test_admin_page_cannot_create_a_workspace_over_another_tenant(team) -> None:
    store, settings, _, root = team
    at = _page("mallory")
    for url in (
        f"duckdb:///{root / 'data' / 'rival' / 'warehouse.duckdb'}",
        f"sqlite:///{root / 'data' / 'metadata.sqlite'}",
    ):
        next(t for t in at.text_input if t.label == "Name").input("loot")
        next(t for t in at.text_input if t.label == "Warehouse URL").input(url)
        next(b for b in at.button if b.label == "Create workspace").click().run()
        assert not at.exception
        assert any("other workspaces" in e.value or "metadata store" in e.value for e in at.error), url
        assert not at.success
    next(t for t in at.text_input if t.label == "Warehouse URL").input(
        f"duckdb:///{root / 'data' / 'rival' / 'warehouse.duckdb'}"
    )
    next(b for b in at.button if b.label == "Test connection").click().run()
    assert any("other workspaces" in e.value for e in at.error)
    assert not (settings.workspaces_dir / "loot").exists()
