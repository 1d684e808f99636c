"""Administer workspaces: create one from a warehouse URL, edit limits and LLM settings, members, audit, cache.

Each public function takes the store, the workspace it acts in and the acting user, and checks the admin role
itself. Writes are audited in the workspace where they happen.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from datatruth import access, resources
from datatruth.ask.cache import CacheStats, workspace_cache
from datatruth.auth import MAX_LOGIN_ATTEMPTS, invite_user, unlock_user
from datatruth.errors import ConfigError, NotFound, UserError
from datatruth.settings import Settings, load_settings
from datatruth.store import audit, users
from datatruth.store.audit import AuditEntry
from datatruth.store.engine import Store
from datatruth.workspace.boundary import allowed_llm_urls, check_warehouse_url, env_policy, expand
from datatruth.workspace.config import LLMConfig, WorkspaceConfig, llm_refusals, parse_workspace
from datatruth.workspace.registry import Workspace, check_workspace_name, create_workspace
from datatruth.yamlsource import Issue

PROBE_TIMEOUT_S = 10.0
LLM_TEST_TIMEOUT_S = 8.0
MAX_TABLES_SHOWN = 200


# -- creating a workspace ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableInfo:
    """One table or view found by introspection (qualified with its schema when not the default one)."""

    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ConnectionReport:
    """What a connection test found: the dialect, the tables with their columns, and how long it took."""

    dialect: str
    tables: tuple[TableInfo, ...]
    elapsed_ms: float
    truncated: bool = False


@dataclass(frozen=True)
class CreatedWorkspace:
    """A new workspace: its name, its workspace.yaml and what its warehouse holds."""

    name: str
    path: Path
    report: ConnectionReport


def _expand(url: str, workspace: str, settings: Settings, env: Mapping[str, str] | None) -> str:
    """Resolve ${VAR} in a URL with the variables the operator lets `workspace` read; YAML keeps the ${VAR} form."""
    resolved, problems = expand(url, workspace, env_policy(settings), env)
    if problems:
        message, hint = problems[0]
        raise UserError(
            message + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            hint + "; secrets are never stored in workspace.yaml",
        )
    return resolved.replace("{data_dir}", str(settings.data_dir / workspace))


def introspect(url: str) -> ConnectionReport:
    """Connect read-only with a timeout (the connection test), then list tables and views with their columns.

    Columns come from information_schema through the hardened connection rather than SQLAlchemy's inspector:
    duckdb_engine's inspector fails on DuckDB 2 (it queries pg_catalog tables DuckDB no longer has).
    """
    from datatruth.warehouse.engine import open_warehouse

    started = time.perf_counter()
    warehouse = open_warehouse(url, read_only=True, timeout_s=PROBE_TIMEOUT_S)
    try:
        names = sorted(warehouse.table_names())
        found = tuple(
            TableInfo(name, tuple(c for c, _ in warehouse.columns(name))) for name in names[:MAX_TABLES_SHOWN]
        )
        dialect = warehouse.dialect
    finally:
        warehouse.close()
    return ConnectionReport(
        dialect, found, (time.perf_counter() - started) * 1000, truncated=len(names) > MAX_TABLES_SHOWN
    )


def check_connection(
    store: Store,
    workspace: str,
    user: str,
    url: str,
    env: Mapping[str, str] | None = None,
    *,
    settings: Settings | None = None,
    name: str = "",
) -> ConnectionReport:
    """Admin-only: try a warehouse URL for workspace `name` (default: this one) and introspect its schema.

    ${VAR} is resolved with the variables the operator allows that workspace, and the URL must stay inside
    the operator's boundary (no other workspace's files, no metadata store, files only under the root).
    """
    access.require(store, workspace, user, "admin")
    if not url.strip():
        raise UserError(
            "the warehouse URL is empty", "e.g. postgresql+psycopg://analyst:${PGPASSWORD}@db/sales"
        )
    settings = settings or load_settings()
    target = name.strip() or workspace
    resolved = _expand(url.strip(), target, settings, env)
    check_warehouse_url(settings, resolved, target)
    return introspect(resolved)


def create_from_url(
    store: Store,
    settings: Settings,
    workspace: str,
    user: str,
    *,
    name: str,
    url: str,
    title: str = "",
    env: Mapping[str, str] | None = None,
) -> CreatedWorkspace:
    """Admin-only: test the URL, write workspaces/<name>/workspace.yaml with `user` as its admin, audit both ends."""
    access.require(store, workspace, user, "admin")
    check_workspace_name(name)
    report = check_connection(store, workspace, user, url, env, settings=settings, name=name)
    path = create_workspace(name, warehouse_url=url.strip(), title=title, settings=settings, admin=user)
    users.set_membership(store, name, user, "admin", "owner", actor=user)
    detail = {"tables": len(report.tables), "dialect": report.dialect}
    audit.record(store, name, user, "admin.workspace_create", name, detail)
    if workspace != name:
        audit.record(store, workspace, user, "admin.workspace_create", name, detail)
    return CreatedWorkspace(name, path, report)


# -- limits and LLM settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsEdit:
    """The editable part of workspace.yaml: limits and LLM settings (never a secret, only a variable name)."""

    row_cap: int
    timeout_s: float
    questions_per_user_per_hour: int
    cache_ttl_s: int
    llm_provider: str
    llm_model: str
    llm_base_url: str
    llm_api_key_env: str
    llm_timeout_s: float
    llm_allow_raw_sql: bool

    @classmethod
    def of(cls, config: WorkspaceConfig) -> SettingsEdit:
        """The current values of a workspace."""
        lim, llm = config.limits, config.llm
        return cls(
            lim.row_cap,
            lim.timeout_s,
            lim.questions_per_user_per_hour,
            lim.cache_ttl_s,
            llm.provider,
            llm.model,
            llm.base_url or "",
            llm.api_key_env,
            llm.timeout_s,
            llm.allow_raw_sql,
        )

    def llm_config(self) -> LLMConfig:
        """These LLM settings as the config the client takes (for testing before saving)."""
        return LLMConfig(
            provider=self.llm_provider,
            model=self.llm_model,
            base_url=self.llm_base_url or None,
            api_key_env=self.llm_api_key_env,
            timeout_s=self.llm_timeout_s,
        )


def _apply(doc: dict[str, Any], edit: SettingsEdit) -> dict[str, Any]:
    limits = dict(doc.get("limits") or {})
    limits.update(
        row_cap=edit.row_cap,
        timeout_s=edit.timeout_s,
        questions_per_user_per_hour=edit.questions_per_user_per_hour,
        cache_ttl_s=edit.cache_ttl_s,
    )
    llm = dict(doc.get("llm") or {})
    llm.update(
        provider=edit.llm_provider,
        model=edit.llm_model,
        api_key_env=edit.llm_api_key_env,
        timeout_s=edit.llm_timeout_s,
        allow_raw_sql=edit.llm_allow_raw_sql,
    )
    if edit.llm_base_url:
        llm["base_url"] = edit.llm_base_url
    else:
        llm.pop("base_url", None)
    return {**doc, "limits": limits, "llm": llm}


def update_settings(store: Store, ws: Workspace, user: str, edit: SettingsEdit) -> WorkspaceConfig:
    """Admin-only: write limits and LLM settings to workspace.yaml after re-validating it; audit the change."""
    access.require(store, ws.name, user, "admin")
    path = ws.config.path
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    before = SettingsEdit.of(ws.config)
    candidate = path.with_name(f".{path.name}.{os.getpid()}.new")
    candidate.write_text(
        yaml.safe_dump(_apply(doc, edit), sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    try:
        # Validate the exact file that will replace the current one; a bad edit never reaches disk.
        parse_workspace(candidate, data_dir=ws.settings.data_dir, settings=ws.settings)
    except ConfigError as err:
        candidate.unlink()
        issues = [_rename_issue(i, path) for i in err.issues]
        raise ConfigError(
            f"the new settings are not valid ({len(issues)} problem(s))", err.hint, issues
        ) from None
    os.replace(candidate, path)
    resources.invalidate(ws.name)  # what was built with the old limits and LLM settings is not used again
    changed = {
        k: [getattr(before, k), getattr(edit, k)]
        for k in before.__dataclass_fields__
        if getattr(before, k) != getattr(edit, k)
    }
    audit.record(store, ws.name, user, "admin.workspace_settings", ws.name, {"changed": changed})
    return parse_workspace(path, data_dir=ws.settings.data_dir, settings=ws.settings)


def key_variables(
    settings: Settings, workspace: str, current: str = "", env: Mapping[str, str] | None = None
) -> tuple[str, ...] | None:
    """The API key variables an admin may pick (names only, never values); None when any name may be typed."""
    if not settings.team_mode and not settings.workspace_env.strip():
        return None  # local single-user mode: the user is the operator
    policy = env_policy(settings)
    names = sorted(n for n in (os.environ if env is None else env) if policy.allows(workspace, n))
    return tuple(dict.fromkeys([current, *names]))


def llm_endpoints(settings: Settings, current: str = "") -> tuple[str, ...] | None:
    """The LLM base URLs an admin may pick ('' is the provider's own); None when any URL may be typed."""
    listed = allowed_llm_urls(settings)
    if not settings.hosted and not listed:
        return None
    return tuple(dict.fromkeys([current, "", *listed]))


def _rename_issue(issue: Issue, path: Path) -> Issue:
    # Issues point at the temporary file; people should see the real one.
    return replace(issue, file=str(path))


@dataclass(frozen=True)
class LLMCheck:
    """The result of one short chat completion against the configured model."""

    ok: bool
    message: str
    elapsed_ms: float


def probe_llm(
    config: LLMConfig, *, timeout_s: float = LLM_TEST_TIMEOUT_S, env: Mapping[str, str] | None = None
) -> LLMCheck:
    """Send one tiny chat completion with a short timeout and no retries; never raises for an unreachable LLM."""
    import openai

    from datatruth.llm.client import build_openai_client

    if not config.enabled:
        return LLMCheck(False, "no LLM is configured (provider: none)", 0.0)
    started = time.perf_counter()
    try:
        # one try: the probe says whether the LLM answers now, not whether it would after the library's retries
        probe = replace(config, timeout_s=min(config.timeout_s, timeout_s), max_retries=0)
        client = build_openai_client(probe, env)
        reply = client.chat.completions.create(
            model=config.model,
            max_tokens=5,
            messages=[{"role": "user", "content": "Reply with the word OK."}],
        )
    except UserError as err:  # no API key, Azure without endpoint, ...
        return LLMCheck(False, err.message, (time.perf_counter() - started) * 1000)
    except openai.APITimeoutError:
        return LLMCheck(False, f"no answer within {timeout_s:.0f} s", (time.perf_counter() - started) * 1000)
    except openai.APIStatusError as err:
        return LLMCheck(
            False, f"HTTP {err.status_code}: {_short(err.message)}", (time.perf_counter() - started) * 1000
        )
    except openai.APIConnectionError as err:
        return LLMCheck(
            False,
            f"cannot connect: {_short(str(err.__cause__ or err))}",
            (time.perf_counter() - started) * 1000,
        )
    elapsed = (time.perf_counter() - started) * 1000
    model = getattr(reply, "model", "") or config.model
    return LLMCheck(True, f"{model} answered in {elapsed:.0f} ms", elapsed)


def _short(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else "no detail"


def check_llm(
    store: Store,
    workspace: str,
    user: str,
    config: LLMConfig,
    env: Mapping[str, str] | None = None,
    *,
    settings: Settings | None = None,
) -> LLMCheck:
    """Admin-only: the "test LLM" button: is the model reachable with these settings (inside the boundary)?"""
    access.require(store, workspace, user, "admin")
    refusals = llm_refusals(settings or load_settings(), workspace, config)
    if refusals:
        message, hint = next(iter(refusals.values()))
        return LLMCheck(False, f"{message}: {hint}", 0.0)
    return probe_llm(config, env=env)


# -- members ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    """A member of the workspace as the Admin page lists them."""

    username: str
    role: str
    incident_role: str
    active: bool
    can_sign_in: bool
    failed_attempts: int

    @property
    def locked(self) -> bool:
        """True when too many failed sign-ins locked the account."""
        return self.failed_attempts >= MAX_LOGIN_ATTEMPTS


def _credentials(settings: Settings) -> dict[str, Any]:
    path = settings.credentials_path
    if path is None or not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return (data.get("credentials") or {}).get("usernames") or {}


def members(store: Store, settings: Settings, workspace: str, user: str) -> list[MemberRow]:
    """Admin-only: every member with roles, active flag and sign-in state from the credentials file."""
    access.require(store, workspace, user, "admin")
    creds = _credentials(settings)
    return [
        MemberRow(
            m.username,
            m.role,
            m.incident_role,
            m.active,
            m.username in creds,
            int((creds.get(m.username) or {}).get("failed_login_attempts") or 0),
        )
        for m in users.list_memberships(store, workspace)
    ]


def _other_active_admins(store: Store, workspace: str, username: str) -> int:
    return sum(
        1
        for m in users.list_memberships(store, workspace)
        if m.role == "admin" and m.active and m.username != username
    )


def invite(
    store: Store,
    settings: Settings,
    workspace: str,
    user: str,
    *,
    username: str,
    role: str,
    incident_role: str = "viewer",
    name: str = "",
    email: str = "",
    password: str = "",
) -> None:
    """Admin-only: add a member; with a credentials file the user also gets a sign-in (bcrypt-hashed)."""
    access.require(store, workspace, user, "admin")
    username = username.strip()
    if not username:
        raise UserError("the user name is empty", "type the new member's user name")
    if settings.credentials_path is not None:
        if username in _credentials(settings):
            raise UserError(
                f"'{username}' can already sign in",
                "change their role below instead (inviting again would reset their password)",
            )
        invite_user(settings.credentials_path, username, name or username, email, password)
    users.set_membership(store, workspace, username, role, incident_role, actor=user)
    audit.record(
        store,
        workspace,
        user,
        "admin.invite",
        username,
        {"role": role, "sign_in": settings.credentials_path is not None},
    )


def change_role(
    store: Store, workspace: str, user: str, username: str, role: str, incident_role: str
) -> None:
    """Admin-only: set a member's roles; the last active admin cannot demote themselves."""
    access.require(store, workspace, user, "admin")
    if users.membership(store, workspace, username) is None:
        raise NotFound(f"'{username}' is not a member of '{workspace}'", "invite them first")
    if role != "admin" and _other_active_admins(store, workspace, username) == 0:
        raise UserError(
            f"'{username}' is the last active admin of '{workspace}'", "make someone else an admin first"
        )
    users.set_membership(store, workspace, username, role, incident_role, actor=user)


def set_member_active(store: Store, workspace: str, user: str, username: str, active: bool) -> None:
    """Admin-only: deactivate (or reactivate) a user; nobody can deactivate the last active admin."""
    access.require(store, workspace, user, "admin")
    member = users.membership(store, workspace, username)
    if member is None:
        raise NotFound(f"'{username}' is not a member of '{workspace}'", "invite them first")
    if not active and member.role == "admin" and _other_active_admins(store, workspace, username) == 0:
        raise UserError(
            f"'{username}' is the last active admin of '{workspace}'", "make someone else an admin first"
        )
    users.set_active(store, workspace, username, active, actor=user)


def unlock(store: Store, settings: Settings, workspace: str, user: str, username: str) -> None:
    """Admin-only: reset a locked-out user's failed sign-in attempts (audited)."""
    access.require(store, workspace, user, "admin")
    if settings.credentials_path is None:
        raise UserError("sign-in is off (local single-user mode)", "set DATATRUTH_CREDENTIALS to use logins")
    unlock_user(settings.credentials_path, username)
    audit.record(store, workspace, user, "admin.unlock", username)


# -- audit log -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """What the audit viewer narrows down to (all optional)."""

    username: str = ""
    action: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    limit: int = 2000


def audit_log(store: Store, workspace: str, user: str, flt: AuditFilter = AuditFilter()) -> list[AuditEntry]:
    """Admin-only: audit entries of the workspace, newest first, filtered by user, action prefix and dates."""
    access.require(store, workspace, user, "admin")
    since = dt.datetime.combine(flt.since, dt.time.min) if flt.since else None
    found = audit.entries(
        store,
        workspace,
        username=flt.username or None,
        action=flt.action or None,
        since=since,
        limit=flt.limit,
    )
    if flt.until is not None:
        # `until` is inclusive of the whole day.
        end = dt.datetime.combine(flt.until + dt.timedelta(days=1), dt.time.min)
        found = [e for e in found if e.at < end]
    return found


def audit_rows(found: list[AuditEntry]) -> list[dict[str, Any]]:
    """Entries as flat rows for a table or CSV (detail as compact JSON)."""
    import json

    return [
        {
            "at": e.at,
            "user": e.username,
            "action": e.action,
            "target": e.target,
            "detail": json.dumps(e.detail, default=str, sort_keys=True) if e.detail else "",
        }
        for e in found
    ]


# -- result cache ----------------------------------------------------------------------------------------


def cache_stats(store: Store, ws: Workspace, user: str) -> CacheStats:
    """Admin-only: entries, size, model versions and hit rate of the workspace's result cache."""
    access.require(store, ws.name, user, "admin")
    return workspace_cache(ws).stats()


def clear_cache(store: Store, ws: Workspace, user: str) -> int:
    """Admin-only: delete every cached result of the workspace; return how many entries went (audited)."""
    access.require(store, ws.name, user, "admin")
    removed = workspace_cache(ws).clear()
    audit.record(store, ws.name, user, "admin.cache_clear", ws.name, {"entries": removed})
    return removed
