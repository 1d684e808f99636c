"""End-to-end fixtures: the real app (`streamlit run app.py`) in its own data dir, driven by Debian's chromium.

The browser is /usr/bin/chromium (installed by .ci/setup_services.sh), launched through Playwright; Playwright's
own browser download is never used. Without chromium the tests skip, and fail under CI=true.
The helpers are plain functions as well, so tests/test_hosted.py starts its apps the same way.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "tests" / "artifacts"
APP_START_TIMEOUT_S = 90
# Streamlit renders asynchronously and this machine is shared: waits are generous.
WAIT_MS = 60_000
USERS = {  # user: (role in both demo workspaces, incident role)
    "admin": ("admin", "owner"),
    "ana": ("analyst", "maintainer"),
    "vic": ("viewer", "viewer"),
    "locky": ("viewer", "viewer"),
}


def require_chromium() -> None:
    """Skip (or fail under CI=true) when the Debian chromium is not installed."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: run `sudo bash .ci/setup_services.sh` (installs Debian's chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(
        args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def build_demos(folder: Path) -> Path:
    """Build the demo warehouses once (with `datatruth demo build`) into `folder`; later calls reuse them."""
    if (folder / "retail" / "warehouse.build.json").exists() and (
        folder / "flights" / "warehouse.build.json"
    ).exists():
        return folder
    env = {**os.environ, "DATATRUTH_DATA_DIR": str(folder)}
    _run([str(VENV_BIN / "datatruth"), "demo", "build"], env, timeout=600)
    return folder


@dataclass(frozen=True)
class AppEnv:
    """Everything one deployment of the app uses: folders, credentials, passwords and its environment."""

    root: Path
    data_dir: Path
    workspaces_dir: Path
    credentials: Path
    passwords: dict[str, str]
    env: dict[str, str] = field(repr=False)


def prepare_env(root: Path, demos: Path, store_url: str = "", hosted: bool = False) -> AppEnv:
    """Copy workspaces and models into `root` (edits never touch the repo), copy the demo warehouses, invite users."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("workspaces", "semantic_models"):
        shutil.copytree(REPO / name, root / name, dirs_exist_ok=True)
    data = root / "data"
    for ws in ("retail", "flights"):
        (data / ws).mkdir(parents=True, exist_ok=True)
        for item in ("warehouse.duckdb", "warehouse.build.json"):
            shutil.copy2(demos / ws / item, data / ws / item)
    credentials = root / "secrets" / "credentials.yaml"
    env = {
        **os.environ,
        "DATATRUTH_DATA_DIR": str(data),
        "DATATRUTH_WORKSPACES_DIR": str(root / "workspaces"),
        "DATATRUTH_CREDENTIALS": str(credentials),
        "DATATRUTH_COOKIE_KEY": secrets.token_urlsafe(48),
        "DATATRUTH_STORE_URL": store_url,
        "DATATRUTH_HOSTED": "true" if hosted else "false",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "PYTHONUNBUFFERED": "1",
    }
    passwords = {user: f"{user}-{secrets.token_urlsafe(9)}" for user in USERS}
    for user, (role, incident_role) in USERS.items():
        _run(
            [
                str(VENV_BIN / "datatruth"),
                "users",
                "invite",
                user,
                "--name",
                user.title(),
                "--email",
                f"{user}@example.com",
                "-w",
                "retail",
                "--role",
                role,
                "--incident-role",
                incident_role,
                "--actor",
                "e2e",
            ],
            {**env, "DATATRUTH_NEW_PASSWORD": passwords[user]},
            timeout=120,
        )
    return AppEnv(root, data, root / "workspaces", credentials, passwords, env)


@dataclass
class RunningApp:
    """A `streamlit run app.py` process and the URL it serves."""

    process: subprocess.Popen
    url: str
    log: Path

    def log_tail(self, lines: int = 25) -> str:
        """The last lines the app wrote (for failure messages)."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Terminate the process (and wait for it)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_app(app_env: AppEnv, name: str = "app") -> RunningApp:
    """Start the app on a free port and wait until /_stcore/health answers."""
    port = free_port()
    log = app_env.root / f"{name}-{port}.log"
    handle = log.open("w")
    process = subprocess.Popen(
        [
            str(VENV_BIN / "streamlit"),
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.fileWatcherType",
            "none",
            "--server.runOnSave",
            "false",
        ],
        cwd=REPO,
        env=app_env.env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    app = RunningApp(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + APP_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{app.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return app
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    app.stop()
    raise AssertionError(
        f"the app did not answer /_stcore/health within {APP_START_TIMEOUT_S} s:\n{log.read_text()}"
    )


def launch_browser(playwright: Any) -> Any:
    """Debian's chromium through Playwright, headless, with nothing phoning home."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def wait_idle(page: Any, timeout_ms: int = WAIT_MS, settle_ms: int = 400) -> None:
    """Wait until Streamlit has finished running the script (no 'Running…' status widget, no spinner)."""
    # A click reaches the server a moment later; checking at once could see the previous, finished run.
    page.wait_for_timeout(settle_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
        "!document.querySelector('[data-testid=\"stSpinner\"]')",
        timeout=timeout_ms,
    )


def chat_box(page: Any, timeout_ms: int = WAIT_MS) -> Any:
    """The Ask page's chat input once it is the only one: while Streamlit replaces a page, the input of the run
    before can stay beside the new one for a moment (typing into the old one would be lost)."""
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stChatInputTextArea\"]').length === 1",
        timeout=timeout_ms,
    )
    return page.get_by_test_id("stChatInputTextArea")


def open_login_form(page: Any, app: RunningApp, path: str = "") -> None:
    """Open the app and wait for the sign-in form; fail at once (with the app's log) when the app crashed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(f"{app.url}/{path}")
    box = page.get_by_role("textbox", name="Username")
    crashed = page.get_by_test_id("stException")
    try:
        box.or_(crashed).first.wait_for(timeout=WAIT_MS)
    except PlaywrightTimeout:
        crashed = None
    if crashed is None or crashed.count():
        raise AssertionError(
            f"no login form at {app.url}; the page says {page.inner_text('body')[-600:]!r}\n"
            f"app log:\n{app.log_tail()}"
        )


def login(page: Any, app: RunningApp, user: str, password: str, path: str = "") -> None:
    """Open the app and sign in through the streamlit-authenticator form."""
    open_login_form(page, app, path)
    page.get_by_role("textbox", name="Username").fill(user)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Login").click()


def signed_in(page: Any, user: str) -> None:
    """Wait for the sidebar to say who is signed in."""
    page.get_by_text(f"Signed in as {user}").wait_for(timeout=WAIT_MS)


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under tests/artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sidebar_nav(page: Any, title: str, heading: str | None = None) -> None:
    """Click a page in the sidebar navigation (keeps the Streamlit session, like a person does).

    With `heading`, wait for it; a click that lands while Streamlit finishes a rerun can be dropped by the
    frontend, so, like a person, click again (at most three times).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    link = page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title)
    for attempt in range(3):
        link.click()
        if heading is None:
            return
        try:
            page.get_by_role("heading", name=heading).first.wait_for(timeout=15_000)
            return
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            wait_idle(page)


# -- fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_warehouses(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouses, built once per test session."""
    require_chromium()
    return build_demos(tmp_path_factory.getbasetemp() / "dt-demos")


@pytest.fixture(scope="module")
def app_env(tmp_path_factory: pytest.TempPathFactory, demo_warehouses: Path) -> AppEnv:
    """A private deployment (SQLite store) with invited users admin, ana (analyst), vic and locky (viewers)."""
    return prepare_env(tmp_path_factory.mktemp("app"), demo_warehouses)


@pytest.fixture(scope="module")
def app(app_env: AppEnv) -> Iterator[RunningApp]:
    """The running app, once per test module."""
    running = start_app(app_env)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless chromium for the module."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Remember each phase's report on the item, so fixtures can tell whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (own cookies) and page; a failing test leaves a screenshot in tests/artifacts."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        screenshot(page, f"FAILED-{request.node.name}")
    context.close()
