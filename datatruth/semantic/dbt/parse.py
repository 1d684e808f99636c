"""Each dbt `semantic_models:` and `metrics:` item as a dbt-semantic-interfaces object, with where it was written.

dbt-semantic-interfaces (DSI) reads MetricFlow's own documents, not a dbt project's YAML: there a model says
`model: ref('claim')`, which dbt-core resolves into a node relation. This step does that resolution through
the ref map, fills the defaults the import has always applied (an entity without a type is foreign, a
dimension categorical, a measure a sum, a metric simple) and parses each item with DSI. What DSI cannot hold
is kept beside the object: the file and line of each item, the keys it was written with (DSI drops keys it
does not know; the import reports them as not carried over), and measures whose aggregation DSI does not
know. An item that cannot be read carries the reason, so the conversion notes it in the project's order.
Pure: no files, no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dbt_semantic_interfaces.errors import ParsingException
from dbt_semantic_interfaces.implementations.elements.dimension import PydanticDimension
from dbt_semantic_interfaces.implementations.elements.entity import PydanticEntity
from dbt_semantic_interfaces.implementations.elements.measure import PydanticMeasure
from dbt_semantic_interfaces.implementations.filters.where_filter import PydanticWhereFilterIntersection
from dbt_semantic_interfaces.implementations.metric import PydanticMetric
from dbt_semantic_interfaces.implementations.semantic_model import PydanticSemanticModel

from datatruth.semantic.dbt.expressions import Unsupported, table_of
from datatruth.semantic.dbt.read import DbtProject
from datatruth.yamlsource import Issue, KeyPath, YamlDoc

# DataTruth aggregation → the name DSI knows it by (`avg` is DataTruth's spelling of dbt's `average`)
_DSI_AGGS = {
    "sum": "sum",
    "max": "max",
    "min": "min",
    "count": "count",
    "count_distinct": "count_distinct",
    "average": "average",
    "avg": "average",
    "median": "median",
    "percentile": "percentile",
    "sum_boolean": "sum_boolean",
}
METRIC_TYPES = ("simple", "ratio", "derived", "cumulative")
# The tables are read from the warehouse's default schema (the seeds are loaded there); a node relation
# needs a schema, and its relation name is the bare table, as the DataTruth model files write it.
_SCHEMA = "main"


@dataclass(frozen=True)
class Source:
    """Where an item sits in which dbt file, and the keys it was written with."""

    doc: YamlDoc
    keys: KeyPath
    written: frozenset[str] = frozenset()

    @property
    def path(self) -> str:
        """The dbt file."""
        return self.doc.path

    def line(self) -> int | None:
        """The item's line in the dbt file."""
        return self.doc.line(*self.keys)

    def issue(self, message: str, *more: str | int) -> Issue:
        """An issue at the item (or at one of its keys)."""
        return self.doc.issue(self.keys + more, message)


@dataclass(frozen=True)
class DbtMeasure:
    """One measure as written: its DSI object, or None when DSI and DataTruth do not know its aggregation."""

    source: Source
    name: str
    agg: str  # lower-cased, as written
    measure: PydanticMeasure | None


@dataclass(frozen=True)
class DbtModel:
    """A dbt semantic model as a DSI object (None when it cannot be read: `problem` says why), with its parts."""

    source: Source
    model: PydanticSemanticModel | None
    problem: str = ""
    entities: tuple[tuple[Source, PydanticEntity], ...] = ()
    dimensions: tuple[tuple[Source, PydanticDimension], ...] = ()
    measures: tuple[DbtMeasure, ...] = ()


@dataclass(frozen=True)
class DbtMetric:
    """A dbt metric as a DSI object (None when it cannot be read: `problem` says why)."""

    source: Source
    metric: PydanticMetric | None
    problem: str = ""


@dataclass(frozen=True)
class ParsedProject:
    """Every semantic model and metric of a read project, in the project's order."""

    models: tuple[DbtModel, ...]
    metrics: tuple[DbtMetric, ...]


def parse_project(project: DbtProject, ref_map: Mapping[str, str]) -> ParsedProject:
    """Every item of the project's files as a DSI object (the files were checked for shape by `read.py`)."""
    models = []
    metrics = []
    for doc in project.docs:
        for i, raw in enumerate(doc.data.get("semantic_models") or []):
            models.append(parse_model(raw, Source(doc, ("semantic_models", i), frozenset(raw)), ref_map))
        for i, raw in enumerate(doc.data.get("metrics") or []):
            metrics.append(parse_metric(raw, Source(doc, ("metrics", i), frozenset(raw))))
    return ParsedProject(tuple(models), tuple(metrics))


def filter_templates(where: PydanticWhereFilterIntersection | None) -> tuple[str, ...]:
    """The SQL templates of a DSI filter (each may hold `{{ Dimension(...) }}` calls)."""
    return tuple(f.where_sql_template for f in where.where_filters) if where is not None else ()


# -- semantic models ------------------------------------------------------------------------------------------


def parse_model(raw: Mapping[str, Any], source: Source, ref_map: Mapping[str, str]) -> DbtModel:
    """One `semantic_models:` item as a PydanticSemanticModel whose node relation is the resolved ref."""
    try:
        table = table_of(raw.get("model"), ref_map)
    except Unsupported as err:
        return DbtModel(source, None, str(err))
    data: dict[str, Any] = {k: v for k, v in raw.items() if k not in ("model", "node_relation")}
    data["node_relation"] = {"alias": table, "schema_name": _SCHEMA, "relation_name": table}
    parts = {kind: _parts(raw, source, kind) for kind in ("entities", "dimensions", "measures")}
    data["entities"] = [_entity_input(item) for _s, item in parts["entities"]]
    data["dimensions"] = [_dimension_input(item) for _s, item in parts["dimensions"]]
    slots = [(s, item, str(item.get("agg", "sum")).lower()) for s, item in parts["measures"]]
    data["measures"] = [dict(item, agg=_DSI_AGGS[agg]) for _s, item, agg in slots if agg in _DSI_AGGS]
    try:
        model = PydanticSemanticModel.parse_obj(data)
    except (ValueError, ParsingException) as err:
        return DbtModel(source, None, f"model '{str(raw.get('name', '')).strip()}': {_dsi_problem(err)}")
    known = iter(model.measures)
    measures = tuple(
        DbtMeasure(s, str(item["name"]).strip(), agg, next(known) if agg in _DSI_AGGS else None)
        for s, item, agg in slots
    )
    return DbtModel(
        source,
        model,
        entities=tuple((s, e) for (s, _i), e in zip(parts["entities"], model.entities, strict=True)),
        dimensions=tuple((s, d) for (s, _i), d in zip(parts["dimensions"], model.dimensions, strict=True)),
        measures=measures,
    )


def _parts(raw: Mapping[str, Any], source: Source, kind: str) -> list[tuple[Source, Mapping[str, Any]]]:
    """The items of one list of a model, each with its own source."""
    return [
        (Source(source.doc, source.keys + (kind, i), frozenset(item)), item)
        for i, item in enumerate(raw.get(kind) or [])
    ]


def _entity_input(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {**raw, "type": raw.get("type", "foreign")}


def _dimension_input(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The dimension as DSI reads it: a grain written beside `type_params` moves into it."""
    data = {k: v for k, v in raw.items() if k != "time_granularity"}
    data["type"] = raw.get("type", "categorical")
    params = dict(raw.get("type_params") or {})
    grain = params.get("time_granularity") or raw.get("time_granularity")
    if grain:
        params["time_granularity"] = grain
    elif params:
        params["time_granularity"] = "day"  # DSI needs a grain once type_params are given; day is the default
    data["type_params"] = params or None
    return data


# -- metrics --------------------------------------------------------------------------------------------------


def parse_metric(raw: Mapping[str, Any], source: Source) -> DbtMetric:
    """One `metrics:` item as a PydanticMetric (a top-level `cumulative_type_params` moves into type_params)."""
    name = str(raw.get("name", "")).strip()
    kind = str(raw.get("type", "simple")).lower()
    if kind not in METRIC_TYPES:
        return DbtMetric(source, None, f"metric '{name}': type '{kind}' is not supported")
    data: dict[str, Any] = {k: v for k, v in raw.items() if k != "cumulative_type_params"}
    data["type"] = kind
    params = dict(raw.get("type_params") or {})
    cumulative = {**(raw.get("cumulative_type_params") or {}), **(params.get("cumulative_type_params") or {})}
    if cumulative:
        params["cumulative_type_params"] = cumulative
    # a metric input written as a bare name (dbt-core turns it into `{name: ...}` before DSI reads it)
    for side in ("numerator", "denominator"):
        if params.get(side) is not None:
            params[side] = _metric_input(params[side])
    if isinstance(params.get("metrics"), list):
        params["metrics"] = [_metric_input(m) for m in params["metrics"]]
    data["type_params"] = params
    try:
        return DbtMetric(source, PydanticMetric.parse_obj(data))
    except (ValueError, ParsingException) as err:
        return DbtMetric(source, None, f"metric '{name}': {_dsi_problem(err)}")


def _metric_input(value: Any) -> Any:
    return value if isinstance(value, Mapping) else {"name": str(value)}


def _dsi_problem(err: Exception) -> str:
    """A DSI parse error in one line: where in the item and what."""
    errors = getattr(err, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "__root__")
        return f"dbt-semantic-interfaces cannot read it ({where}: {first.get('msg', '')})"
    return f"dbt-semantic-interfaces cannot read it ({str(err).splitlines()[0]})"
