"""Admin page: workspaces (create, limits, LLM), users and roles, audit log, result cache and system health."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from datatruth.admin import health
from datatruth.admin import workspaces as admin
from datatruth.errors import UserError
from datatruth.ui.context import PageContext, page_context
from datatruth.ui.render import empty_state, show_error
from datatruth.workspace.config import INCIDENT_ROLES, LLM_PROVIDERS, ROLES

STATUS_ICON = {
    "ok": ":green[:material/check_circle:]",
    "error": ":red[:material/error:]",
    "off": ":gray[:material/radio_button_unchecked:]",
    "not installed": ":orange[:material/warning:]",
}


def workspace_tab(ctx: PageContext) -> None:
    st.subheader("Limits and LLM")
    current = admin.SettingsEdit.of(ctx.workspace.config)
    with st.form("adm-settings"):
        c1, c2, c3, c4 = st.columns(4)
        row_cap = c1.number_input("Row cap", min_value=1, value=current.row_cap, step=1000)
        timeout = c2.number_input(
            "Query timeout (s)", min_value=1.0, value=float(current.timeout_s), step=5.0
        )
        per_hour = c3.number_input(
            "Questions per user per hour", min_value=1, value=current.questions_per_user_per_hour
        )
        ttl = c4.number_input("Cache TTL (s, 0 = off)", min_value=0, value=current.cache_ttl_s, step=600)
        l1, l2, l3 = st.columns(3)
        provider = l1.selectbox(
            "LLM provider", LLM_PROVIDERS, index=LLM_PROVIDERS.index(current.llm_provider)
        )
        model = l2.text_input("Model", current.llm_model)
        key_vars = admin.key_variables(ctx.settings, ctx.workspace.name, current.llm_api_key_env)
        key_help = "The NAME of an environment variable holding the key; the key is never stored."
        key_env = (
            l3.text_input("API key variable", current.llm_api_key_env, help=key_help)
            if key_vars is None
            else l3.selectbox(
                "API key variable",
                key_vars,
                index=key_vars.index(current.llm_api_key_env),
                help=key_help + " The operator decides which variables this workspace may use.",
            )
        )
        l4, l5, l6 = st.columns(3)
        endpoints = admin.llm_endpoints(ctx.settings, current.llm_base_url)
        url_label = "Base URL (OpenAI-compatible servers, Azure endpoint)"
        base_url = (
            l4.text_input(url_label, current.llm_base_url)
            if endpoints is None
            else l4.selectbox(
                url_label,
                endpoints,
                index=endpoints.index(current.llm_base_url),
                format_func=lambda u: u or "(the provider's own)",
            )
        )
        llm_timeout = l5.number_input("LLM timeout (s)", min_value=1.0, value=float(current.llm_timeout_s))
        raw_sql = l6.checkbox("LLM may propose raw SQL (guarded)", value=current.llm_allow_raw_sql)
        edit = admin.SettingsEdit(
            int(row_cap),
            float(timeout),
            int(per_hour),
            int(ttl),
            provider,
            model.strip(),
            base_url.strip(),
            key_env.strip(),
            float(llm_timeout),
            raw_sql,
        )
        save, probe = st.columns([1, 1])
        saved = save.form_submit_button("Save settings", type="primary")
        tested = probe.form_submit_button("Test LLM")
    if saved:
        try:
            admin.update_settings(ctx.store, ctx.workspace, ctx.user, edit)
            st.cache_resource.clear()  # every page reopens the workspace with the new limits
            st.success(
                f"Saved {ctx.workspace.config.path.name}; the new settings apply from the next question."
            )
        except UserError as err:
            show_error(err)
    if tested:
        result = admin.check_llm(
            ctx.store, ctx.workspace.name, ctx.user, edit.llm_config(), settings=ctx.settings
        )
        (st.success if result.ok else st.error)(f"LLM {'ok' if result.ok else 'error'}: {result.message}")

    st.subheader("Create a workspace")
    st.caption(
        "Write a password as ${VAR}: it is read from the server's environment and never stored. "
        "The connection is opened read-only and its schema is listed before anything is written."
    )
    with st.form("adm-create"):
        n1, n2 = st.columns([1, 2])
        name = n1.text_input("Name", placeholder="sales")
        title = n2.text_input("Title", placeholder="Sales (Postgres)")
        url = st.text_input(
            "Warehouse URL", placeholder="postgresql+psycopg://analyst:${PGPASSWORD}@db:5432/sales"
        )
        b1, b2 = st.columns([1, 1])
        check = b1.form_submit_button("Test connection")
        create = b2.form_submit_button("Create workspace", type="primary")
    try:
        if check:
            show_connection(
                admin.check_connection(
                    ctx.store, ctx.workspace.name, ctx.user, url, settings=ctx.settings, name=name.strip()
                )
            )
        if create:
            made = admin.create_from_url(
                ctx.store,
                ctx.settings,
                ctx.workspace.name,
                ctx.user,
                name=name.strip(),
                url=url,
                title=title.strip(),
            )
            st.success(
                f"Created workspace '{made.name}' ({made.path}). Pick it in the sidebar; draft its semantic "
                f"model with `datatruth workspace create {made.name} --warehouse URL --draft-model --replace`."
            )
            show_connection(made.report)
    except UserError as err:
        show_error(err)


def show_connection(report: admin.ConnectionReport) -> None:
    st.success(
        f"Connected ({report.dialect}) in {report.elapsed_ms:.0f} ms: {len(report.tables)} table(s)"
        + (" (first ones shown)" if report.truncated else "")
        + "."
    )
    if report.tables:
        st.dataframe(
            pd.DataFrame(
                [
                    {"table": t.name, "columns": len(t.columns), "column names": ", ".join(t.columns[:20])}
                    for t in report.tables
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def users_tab(ctx: PageContext) -> None:
    rows = admin.members(ctx.store, ctx.settings, ctx.workspace.name, ctx.user)
    frame = pd.DataFrame(
        [
            {
                "user": m.username,
                "role": m.role,
                "incident role": m.incident_role,
                "active": m.active,
                "can sign in": m.can_sign_in,
                "failed sign-ins": m.failed_attempts,
                "locked": m.locked,
            }
            for m in rows
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch")
    names = [m.username for m in rows]
    if names:
        st.subheader("Change a member")
        pick = st.selectbox("Member", names, key="adm-member")
        member = next(m for m in rows if m.username == pick)
        c1, c2 = st.columns(2)
        role = c1.selectbox("Role", ROLES, index=ROLES.index(member.role), key=f"adm-role-{pick}")
        irole = c2.selectbox(
            "Incident role",
            INCIDENT_ROLES,
            index=INCIDENT_ROLES.index(member.incident_role),
            key=f"adm-irole-{pick}",
        )
        b1, b2, b3 = st.columns(3)
        try:
            if b1.button("Save roles", key="adm-save-role"):
                admin.change_role(ctx.store, ctx.workspace.name, ctx.user, pick, role, irole)
                st.success(f"{pick} is now {role} (incidents: {irole}).")
                st.rerun()
            label = "Deactivate" if member.active else "Reactivate"
            if b2.button(label, key="adm-active"):
                admin.set_member_active(ctx.store, ctx.workspace.name, ctx.user, pick, not member.active)
                st.rerun()
            if member.can_sign_in and b3.button(
                "Unlock sign-in", key="adm-unlock", disabled=not member.failed_attempts
            ):
                admin.unlock(ctx.store, ctx.settings, ctx.workspace.name, ctx.user, pick)
                st.success(f"{pick} can sign in again.")
                st.rerun()
        except UserError as err:
            show_error(err)

    st.subheader("Invite")
    sign_in = ctx.settings.credentials_path is not None
    if not sign_in:
        st.caption(
            "Local single-user mode: members get roles but no password (set DATATRUTH_CREDENTIALS for logins)."
        )
    with st.form("adm-invite", clear_on_submit=True):
        c1, c2, c3, c4 = st.columns(4)
        username = c1.text_input("User name")
        role = c2.selectbox("Role", ROLES, index=ROLES.index("viewer"))
        irole = c3.selectbox("Incident role", INCIDENT_ROLES, index=INCIDENT_ROLES.index("viewer"))
        email = c4.text_input("Email")
        password = st.text_input(
            "Initial password (8+ characters; tell them to change it)", type="password", disabled=not sign_in
        )
        go = st.form_submit_button("Invite", type="primary")
    if go:
        try:
            admin.invite(
                ctx.store,
                ctx.settings,
                ctx.workspace.name,
                ctx.user,
                username=username,
                role=role,
                incident_role=irole,
                email=email,
                password=password,
            )
            st.success(f"Invited {username.strip()} as {role}.")
        except UserError as err:
            show_error(err)


def audit_tab(ctx: PageContext) -> None:
    c1, c2, c3, c4 = st.columns(4)
    who = c1.text_input("User", key="adm-audit-user")
    action = c2.text_input("Action starts with", key="adm-audit-action", placeholder="admin.")
    since = c3.date_input("From", value=None, key="adm-audit-since")
    until = c4.date_input("To", value=None, key="adm-audit-until")
    found = admin.audit_log(
        ctx.store, ctx.workspace.name, ctx.user, admin.AuditFilter(who.strip(), action.strip(), since, until)
    )
    if not found:
        st.info("No audit entries match these filters.")
        return
    frame = pd.DataFrame(admin.audit_rows(found))
    st.dataframe(frame, hide_index=True, width="stretch")
    st.caption(f"{len(frame):,} entr{'y' if len(frame) == 1 else 'ies'}, newest first.")
    st.download_button(
        "CSV",
        frame.to_csv(index=False).encode(),
        f"audit-{ctx.workspace.name}-{dt.date.today():%Y%m%d}.csv",
        "text/csv",
        key="adm-audit-csv",
        icon=":material/download:",
    )


def cache_tab(ctx: PageContext) -> None:
    stats = admin.cache_stats(ctx.store, ctx.workspace, ctx.user)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Entries", f"{stats.entries:,}")
    c2.metric("Size", f"{stats.bytes / 1e6:.1f} MB")
    c3.metric("Model versions", stats.versions)
    c4.metric(
        "Hit rate",
        f"{stats.hit_rate:.0%}",
        help=f"{stats.hits:,} hits, {stats.misses:,} misses since the last clear",
    )
    if st.button(
        "Clear the cache",
        key="adm-cache-clear",
        disabled=stats.entries == 0 and stats.hits + stats.misses == 0,
    ):
        removed = admin.clear_cache(ctx.store, ctx.workspace, ctx.user)
        st.success(f"Removed {removed:,} cached result(s).")
        st.rerun()


def health_tab(ctx: PageContext) -> None:
    # On demand: the LLM probe is a network call and every tab renders on each rerun.
    key = f"adm-health:{ctx.workspace.name}"
    if st.button("Check system health", key="adm-health-run", type="primary"):
        with st.spinner("Checking the store, warehouse, vector index and LLM…"):
            st.session_state[key] = health.system_health(ctx.store, ctx.workspace, ctx.user)
    checks = st.session_state.get(key)
    if not checks:
        st.caption(
            "Checks the metadata store, the warehouse, the vector index and the LLM of this workspace."
        )
        return
    for check in checks:
        st.markdown(
            f"{STATUS_ICON.get(check.status, ':gray[:material/help:]')} **{check.component}** — {check.status} "
            f"({check.elapsed_ms:.0f} ms)  \n{check.detail}"
        )


st.title("Admin")
try:
    ctx = page_context()
    st.caption(f"Workspace: {ctx.workspace.config.title}")
    if not ctx.can("admin"):
        empty_state(
            "Admins only",
            "Ask a workspace admin for the admin role to manage workspaces, users and the cache.",
        )
        st.stop()
    tabs = st.tabs(["Workspace", "Users and roles", "Audit log", "Cache", "Health"])
    for tab, render in zip(tabs, (workspace_tab, users_tab, audit_tab, cache_tab, health_tab), strict=True):
        with tab:
            try:
                render(ctx)
            except UserError as err:
                show_error(err)
except UserError as err:
    show_error(err)
