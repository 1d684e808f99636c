"""The admin boundary: which environment variables, LLM endpoints and warehouse URLs a workspace may use.

The operator decides (settings from the environment); a workspace admin only picks among what is allowed.
In local single-user mode the user is the operator, so the defaults stay open there; with sign-ins they close.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from datatruth.errors import UserError
from datatruth.settings import Settings

VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
APP_PREFIX = "DATATRUTH_"
WORKSPACE_PREFIX = "DATATRUTH_WS_"
TEAM_DEFAULT_ENV = "DATATRUTH_WS_{WS}__*"
FILE_BACKENDS = ("duckdb", "sqlite")
DEFAULT_PORTS = {"postgresql": 5432, "postgres": 5432, "mysql": 3306, "mariadb": 3306}
_LOOPBACK = {"localhost", "127.0.0.1", "::1", ""}


def env_token(workspace: str) -> str:
    """The workspace name as it appears in variable names: upper case, '-' as '_' (retail-eu → RETAIL_EU)."""
    return workspace.upper().replace("-", "_")


@dataclass(frozen=True)
class EnvPolicy:
    """Name patterns of the environment variables workspaces may read, as the operator set them."""

    entries: tuple[tuple[str | None, str], ...]  # (only this workspace, or None for all; fnmatch pattern)

    def allows(self, workspace: str, name: str) -> bool:
        """True when `workspace` may read the variable `name`."""
        if name.startswith(WORKSPACE_PREFIX):
            # DATATRUTH_WS_<TOKEN>__<REST> belongs to one workspace; no other may read it, whatever the patterns.
            own = f"{WORKSPACE_PREFIX}{env_token(workspace)}__"
            if not name.startswith(own) or "__" in name[len(own) :]:
                return False
        elif name.startswith(APP_PREFIX):
            return False  # the app's own settings and secrets (cookie key, store URL, ...) are never a workspace's
        token = env_token(workspace)
        return any(
            fnmatch.fnmatchcase(name, pattern.replace("{WS}", token))
            for only, pattern in self.entries
            if only in (None, workspace)
        )

    def describe(self, workspace: str) -> str:
        """The patterns that apply to `workspace`, for messages."""
        token = env_token(workspace)
        found = [p.replace("{WS}", token) for only, p in self.entries if only in (None, workspace)]
        return ", ".join(found) or "none"


def env_policy(settings: Settings) -> EnvPolicy:
    """The operator's variable policy (DATATRUTH_WORKSPACE_ENV), defaulting by mode."""
    raw = settings.workspace_env.strip() or (TEAM_DEFAULT_ENV if settings.team_mode else "*")
    entries: list[tuple[str | None, str]] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        only, sep, pattern = item.partition(":")
        entries.append((only.strip(), pattern.strip()) if sep else (None, item))
    return EnvPolicy(tuple(entries))


def env_refusal(policy: EnvPolicy, workspace: str, name: str) -> tuple[str, str] | None:
    """(message, hint) when `workspace` may not read `name`, else None."""
    if policy.allows(workspace, name):
        return None
    own = f"{WORKSPACE_PREFIX}{env_token(workspace)}__{name.removeprefix(WORKSPACE_PREFIX)}"
    return (
        f"workspace '{workspace}' may not read the environment variable {name}",
        f"the operator allows {policy.describe(workspace)} (DATATRUTH_WORKSPACE_ENV); "
        f"ask them to export the secret as e.g. {own}",
    )


def expand(
    text: str, workspace: str, policy: EnvPolicy, env: Mapping[str, str] | None = None
) -> tuple[str, list[tuple[str, str]]]:
    """Resolve ${VAR} and ${VAR:-default} in `text`; return the result and (message, hint) for each problem."""
    source = os.environ if env is None else env
    problems: list[tuple[str, str]] = []

    def repl(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        refused = env_refusal(policy, workspace, name)
        if refused is not None:
            problems.append(refused)
            return ""
        if name in source:
            return source[name]
        if default is not None:
            return default
        problems.append(
            (
                f"environment variable {name} is not set",
                f"export {name}=... before starting, or write ${{{name}:-default}}",
            )
        )
        return ""

    return VAR_RE.sub(repl, text), problems


# -- LLM endpoints ---------------------------------------------------------------------------------------------


def _normal_url(url: str) -> tuple[str, str, str]:
    import httpx

    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError):
        return ("", "", "")
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme, 0)
    return (parsed.scheme.lower(), f"{parsed.host.lower()}:{port}", parsed.path.rstrip("/") + "/")


def allowed_llm_urls(settings: Settings) -> tuple[str, ...]:
    """The operator's LLM base URL allow-list (DATATRUTH_LLM_BASE_URLS)."""
    return tuple(u.strip() for u in settings.llm_base_urls.split(",") if u.strip())


def llm_endpoint_refusal(settings: Settings, provider: str, base_url: str | None) -> tuple[str, str] | None:
    """(message, hint) when the LLM endpoint is not on the operator's list (hosted mode, or when a list is set)."""
    listed = allowed_llm_urls(settings)
    if provider == "none" or (not settings.hosted and not listed):
        return None
    if not base_url and provider == "openai":
        return None  # the provider's own endpoint
    from datatruth.llm.client import OLLAMA_URL  # late: the client module imports the workspace config

    url = base_url or (OLLAMA_URL if provider == "ollama" else "")
    scheme, host, path = _normal_url(url)
    for allowed in listed:
        a_scheme, a_host, a_path = _normal_url(allowed)
        if scheme and (scheme, host) == (a_scheme, a_host) and path.startswith(a_path):
            return None
    return (
        f"the LLM base URL {url or '(none)'} is not one the operator allows",
        f"use one of: {', '.join(listed)}"
        if listed
        else "the operator lists allowed LLM endpoints in DATATRUTH_LLM_BASE_URLS; leave the base URL empty "
        "to use the provider's own endpoint",
    )


# -- warehouse URLs ----------------------------------------------------------------------------------------------


def _file_path(url: URL) -> str | None:
    database = url.database or ""
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        database = database[len("file:") :].split("?", 1)[0]
    return database


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _same_server(a: URL, b: URL) -> bool:
    family = {"postgresql": "pg", "postgres": "pg", "mysql": "my", "mariadb": "my"}
    fa, fb = family.get(a.get_backend_name()), family.get(b.get_backend_name())
    if fa is None or fa != fb:
        return False
    host_a, host_b = (str(u.host or u.query.get("host") or "").lower() for u in (a, b))
    same_host = host_a == host_b or (host_a in _LOOPBACK and host_b in _LOOPBACK)
    port_a = a.port or DEFAULT_PORTS.get(a.get_backend_name())
    port_b = b.port or DEFAULT_PORTS.get(b.get_backend_name())
    return same_host and port_a == port_b and (a.database or "") == (b.database or "")


def check_warehouse_url(settings: Settings, url: str, workspace: str) -> None:
    """Refuse a warehouse URL a workspace admin typed when it reaches outside the workspace (UserError)."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError:
        return  # not a URL at all: opening it reports that
    backend = parsed.get_backend_name()
    store = make_url(settings.resolved_store_url())
    hint_operator = "an operator can still configure it in workspaces/<name>/workspace.yaml"
    if backend not in FILE_BACKENDS:
        if _same_server(parsed, store):
            raise UserError(
                "this URL points at DataTruth's metadata store, not at a warehouse", hint_operator
            )
        return
    raw = _file_path(parsed)
    if raw is None:
        return  # in-memory: nothing outside the process
    if parsed.query:
        raise UserError(
            f"options after '?' are not accepted in a {backend} file URL entered here",
            f"write {backend}:///path/to/file without a query string",
        )
    target = Path(raw).expanduser().resolve()
    store_file = _file_path(store) if store.get_backend_name() == "sqlite" else None
    if store_file and target == Path(store_file).expanduser().resolve():
        raise UserError("this URL points at DataTruth's metadata store, not at a warehouse", hint_operator)
    for root, kind in ((settings.data_dir, "runtime data"), (settings.workspaces_dir, "configuration")):
        root = root.resolve()
        if _inside(target, root) and not _inside(target, root / workspace):
            raise UserError(
                f"{target} is inside DataTruth's {kind} folder, which holds other workspaces' files",
                "a workspace may only read its own files there; " + hint_operator,
            )
    if settings.warehouse_root is not None:
        root = settings.warehouse_root.resolve()
        if not _inside(target, root):
            raise UserError(
                f"{target} is outside the folder the operator allows for warehouse files ({root})",
                "copy the file under DATATRUTH_WAREHOUSE_ROOT, or use a database server",
            )
    elif settings.team_mode and not _inside(target, (settings.data_dir / workspace).resolve()):
        raise UserError(
            "warehouse files are off for workspace admins on this server",
            "the operator sets DATATRUTH_WAREHOUSE_ROOT to the folder such files may come from; "
            "or use a database server, or `datatruth workspace load` to load files",
        )
