"""Every process-wide setting, declared once with its environment variable, default and help."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from datatruth.errors import ConfigError, InternalError, UserError

REPO_ROOT = Path(__file__).resolve().parent.parent
# A workspace name is an identifier, never a path: it names folders under the data and workspaces dirs.
WORKSPACE_NAME_RE = re.compile(r"[a-z][a-z0-9_-]{0,39}")


@dataclass(frozen=True)
class Setting:
    """Declaration of one setting."""

    env: str
    default: str
    help: str


SETTINGS: dict[str, Setting] = {
    "data_dir": Setting(
        "DATATRUTH_DATA_DIR",
        ".datatruth",
        "Runtime state (warehouse files, caches, indexes), one subfolder per workspace.",
    ),
    "workspaces_dir": Setting(
        "DATATRUTH_WORKSPACES_DIR", "workspaces", "Folder holding workspaces/<name>/workspace.yaml."
    ),
    "store_url": Setting(
        "DATATRUTH_STORE_URL",
        "",
        "SQLAlchemy URL of the metadata store; empty means SQLite at <data_dir>/metadata.sqlite.",
    ),
    "default_workspace": Setting(
        "DATATRUTH_DEFAULT_WORKSPACE", "retail", "Workspace opened when none is named."
    ),
    "credentials_path": Setting(
        "DATATRUTH_CREDENTIALS",
        "",
        "Path of the login credentials YAML (outside the repo); empty means local single-user mode.",
    ),
    "cookie_key": Setting(
        "DATATRUTH_COOKIE_KEY", "", "Secret key for login cookies; required in hosted mode."
    ),
    "hosted": Setting(
        "DATATRUTH_HOSTED",
        "false",
        "true for a shared team deployment: logins and a strong cookie key are required.",
    ),
    "chroma_url": Setting(
        "DATATRUTH_CHROMA_URL", "", "URL of a chroma server; empty means an embedded index per workspace."
    ),
    "log_level": Setting("DATATRUTH_LOG_LEVEL", "INFO", "Log level for structured logs."),
    "upload_max_mb": Setting(
        "DATATRUTH_UPLOAD_MAX_MB", "200", "Largest file accepted by workspace load and the upload widget."
    ),
    "local_user": Setting("DATATRUTH_LOCAL_USER", "local", "User name in local single-user mode."),
    "base_url": Setting(
        "DATATRUTH_BASE_URL",
        "http://localhost:8501",
        "Address people open the app at (with any path prefix); share links start with it.",
    ),
    "workspace_env": Setting(
        "DATATRUTH_WORKSPACE_ENV",
        "",
        "Environment variables a workspace may read (${VAR}, llm.api_key_env): comma-separated "
        "name patterns, {WS} is the workspace name in upper case, 'ws:PATTERN' limits an entry "
        "to one workspace; empty means any in local single-user mode and DATATRUTH_WS_{WS}_* "
        "with logins.",
    ),
    "llm_base_urls": Setting(
        "DATATRUTH_LLM_BASE_URLS",
        "",
        "Comma-separated LLM base URLs (prefixes) workspaces may use; in hosted mode a "
        "workspace's llm.base_url must be one of them (empty: only the providers' defaults).",
    ),
    "max_row_cap": Setting(
        "DATATRUTH_MAX_ROW_CAP",
        "100000",
        "Ceiling on any workspace's limits.row_cap (rows one query may return).",
    ),
    "max_timeout_s": Setting(
        "DATATRUTH_MAX_TIMEOUT_S",
        "300",
        "Ceiling on any workspace's limits.timeout_s (seconds one query may run).",
    ),
    "max_memory_mb": Setting(
        "DATATRUTH_MAX_MEMORY_MB",
        "4096",
        "Ceiling on any workspace's limits.memory_mb (DuckDB memory per process).",
    ),
    "warehouse_root": Setting(
        "DATATRUTH_WAREHOUSE_ROOT",
        "",
        "Folder that warehouse files (DuckDB, SQLite) named by a workspace admin must be in; "
        "empty means anywhere in local single-user mode and none with logins.",
    ),
}


@dataclass(frozen=True)
class Settings:
    """Resolved settings for this process."""

    data_dir: Path
    workspaces_dir: Path
    store_url: str
    default_workspace: str
    credentials_path: Path | None
    cookie_key: str
    hosted: bool
    chroma_url: str
    log_level: str
    upload_max_mb: int
    local_user: str
    base_url: str
    workspace_env: str
    llm_base_urls: str
    max_row_cap: int
    max_timeout_s: float
    max_memory_mb: int
    warehouse_root: Path | None

    @property
    def team_mode(self) -> bool:
        """True when people sign in (a credentials file, or hosted mode): the operator is not the user."""
        return self.hosted or self.credentials_path is not None

    def workspace_data_dir(self, workspace: str) -> Path:
        """Folder for one workspace's runtime state (created on demand)."""
        if not WORKSPACE_NAME_RE.fullmatch(workspace):
            raise UserError(
                f"{workspace[:60]!r} is not a valid workspace name",
                "use lower-case letters, digits, '-' or '_' (max 40), starting with a letter",
            )
        path = self.data_dir / workspace
        path.mkdir(parents=True, exist_ok=True)
        return path

    def resolved_store_url(self) -> str:
        """The metadata store URL, defaulting to a SQLite file in the data dir."""
        if self.store_url:
            return self.store_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'metadata.sqlite').resolve()}"


def _path(value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (REPO_ROOT / p)


def _base_url(value: str) -> str:
    from urllib.parse import urlsplit

    text = value.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            f"{SETTINGS['base_url'].env} must be an http(s) address such as https://datatruth.example.com",
            f"got {value!r}; include any path prefix the app is served under, nothing after it",
        )
    return text


def _number(raw: dict[str, str], name: str, kind: type[int] | type[float]) -> Any:
    try:
        value = kind(raw[name])
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(
            f"{SETTINGS[name].env} must be a positive {'whole ' if kind is int else ''}number",
            f"got {raw[name]!r}; the default is {SETTINGS[name].default}",
        )
    return value


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from the environment (or `env`), applying declared defaults."""
    source = os.environ if env is None else env
    raw = {name: source.get(s.env, s.default) for name, s in SETTINGS.items()}
    try:
        upload = int(raw["upload_max_mb"])
    except ValueError:
        raise ConfigError(
            f"{SETTINGS['upload_max_mb'].env} must be a whole number of megabytes",
            f"got {raw['upload_max_mb']!r}",
        ) from None
    settings = Settings(
        data_dir=_path(raw["data_dir"]),
        workspaces_dir=_path(raw["workspaces_dir"]),
        store_url=raw["store_url"],
        default_workspace=raw["default_workspace"],
        credentials_path=_path(raw["credentials_path"]) if raw["credentials_path"] else None,
        cookie_key=raw["cookie_key"],
        hosted=raw["hosted"].strip().lower() in ("1", "true", "yes"),
        chroma_url=raw["chroma_url"],
        log_level=raw["log_level"].upper(),
        upload_max_mb=upload,
        local_user=raw["local_user"],
        base_url=_base_url(raw["base_url"]),
        workspace_env=raw["workspace_env"],
        llm_base_urls=raw["llm_base_urls"],
        max_row_cap=_number(raw, "max_row_cap", int),
        max_timeout_s=_number(raw, "max_timeout_s", float),
        max_memory_mb=_number(raw, "max_memory_mb", int),
        warehouse_root=_path(raw["warehouse_root"]) if raw["warehouse_root"] else None,
    )
    if {f.name for f in fields(Settings)} != set(SETTINGS):
        raise InternalError("declare each setting once: Settings and SETTINGS name different settings")
    return settings


def settings_help() -> str:
    """A table of every setting, its environment variable, default and meaning."""
    rows = [f"{s.env:<28} default={s.default!r:<14} {s.help}" for s in SETTINGS.values()]
    return "\n".join(rows)
