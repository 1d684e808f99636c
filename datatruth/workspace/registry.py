"""Find, load and create workspaces; a Workspace bundles its config with its runtime resources."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from datatruth.errors import ConfigError, NotFound, UserError
from datatruth.logs import scrub
from datatruth.settings import Settings, load_settings
from datatruth.workspace.boundary import env_token
from datatruth.workspace.config import NAME_RE, WorkspaceConfig, parse_workspace

if TYPE_CHECKING:
    from datatruth.warehouse.engine import Warehouse


STAGING_PREFIX = "_dt_load_"  # tables `workspace load` builds before it swaps them in


@dataclass(frozen=True)
class WorkspaceSummary:
    """A line in `workspace list`: enough to pick one without opening its warehouse."""

    name: str
    title: str
    warehouse: str
    demo: str | None
    valid: bool
    problem: str | None = None


class Workspace:
    """A loaded workspace: its validated config and lazily opened resources, scoped to its own data dir."""

    def __init__(self, config: WorkspaceConfig, settings: Settings) -> None:
        self.config = config
        self.settings = settings

    @property
    def name(self) -> str:
        """The workspace id (its folder name)."""
        return self.config.name

    @property
    def data_dir(self) -> Path:
        """This workspace's own runtime folder."""
        return self.settings.workspace_data_dir(self.name)

    @cached_property
    def warehouse(self) -> Warehouse:
        """The hardened, read-only warehouse connection (opened on first use)."""
        from datatruth.warehouse.engine import open_warehouse

        limits = self.config.limits
        return open_warehouse(
            self.config.warehouse_url,
            read_only=True,
            timeout_s=limits.timeout_s,
            allowed_directories=[str(self.data_dir)],
            memory_mb=limits.memory_mb,
            threads=limits.threads,
        )

    def exposed_tables(self) -> frozenset[str]:
        """Tables this workspace may query: the configured list, or every table in its warehouse."""
        if self.config.exposed_tables:
            return frozenset(self.config.exposed_tables)
        # A load's staging tables (a killed load may leave one until the next load) are not the workspace's data.
        return frozenset(
            t.lower() for t in self.warehouse.table_names() if not t.lower().startswith(STAGING_PREFIX)
        )

    def close(self) -> None:
        """Release the warehouse connection if it was opened."""
        if "warehouse" in self.__dict__:
            self.warehouse.close()
            del self.__dict__["warehouse"]


NAME_HINT = "use lower-case letters, digits, '-' or '_' (max 40), starting with a letter, e.g. retail"


def check_workspace_name(name: object) -> str:
    """Return `name` when it is a valid workspace identifier; UserError otherwise (never a path)."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        shown = repr(name)[:60]
        raise UserError(f"{shown} is not a valid workspace name", NAME_HINT)
    return name


def _workspace_file(settings: Settings, name: str) -> Path:
    # Names are identifiers: '../x' or '/abs/dir' must never become a path to another folder.
    return settings.workspaces_dir / check_workspace_name(name) / "workspace.yaml"


def workspace_names(settings: Settings | None = None) -> list[str]:
    """Names of every folder under the workspaces dir that holds a workspace.yaml."""
    settings = settings or load_settings()
    if not settings.workspaces_dir.is_dir():
        return []
    return sorted(
        p.parent.name
        for p in settings.workspaces_dir.glob("*/workspace.yaml")
        if NAME_RE.fullmatch(p.parent.name)
    )


def list_workspaces(settings: Settings | None = None) -> list[WorkspaceSummary]:
    """Summaries of all workspaces, including invalid ones with their first problem (one never hides the others)."""
    settings = settings or load_settings()
    out = []
    for name in workspace_names(settings):
        try:
            cfg = parse_workspace(
                _workspace_file(settings, name), data_dir=settings.data_dir, settings=settings
            )
        except UserError as err:
            issues = getattr(err, "issues", None)
            out.append(
                WorkspaceSummary(name, name, "", None, False, str(issues[0]) if issues else err.message)
            )
            continue
        out.append(WorkspaceSummary(name, cfg.title, str(scrub(cfg.warehouse_url)), cfg.demo, True))
    return out


def load_config(name: str, settings: Settings | None = None) -> WorkspaceConfig:
    """Parse one workspace's config (NotFound when the workspace does not exist)."""
    settings = settings or load_settings()
    path = _workspace_file(settings, name)
    if not path.exists():
        known = ", ".join(workspace_names(settings)) or "none yet"
        raise NotFound(
            f"workspace '{name}' does not exist",
            f"known workspaces: {known}; create one with `datatruth workspace create NAME --warehouse URL`",
        )
    return parse_workspace(path, data_dir=settings.data_dir, settings=settings)


def load_workspace(name: str | None = None, settings: Settings | None = None) -> Workspace:
    """Load a workspace by name (default from settings), building its demo warehouse if it is missing."""
    settings = settings or load_settings()
    config = load_config(name or settings.default_workspace, settings)
    ws = Workspace(config, settings)
    if config.demo:
        from datatruth.demo.build import ensure_demo

        ensure_demo(ws)
    return ws


def create_workspace(
    name: str,
    *,
    warehouse_url: str = "",
    title: str = "",
    semantic_models: list[str] | None = None,
    settings: Settings | None = None,
    replace: bool = False,
    admin: str | None = None,
) -> Path:
    """Write workspaces/<name>/workspace.yaml for a new workspace and return its path."""
    settings = settings or load_settings()
    path = _workspace_file(settings, name)
    if path.exists() and not replace:
        raise UserError(f"workspace '{name}' already exists at {path}", "pick another name or pass --replace")
    twin = next((n for n in workspace_names(settings) if n != name and env_token(n) == env_token(name)), None)
    if twin is not None:
        raise UserError(
            f"'{name}' would share environment variables (DATATRUTH_WS_{env_token(name)}__*) with "
            f"workspace '{twin}'",
            "pick a name that differs by more than '-' versus '_'",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    doc: dict = {"title": title or name.replace("_", " ").title()}
    if warehouse_url:
        doc["warehouse"] = {"url": warehouse_url}
    doc["semantic_models"] = semantic_models or []
    doc["clock"] = "today"
    doc["limits"] = {"row_cap": 10000, "timeout_s": 30, "questions_per_user_per_hour": 600}
    doc["llm"] = {"provider": "none"}
    doc["members"] = [{"user": admin or settings.local_user, "role": "admin", "incident_role": "owner"}]
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    try:
        parse_workspace(path, data_dir=settings.data_dir, settings=settings)
    except ConfigError:
        path.unlink()
        raise
    return path
