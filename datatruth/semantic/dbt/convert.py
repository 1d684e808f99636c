"""The conversion of a read dbt project into DataTruth model files: a list of named stages over frozen state.

parse items (dbt-semantic-interfaces objects) → convert models → convert metrics → add implied metrics →
finish composites → keep dangling keys as dimensions → assemble files. The stages after the first read the
typed objects, never the dbt mappings. No stage reads a file or runs SQL: reading happens before
(`read.py`), and whatever needs the warehouse or writes files happens after (`warehouse.py`, `workspace.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import reduce
from pathlib import Path
from typing import Any

import yaml
from dbt_semantic_interfaces.implementations.metric import PydanticMetric

from datatruth.semantic.dbt.expressions import Unsupported
from datatruth.semantic.dbt.filters import Catalog, model_info
from datatruth.semantic.dbt.metrics import Placed, convert_metric, finish_composite, implied_metrics
from datatruth.semantic.dbt.models import convert_model
from datatruth.semantic.dbt.parse import DbtMetric, DbtModel, parse_project
from datatruth.semantic.dbt.read import DbtProject, load_ref_map, read_project
from datatruth.yamlsource import Issue

_KEYS = ("primary", "unique", "natural")


@dataclass(frozen=True)
class ConvertedFile:
    """One output file: its name (relative to the model folder) and its content as plain data."""

    name: str
    content: dict[str, Any]
    source: str

    def text(self) -> str:
        """The file as YAML, with a header saying where it came from."""
        body = yaml.safe_dump(self.content, sort_keys=False, allow_unicode=True, width=110)
        return f"# Imported from dbt MetricFlow: {self.source}\n{body}"


@dataclass(frozen=True)
class DbtImport:
    """The converted model files, the tables they read, and notes on whatever was changed or left out."""

    files: tuple[ConvertedFile, ...]
    notes: tuple[Issue, ...] = ()
    tables: tuple[str, ...] = ()
    # (model, entity or dimension) → (dbt file, line), so later checks against the data can point at the source
    origins: Mapping[tuple[str, str], tuple[str, int | None]] = field(default_factory=dict)

    def as_texts(self) -> dict[str, str]:
        """File name → YAML text (the shape the semantic version store keeps)."""
        return {f.name: f.text() for f in self.files}

    def metric_names(self) -> tuple[str, ...]:
        """Every metric the import produced."""
        return tuple(m["name"] for f in self.files for m in f.content.get("metrics", []))


@dataclass(frozen=True)
class ImportState:
    """What the stages have built so far; each stage returns a new state."""

    project: DbtProject
    ref_map: Mapping[str, str]
    catalog: Catalog
    dbt_models: tuple[DbtModel, ...] = ()  # the project's items as dbt-semantic-interfaces objects
    dbt_metrics: tuple[DbtMetric, ...] = ()
    models: tuple[tuple[str, dict[str, Any]], ...] = ()  # (dbt file, converted model)
    metrics: tuple[Placed, ...] = ()
    composites: Mapping[str, PydanticMetric] = field(default_factory=dict)  # metric → its dbt one, for inputs
    origins: Mapping[tuple[str, str], tuple[str, int | None]] = field(default_factory=dict)
    notes: tuple[Issue, ...] = ()


Stage = Callable[[ImportState], ImportState]


def import_dbt(
    dbt_dir: str | Path, ref_map: str | Path | Mapping[str, str] | None = None, dialect: str = "snowflake"
) -> DbtImport:
    """Convert a dbt MetricFlow folder into DataTruth model files (one per dbt file), with notes."""
    return convert(read_project(Path(dbt_dir)), load_ref_map(ref_map), dialect)


def convert(project: DbtProject, ref_map: Mapping[str, str], dialect: str = "snowflake") -> DbtImport:
    """Run the conversion stages over a read project; pure (no files, no database)."""
    start = ImportState(project, dict(ref_map), Catalog(dialect))
    return assemble(reduce(lambda state, stage: stage(state), STAGES, start))


# -- stage 1: dbt-semantic-interfaces objects -----------------------------------------------------------------


def parse_items(state: ImportState) -> ImportState:
    """Each semantic model and metric as a dbt-semantic-interfaces object, its ref resolved to a node relation."""
    parsed = parse_project(state.project, state.ref_map)
    return replace(state, dbt_models=parsed.models, dbt_metrics=parsed.metrics)


# -- stage 2: models -----------------------------------------------------------------------------------------


def convert_models(state: ImportState) -> ImportState:
    """Each semantic model converted; the catalog learns it, its measures and its file for the later stages."""
    notes: list[Issue] = []
    models: list[tuple[str, dict[str, Any]]] = []
    created: list[Placed] = []
    infos, measures, files, origins = {}, {}, {}, {}
    for item in state.dbt_models:
        path = item.source.path
        try:
            converted = convert_model(item, state.catalog.dialect, notes)
        except Unsupported as err:
            notes.append(item.source.issue(f"semantic model skipped: {err}"))
            continue
        model = converted.model
        primary = item.model.primary_entity if item.model is not None else None
        models.append((path, model))
        created += [(path, dict(m)) for m in converted.created_metrics]
        infos[model["name"]] = model_info(model, primary)
        files[model["name"]] = path
        measures.update({m["name"]: model["name"] for m in model.get("measures", [])})
        origins.update({k: (path, line) for k, line in converted.origins.items()})
        _note_primary_entity(primary, model, item, notes)
    catalog = replace(state.catalog, models=infos, measures=measures, files=files)
    return replace(
        state,
        catalog=catalog,
        models=tuple(models),
        metrics=state.metrics + tuple(created),
        origins=origins,
        notes=state.notes + tuple(notes),
    )


def _note_primary_entity(
    dbt_primary: str | None, model: Mapping[str, Any], item: DbtModel, notes: list[Issue]
) -> None:
    """dbt's `primary_entity` names a model's dimensions; without a primary key here they keep the model name."""
    if (
        dbt_primary
        and dbt_primary != model["name"]
        and not any(e["type"] == "primary" for e in model.get("entities", []))
    ):
        notes.append(
            item.source.issue(
                f"model '{model['name']}' has no primary key: its "
                f"dimensions are named {model['name']}__<dimension> here, not "
                f"{dbt_primary}__<dimension>",
                "primary_entity",
            )
        )


# -- stage 3: metrics ----------------------------------------------------------------------------------------


def convert_metrics(state: ImportState) -> ImportState:
    """Each dbt metric converted (filters' Jinja → SQL); ratio and derived inputs are finished later."""
    notes: list[Issue] = []
    placed: list[Placed] = []
    composites: dict[str, PydanticMetric] = {}
    for item in state.dbt_metrics:
        try:
            if item.metric is None:
                raise Unsupported(item.problem)
            metric = convert_metric(item.metric, state.catalog)
        except Unsupported as err:
            notes.append(item.source.issue(f"metric skipped: {err}"))
            continue
        composites[metric["name"]] = item.metric
        placed.append((item.source.path, metric))
    return replace(
        state,
        metrics=state.metrics + tuple(placed),
        composites=composites,
        notes=state.notes + tuple(notes),
    )


# -- stage 4: metrics the project implies --------------------------------------------------------------------


def add_implied_metrics(state: ImportState) -> ImportState:
    """Subset metrics and one metric per measure that no unfiltered metric reads (docs/semantic_format.md)."""
    notes: list[Issue] = []
    implied = implied_metrics(state.metrics, state.catalog, notes)
    return replace(state, metrics=state.metrics + tuple(implied), notes=state.notes + tuple(notes))


# -- stage 5: ratio and derived inputs -----------------------------------------------------------------------


def finish_composites(state: ImportState) -> ImportState:
    """Ratio/derived inputs: plain names stay; filtered inputs get a filter (derived) or a helper metric (ratio).

    Works on (file, metric) pairs so a helper metric lands in the file of the ratio that needs it.
    """
    by_name = {m["name"]: m for _f, m in state.metrics}
    notes: list[Issue] = []
    out: list[Placed] = []
    for file, metric in state.metrics:
        try:
            finished = finish_composite(metric, by_name, state.composites.get(metric["name"]), state.catalog)
        except Unsupported as err:
            notes.append(Issue(file, None, f"metric '{metric['name']}' skipped: {err}"))
            continue
        out += [(file, m) for m in finished]
    return replace(state, metrics=tuple(out), notes=state.notes + tuple(notes))


# -- stage 6: foreign keys nobody owns -----------------------------------------------------------------------


def keep_dangling_keys(state: ImportState) -> ImportState:
    """A foreign key no model owns cannot join; keep its column as a categorical dimension instead."""
    owned = {e["name"] for _f, m in state.models for e in m.get("entities", []) if e["type"] in _KEYS}
    notes: list[Issue] = []
    models = []
    for path, model in state.models:
        dangling = [e for e in model.get("entities", []) if e["type"] == "foreign" and e["name"] not in owned]
        models.append((path, _as_dimensions(model, dangling) if dangling else model))
        notes += [
            Issue(
                path,
                None,
                f"model '{model['name']}': foreign entity '{e['name']}' has no model that owns "
                "the key, so it cannot join; kept as a categorical dimension",
            )
            for e in dangling
        ]
    return replace(state, models=tuple(models), notes=state.notes + tuple(notes))


def _as_dimensions(model: Mapping[str, Any], dangling: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of `model` whose dangling entities are categorical dimensions (unless one has that name)."""
    out = dict(model)
    dims = list(model.get("dimensions", []))
    names = {d["name"] for d in dims}
    dims += [
        {"name": e["name"], "type": "categorical", "expr": e.get("expr", e["name"])}
        for e in dangling
        if e["name"] not in names
    ]
    out["dimensions"] = dims
    kept = [e for e in model.get("entities", []) if not any(e is d for d in dangling)]
    if kept:
        out["entities"] = kept
    else:
        out.pop("entities")
    return out


STAGES: tuple[Stage, ...] = (
    parse_items,
    convert_models,
    convert_metrics,
    add_implied_metrics,
    finish_composites,
    keep_dangling_keys,
)


# -- last: one file per dbt file -----------------------------------------------------------------------------


def assemble(state: ImportState) -> DbtImport:
    """One output file per dbt file that yields models or metrics, named after it, in the project's order."""
    files = []
    root = state.project.root
    for doc in state.project.docs:
        content: dict[str, Any] = {}
        models = [m for f, m in state.models if f == doc.path]
        if models:
            content["semantic_models"] = models
        file_metrics = [m for f, m in state.metrics if f == doc.path]
        if file_metrics:
            content["metrics"] = file_metrics
        if not content:
            continue
        path = Path(doc.path)
        rel = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
        files.append(ConvertedFile(str(rel.with_suffix(".yaml")), content, str(rel)))
    tables = tuple(sorted({m.table for m in state.catalog.models.values()}))
    return DbtImport(tuple(files), state.notes, tables, state.origins)
