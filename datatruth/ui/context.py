"""The context every page starts from: the chosen workspace, the signed-in user and the store."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from datatruth import access
from datatruth.settings import Settings, load_settings
from datatruth.store import open_store
from datatruth.store.engine import Store
from datatruth.store.users import seed_from_config
from datatruth.workspace.registry import Workspace, check_workspace_name, load_workspace, workspace_names

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


def open_workspace(settings: Settings, name: str) -> Workspace:
    """The process-wide Workspace for `name`, with its members seeded into the store once."""
    return _workspace(name, str(settings.data_dir), str(settings.workspaces_dir))


def chosen_workspace(settings: Settings, names: list[str]) -> str:
    """The workspace this session works in: the switcher's choice, else the link's ?ws=, else the default."""
    chosen = st.session_state.get(WORKSPACE_KEY) or st.query_params.get("ws") or settings.default_workspace
    if names:
        return chosen if chosen in names else names[0]
    # No workspace listed: whatever the link says is still only ever a name, never a path.
    return check_workspace_name(chosen)


def current_user(settings: Settings) -> tuple[str, bool]:
    """The signed-in user, or the local single-user when no credentials file is configured."""
    user = st.session_state.get(USER_KEY)
    if user:
        return str(user), False
    return settings.local_user, True


def page_context() -> PageContext:
    """Resolve the page context from session state (workspace switcher choice, login)."""
    settings = load_settings()
    ws = open_workspace(settings, chosen_workspace(settings, workspace_names(settings)))
    user, local = current_user(settings)
    return PageContext(ws, user, open_store(settings=settings), settings, local)
