"""Parse and validate workspace.yaml into a frozen WorkspaceConfig, collecting every issue with its line."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datatruth.errors import ConfigError
from datatruth.settings import WORKSPACE_NAME_RE, Settings, load_settings
from datatruth.workspace.boundary import (
    VAR_RE,
    EnvPolicy,
    env_policy,
    env_refusal,
    expand,
    llm_endpoint_refusal,
)
from datatruth.yamlsource import Issue, KeyPath, YamlDoc, load_yaml

ROLES = ("admin", "analyst", "viewer")
INCIDENT_ROLES = ("owner", "maintainer", "reviewer", "viewer")
LLM_PROVIDERS = ("none", "openai", "azure", "ollama")
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


_TOP_KEYS = {
    "title",
    "description",
    "warehouse",
    "demo",
    "semantic_models",
    "checks",
    "llm",
    "limits",
    "clock",
    "members",
    "webhook_url",
    "allow_raw_samples",
    "sensitive_columns",
    "exposed_tables",
}
_LLM_KEYS = {
    "provider",
    "model",
    "base_url",
    "api_key_env",
    "api_version",
    "timeout_s",
    "max_retries",
    "allow_raw_sql",
}
_LIMIT_KEYS = {
    "row_cap",
    "timeout_s",
    "questions_per_user_per_hour",
    "cache_ttl_s",
    "upper_tier_users",
    "upper_tier_questions_per_hour",
    "memory_mb",
    "threads",
}
_MEMBER_KEYS = {"user", "role", "incident_role"}


class _Collector:
    """Gathers issues while reading one document, so validation reports all of them at once."""

    def __init__(self, doc: YamlDoc, env: dict[str, str], workspace: str, policy: EnvPolicy) -> None:
        self.doc = doc
        self.env = env
        self.workspace = workspace
        self.policy = policy
        self.issues: list[Issue] = []

    def add(self, keys: KeyPath, message: str, hint: str = "") -> None:
        self.issues.append(self.doc.issue(keys, message, hint))

    def unknown_keys(self, mapping: dict, allowed: set[str], keys: KeyPath) -> None:
        for key in mapping:
            if key not in allowed:
                close = _closest(str(key), allowed)
                hint = f"did you mean '{close}'?" if close else f"allowed keys: {', '.join(sorted(allowed))}"
                self.add(keys + (key,), f"unknown key '{key}'", hint)

    def interpolate(self, value: Any, keys: KeyPath) -> Any:
        """Replace ${VAR} and ${VAR:-default} from the environment; an unset or disallowed variable is an issue."""
        if not isinstance(value, str):
            return value
        resolved, problems = expand(value, self.workspace, self.policy, self.env)
        for message, hint in problems:
            self.add(keys, message, hint)
        return resolved

    def typed(
        self, mapping: dict, key: str, kind: type | tuple[type, ...], default: Any, keys: KeyPath
    ) -> Any:
        if key not in mapping or mapping[key] is None:
            return default
        value = mapping[key]
        if kind in (float, (int, float)) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value) if kind is float else value
        if isinstance(value, bool) and kind is not bool:
            self.add(keys + (key,), f"'{key}' must be {_kind_name(kind)}, not a boolean")
            return default
        if not isinstance(value, kind):
            self.add(
                keys + (key,), f"'{key}' must be {_kind_name(kind)}, got {type(value).__name__} {value!r}"
            )
            return default
        return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        int: "a whole number",
        float: "a number",
        str: "text",
        bool: "true or false",
        list: "a list",
        dict: "a mapping",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _closest(word: str, options: set[str]) -> str | None:
    from rapidfuzz import process

    best = process.extractOne(word, sorted(options), score_cutoff=70)
    return best[0] if best else None


def _check_literal_secrets(c: _Collector, node: Any, keys: KeyPath) -> None:
    """Refuse secrets written into the YAML: they must come from ${VAR}."""
    if isinstance(node, dict):
        for key, value in node.items():
            if (
                isinstance(value, str)
                and _SECRET_KEY_RE.search(str(key))
                and value
                and not _VAR_RE.fullmatch(value.strip())
            ):
                c.add(
                    keys + (key,),
                    f"'{key}' holds a literal secret",
                    f"write {key}: ${{SOME_ENV_VAR}} and set that variable in the environment",
                )
            _check_literal_secrets(c, value, keys + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check_literal_secrets(c, value, keys + (i,))
    elif isinstance(node, str):
        match = _URL_PASSWORD_RE.match(node)
        if match and not _VAR_RE.fullmatch(match.group(1)):
            c.add(
                keys,
                "a URL holds a literal password",
                "put the password in an environment variable and write it as ${VAR} inside the URL",
            )
        for key, value in _url_query(node):
            if _SECRET_QUERY_RE.search(key) and value and not _VAR_RE.fullmatch(value):
                c.add(
                    keys,
                    f"a URL holds a literal secret in its query ('{key}=...')",
                    f"write {key}=${{SOME_ENV_VAR}} and set that variable in the environment",
                )


def _url_query(text: str) -> list[tuple[str, str]]:
    """The query parameters of a URL-looking string, unquoted (empty for anything else)."""
    from urllib.parse import parse_qsl, urlsplit

    if "://" not in text or "?" not in text:
        return []
    # ${VAR} stays intact: parse the query text itself, not a URL rebuilt from it.
    return parse_qsl(urlsplit(text).query, keep_blank_values=True)


# Value ranges: outside them a setting is refused with its line rather than quietly breaking queries
# (an infinite timeout disarms the watchdog, NaN fails every comparison, a huge row cap overflows LIMIT).
RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("limits", "row_cap"): (1, 1_000_000),
    ("limits", "timeout_s"): (0.1, 3600),
    ("limits", "questions_per_user_per_hour"): (1, 1_000_000),
    ("limits", "upper_tier_questions_per_hour"): (1, 1_000_000),
    ("limits", "memory_mb"): (1, 1_000_000),
    ("limits", "threads"): (1, 1024),
    ("limits", "cache_ttl_s"): (0, 30 * 86400),
    ("llm", "timeout_s"): (0.1, 600),
    ("llm", "max_retries"): (0, 10),
}


CLOCK_RANGE = (dt.date(1900, 1, 1), dt.date(2999, 12, 31))


def _check_ranges(c: _Collector, llm: LLMConfig, limits: Limits) -> None:
    """Every number setting is finite and inside its range (see RANGES)."""
    import math

    for (section, key), (low, high) in RANGES.items():
        value = getattr(llm if section == "llm" else limits, key)
        if not math.isfinite(value) or not low <= value <= high:
            c.add(
                (section, key),
                f"'{key}' is {value!r}; it must be between {_number(low)} and {_number(high)}",
                "use a finite number in that range",
            )


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _is_user_name(value: Any) -> bool:
    """A member's user is non-empty text (YAML `null`, lists and mappings are not names)."""
    return isinstance(value, str) and bool(value.strip())


def parse_workspace(  # noqa: C901 - one section of workspace.yaml after another
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
    c = _Collector(doc, env, name, env_policy(settings))
    raw = doc.data
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path} must be a mapping of settings",
            "start with 'title: ...'",
            [doc.issue((), "top level is not a mapping")],
        )
    if not NAME_RE.fullmatch(name):
        c.add(
            (),
            f"workspace folder name '{name}' is not a valid workspace name",
            "use lower-case letters, digits, '-' or '_' (max 40), starting with a letter",
        )
    c.unknown_keys(raw, _TOP_KEYS, ())
    _check_literal_secrets(c, raw, ())

    title = c.typed(raw, "title", str, name, ())
    description = c.typed(raw, "description", str, "", ())
    demo = c.typed(raw, "demo", str, None, ())
    if demo is not None and demo not in ("retail", "flights"):
        c.add(("demo",), f"unknown demo '{demo}'", "use 'retail' or 'flights', or remove the key")

    warehouse = c.typed(raw, "warehouse", dict, {}, ())
    c.unknown_keys(warehouse, {"url"}, ("warehouse",))
    url = c.interpolate(c.typed(warehouse, "url", str, "", ("warehouse",)), ("warehouse", "url"))
    ws_data = (data_dir or Path(".datatruth")) / name
    if not url:
        url = f"duckdb:///{ws_data / 'warehouse.duckdb'}"
    url = url.replace("{data_dir}", str(ws_data))

    models: list[Path] = []
    for i, item in enumerate(c.typed(raw, "semantic_models", list, [], ())):
        if not isinstance(item, str):
            c.add(("semantic_models", i), "each semantic model entry must be a path")
            continue
        p = (path.parent / item).resolve()
        if not p.exists():
            c.add(
                ("semantic_models", i),
                f"semantic model path '{item}' does not exist",
                f"paths are relative to {path.parent}; create the file or fix the path",
            )
        models.append(p)

    checks_file = None
    checks = c.typed(raw, "checks", str, None, ())
    if checks is not None:
        checks_file = (path.parent / checks).resolve()
        if not checks_file.exists():
            c.add(
                ("checks",), f"checks file '{checks}' does not exist", "create it or remove the 'checks' key"
            )

    llm_raw = c.typed(raw, "llm", dict, {}, ())
    c.unknown_keys(llm_raw, _LLM_KEYS, ("llm",))
    provider = c.typed(llm_raw, "provider", str, "none", ("llm",))
    if provider not in LLM_PROVIDERS:
        c.add(
            ("llm", "provider"),
            f"unknown LLM provider '{provider}'",
            f"use one of {', '.join(LLM_PROVIDERS)}",
        )
    api_key_env = c.typed(llm_raw, "api_key_env", str, "OPENAI_API_KEY", ("llm",))
    if api_key_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", api_key_env):
        c.add(
            ("llm", "api_key_env"),
            "api_key_env must be the NAME of an environment variable, not the key itself",
            "write e.g. api_key_env: OPENAI_API_KEY and export the key there",
        )
    llm = LLMConfig(
        provider=provider,
        model=c.typed(llm_raw, "model", str, "", ("llm",)),
        base_url=c.interpolate(c.typed(llm_raw, "base_url", str, None, ("llm",)), ("llm", "base_url")),
        api_key_env=api_key_env,
        api_version=c.typed(llm_raw, "api_version", str, None, ("llm",)),
        timeout_s=c.typed(llm_raw, "timeout_s", float, 20.0, ("llm",)),
        max_retries=c.typed(llm_raw, "max_retries", int, 2, ("llm",)),
        allow_raw_sql=c.typed(llm_raw, "allow_raw_sql", bool, False, ("llm",)),
    )
    if llm.provider in ("openai", "azure", "ollama") and not llm.model:
        c.add(("llm",), f"LLM provider '{provider}' needs a model", "add 'model: <name>' under llm")
    for key, refused in llm_refusals(settings, name, llm).items():
        c.add(("llm", key), *refused)

    lim_raw = c.typed(raw, "limits", dict, {}, ())
    c.unknown_keys(lim_raw, _LIMIT_KEYS, ("limits",))
    limits = Limits(
        row_cap=c.typed(lim_raw, "row_cap", int, 10_000, ("limits",)),
        timeout_s=c.typed(lim_raw, "timeout_s", float, 30.0, ("limits",)),
        questions_per_user_per_hour=c.typed(lim_raw, "questions_per_user_per_hour", int, 600, ("limits",)),
        cache_ttl_s=c.typed(lim_raw, "cache_ttl_s", int, 3600, ("limits",)),
        upper_tier_users=tuple(c.typed(lim_raw, "upper_tier_users", list, [], ("limits",))),
        upper_tier_questions_per_hour=c.typed(
            lim_raw, "upper_tier_questions_per_hour", int, 1000, ("limits",)
        ),
        memory_mb=c.typed(lim_raw, "memory_mb", int, Limits.memory_mb, ("limits",)),
        threads=c.typed(lim_raw, "threads", int, Limits.threads, ("limits",)),
    )
    _check_ranges(c, llm, limits)
    # The operator's ceilings: a workspace admin edits limits, but never past what the server allows.
    ceilings = {
        "row_cap": (settings.max_row_cap, "DATATRUTH_MAX_ROW_CAP"),
        "timeout_s": (settings.max_timeout_s, "DATATRUTH_MAX_TIMEOUT_S"),
        "memory_mb": (settings.max_memory_mb, "DATATRUTH_MAX_MEMORY_MB"),
        "threads": (os.cpu_count() or 1, "the number of cores"),
    }
    for key, (ceiling, source) in ceilings.items():
        value = getattr(limits, key)
        low, high = RANGES[("limits", key)]
        if math.isfinite(value) and low <= value <= high and value > ceiling:  # else the range issue says it
            c.add(
                ("limits", key),
                f"'{key}' {value:g} is above this server's ceiling {ceiling:g}",
                f"use at most {ceiling:g} (set by {source})",
            )

    clock: dt.date | None = None
    clock_raw = raw.get("clock", "today")
    if isinstance(clock_raw, dt.datetime):
        clock = clock_raw.date()  # a pinned clock is a day; a time of day would make "today" a datetime
    elif isinstance(clock_raw, dt.date):
        clock = clock_raw
    elif clock_raw in (None, "today"):
        clock = None
    elif isinstance(clock_raw, str):
        try:
            clock = dt.date.fromisoformat(clock_raw)
        except ValueError:
            c.add(("clock",), f"clock '{clock_raw}' is not a date", "write 'today' or a date like 2024-12-31")
    else:
        c.add(("clock",), "clock must be 'today' or a date like 2024-12-31")
    if clock is not None and not CLOCK_RANGE[0] <= clock <= CLOCK_RANGE[1]:
        c.add(
            ("clock",),
            f"clock {clock.isoformat()} is outside {CLOCK_RANGE[0].year}-{CLOCK_RANGE[1].year}",
            "pin a date between those years (date arithmetic for 'last year' needs room on both sides)",
        )
        clock = None

    members: list[Member] = []
    for i, item in enumerate(c.typed(raw, "members", list, [], ())):
        if not isinstance(item, dict) or "user" not in item:
            c.add(("members", i), "each member needs 'user' and 'role'", "e.g. - {user: ana, role: analyst}")
            continue
        if not _is_user_name(item["user"]):
            c.add(
                ("members", i, "user"),
                f"member user must be a name, got {item['user']!r}",
                "write e.g. user: ana (an empty or null user would be stored as the text 'None')",
            )
            continue
        c.unknown_keys(item, _MEMBER_KEYS, ("members", i))
        role = item.get("role", "viewer")
        if role not in ROLES:
            c.add(("members", i, "role"), f"unknown role '{role}'", f"use one of {', '.join(ROLES)}")
        incident_role = item.get("incident_role", "viewer")
        if incident_role not in INCIDENT_ROLES:
            c.add(
                ("members", i, "incident_role"),
                f"unknown incident role '{incident_role}'",
                f"use one of {', '.join(INCIDENT_ROLES)}",
            )
        members.append(Member(str(item["user"]), str(role), str(incident_role)))

    webhook = c.interpolate(c.typed(raw, "webhook_url", str, None, ()), ("webhook_url",)) or None
    config = WorkspaceConfig(
        name=name,
        path=path,
        title=title,
        description=description,
        warehouse_url=url,
        demo=demo,
        semantic_models=tuple(models),
        checks_file=checks_file,
        llm=llm,
        limits=limits,
        clock=clock,
        members=tuple(members),
        webhook_url=webhook,
        allow_raw_samples=c.typed(raw, "allow_raw_samples", bool, False, ()),
        sensitive_columns=tuple(str(x) for x in c.typed(raw, "sensitive_columns", list, [], ())),
        exposed_tables=tuple(str(x).lower() for x in c.typed(raw, "exposed_tables", list, [], ())),
    )
    if c.issues:
        raise ConfigError(
            f"{path} has {len(c.issues)} problem(s)", "fix each line listed and reload", c.issues
        )
    return config
