"""Snapshots of a workspace's activated semantic layer and planner, so a new process does not rebuild them.

Activating a layer reads its YAML, reads the warehouse catalogue and validates the model; a planner then
builds its vocabulary and value lookups. Together that is ~0.5 s of every cold `datatruth ask`. Both are
saved with pickle under the workspace's data dir (`ask/layer.pickle`, `ask/planner.pickle`), each with a key
made of everything it is derived from: the DataTruth code, the model files, the workspace's settings, the
warehouse's data version, the clock and the learned synonyms. A different key, an unreadable file or a file
written by other code is rebuilt. The files are written only by DataTruth into the data dir, next to the
metadata store: whoever can write there can already change every answer.

The layer snapshot (with the tables the workspace exposes) is used only when the warehouse's data version
covers its schema (an embedded DuckDB file, whose size and modification time are part of the stamp); a
server's schema can change without a stamp we could read cheaply, so its layer is activated in every
process, and its planner snapshot is keyed by the activated layer's content hash.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from datatruth.semantic.model import SemanticLayer
    from datatruth.workspace.registry import Workspace

FORMAT = "1"
LAYER_FILE = "layer.pickle"
PLANNER_FILE = "planner.pickle"
T = TypeVar("T")
# What a file written by other code, cut short or tampered with raises when unpickled.
_UNREADABLE = (
    pickle.UnpicklingError,
    EOFError,
    AttributeError,
    ImportError,
    IndexError,
    TypeError,
    ValueError,
)
_CODE_STAMP: list[str] = []


def code_stamp() -> str:
    """A hash of the package's source and data files (path, size, modification time): new code never reads old
    pickles."""
    if not _CODE_STAMP:
        root = Path(__file__).resolve().parent.parent
        h = hashlib.sha256(f"{FORMAT}|{sys.version}|{pickle.HIGHEST_PROTOCOL}".encode())
        # the package's data files count too: the planner reads its word lists from ask/lexicon.yaml
        for path in sorted([*root.rglob("*.py"), *root.rglob("*.yaml")]):
            info = path.stat()
            h.update(f"{path.relative_to(root)}|{info.st_size}|{info.st_mtime_ns}\n".encode())
        _CODE_STAMP.append(h.hexdigest()[:24])
    return _CODE_STAMP[0]


def _digest(*parts: Any) -> str:
    return hashlib.sha256(repr((code_stamp(), *parts)).encode()).hexdigest()[:32]


def _path(ws: Workspace, name: str) -> Path:
    return ws.data_dir / "ask" / name


def load(path: Path, key: str) -> Any | None:
    """The object saved at `path` under `key`; None when absent, saved under another key, or unreadable."""
    try:
        with path.open("rb") as f:
            saved_key, value = pickle.load(f)
    except FileNotFoundError:
        return None
    except _UNREADABLE:
        return None
    return value if saved_key == key else None


def save(path: Path, key: str, value: Any) -> None:
    """Write `value` under `key` atomically (a reader sees the old file or the new one, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        pickle.dump((key, value), f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def cached(path: Path, key: str, build: Callable[[], T]) -> T:
    """The snapshot at `path` when its key matches, else `build()` saved there."""
    found = load(path, key)
    if found is not None:
        return found
    value = build()
    save(path, key, value)
    return value


def schema_stamp(ws: Workspace) -> str | None:
    """The warehouse's data version when it also covers the schema (an embedded DuckDB file), else None."""
    from datatruth.warehouse import dataversion

    url = ws.config.warehouse_url
    if not url.startswith("duckdb:///") or url.endswith(":memory:"):
        return None
    return dataversion.stamp(ws.data_dir, url)


def layer_key(ws: Workspace, model_state: tuple) -> str | None:
    """The key of a workspace's activated layer (None when it must be activated every time)."""
    stamp = schema_stamp(ws)
    if stamp is None:
        return None
    config = ws.config
    return _digest(
        "layer",
        ws.name,
        model_state,
        config.warehouse_url,
        tuple(map(str, config.semantic_models)),
        config.sensitive_columns,
        config.exposed_tables,
        stamp,
    )


LayerAndTables = tuple["SemanticLayer", frozenset[str]]


def activated_layer(
    ws: Workspace, model_state: tuple, activate: Callable[[], LayerAndTables]
) -> LayerAndTables:
    """The workspace's activated layer and exposed tables, from the snapshot when nothing they depend on changed."""
    key = layer_key(ws, model_state)
    if key is None:
        return activate()
    return cached(_path(ws, LAYER_FILE), key, activate)


def planner_key(ws: Workspace, layer: SemanticLayer, learned: tuple, value_index: Path) -> str:
    """The key of a workspace's planner: layer content, learned synonyms, clock, value index file, settings."""
    try:
        info = value_index.stat()
        index_stamp = f"{info.st_size}:{info.st_mtime_ns}"
    except FileNotFoundError:
        index_stamp = "-"
    return _digest(
        "planner",
        ws.name,
        layer.version_hash,
        learned,
        ws.config.today().isoformat(),
        index_stamp,
        ws.config.sensitive_columns,
        ws.config.warehouse_url,
    )


def planner_path(ws: Workspace) -> Path:
    """Where a workspace's planner snapshot lives."""
    return _path(ws, PLANNER_FILE)
