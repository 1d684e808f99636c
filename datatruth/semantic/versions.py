"""Versions of a workspace's semantic model: validated saves (files on disk + a store version), diffs, restores.

Version content is `{path relative to the workspace folder: YAML text}`, exactly the files listed (or found
in the folders listed) under `semantic_models:` in workspace.yaml. A model with any issue is never saved.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from datatruth import access
from datatruth.errors import ConfigError, NotFound, UserError
from datatruth.semantic.model import SemanticLayer, read_documents
from datatruth.store import audit
from datatruth.store import semantic_versions as sv
from datatruth.store.engine import Store
from datatruth.workspace.registry import Workspace
from datatruth.yamlsource import Issue, parse_yaml

if TYPE_CHECKING:
    import pandas as pd  # only the preview's frame; `ask` never needs pandas to read the model version

DISK_AUTHOR = "system"


def model_roots(ws: Workspace) -> tuple[Path, ...]:
    """The files and folders the workspace's semantic model is read from (resolved)."""
    return tuple(Path(p).resolve() for p in ws.config.semantic_models)


def _relative(ws: Workspace, path: Path) -> str:
    return Path(os.path.relpath(path.resolve(), ws.config.directory.resolve())).as_posix()


def _resolve(ws: Workspace, name: str) -> Path:
    """The file behind a version key; only files inside the configured model paths may be written."""
    path = (ws.config.directory / name).resolve()
    if path.suffix not in (".yaml", ".yml"):
        raise UserError(f"'{name}' is not a YAML file", "semantic model files end in .yaml or .yml")
    for root in model_roots(ws):
        if path == root or (root.is_dir() and path.is_relative_to(root)):
            return path
    raise UserError(
        f"'{name}' is outside this workspace's semantic model paths",
        "add the file or its folder under semantic_models: in workspace.yaml first",
    )


def files_on_disk(ws: Workspace) -> dict[str, str]:
    """The model files as they are on disk now, keyed by path relative to the workspace folder."""
    out: dict[str, str] = {}
    for root in model_roots(ws):
        found = (
            sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            if root.is_dir()
            else ([root] if root.is_file() else [])
        )
        for path in found:
            out[_relative(ws, path)] = path.read_text(encoding="utf-8")
    return out


def check_files(ws: Workspace, files: dict[str, str]) -> list[Issue]:
    """Every issue of a set of model files: YAML syntax, structure, then checks against the warehouse."""
    from datatruth.semantic.validate import validate, warehouse_schema

    try:
        layer = layer_of(files)
    except ConfigError as err:
        return list(err.issues)
    return list(validate(layer, warehouse_schema(ws)))


def _write(ws: Workspace, files: dict[str, str], remove_others: bool) -> None:
    targets = {_resolve(ws, name): text for name, text in files.items()}
    if remove_others:
        for name in files_on_disk(ws):
            path = _resolve(ws, name)
            if path not in targets:
                path.unlink()
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def save_model(
    ws: Workspace, store: Store, files: dict[str, str], author: str, message: str
) -> sv.SemanticVersion:
    """Validate, then write changed files to disk and record a new version; ConfigError lists every issue."""
    access.require(store, ws.name, author, "edit_model")
    if not message.strip():
        raise UserError("a save needs a message", "say in a few words what changed")
    merged = {**files_on_disk(ws), **files}
    for name in files:
        _resolve(ws, name)
    issues = check_files(ws, merged)
    if issues:
        raise ConfigError(
            f"the model has {len(issues)} problem(s); nothing was saved",
            "fix each line listed and save again",
            issues,
        )
    current_version(store, ws)  # the disk state before this save is a version of its own
    _write(ws, files, remove_others=False)
    return sv.save(store, ws.name, merged, author=author, message=message)


def current_version(store: Store, ws: Workspace) -> int:
    """The version number of the model on disk; records it (version 1, or a new one) when the store lacks it."""
    disk = files_on_disk(ws)
    latest = sv.latest_version(store, ws.name)
    if latest is not None and latest.checksum == sv.checksum_of(disk):
        return latest.version
    message = "initial version from the files on disk" if latest is None else "files changed on disk"
    return sv.save(store, ws.name, disk, author=DISK_AUTHOR, message=message).version


def history(store: Store, ws: Workspace) -> list[sv.SemanticVersion]:
    """Every version, newest first (recording the disk state first if it is new)."""
    current_version(store, ws)
    return sv.history(store, ws.name)


def diff(store: Store, ws: Workspace | str, v1: int, v2: int) -> str:
    """A readable unified diff, file by file, from version v1 to version v2 (empty when equal)."""
    name = ws if isinstance(ws, str) else ws.name
    old, new = sv.get(store, name, v1), sv.get(store, name, v2)
    chunks: list[str] = []
    for path in sorted(set(old.files) | set(new.files)):
        a = old.files.get(path, "").splitlines(keepends=True)
        b = new.files.get(path, "").splitlines(keepends=True)
        lines = list(
            difflib.unified_diff(
                a,
                b,
                fromfile=f"v{v1}/{path}" if path in old.files else "/dev/null",
                tofile=f"v{v2}/{path}" if path in new.files else "/dev/null",
            )
        )
        if lines:
            chunks.append("".join(line if line.endswith("\n") else line + "\n" for line in lines))
    return "".join(chunks)


def restore(store: Store, ws: Workspace, version: int, author: str) -> sv.SemanticVersion:
    """Make an old version current again: validated, written to disk, saved as a new version."""
    access.require(store, ws.name, author, "edit_model")
    old = sv.get(store, ws.name, version)
    for name in old.files:
        _resolve(ws, name)
    issues = check_files(ws, old.files)
    if issues:
        raise ConfigError(
            f"version {version} no longer validates against the warehouse; nothing was restored",
            "fix the issues listed in a new save instead",
            issues,
        )
    current_version(store, ws)
    _write(ws, old.files, remove_others=True)
    saved = sv.save(store, ws.name, dict(old.files), author=author, message=f"restore version {version}")
    audit.record(store, ws.name, author, "semantic.restore", f"v{version}", {"new_version": saved.version})
    return saved


@dataclass(frozen=True)
class Preview:
    """What one metric × dimension of a (possibly unsaved) model compiles to, and a few rows of its result."""

    sql: str
    frame: pd.DataFrame = field(compare=False)
    truncated: bool = False


def layer_of(files: dict[str, str]) -> SemanticLayer:
    """The semantic layer of a set of model files (ConfigError listing every structural issue)."""
    docs = []
    issues: list[Issue] = []
    for name, text in sorted(files.items()):
        try:
            docs.append(parse_yaml(text, name))
        except ConfigError as err:
            issues += err.issues
    layer, structural = read_documents(docs)
    issues += structural
    if issues:
        raise ConfigError(f"the model has {len(issues)} problem(s)", "fix each line listed", issues)
    return layer


def preview(
    ws: Workspace,
    files: dict[str, str],
    metric: str,
    dimension: str | None = None,
    grain: str | None = None,
    rows: int = 10,
) -> Preview:
    """Compile a metric (by an optional dimension) from the editor's files, guard it and fetch a few rows."""
    from datatruth.semantic.compiler import compile_plan
    from datatruth.semantic.plan import DimensionRef, QueryPlan
    from datatruth.sql.guard import guard_sql

    layer = layer_of(files)
    layer.metric(metric)
    dims = (DimensionRef(dimension, grain),) if dimension else ()
    warehouse = ws.warehouse
    compiled = compile_plan(
        QueryPlan(metrics=(metric,), dimensions=dims, limit=rows), layer, warehouse.dialect
    )
    safe = guard_sql(compiled.sql, compiled.dialect, ws.exposed_tables(), row_cap=rows)
    result = warehouse.run(safe, row_cap=rows)
    return Preview(compiled.sql, result.frame, bool(getattr(result, "truncated", False)))


# -- editor helpers (the Semantic layer page) ----------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """Metrics and dimensions of a layer as rows for browsing, filtered by a search text."""

    metrics: tuple[dict[str, str], ...]
    dimensions: tuple[dict[str, str], ...]


def catalog(layer: SemanticLayer, query: str = "") -> Catalog:
    """Rows describing every metric and dimension whose name, label, description or synonyms match `query`."""
    from datatruth.semantic.labels import column_label

    words = query.lower().split()

    def keep(*texts: str) -> bool:
        blob = " ".join(texts).lower()
        return all(w in blob for w in words)

    metrics = tuple(
        {
            "metric": m.name,
            "type": m.type,
            "label": m.title,
            "format": m.format,
            "description": m.description,
            "synonyms": ", ".join(m.synonyms),
        }
        for m in layer.metrics
        if keep(m.name, m.label, m.description, *m.synonyms)
    )
    dims = tuple(
        {
            "dimension": d.name,
            "label": column_label(layer, d.name),
            "type": d.dimension.type,
            "model": d.model.name,
            "grain": d.dimension.time_granularity or "",
            "description": d.dimension.description,
            "synonyms": ", ".join(d.dimension.synonyms),
            "samples": ", ".join(d.dimension.sample_values),
        }
        for d in layer.dimensions()
        if keep(d.name, d.dimension.label, d.dimension.description, *d.dimension.synonyms)
    )
    return Catalog(metrics, dims)


def edit_metric(
    files: dict[str, str], metric: str, *, description: str, synonyms: list[str], format: str
) -> dict[str, str]:
    """The one changed file after setting a metric's description, synonyms and format.

    Only the lines of the keys whose value changed are rewritten; comments, order, quoting and every other
    line of the file stay as they were (see datatruth.semantic.yaml_roundtrip)."""
    from datatruth.semantic import yaml_roundtrip as rt

    cleaned = [s.strip() for s in synonyms if s.strip()]
    for name, text in sorted(files.items()):
        entry = _metric_entry(text, metric)
        if entry is None:
            continue
        changes: dict[str, object] = {
            "description": description.strip() or rt.REMOVE,
            "synonyms": cleaned or rt.REMOVE,
        }
        if format != "number" or "format" in entry:
            changes["format"] = (
                format  # "number" is the default: not written into an entry that never named it
            )
        changed = rt.set_entry_fields(text, "metrics", metric, changes)
        if changed is not None:
            return {name: changed}
    raise NotFound(
        f"metric '{metric}' is not in any model file", "reload the page; the files may have changed"
    )


def _metric_entry(text: str, metric: str) -> dict | None:
    from datatruth.semantic.yaml_roundtrip import load

    data = load(text)
    for item in (data.get("metrics") or []) if isinstance(data, dict) else []:
        if isinstance(item, dict) and item.get("name") == metric:
            return item
    return None
