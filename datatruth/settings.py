"""Every process-wide setting, declared once (type, default, help) on `Settings`; pydantic-settings reads
each one from its environment variable, DATATRUTH_ plus the setting's name in upper case."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from datatruth.errors import ConfigError, UserError

REPO_ROOT = Path(__file__).resolve().parent.parent
# A workspace name is an identifier, never a path: it names folders under the data and workspaces dirs.
WORKSPACE_NAME_RE = re.compile(r"[a-z][a-z0-9_-]{0,39}")
ENV_PREFIX = "DATATRUTH_"


def env_name(setting: str) -> str:
    """The environment variable of one setting (e.g. max_row_cap → DATATRUTH_MAX_ROW_CAP)."""
    alias = Settings.model_fields[setting].validation_alias
    return alias if isinstance(alias, str) else f"{ENV_PREFIX}{setting.upper()}"


def _refuse(info: ValidationInfo, what: str, value: Any, hint: str = "") -> PydanticCustomError:
    field = Settings.model_fields[str(info.field_name)]
    message = f"{env_name(str(info.field_name))} must be {what}"
    hint = hint or f"got {value!r}; the default is {field.default!r}"
    return PydanticCustomError("setting", "{message}", {"message": message, "hint": hint})


def _path(value: Any) -> Path:
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else (REPO_ROOT / p)


def _optional_path(value: Any) -> Path | None:
    return _path(value) if value else None


def _flag(value: Any) -> bool:
    # Anything but an explicit yes is off: a hosted deployment is switched on on purpose.
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes")


def _upper(value: Any) -> str:
    return str(value).upper()


def _whole(value: Any, info: ValidationInfo) -> int:
    try:
        return int(value)
    except ValueError:
        raise _refuse(info, "a whole number of megabytes", value, f"got {value!r}") from None


def _positive(cast: Callable[[Any], float], what: str) -> Callable[[Any, ValidationInfo], Any]:
    """A validator of a number above zero, read with `cast` (int or float); `what` names it in the refusal."""

    def check(value: Any, info: ValidationInfo) -> Any:
        try:
            number = cast(value)
        except ValueError:
            number = 0
        if number <= 0:
            raise _refuse(info, what, value)
        return number

    return check


def _base_url(value: Any, info: ValidationInfo) -> str:
    from urllib.parse import urlsplit

    text = str(value).strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise _refuse(
            info,
            "an http(s) address such as https://datatruth.example.com",
            value,
            f"got {value!r}; include any path prefix the app is served under, nothing after it",
        )
    return text


DirPath = Annotated[Path, BeforeValidator(_path)]
OptionalPath = Annotated[Path | None, BeforeValidator(_optional_path)]
Flag = Annotated[bool, BeforeValidator(_flag)]
PositiveInt = Annotated[int, BeforeValidator(_positive(int, "a positive whole number"))]
PositiveFloat = Annotated[float, BeforeValidator(_positive(float, "a positive number"))]


class Settings(BaseSettings):
    """Resolved settings for this process: each field is one setting, with its default and help."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, case_sensitive=False, extra="ignore", frozen=True, validate_default=True
    )

    data_dir: DirPath = Field(
        Path(".datatruth"),  # relative paths are under the repo (see _path)
        description="Runtime state (warehouse files, caches, indexes), one subfolder per workspace.",
    )
    workspaces_dir: DirPath = Field(
        Path("workspaces"),
        description="Folder holding workspaces/<name>/workspace.yaml.",
    )
    store_url: str = Field(
        "",
        description="SQLAlchemy URL of the metadata store; empty means SQLite at <data_dir>/metadata.sqlite.",
    )
    default_workspace: str = Field("retail", description="Workspace opened when none is named.")
    credentials_path: OptionalPath = Field(
        None,
        validation_alias="DATATRUTH_CREDENTIALS",
        description="Path of the login credentials YAML (outside the repo); empty means local single-user mode.",
    )
    cookie_key: str = Field("", description="Secret key for login cookies; required in hosted mode.")
    hosted: Flag = Field(
        False, description="true for a shared team deployment: logins and a strong cookie key are required."
    )
    chroma_url: str = Field(
        "", description="URL of a chroma server; empty means an embedded index per workspace."
    )
    log_level: Annotated[str, BeforeValidator(_upper)] = Field(
        "INFO", description="Log level for structured logs."
    )
    upload_max_mb: Annotated[int, BeforeValidator(_whole)] = Field(
        200, description="Largest file accepted by workspace load and the upload widget."
    )
    local_user: str = Field("local", description="User name in local single-user mode.")
    base_url: Annotated[str, BeforeValidator(_base_url)] = Field(
        "http://localhost:8501",
        description="Address people open the app at (with any path prefix); share links start with it.",
    )
    workspace_env: str = Field(
        "",
        description="Environment variables a workspace may read (${VAR}, llm.api_key_env): comma-separated "
        "name patterns, {WS} is the workspace name in upper case, 'ws:PATTERN' limits an entry "
        "to one workspace; empty means any in local single-user mode and DATATRUTH_WS_{WS}_* "
        "with logins.",
    )
    llm_base_urls: str = Field(
        "",
        description="Comma-separated LLM base URLs (prefixes) workspaces may use; in hosted mode a "
        "workspace's llm.base_url must be one of them (empty: only the providers' defaults).",
    )
    max_row_cap: PositiveInt = Field(
        100_000, description="Ceiling on any workspace's limits.row_cap (rows one query may return)."
    )
    max_timeout_s: PositiveFloat = Field(
        300.0, description="Ceiling on any workspace's limits.timeout_s (seconds one query may run)."
    )
    max_memory_mb: PositiveInt = Field(
        4096, description="Ceiling on any workspace's limits.memory_mb (DuckDB memory per process)."
    )
    warehouse_root: OptionalPath = Field(
        None,
        description="Folder that warehouse files (DuckDB, SQLite) named by a workspace admin must be in; "
        "empty means anywhere in local single-user mode and none with logins.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what load_settings passes: it reads the environment (or a given one), never a .env file."""
        return (init_settings,)

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


class _Environment(EnvSettingsSource):
    """pydantic-settings' reading of environment variables, over a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], variables: Mapping[str, str]) -> None:
        self._variables = variables
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._variables, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from the environment (or `env`), applying declared defaults."""
    values = _Environment(Settings, os.environ if env is None else env)()
    try:
        return Settings(**values)
    except ValidationError as err:
        problems = [e.get("ctx") or {"message": f"{e['loc']}: {e['msg']}", "hint": ""} for e in err.errors()]
        if len(problems) == 1:
            raise ConfigError(problems[0]["message"], problems[0]["hint"]) from None
        raise ConfigError("; ".join(f"{p['message']} ({p['hint']})" for p in problems)) from None


def _shown(default: Any) -> str:
    """A default as it is written in the environment."""
    if isinstance(default, bool):
        return str(default).lower()
    return "" if default is None else str(default)


def settings_help() -> str:
    """A table of every setting, its environment variable, default and meaning."""
    rows = [
        f"{env_name(name):<28} default={_shown(field.default)!r:<14} {field.description}"
        for name, field in Settings.model_fields.items()
    ]
    return "\n".join(rows)
