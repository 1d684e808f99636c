"""The app shell's decisions: which pages exist, who sees them, and sign-in."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import streamlit as st

from datatruth import access
from datatruth.ask import warmup
from datatruth.errors import UserError
from datatruth.settings import Settings
from datatruth.store import open_store
from datatruth.ui.context import USER_KEY, open_workspace

# What the first answer and the first visit of each page import besides the workspace's own resources.
WARM_MODULES = (
    "plotly.io",
    "plotly.graph_objects",
    "plotly.express",
    "datatruth.dashboards.tiles",
    "datatruth.quality.overview",
    "datatruth.quality.report",
    "datatruth.incidents.service",
    "datatruth.insights.forecast",
    "datatruth.slowlog.service",
)


@dataclass(frozen=True)
class PageSpec:
    """A page of the app and the least action needed to see it."""

    path: str
    title: str
    icon: str
    url_path: str
    action: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/ask.py", "Ask", ":material/chat:", "ask", "ask"),
    PageSpec("pages/dashboards.py", "Dashboards", ":material/dashboard:", "dashboards", "read"),
    PageSpec("pages/semantic_layer.py", "Semantic layer", ":material/schema:", "semantic", "read"),
    PageSpec("pages/quality.py", "Quality", ":material/verified:", "quality", "read"),
    PageSpec("pages/incidents.py", "Incidents", ":material/notification_important:", "incidents", "read"),
    PageSpec("pages/slow_queries.py", "Slow queries", ":material/speed:", "slow-queries", "read"),
    PageSpec("pages/admin.py", "Admin", ":material/settings:", "admin", "admin"),
)


def visible_pages(settings: Settings, workspace: str, user: str) -> list[PageSpec]:
    """Pages this user may open in this workspace (the same checks guard the core functions)."""
    store = open_store(settings=settings)
    open_workspace(settings, workspace)  # seeds the workspace.yaml members once per process, not per rerun
    pages = [p for p in PAGES if access.can(store, workspace, user, p.action)]
    if not pages:
        raise UserError(
            f"'{user}' is not a member of this workspace",
            "pick another workspace or ask an admin to invite you",
        )
    return pages


def sign_in(settings: Settings) -> tuple[str, bool]:
    """Return (user, local_mode); shows the login form and stops the script until signed in."""
    if settings.credentials_path is None:
        if settings.hosted:
            raise UserError(
                "hosted mode needs a credentials file", "set DATATRUTH_CREDENTIALS to the login YAML path"
            )
        return settings.local_user, True
    from datatruth.auth import login_form

    user = login_form(settings)
    if user is None:
        st.stop()
    st.session_state[USER_KEY] = user
    return user, False


PRELOAD_KEY = "dt-preload"


def preload_browser_code() -> None:
    """Once per session, draw a chart, a table and a code block out of sight, so the browser loads their code.

    Streamlit's browser code for each kind of element is fetched and compiled on its first use; a plotly chart
    alone is ~4.7 MB of JavaScript. The first answer shows all three, and paid ~2 s for that code on a 2-core
    machine; drawn on the session's first run (the sign-in form), the code loads while the person signs in and
    types. The hidden elements leave the page on the next run (only the rule that hides them stays, so they
    never flash).
    """
    st.html(f"<style>.st-key-{PRELOAD_KEY} {{display: none;}}</style>")
    if st.session_state.get(PRELOAD_KEY):
        return
    st.session_state[PRELOAD_KEY] = True
    with st.container(key=PRELOAD_KEY):
        st.plotly_chart({"data": [{"type": "scatter", "x": [0], "y": [0]}]}, key=f"{PRELOAD_KEY}-chart")
        st.dataframe({"-": [0]}, key=f"{PRELOAD_KEY}-table")
        st.code("SELECT 1", language="sql")


def warm_workspace(settings: Settings, name: str) -> warmup.Warmup | None:
    """Start warming a workspace in the background (once per process); None when it cannot be opened.

    A workspace that cannot be opened is left alone here: the switcher and the pages say what is wrong.
    """
    try:
        ws = open_workspace(settings, name)
    except UserError:
        return None
    return warmup.start(ws, open_store(settings=settings), WARM_MODULES)


def warmup_progress(warm: warmup.Warmup | None, slot: Any, limit_s: float = 120.0) -> None:
    """Follow a warm-up in `slot` (a placeholder) until it finishes, then clear it or say why it stopped.

    Called at the end of the app script: the page is on screen, and this run ends when the warm-up does.
    A click or a question meanwhile starts a new run, as during any long run, so nothing typed is lost.
    """
    if warm is None:
        return
    deadline = time.monotonic() + limit_s
    status = warm.status()
    while not status.finished and time.monotonic() < deadline:
        slot.progress(status.fraction, text=f"Preparing {status.workspace}: {status.step}…")
        status = warm.wait(timeout=0.25)
    if status.error:
        slot.caption(f":material/warning: Preparing {status.workspace} stopped: {status.error}")
    elif status.finished:
        slot.empty()
