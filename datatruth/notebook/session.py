"""Per-kernel state of the magics: the chosen workspace, the user, and the last plan for follow-ups."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

from datatruth.semantic.plan import QueryPlan
from datatruth.settings import Settings, load_settings
from datatruth.store import open_store
from datatruth.store.engine import Store
from datatruth.store.users import seed_from_config
from datatruth.workspace.registry import Workspace, load_workspace


@dataclass
class KernelSession:
    """Mutable on purpose: it is the kernel's memory between cells (workspaces, follow-up context)."""

    settings: Settings = field(default_factory=load_settings)
    workspace_name: str = ""
    user: str = ""
    session_id: str = field(default_factory=lambda: f"nb-{uuid.uuid4().hex[:8]}")
    previous: dict[str, QueryPlan] = field(default_factory=dict)
    _workspaces: dict[str, Workspace] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workspace_name = self.workspace_name or self.settings.default_workspace
        # A local kernel acts as the local user; DATATRUTH_USER lets a notebook act as a named member.
        self.user = self.user or os.environ.get("DATATRUTH_USER") or self.settings.local_user

    @property
    def store(self) -> Store:
        """The metadata store of this kernel."""
        return open_store(settings=self.settings)

    def workspace(self, name: str | None = None) -> Workspace:
        """Load (once per kernel) and return a workspace, seeding its members into the store."""
        name = name or self.workspace_name
        if name not in self._workspaces:
            ws = load_workspace(name, self.settings)
            seed_from_config(self.store, ws.name, ws.config.members)
            self._workspaces[name] = ws
        return self._workspaces[name]
