"""System health for the Admin page: is the store, the warehouse, the vector index and the LLM reachable?"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from datatruth import access
from datatruth.admin.workspaces import probe_llm
from datatruth.errors import UserError
from datatruth.store.engine import Store
from datatruth.workspace.registry import Workspace

STATUSES = ("ok", "error", "off", "not installed")
CHROMA_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class HealthCheck:
    """One component's state: ok, error, off (not configured) or not installed, with a detail for people."""

    component: str
    status: str
    detail: str
    elapsed_ms: float


def _timed(component: str, probe: Callable[[], tuple[str, str]]) -> HealthCheck:
    started = time.perf_counter()
    try:
        status, detail = probe()
    except UserError as err:
        status, detail = "error", err.message + (f" — {err.hint}" if err.hint else "")
    return HealthCheck(component, status, detail, (time.perf_counter() - started) * 1000)


def check_store(store: Store) -> HealthCheck:
    """The metadata store answers and is migrated."""
    from datatruth.store.migrations import current_revision

    def probe() -> tuple[str, str]:
        try:
            with store.connect() as conn:
                conn.execute(sa.text("SELECT 1")).fetchall()
                revision = current_revision(conn)
        except sa.exc.SQLAlchemyError as err:
            return "error", f"{store.dialect}: {str(err).splitlines()[0]}"
        return "ok", f"{store.dialect} store, schema revision {revision}"

    return _timed("metadata store", probe)


def check_warehouse(ws: Workspace) -> HealthCheck:
    """The workspace's warehouse answers a query and lists its tables."""

    def probe() -> tuple[str, str]:
        warehouse = ws.warehouse
        warehouse.run("SELECT 1", row_cap=1, timeout_s=10)
        return "ok", f"{warehouse.identity}: {len(warehouse.table_names())} table(s)"

    return _timed("warehouse", probe)


def check_vector_index(ws: Workspace) -> HealthCheck:
    """The vector index module and its embedding model are installed; a chroma server answers when configured."""

    def probe() -> tuple[str, str]:
        try:
            from datatruth.vector.embedder import model_files
            from datatruth.vector.index import collection_name
        except ModuleNotFoundError as err:
            # Only the vector package itself may be missing (it is still being written); anything else is a bug.
            if err.name not in ("datatruth.vector", "datatruth.vector.index", "datatruth.vector.embedder"):
                raise
            return "not installed", "the vector index is not installed yet; questions use the other matchers"
        files = model_files()
        url = ws.settings.chroma_url
        if not url:
            return (
                "ok",
                f"embedded chroma at {ws.data_dir / 'vectors'}, collection {collection_name(ws.name)}, "
                f"model {files.onnx.parent.name}",
            )
        heartbeat = url.rstrip("/") + "/api/v2/heartbeat"
        try:
            with urllib.request.urlopen(heartbeat, timeout=CHROMA_TIMEOUT_S) as response:  # noqa: S310 - admin URL
                response.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            return "error", f"chroma server {url} does not answer: {getattr(err, 'reason', err)}"
        return "ok", f"chroma server {url}, collection {collection_name(ws.name)}"

    return _timed("vector index", probe)


def check_llm(ws: Workspace) -> HealthCheck:
    """The configured LLM answers a tiny chat completion (off when the workspace has none)."""

    def probe() -> tuple[str, str]:
        if not ws.config.llm.enabled:
            return "off", "no LLM configured: the deterministic planner answers alone"
        result = probe_llm(ws.config.llm)
        return ("ok" if result.ok else "error"), result.message

    return _timed("LLM", probe)


def system_health(store: Store, ws: Workspace, user: str) -> tuple[HealthCheck, ...]:
    """Admin-only: the state of every component this workspace depends on."""
    access.require(store, ws.name, user, "admin")
    return (check_store(store), check_warehouse(ws), check_vector_index(ws), check_llm(ws))
