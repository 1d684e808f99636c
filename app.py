"""DataTruth Streamlit app: sign-in, workspace switcher and navigation over the pages/ folder."""

from __future__ import annotations

import streamlit as st

from datatruth import logs
from datatruth.errors import UserError
from datatruth.settings import load_settings
from datatruth.ui.context import WORKSPACE_KEY, chosen_workspace
from datatruth.ui.render import show_error
from datatruth.ui.shell import preload_browser_code, sign_in, visible_pages, warm_workspace, warmup_progress
from datatruth.workspace.registry import list_workspaces

st.set_page_config(page_title="DataTruth", page_icon=":material/fact_check:", layout="wide")
settings = load_settings()
try:
    logs.configure(settings.log_level)
except UserError as err:
    show_error(err)
    st.stop()

# The default workspace warms up in the background (once per process) while the person signs in, and the
# browser loads the code of the charts and tables the first answer shows.
warm_workspace(settings, settings.default_workspace)
preload_browser_code()

try:
    user, local_mode = sign_in(settings)
except UserError as err:
    show_error(err)
    st.stop()

listed = list_workspaces(settings)
summaries = [w for w in listed if w.valid]
broken = [w for w in listed if not w.valid]  # one broken workspace.yaml must not hide the others
if not summaries:
    st.warning("No valid workspace found. Create one with `datatruth workspace create NAME --warehouse URL`.")
    st.stop()
names = [w.name for w in summaries]
titles = {w.name: w.title for w in summaries}
# The choice is remembered in the URL (?ws=...) so a reload or a shared link keeps it.
index = names.index(chosen_workspace(settings, names))
with st.sidebar:
    chosen = st.selectbox("Workspace", names, index=index, format_func=lambda n: titles[n], key="ws_switcher")
    st.session_state[WORKSPACE_KEY] = chosen
    st.query_params["ws"] = chosen
    for bad in broken:
        # The problem names server paths, so only its existence is shown; `workspace list` gives the details.
        st.caption(
            f":material/warning: Workspace **{bad.name}** is not available: its settings have problems "
            "(`datatruth workspace list` shows them)"
        )
    if local_mode:
        st.caption(
            ":material/lock_open: Local single-user mode: no sign-in (no credentials file configured)."
        )
    else:
        st.caption(f"Signed in as **{user}**")
    progress_slot = st.empty()

try:
    pages = visible_pages(settings, chosen, user)
except UserError as err:
    show_error(err)
    st.stop()
nav = st.navigation([st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path) for p in pages])
nav.run()
# After the page: its content is on screen while the sidebar follows the warm-up of this workspace.
warmup_progress(warm_workspace(settings, chosen), progress_slot)
