"""People's journeys through the real app in a real browser (one app process for the whole module).

Each journey signs in through the login form like a person, acts through widgets found by role, label, text
or Streamlit's data-testid, and checks the effect both on screen and in the metadata store.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser.conftest import (
    AppEnv,
    RunningApp,
    chat_box,
    login,
    open_login_form,
    screenshot,
    sidebar_nav,
    signed_in,
    wait_idle,
)

from datatruth.auth import MAX_LOGIN_ATTEMPTS
from datatruth.store import history, incidents, open_store, proposals, semantic_versions

pytestmark = pytest.mark.slow

PAGE_TITLES = {  # sidebar title: a heading the page shows once it is on screen
    "Ask": "Ask",
    "Dashboards": "Dashboards",
    "Semantic layer": "Semantic layer",
    "Quality": "Data quality",
    "Incidents": "Incidents",
    "Slow queries": "Slow queries",
    "Admin": "Admin",
}


def _store(app_env: AppEnv) -> Any:
    return open_store(url=f"sqlite:///{(app_env.data_dir / 'metadata.sqlite').resolve()}")


def _sign_in(page: Any, app: RunningApp, app_env: AppEnv, user: str) -> None:
    login(page, app, user, app_env.passwords[user])
    signed_in(page, user)
    wait_idle(page)


def _open(page: Any, title: str) -> None:
    wait_idle(page)
    sidebar_nav(page, title, PAGE_TITLES[title])
    wait_idle(page)


def _open_tab(page: Any, tab: str, text: str) -> None:
    """Click a tab until the text it holds shows: a rerun that lands on the click can redraw the tabs with the
    first one selected again (seen once in CI: the text was there, in a hidden panel, for 60 s)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    shown = page.get_by_text(text)
    for _ in range(3):
        wait_idle(page)
        page.get_by_role("tab", name=tab).click()
        try:
            shown.wait_for(state="visible", timeout=20_000)
            return
        except PlaywrightTimeout:
            continue
    shown.wait_for(state="visible")


def _ask(page: Any, question: str) -> None:
    """Type a question and send it; a rerun that lands between typing and Enter clears the box, so retry."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    asked = page.get_by_test_id("stChatMessage").filter(has_text=question)
    before = asked.count()
    for _ in range(3):
        wait_idle(page)
        box = chat_box(page)
        box.fill(question)
        box.press("Enter")
        try:
            asked.nth(before).wait_for(timeout=20_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"the question {question!r} was not sent")


def _chart_in(answer: Any) -> None:
    """Wait for the answer's chart (plotly renders lazily); on failure say what the answer shows instead."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        answer.get_by_test_id("stPlotlyChart").first.wait_for(timeout=30_000)
    except PlaywrightTimeout:
        raise AssertionError(f"no chart in the answer; it shows: {answer.inner_text()[:800]!r}") from None


def test_ask_chart_sql_feedback_and_follow_up(app: RunningApp, app_env: AppEnv, new_page: Any) -> None:
    page = new_page
    _sign_in(page, app, app_env, "ana")
    page.get_by_role("heading", name="Ask").first.wait_for()
    _ask(page, "revenue by month last year")
    answer = page.get_by_test_id("stChatMessage").nth(1)
    # The first question of a fresh process also builds its value and vector indexes: allow it time.
    answer.wait_for(timeout=180_000)
    wait_idle(page, timeout_ms=180_000)
    _chart_in(answer)
    answer.get_by_text("SQL", exact=True).click()
    sql = answer.get_by_test_id("stCode").first
    sql.wait_for()
    assert "SELECT" in sql.inner_text().upper()
    wait_idle(page)
    screenshot(page, "journey-ask-answer")

    answer.get_by_role("button", name="Right").click()
    # a shipped verified question ("Revenue by month last year") answered it: nothing new to propose
    page.get_by_text("already comes from a verified question").wait_for()
    wait_idle(page)
    _ask(page, "only online")
    follow_up = page.get_by_test_id("stChatMessage").nth(3)
    follow_up.get_by_test_id("stPlotlyChart").or_(follow_up.get_by_test_id("stDataFrame")).first.wait_for()
    wait_idle(page)
    screenshot(page, "journey-ask-follow-up")

    store = _store(app_env)
    asked = history.recent(store, "retail", "ana", limit=5)
    assert [e.question for e in asked[:2]] == ["only online", "revenue by month last year"]
    assert all(e.error is None for e in asked[:2]), [e.error for e in asked[:2]]
    assert "online" in (asked[0].sql or "").lower(), "the follow-up keeps the metric and adds the filter"
    assert not [
        p for p in proposals.pending(store, "retail") if p.payload["question"] == "revenue by month last year"
    ]


def _other_person(browser: Any) -> Any:
    """A page in a browser context of its own (its own sign-in cookie), closed with the browser."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    return context.new_page()


def test_thumbs_up_accepted_by_an_admin_answers_another_users_paraphrase(
    app: RunningApp, app_env: AppEnv, new_page: Any, browser: Any
) -> None:
    page = new_page
    _sign_in(page, app, app_env, "ana")
    page.get_by_role("heading", name="Ask").first.wait_for()
    _ask(page, "gross margin in the South by month last year")
    answer = page.get_by_test_id("stChatMessage").nth(1)
    answer.wait_for(timeout=180_000)
    wait_idle(page, timeout_ms=180_000)
    answer.get_by_role("button", name="Right").click()
    page.get_by_text("proposed as a verified question").wait_for()
    wait_idle(page)
    store = _store(app_env)
    [proposal] = [
        p for p in proposals.pending(store, "retail") if p.payload["question"].startswith("gross margin")
    ]

    admin = _other_person(browser)
    _sign_in(admin, app, app_env, "admin")
    _open(admin, "Semantic layer")
    admin.get_by_role("tab", name="Proposals").click()
    admin.get_by_text(f"#{proposal.id} verified question").wait_for()
    admin.locator(f".st-key-prop-accept-{proposal.id} button").click()
    admin.get_by_text("saved into the semantic model").wait_for()
    wait_idle(admin)
    screenshot(admin, "journey-teach-accepted")
    assert proposals.get(store, "retail", proposal.id).status == "accepted"

    viewer = _other_person(browser)
    _sign_in(viewer, app, app_env, "vic")
    viewer.get_by_role("heading", name="Ask").first.wait_for()
    _ask(viewer, "what was gross margin in the West by month in 2024?")
    reply = viewer.get_by_test_id("stChatMessage").nth(1)
    reply.wait_for(timeout=180_000)
    wait_idle(viewer, timeout_ms=180_000)
    reading = reply.get_by_test_id("stAlert").filter(has_text="Read as:").first
    reading.wait_for()
    text = reading.inner_text()
    assert "from a verified question, by ana" in text and "West" in text and "2024" in text, text
    screenshot(viewer, "journey-teach-paraphrase")
    asked = history.recent(store, "retail", "vic", limit=1)[0]
    assert asked.error is None and "West" in (asked.sql or "")
    admin.context.close()
    viewer.context.close()


def test_ask_shows_its_reading_above_the_numbers_and_a_refusal_offers_choices(
    app: RunningApp, app_env: AppEnv, new_page: Any
) -> None:
    page = new_page
    _sign_in(page, app, app_env, "ana")
    page.get_by_role("heading", name="Ask").first.wait_for()
    _ask(page, "top 10 customers by revenue last quarter")
    answer = page.get_by_test_id("stChatMessage").nth(1)
    answer.wait_for(timeout=180_000)
    wait_idle(page, timeout_ms=180_000)
    reading = answer.get_by_text("Read as:").first
    reading.wait_for()
    text = answer.inner_text()
    assert "Revenue by customer (each customer id" in text and "top 10" in text, text[:600]
    table = answer.get_by_test_id("stPlotlyChart").or_(answer.get_by_test_id("stDataFrame")).first
    table.wait_for()
    assert reading.bounding_box()["y"] < table.bounding_box()["y"], "the reading comes before the numbers"
    _ask(page, "zorblax by channel")
    refusal = page.get_by_test_id("stChatMessage").nth(3)
    refusal.get_by_text("I understood:").first.wait_for(timeout=60_000)
    assert "zorblax" in refusal.inner_text()
    choice = refusal.get_by_role("button", name="revenue by channel")
    choice.wait_for()
    screenshot(page, "journey-ask-refusal-choices")
    wait_idle(page)  # a click while the script still runs can be lost in the rerun
    choice.click()
    wait_idle(page, timeout_ms=120_000)
    page.get_by_text("Revenue by sales channel").first.wait_for(timeout=60_000)


def test_edit_metric_description_makes_a_new_version(app: RunningApp, app_env: AppEnv, new_page: Any) -> None:
    page = new_page
    _sign_in(page, app, app_env, "ana")
    _open(page, "Semantic layer")
    store = _store(app_env)
    before = semantic_versions.latest_version(store, "retail")
    page.get_by_role("tab", name="Edit").click()
    form = page.get_by_test_id("stForm")
    description = form.get_by_role("textbox", name="Description")
    description.fill("Net revenue after discounts, before returns (edited in the browser test).")
    form.get_by_role("textbox", name="What changed?").fill("clearer description")
    form.get_by_role("button", name="Save").click()
    saved = page.get_by_text("Saved as version")
    saved.wait_for()
    number = int(saved.inner_text().split("version")[1].strip(" ."))
    wait_idle(page)
    screenshot(page, "journey-semantic-saved")
    page.get_by_role("tab", name="History").click()
    # The history is a data grid: its cells are in the DOM for screen readers, drawn on a canvas.
    page.locator('[data-testid^="glide-cell"]', has_text="clearer description").first.wait_for(
        state="attached"
    )
    after = semantic_versions.latest_version(store, "retail")
    assert after is not None and after.version == number
    assert before is None or after.version > before.version
    assert any("edited in the browser test" in text for text in after.files.values())


def test_quality_run_opens_incident_and_acknowledge(app: RunningApp, app_env: AppEnv, new_page: Any) -> None:
    page = new_page
    _sign_in(page, app, app_env, "ana")
    _open(page, "Quality")
    page.get_by_role("button", name="Run checks now").click()
    page.get_by_text("checks,").filter(has_text="failed").first.wait_for(timeout=240_000)
    wait_idle(page, timeout_ms=240_000)
    screenshot(page, "journey-quality-run")

    store = _store(app_env)
    opened = incidents.search(store, "retail", status="open")
    assert opened, "a failed check opens an incident"
    _open(page, "Incidents")
    page.get_by_test_id("stMetric").first.wait_for()
    first = page.get_by_test_id("stHeading").filter(has_text="#").first
    first.wait_for()
    incident_id = int(first.inner_text().split()[0].lstrip("#"))
    form = page.get_by_test_id("stForm")
    form.get_by_role("textbox", name="Comment").fill("looking at it (browser test)")
    form.get_by_text("acknowledge", exact=True).click()
    form.get_by_role("button", name="Apply").click()
    page.get_by_text("acknowledged", exact=False).first.wait_for()
    wait_idle(page)
    screenshot(page, "journey-incident-acknowledged")
    assert incidents.get(store, "retail", incident_id).status == "acknowledged"


SLOW_LOG = """/usr/sbin/mariadbd, Version: 10.11.6-MariaDB-log. started with:
Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock
Time                Id Command  Argument
{entries}"""
ENTRY = """# Time: 240301 10:{minute:02d}:00
# User@Host: shop[shop] @ localhost []
# Thread_id: {n}  Schema: shop  QC_hit: No
# Query_time: {seconds:.6f}  Lock_time: 0.000100  Rows_sent: 1  Rows_examined: {examined}
# Rows_affected: 0  Bytes_sent: 120
SET timestamp=1709287{n:03d};
{sql};
"""


def _slow_log(path: Path) -> Path:
    entries = []
    for n in range(12):
        sql = (
            f"SELECT * FROM orders WHERE customer_email = 'user{n}@example.com'"
            if n % 3
            else f"SELECT count(*) FROM order_lines WHERE product_id = {n}"
        )
        entries.append(ENTRY.format(minute=n, n=n, seconds=1.5 + n / 10, examined=400_000 + n, sql=sql))
    path.write_text(SLOW_LOG.format(entries="".join(entries)))
    return path


def test_upload_slow_log_and_open_a_class(
    app: RunningApp, app_env: AppEnv, new_page: Any, tmp_path: Path
) -> None:
    page = new_page
    _sign_in(page, app, app_env, "ana")
    _open(page, "Slow queries")
    log = _slow_log(tmp_path / "mariadb-slow.log")
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(log))
    page.get_by_role("button", name="Analyse log").click()
    page.get_by_text("events in 2 classes").wait_for()
    wait_idle(page)
    page.get_by_role("heading", name="Class").first.wait_for()
    screenshot(page, "journey-slow-class")
    text = page.get_by_test_id("stCode").first.inner_text()
    assert "orders" in text or "order_lines" in text
    assert "user1@example.com" not in page.inner_text("body"), "literals are redacted"


def test_viewer_sees_no_edit_controls(app: RunningApp, app_env: AppEnv, new_page: Any) -> None:
    page = new_page
    _sign_in(page, app, app_env, "vic")
    nav = page.get_by_test_id("stSidebarNav")
    assert nav.get_by_role("link", name="Ask").count() == 1
    assert nav.get_by_role("link", name="Admin").count() == 0
    assert page.get_by_role("tab", name="SQL").count() == 0, "viewers cannot type raw SQL"
    _open(page, "Semantic layer")
    _open_tab(page, "Edit", "You can read the model")
    assert page.get_by_role("button", name="Save").count() == 0
    screenshot(page, "journey-viewer-semantic")
    _open(page, "Quality")
    assert page.get_by_role("button", name="Run checks now").count() == 0
    _open(page, "Slow queries")
    assert page.get_by_test_id("stFileUploader").count() == 0
    page.goto(f"{app.url}/admin")
    signed_in(page, "vic")
    wait_idle(page)
    assert page.get_by_role("tab", name="Users and roles").count() == 0


def _failed_attempts(app_env: AppEnv, user: str) -> int:
    creds = yaml.safe_load(app_env.credentials.read_text())["credentials"]["usernames"]
    return int(creds[user].get("failed_login_attempts") or 0)


def _try_password(page: Any, user: str, password: str) -> None:
    page.get_by_role("textbox", name="Username").fill(user)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Login").click()
    wait_idle(page)


def test_wrong_password_locks_out_after_the_limit(app: RunningApp, app_env: AppEnv, new_page: Any) -> None:
    page = new_page
    open_login_form(page, app)
    for attempt in range(1, MAX_LOGIN_ATTEMPTS + 1):
        _try_password(page, "locky", f"wrong-password-{attempt}")
        page.get_by_text("Username or password is incorrect").wait_for()
        # Each failure is written to the credentials file, so lockout survives restarts and replicas.
        deadline = time.monotonic() + 30
        while _failed_attempts(app_env, "locky") < attempt and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _failed_attempts(app_env, "locky") == attempt
    open_login_form(page, app)  # a fresh session: nothing on screen from the attempts above
    _try_password(page, "locky", app_env.passwords["locky"])
    page.get_by_text("This account is locked").wait_for()
    screenshot(page, "journey-locked-out")
    assert page.get_by_text("Signed in as").count() == 0, "the right password does not open a locked account"
    assert _failed_attempts(app_env, "locky") == MAX_LOGIN_ATTEMPTS


def test_admin_health(app: RunningApp, app_env: AppEnv, new_page: Any) -> None:
    page = new_page
    _sign_in(page, app, app_env, "admin")
    _open(page, "Admin")
    page.get_by_role("tab", name="Health").click()
    page.get_by_role("button", name="Check system health").click()
    page.get_by_text("schema revision").first.wait_for()
    wait_idle(page)
    body = page.inner_text("body")
    assert "metadata store — ok" in body and "warehouse — ok" in body, body[-800:]
    screenshot(page, "admin-health")
    # Page load times of every page on both workspaces are measured by the screenshot walk (test_walk.py).
