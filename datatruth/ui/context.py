"""The context every page starts from: the chosen workspace, the signed-in user and the store."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from datatruth import access
from datatruth.settings import Settings, load_settings
from datatruth.store import open_store
from datatruth.store.engine import Store
from datatruth.store.users import seed_from_config
from datatruth.workspace.registry import Workspace, load_workspace, workspace_names

WORKSPACE_KEY = "dt_workspace"
USER_KEY = "dt_user"


@dataclass(frozen=True)
class PageContext:
    """What a page needs: workspace, user, store and a permission test."""

    workspace: Workspace
    user: str
    store: Store
    settings: Settings
    local_mode: bool

    def can(self, action: str) -> bool:
        """True when the user may do `action` here (see datatruth.access.ACTIONS)."""
        return access.can(self.store, self.workspace.name, self.user, action)


@st.cache_resource(show_spinner="Opening workspace…")
def _workspace(name: str, data_dir: str, workspaces_dir: str) -> Workspace:
    # One Workspace (and warehouse connection) per process and workspace; settings are part of the key.
    settings = load_settings()
    ws = load_workspace(name, settings)
    seed_from_config(open_store(settings=settings), ws.name, ws.config.members)
    return ws


def current_user(settings: Settings) -> tuple[str, bool]:
    """The signed-in user, or the local single-user when no credentials file is configured."""
    user = st.session_state.get(USER_KEY)
    if user:
        return str(user), False
    return settings.local_user, True


def page_context() -> PageContext:
    """Resolve the page context from session state (workspace switcher choice, login)."""
    settings = load_settings()
    names = workspace_names(settings)
    chosen = st.session_state.get(WORKSPACE_KEY) or st.query_params.get("ws") or settings.default_workspace
    if chosen not in names and names:
        chosen = names[0]
    ws = _workspace(chosen, str(settings.data_dir), str(settings.workspaces_dir))
    user, local = current_user(settings)
    return PageContext(ws, user, open_store(settings=settings), settings, local)
