"""Slow queries page: Upload a MySQL or PostgreSQL slow log to find the query classes that cost the most time."""

from __future__ import annotations

import streamlit as st

from datatruth.errors import UserError
from datatruth.ui.context import page_context
from datatruth.ui.render import empty_state, show_error

st.title("Slow queries")
try:
    ctx = page_context()
    st.caption(f"Workspace: {ctx.workspace.config.title}")
    empty_state("Upload a MySQL or PostgreSQL slow log to find the query classes that cost the most time.", "Try `datatruth slowlog analyze FILE` from the CLI.")
except UserError as err:
    show_error(err)
