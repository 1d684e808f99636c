"""Incidents page: Failed checks, schema breaks and critical slow queries become owned, acknowledged and resolved incidents."""

from __future__ import annotations

import streamlit as st

from datatruth.errors import UserError
from datatruth.ui.context import page_context
from datatruth.ui.render import empty_state, show_error

st.title("Incidents")
try:
    ctx = page_context()
    st.caption(f"Workspace: {ctx.workspace.config.title}")
    empty_state("Failed checks, schema breaks and critical slow queries become owned, acknowledged and resolved incidents.", "The board arrives with the incidents issue.")
except UserError as err:
    show_error(err)
