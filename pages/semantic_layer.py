"""Semantic layer page: Browse and edit metrics and dimensions, preview their SQL, and see the model's history."""

from __future__ import annotations

import streamlit as st

from datatruth.errors import UserError
from datatruth.ui.context import page_context
from datatruth.ui.render import empty_state, show_error

st.title("Semantic layer")
try:
    ctx = page_context()
    st.caption(f"Workspace: {ctx.workspace.config.title}")
    empty_state("Browse and edit metrics and dimensions, preview their SQL, and see the model's history.", "The editor arrives with the semantic-layer issue; meanwhile validate with `datatruth semantic validate`.")
except UserError as err:
    show_error(err)
