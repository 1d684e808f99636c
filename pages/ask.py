"""Ask page: Ask a question in plain words and get a governed answer"""

from __future__ import annotations

import streamlit as st

from datatruth.errors import UserError
from datatruth.ui.context import page_context
from datatruth.ui.render import empty_state, show_error

st.title("Ask")
try:
    ctx = page_context()
    st.caption(f"Workspace: {ctx.workspace.config.title}")
    empty_state("Ask a question in plain words and get a governed answer", " a number, the SQL behind it, a chart and an explanation.:The ask pipeline arrives with the Ask issue.")
except UserError as err:
    show_error(err)
