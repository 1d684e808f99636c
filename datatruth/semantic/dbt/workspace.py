"""Writing an import, and building a DuckDB workspace from a dbt project and its seed CSVs, step by step."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from datatruth.errors import UserError
from datatruth.semantic.dbt.convert import DbtImport, import_dbt
from datatruth.semantic.dbt.warehouse import (
    alphabetical,
    check_columns,
    column_types,
    repair_types,
    split_roles,
)
from datatruth.settings import Settings, load_settings
from datatruth.workspace.load_files import LoadReport, Progress


@dataclass(frozen=True)
class DbtWorkspace:
    """A workspace built from a dbt project: where it is, what was imported, loaded and retyped."""

    path: Path
    result: DbtImport
    load: LoadReport
    type_changes: tuple[str, ...] = ()


def write_import(result: DbtImport, out_dir: str | Path) -> list[Path]:
    """Write the converted files into a folder (created if needed) and return their paths."""
    out = Path(out_dir)
    written = []
    for f in result.files:
        path = out / f.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.text(), encoding="utf-8")
        written.append(path)
    return written


def build_from_dbt(
    name: str,
    dbt_dir: str | Path,
    data_dir: str | Path,
    ref_map: str | Path | Mapping[str, str] | None = None,
    replace: bool = False,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> DbtWorkspace:
    """Create a DuckDB-backed workspace from a dbt project and its seed CSVs, with the full report."""
    settings = settings or load_settings()
    result = import_dbt(dbt_dir, ref_map)  # read + convert: no database, no writes
    ws_dir = settings.workspaces_dir / name
    if (ws_dir / "workspace.yaml").exists() and not replace:
        raise UserError(
            f"workspace '{name}' already exists at {ws_dir}", "pick another name or pass --replace"
        )
    path, database = _create_workspace(name, result, replace, settings)
    load = _load_seeds(name, Path(data_dir), database, replace, settings, progress)
    fitted, changes = fit_to_warehouse(result, database)
    _rewrite_models(fitted, ws_dir / "semantic_models")
    return DbtWorkspace(path, fitted, load, tuple(changes))


def fit_to_warehouse(result: DbtImport, database: Path) -> tuple[DbtImport, list[str]]:
    """The steps that need the loaded data: check columns, retype empty ones, split role tables."""
    checked = check_columns(result, column_types(database))
    repaired, changes = repair_types(checked, database)
    # Workspace files list keys alphabetically (as they always have); role models are appended after.
    split, roles = split_roles(alphabetical(repaired), database)
    return split, changes + roles


def _create_workspace(name: str, result: DbtImport, replace: bool, settings: Settings) -> tuple[Path, Path]:
    """workspace.yaml over the converted model files; returns it and the path of its DuckDB warehouse."""
    from datatruth.workspace.load_files import duckdb_path_of
    from datatruth.workspace.registry import create_workspace, load_config

    model_dir = settings.workspaces_dir / name / "semantic_models"
    if model_dir.exists() and replace:
        shutil.rmtree(model_dir)
    write_import(result, model_dir)  # the workspace must name model files that exist
    path = create_workspace(
        name,
        semantic_models=["semantic_models"],
        settings=settings,
        replace=replace,
        title=f"{name.replace('_', ' ').title()} (from dbt)",
    )
    return path, duckdb_path_of(load_config(name, settings).warehouse_url)


def _load_seeds(
    name: str, data_dir: Path, database: Path, replace: bool, settings: Settings, progress: Progress | None
) -> LoadReport:
    from datatruth.workspace.load_files import load_directory_csvs

    if replace and database.exists():
        database.unlink()  # a re-import must not keep tables of the previous one
    return load_directory_csvs(name, data_dir, settings, progress=progress)


def _rewrite_models(result: DbtImport, model_dir: Path) -> None:
    """Replace the first model files with the ones fitted to the data."""
    shutil.rmtree(model_dir)
    write_import(result, model_dir)


def create_from_dbt(
    name: str,
    dbt_dir: str | Path,
    data_dir: str | Path,
    ref_map: str | Path | Mapping[str, str] | None = None,
    replace: bool = False,
    settings: Settings | None = None,
) -> Path:
    """Create a DuckDB-backed workspace from a dbt project and its seed CSVs; return its workspace.yaml."""
    return build_from_dbt(name, dbt_dir, data_dir, ref_map, replace, settings).path


def import_report(result: DbtImport) -> list[str]:
    """Readable lines summarising an import: counts, then each note."""
    models = sum(len(f.content.get("semantic_models", [])) for f in result.files)
    lines = [
        f"{len(result.files)} file(s), {models} semantic model(s), {len(result.metric_names())} metric(s), "
        f"{len(result.tables)} table(s)"
    ]
    lines += [f"note: {n}" for n in result.notes]
    return lines
