"""Quality page: Profiles, six quality dimensions, declarative checks and schema history for this workspace's tables."""

from __future__ import annotations

import streamlit as st

from datatruth.errors import UserError
from datatruth.ui.context import page_context
from datatruth.ui.render import empty_state, show_error

st.title("Quality")
try:
    ctx = page_context()
    st.caption(f"Workspace: {ctx.workspace.config.title}")
    empty_state("Profiles, six quality dimensions, declarative checks and schema history for this workspace's tables.", "Run checks with `datatruth quality run -w WORKSPACE` once the quality issue lands.")
except UserError as err:
    show_error(err)
