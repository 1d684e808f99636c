"""Parse and validate workspace.yaml into a frozen WorkspaceConfig, collecting every issue with its line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, cast, get_args

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from datatruth.errors import ConfigError, InternalError
from datatruth.settings import WORKSPACE_NAME_RE, Settings, env_name, load_settings
from datatruth.workspace.boundary import (
    VAR_RE,
    EnvPolicy,
    env_policy,
    env_refusal,
    expand,
    llm_endpoint_refusal,
)
from datatruth.yamlschema import Section, field_name, problem, validate
from datatruth.yamlsource import Issue, KeyPath, YamlDoc, load_yaml

Role = Literal["admin", "analyst", "viewer"]
IncidentRole = Literal["owner", "maintainer", "reviewer", "viewer"]
LLMProvider = Literal["none", "openai", "azure", "ollama"]
ROLES: tuple[str, ...] = get_args(Role)
INCIDENT_ROLES: tuple[str, ...] = get_args(IncidentRole)
LLM_PROVIDERS: tuple[str, ...] = get_args(LLMProvider)
NAME_RE = WORKSPACE_NAME_RE
_VAR_RE = VAR_RE
_SECRET_KEY_RE = re.compile(r"(password|passwd|secret|token|api_key|apikey)$", re.I)
_SECRET_QUERY_RE = re.compile(
    r"(password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|credential)", re.I
)
_URL_PASSWORD_RE = re.compile(r"^[a-z0-9+]+://[^:/@\s]+:([^@\s]+)@", re.I)


@dataclass(frozen=True)
class LLMConfig:
    """Which LLM (if any) the planner may ask, and how."""

    provider: str = "none"
    model: str = ""
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    api_version: str | None = None
    timeout_s: float = 20.0
    max_retries: int = 2
    allow_raw_sql: bool = False

    @property
    def enabled(self) -> bool:
        """True when a provider other than `none` is configured."""
        return self.provider != "none"


@dataclass(frozen=True)
class Limits:
    """Per-workspace guard rails."""

    row_cap: int = 10_000
    timeout_s: float = 30.0
    questions_per_user_per_hour: int = 600
    cache_ttl_s: int = 3600
    upper_tier_users: tuple[str, ...] = ()
    upper_tier_questions_per_hour: int = 1000
    memory_mb: int = 1024  # DuckDB warehouses: memory per process (spilling to disk is capped at 4x this)
    threads: int = 2  # DuckDB warehouses: worker threads per process


@dataclass(frozen=True)
class Member:
    """One user's roles in a workspace."""

    user: str
    role: str = "viewer"
    incident_role: str = "viewer"


@dataclass(frozen=True)
class WorkspaceConfig:
    """A validated workspace.yaml."""

    name: str
    path: Path
    title: str
    description: str
    warehouse_url: str
    demo: str | None
    semantic_models: tuple[Path, ...]
    checks_file: Path | None
    llm: LLMConfig
    limits: Limits
    clock: dt.date | None  # None means "today"
    members: tuple[Member, ...]
    webhook_url: str | None = None
    allow_raw_samples: bool = False
    sensitive_columns: tuple[str, ...] = ()
    exposed_tables: tuple[str, ...] = ()  # empty: every table of the warehouse
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        """The folder holding workspace.yaml."""
        return self.path.parent

    def today(self) -> dt.date:
        """The date 'today' means for this workspace (pinned clock or the real date)."""
        return self.clock or dt.date.today()

    def role_of(self, user: str) -> str | None:
        """The workspace role of `user`, or None when not a member."""
        for member in self.members:
            if member.user == user:
                return member.role
        return None


def llm_refusals(settings: Settings, workspace: str, llm: LLMConfig) -> dict[str, tuple[str, str]]:
    """What the operator's boundary refuses in these LLM settings: the key variable and the endpoint."""
    out: dict[str, tuple[str, str]] = {}
    if not llm.enabled:
        return out
    if llm.api_key_env:
        refused = env_refusal(env_policy(settings), workspace, llm.api_key_env)
        if refused is not None:
            out["api_key_env"] = refused
    endpoint = llm_endpoint_refusal(settings, llm.provider, llm.base_url)
    if endpoint is not None:
        out["base_url"] = endpoint
    return out


# -- the declared shape of workspace.yaml ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Reading:
    """What validating one workspace.yaml needs besides the file: its folder, the environment and the operator."""

    folder: Path
    workspace: str
    env: Mapping[str, str]
    policy: EnvPolicy
    settings: Settings


def _reading(info: ValidationInfo) -> _Reading:
    if not isinstance(info.context, _Reading):
        raise InternalError(
            "workspace.yaml was validated without its reading context (a bug: please report it)"
        )
    return info.context


def _expanded(value: str, info: ValidationInfo) -> str:
    """Replace ${VAR} and ${VAR:-default} from the environment; an unset or disallowed variable is a problem."""
    reading = _reading(info)
    resolved, problems = expand(value, reading.workspace, reading.policy, reading.env)
    if problems:
        hints = dict.fromkeys(hint for _, hint in problems)
        raise problem("; ".join(message for message, _ in problems), "; ".join(hints))
    return resolved


def _beside(folder: Path, name: str) -> Path:
    """A path written in workspace.yaml: relative to the file's folder."""
    return (folder / name).resolve()


def _model_file(value: str, info: ValidationInfo) -> str:
    folder = _reading(info).folder
    if not _beside(folder, value).exists():
        raise problem(
            f"semantic model path '{value}' does not exist",
            f"paths are relative to {folder}; create the file or fix the path",
        )
    return value


def _checks_file(value: str, info: ValidationInfo) -> str:
    if not _beside(_reading(info).folder, value).exists():
        raise problem(f"checks file '{value}' does not exist", "create it or remove the 'checks' key")
    return value


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def between(low: float, high: float) -> AfterValidator:
    """A number setting must be finite and inside [low, high].

    Outside its range a setting is refused with its line rather than quietly breaking queries (an infinite
    timeout disarms the watchdog, NaN fails every comparison, a huge row cap overflows LIMIT).
    """

    def check(value: float, info: ValidationInfo) -> float:
        if not math.isfinite(value) or not low <= value <= high:
            raise problem(
                f"'{field_name(info)}' is {value!r}; it must be between {_number(low)} and {_number(high)}",
                "use a finite number in that range",
            )
        return value

    return AfterValidator(check)


def _user_name(value: Any) -> str:
    # An empty or null user would be stored as the text 'None'.
    if not isinstance(value, str) or not value.strip():
        raise problem(
            f"member user must be a name, got {value!r}",
            "write e.g. user: ana (an empty or null user would be stored as the text 'None')",
        )
    return value


CLOCK_RANGE = (dt.date(1900, 1, 1), dt.date(2999, 12, 31))


def _clock(value: Any) -> dt.date | None:
    """'today' (None) or a pinned day; a time of day is dropped, since "today" must stay a date."""
    if isinstance(value, dt.datetime):
        value = value.date()
    elif isinstance(value, str) and value != "today":
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise problem(
                f"clock '{value}' is not a date", "write 'today' or a date like 2024-12-31"
            ) from None
    if value in (None, "today"):
        return None
    if not isinstance(value, dt.date):
        raise problem("clock must be 'today' or a date like 2024-12-31")
    if not CLOCK_RANGE[0] <= value <= CLOCK_RANGE[1]:
        raise problem(
            f"clock {value.isoformat()} is outside {CLOCK_RANGE[0].year}-{CLOCK_RANGE[1].year}",
            "pin a date between those years (date arithmetic for 'last year' needs room on both sides)",
        )
    return value


Expanded = Annotated[str, AfterValidator(_expanded)]
_VARIABLE_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _WarehouseSection(Section):
    noun = "the warehouse section"

    url: Expanded = ""


class _LLMSection(Section):
    noun = "the llm section"

    provider: LLMProvider = cast(LLMProvider, LLMConfig.provider)
    model: str = LLMConfig.model
    # Checked even when left out: the default key variable and endpoint are inside the boundary or not.
    base_url: Expanded | None = Field(LLMConfig.base_url, validate_default=True)
    api_key_env: str = Field(LLMConfig.api_key_env, validate_default=True)
    api_version: str | None = LLMConfig.api_version
    timeout_s: Annotated[float, between(0.1, 600)] = LLMConfig.timeout_s
    max_retries: Annotated[int, between(0, 10)] = LLMConfig.max_retries
    allow_raw_sql: bool = LLMConfig.allow_raw_sql

    @field_validator("api_key_env")
    @classmethod
    def _key_variable(cls, value: str, info: ValidationInfo) -> str:
        if value and not _VARIABLE_NAME_RE.fullmatch(value):
            raise problem(
                "api_key_env must be the NAME of an environment variable, not the key itself",
                "write e.g. api_key_env: OPENAI_API_KEY and export the key there",
            )
        return cls._inside_boundary(value, info, "api_key_env", LLMConfig(api_key_env=value))

    @field_validator("base_url")
    @classmethod
    def _endpoint(cls, value: str | None, info: ValidationInfo) -> str | None:
        return cls._inside_boundary(value, info, "base_url", LLMConfig(base_url=value))

    @staticmethod
    def _inside_boundary(value: Any, info: ValidationInfo, key: str, config: LLMConfig) -> Any:
        """Refuse what the operator's boundary does not allow (see llm_refusals)."""
        if "provider" in info.data:  # an unknown provider is reported as such
            reading = _reading(info)
            config = dataclasses.replace(config, provider=info.data["provider"])
            refused = llm_refusals(reading.settings, reading.workspace, config).get(key)
            if refused is not None:
                raise problem(*refused)
        return value

    @model_validator(mode="after")
    def _model_named(self) -> _LLMSection:
        if self.provider != "none" and not self.model:
            raise problem(f"LLM provider '{self.provider}' needs a model", "add 'model: <name>' under llm")
        return self


class _LimitsSection(Section):
    noun = "the limits section"

    row_cap: Annotated[int, between(1, 1_000_000)] = Limits.row_cap
    timeout_s: Annotated[float, between(0.1, 3600)] = Limits.timeout_s
    questions_per_user_per_hour: Annotated[int, between(1, 1_000_000)] = Limits.questions_per_user_per_hour
    cache_ttl_s: Annotated[int, between(0, 30 * 86400)] = Limits.cache_ttl_s
    upper_tier_users: list[str] = []
    upper_tier_questions_per_hour: Annotated[int, between(1, 1_000_000)] = (
        Limits.upper_tier_questions_per_hour
    )
    memory_mb: Annotated[int, between(1, 1_000_000)] = Limits.memory_mb
    threads: Annotated[int, between(1, 1024)] = Limits.threads

    @field_validator("row_cap", "timeout_s", "memory_mb", "threads")
    @classmethod
    def _under_ceiling(cls, value: float, info: ValidationInfo) -> float:
        """A workspace admin edits limits, but never past what the server allows (the operator's ceilings)."""
        settings = _reading(info).settings
        ceiling, source = {
            "row_cap": (settings.max_row_cap, env_name("max_row_cap")),
            "timeout_s": (settings.max_timeout_s, env_name("max_timeout_s")),
            "memory_mb": (settings.max_memory_mb, env_name("max_memory_mb")),
            "threads": (os.cpu_count() or 1, "the number of cores"),
        }[field_name(info)]
        if value > ceiling:
            raise problem(
                f"'{field_name(info)}' {value:g} is above this server's ceiling {ceiling:g}",
                f"use at most {ceiling:g} (set by {source})",
            )
        return value


class _MemberSection(Section):
    noun = "each member"
    example = "e.g. - {user: ana, role: analyst}"

    user: Annotated[str, BeforeValidator(_user_name)]
    role: Role = "viewer"
    incident_role: IncidentRole = "viewer"


class _WorkspaceFile(Section):
    noun = "workspace.yaml"

    title: str | None = None  # the folder name
    description: str = ""
    # Sections left out are validated as empty ones: their defaults are inside the operator's boundary or not.
    warehouse: _WarehouseSection = Field({}, validate_default=True)
    demo: Literal["retail", "flights"] | None = None
    semantic_models: list[Annotated[str, AfterValidator(_model_file)]] = []
    checks: Annotated[str, AfterValidator(_checks_file)] | None = None
    llm: _LLMSection = Field({}, validate_default=True)
    limits: _LimitsSection = Field({}, validate_default=True)
    clock: Annotated[dt.date | None, BeforeValidator(_clock)] = None
    members: list[_MemberSection] = []
    webhook_url: Expanded | None = None
    allow_raw_samples: bool = False
    sensitive_columns: list[str] = []
    exposed_tables: list[str] = []


# -- reading workspace.yaml ------------------------------------------------------------------------------------


def _literal_secrets(doc: YamlDoc, node: Any, keys: KeyPath = ()) -> list[Issue]:
    """Secrets written into the YAML, anywhere in it: they must come from ${VAR}."""
    found: list[Issue] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if (
                isinstance(value, str)
                and _SECRET_KEY_RE.search(str(key))
                and value
                and not _VAR_RE.fullmatch(value.strip())
            ):
                found.append(
                    doc.issue(
                        keys + (key,),
                        f"'{key}' holds a literal secret",
                        f"write {key}: ${{SOME_ENV_VAR}} and set that variable in the environment",
                    )
                )
            found += _literal_secrets(doc, value, keys + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _literal_secrets(doc, value, keys + (i,))
    elif isinstance(node, str):
        match = _URL_PASSWORD_RE.match(node)
        if match and not _VAR_RE.fullmatch(match.group(1)):
            found.append(
                doc.issue(
                    keys,
                    "a URL holds a literal password",
                    "put the password in an environment variable and write it as ${VAR} inside the URL",
                )
            )
        for key, value in _url_query(node):
            if _SECRET_QUERY_RE.search(key) and value and not _VAR_RE.fullmatch(value):
                found.append(
                    doc.issue(
                        keys,
                        f"a URL holds a literal secret in its query ('{key}=...')",
                        f"write {key}=${{SOME_ENV_VAR}} and set that variable in the environment",
                    )
                )
    return found


def _url_query(text: str) -> list[tuple[str, str]]:
    """The query parameters of a URL-looking string, unquoted (empty for anything else)."""
    from urllib.parse import parse_qsl, urlsplit

    if "://" not in text or "?" not in text:
        return []
    # ${VAR} stays intact: parse the query text itself, not a URL rebuilt from it.
    return parse_qsl(urlsplit(text).query, keep_blank_values=True)


def parse_workspace(
    path: Path,
    env: dict[str, str] | None = None,
    data_dir: Path | None = None,
    settings: Settings | None = None,
) -> WorkspaceConfig:
    """Read workspace.yaml; raise ConfigError listing every issue (with line) when it is invalid.

    The operator's boundary (which variables, which LLM endpoints) comes from `settings`, by default from `env`.
    """
    env = dict(os.environ) if env is None else env
    settings = settings or load_settings(env)
    doc = load_yaml(path)
    name = path.parent.name
    raw = {} if doc.data is None else doc.data
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path} must be a mapping of settings",
            "start with 'title: ...'",
            [doc.issue((), "top level is not a mapping")],
        )
    issues: list[Issue] = []
    if not NAME_RE.fullmatch(name):
        issues.append(
            doc.issue(
                (),
                f"workspace folder name '{name}' is not a valid workspace name",
                "use lower-case letters, digits, '-' or '_' (max 40), starting with a letter",
            )
        )
    issues += _literal_secrets(doc, raw)
    reading = _Reading(path.parent, name, env, env_policy(settings), settings)
    file, problems = validate(_WorkspaceFile, raw, doc, context=reading)
    issues += problems
    if issues or file is None:
        issues.sort(key=lambda issue: issue.line or 0)  # in file order, as the user reads it
        raise ConfigError(f"{path} has {len(issues)} problem(s)", "fix each line listed and reload", issues)
    return _config(file, path, data_dir)


def _config(file: _WorkspaceFile, path: Path, data_dir: Path | None) -> WorkspaceConfig:
    """The validated file as the frozen config the rest of the package reads."""
    name = path.parent.name
    ws_data = (data_dir or Path(".datatruth")) / name
    url = file.warehouse.url or f"duckdb:///{ws_data / 'warehouse.duckdb'}"
    limits = file.limits.model_dump()
    return WorkspaceConfig(
        name=name,
        path=path,
        title=name if file.title is None else file.title,
        description=file.description,
        warehouse_url=url.replace("{data_dir}", str(ws_data)),
        demo=file.demo,
        semantic_models=tuple(_beside(path.parent, item) for item in file.semantic_models),
        checks_file=_beside(path.parent, file.checks) if file.checks is not None else None,
        llm=LLMConfig(**file.llm.model_dump()),
        limits=Limits(**{**limits, "upper_tier_users": tuple(limits["upper_tier_users"])}),
        clock=file.clock,
        members=tuple(Member(m.user, m.role, m.incident_role) for m in file.members),
        webhook_url=file.webhook_url or None,
        allow_raw_samples=file.allow_raw_samples,
        sensitive_columns=tuple(file.sensitive_columns),
        exposed_tables=tuple(x.lower() for x in file.exposed_tables),
    )
