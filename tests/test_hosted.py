"""Hosted mode: two app replicas share one PostgreSQL metadata store; what one does, the other shows.

Each replica is a real `streamlit run app.py` process with its own data dir (its own result cache and warehouse
copy); they share the PostgreSQL store (a fresh schema per run), the credentials file and the workspaces folder,
as docs/hosting.md describes. Also: hosted mode refuses to serve without credentials or with a weak cookie key.
"""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import browser.conftest as e2e
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from datatruth.auth import invite_user
from datatruth.incidents import service
from datatruth.quality.outcome import CheckOutcome
from datatruth.settings import load_settings
from datatruth.store import history, incidents, open_store, semantic_versions
from datatruth.workspace.registry import Workspace, load_config

REPO = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """A store URL whose search_path is a fresh schema, dropped afterwards."""
    schema = f"app_hosted_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield f"{pg_url}?options=-csearch_path%3D{schema}"
    open_store(url=f"{pg_url}?options=-csearch_path%3D{schema}").dispose()
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, pg_schema_url: str) -> Iterator[tuple[Any, Any, Any]]:
    """Two running replicas (A, B) over one store, and replica A's environment."""
    e2e.require_chromium()
    demos = e2e.build_demos(tmp_path_factory.getbasetemp() / "dt-demos")
    env_a = e2e.prepare_env(tmp_path_factory.mktemp("hosted"), demos, store_url=pg_schema_url, hosted=True)
    data_b = env_a.root / "data-b"
    shutil.copytree(env_a.data_dir, data_b, ignore=shutil.ignore_patterns("metadata.sqlite*"))
    env_b = dataclasses.replace(env_a, data_dir=data_b, env={**env_a.env, "DATATRUTH_DATA_DIR": str(data_b)})
    app_a = e2e.start_app(env_a, "replica-a")
    try:
        app_b = e2e.start_app(env_b, "replica-b")
    except AssertionError:
        app_a.stop()
        raise
    yield app_a, app_b, env_a
    app_a.stop()
    app_b.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    e2e.require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = e2e.launch_browser(playwright)
        yield browser
        browser.close()


def _page(chromium: Any, app: Any, app_env: Any, user: str) -> Any:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(e2e.WAIT_MS)
    page = context.new_page()
    e2e.login(page, app, user, app_env.passwords[user])
    e2e.signed_in(page, user)
    e2e.wait_idle(page)
    return page


def _open(page: Any, title: str, heading: str) -> None:
    e2e.wait_idle(page)
    e2e.sidebar_nav(page, title, heading)
    e2e.wait_idle(page)


def test_replicas_share_history_incidents_and_model(
    replicas: tuple[Any, Any, Any], chromium: Any, pg_schema_url: str
) -> None:
    app_a, app_b, env = replicas
    store = open_store(url=pg_schema_url)
    assert store.dialect == "postgresql"
    a = _page(chromium, app_a, env, "ana")
    b = _page(chromium, app_b, env, "ana")

    # 1. A question asked on replica A is in the history replica B shows.
    box = a.get_by_test_id("stChatInputTextArea")
    box.fill("revenue by month last year")
    box.press("Enter")
    # The first question of a fresh process also builds its value and vector indexes: allow it time.
    answer = a.get_by_test_id("stChatMessage").nth(1)
    answer.wait_for(timeout=180_000)
    e2e.wait_idle(a, timeout_ms=180_000)
    e2e.screenshot(a, "hosted-a-answer")
    answer.get_by_test_id("stPlotlyChart").first.wait_for(timeout=30_000)
    assert [e.question for e in history.recent(store, "retail", "ana", limit=1)] == [
        "revenue by month last year"
    ]
    _open(b, "Dashboards", "Dashboards")
    _open(b, "Ask", "Ask")
    b.get_by_text("Earlier questions").click()
    b.get_by_text("revenue by month last year").first.wait_for()
    e2e.screenshot(b, "hosted-b-history")

    # 2. An incident (opened by a check run against the shared store) acknowledged on A is acknowledged on B.
    settings = load_settings(env.env)
    ws = Workspace(load_config("retail", settings), settings)
    outcome = CheckOutcome(
        "hosted_emails",
        "not_null",
        "customers",
        "email",
        "fail",
        "critical",
        "ana",
        5.0,
        "0",
        "5 customers have no email",
        run_id=uuid.uuid4().hex[:6],
    )
    (incident_id,) = service.process_outcomes(store, ws, [outcome]).opened
    _open(a, "Incidents", "Incidents")
    form = a.get_by_test_id("stForm")
    form.get_by_role("textbox", name="Comment").fill("on it from replica A")
    form.get_by_text("acknowledge", exact=True).click()
    form.get_by_role("button", name="Apply").click()
    a.get_by_text("on it from replica A").first.wait_for()
    assert incidents.get(store, "retail", incident_id).status == "acknowledged"
    _open(b, "Incidents", "Incidents")
    b.get_by_text("on it from replica A").first.wait_for()
    b.get_by_test_id("stCaptionContainer").filter(has_text="· acknowledged ·").first.wait_for()
    e2e.screenshot(b, "hosted-b-incident")

    # 3. A model edit saved on A is the current version on B.
    _open(a, "Semantic layer", "Semantic layer")
    a.get_by_role("tab", name="Edit").click()
    form = a.get_by_test_id("stForm")
    form.get_by_role("textbox", name="Description").fill("Edited on replica A.")
    form.get_by_role("textbox", name="What changed?").fill("hosted edit")
    form.get_by_role("button", name="Save").click()
    a.get_by_text("Saved as version").wait_for()
    version = semantic_versions.latest_version(store, "retail")
    assert version is not None and version.message == "hosted edit"
    _open(b, "Semantic layer", "Semantic layer")
    b.get_by_text(f"model version v{version.version}").wait_for()
    e2e.screenshot(b, "hosted-b-model")
    assert semantic_versions.latest_version(store, "retail").version == version.version, (
        "replica B did not record a version of its own"
    )


@pytest.mark.parametrize("case", ["no credentials", "weak key"])
def test_hosted_mode_refuses_without_credentials_or_strong_key(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("DATATRUTH_HOSTED", "true")
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATATRUTH_STORE_URL", raising=False)
    if case == "no credentials":
        monkeypatch.delenv("DATATRUTH_CREDENTIALS", raising=False)
        expected = "credentials"
    else:
        creds = tmp_path / "secrets" / "credentials.yaml"
        invite_user(creds, "ana", "Ana", "", "ana-password-1")
        monkeypatch.setenv("DATATRUTH_CREDENTIALS", str(creds))
        monkeypatch.setenv("DATATRUTH_COOKIE_KEY", "secret")
        expected = "too weak"
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any(expected in e.value for e in at.error), [e.value for e in at.error]
    assert not at.chat_input and not at.tabs, "nothing of the app is served"


def test_sign_in_form_renders_for_a_credentials_file_from_users_invite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The login form appears for a credentials file written by `datatruth users invite` and a strong key."""
    import secrets

    monkeypatch.chdir(REPO)
    creds = tmp_path / "secrets" / "credentials.yaml"
    invite_user(creds, "ana", "Ana", "", "ana-password-1")
    for key, value in {
        "DATATRUTH_HOSTED": "true",
        "DATATRUTH_DATA_DIR": str(tmp_path / "data"),
        "DATATRUTH_CREDENTIALS": str(creds),
        "DATATRUTH_COOKIE_KEY": secrets.token_urlsafe(48),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DATATRUTH_STORE_URL", raising=False)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception, at.exception[0].message if at.exception else ""
    assert {"Username", "Password"} <= {t.label for t in at.text_input}
