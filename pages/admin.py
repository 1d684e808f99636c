"""Admin page: Workspaces, users and roles, audit log, cache and system health."""

from __future__ import annotations

import streamlit as st

from datatruth.errors import UserError
from datatruth.ui.context import page_context
from datatruth.ui.render import empty_state, show_error

st.title("Admin")
try:
    ctx = page_context()
    st.caption(f"Workspace: {ctx.workspace.config.title}")
    empty_state("Workspaces, users and roles, audit log, cache and system health.", "The admin page arrives with the app issue.")
except UserError as err:
    show_error(err)
