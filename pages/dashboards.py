"""Dashboards page: Pin answers to dashboards, share them and refresh them on a schedule."""

from __future__ import annotations

import streamlit as st

from datatruth.errors import UserError
from datatruth.ui.context import page_context
from datatruth.ui.render import empty_state, show_error

st.title("Dashboards")
try:
    ctx = page_context()
    st.caption(f"Workspace: {ctx.workspace.config.title}")
    empty_state("Pin answers to dashboards, share them and refresh them on a schedule.", "Dashboards arrive with the dashboards issue.")
except UserError as err:
    show_error(err)
