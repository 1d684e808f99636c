"""One dbt semantic model as a DataTruth model: table, entities, dimensions, measures, `create_metric` metrics.

Pure conversion: each function reads the dbt-semantic-interfaces objects of a parsed model (`parse.py`) and
appends what it cannot carry over to `notes`, at the file and line the item came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dbt_semantic_interfaces.implementations.elements.dimension import PydanticDimension
from dbt_semantic_interfaces.implementations.elements.entity import PydanticEntity
from dbt_semantic_interfaces.implementations.elements.measure import PydanticMeasure

from datatruth.semantic.dbt.expressions import Unsupported, portable_sql
from datatruth.semantic.dbt.parse import DbtMeasure, DbtModel, Source
from datatruth.semantic.units import unit_from_name
from datatruth.yamlsource import Issue

_AGGS = {
    "sum": "sum",
    "max": "max",
    "min": "min",
    "count": "count",
    "count_distinct": "count_distinct",
    "average": "avg",
    "avg": "avg",
    "median": "median",
    "percentile": "percentile",
    "sum_boolean": "sum",
}
_MODEL_DROPPED = ("meta", "config", "label", "node_relation")
_DIMENSION_DROPPED = ("is_partition", "meta", "config", "validity_params")


@dataclass(frozen=True)
class ConvertedModel:
    """A converted model, the metrics its `create_metric` measures ask for, and the lines its items came from."""

    model: dict[str, Any]
    created_metrics: tuple[dict[str, Any], ...]
    origins: Mapping[tuple[str, str], int | None]  # (model, entity or dimension name) → line in the dbt file


def convert_model(item: DbtModel, dialect: str, notes: list[Issue]) -> ConvertedModel:
    """A parsed dbt semantic model as DataTruth plain data (raises Unsupported when it cannot be carried over)."""
    dbt = item.model
    if dbt is None:
        raise Unsupported(item.problem)
    name = dbt.name.strip()
    out: dict[str, Any] = {"name": name, "table": dbt.node_relation.alias}
    if dbt.description:
        out["description"] = dbt.description.strip()
    if dbt.defaults is not None and dbt.defaults.agg_time_dimension:
        out["defaults"] = {"agg_time_dimension": dbt.defaults.agg_time_dimension}
    for key in _MODEL_DROPPED:
        if key in item.source.written:
            notes.append(item.source.issue(f"model '{name}': '{key}' is not carried over", key))
    entities = [_entity(ent, where, dialect, notes) for where, ent in item.entities]
    dims = [_dimension(dim, where, dialect, notes) for where, dim in item.dimensions]
    measures = []
    created = []
    for slot in item.measures:
        converted = _measure(slot, dialect, notes)
        if converted is None:
            continue
        measures.append(converted)
        if slot.measure is not None and slot.measure.create_metric:
            created.append(_created_metric(slot.measure))
    for key, items in (("entities", entities), ("dimensions", dims), ("measures", measures)):
        if items:
            out[key] = items
    return ConvertedModel(out, tuple(created), _origins(name, item))


def _origins(name: str, item: DbtModel) -> dict[tuple[str, str], int | None]:
    out: dict[tuple[str, str], int | None] = {}
    for where, part in (*item.entities, *item.dimensions):
        out.setdefault((name, part.name.strip()), where.line())
    return out


def _entity(ent: PydanticEntity, where: Source, dialect: str, notes: list[Issue]) -> dict[str, Any]:
    item: dict[str, Any] = {"name": ent.name.strip(), "type": ent.type.value}
    if ent.expr is not None:
        item["expr"] = portable_sql(ent.expr, dialect)
    if ent.description:
        item["description"] = ent.description.strip()
    if ent.role:
        notes.append(where.issue("entity 'role' is not carried over", "role"))
    return item


def _dimension(dim: PydanticDimension, where: Source, dialect: str, notes: list[Issue]) -> dict[str, Any]:
    kind = dim.type.value
    item: dict[str, Any] = {"name": dim.name.strip(), "type": kind}
    if dim.expr is not None:
        item["expr"] = portable_sql(dim.expr, dialect)
    grain = dim.type_params.time_granularity.value if dim.type_params is not None else None
    if kind == "time":
        item["time_granularity"] = str(grain or "day").lower()
    elif unit_from_name(item["name"]):
        # dbt has no units; a name ending in _miles or _minutes says it ("10 miles from the fire station")
        item["unit"] = unit_from_name(item["name"])
    _copy_texts(dim.label, dim.description, item)
    for key in _DIMENSION_DROPPED:
        if key in where.written:
            notes.append(where.issue(f"dimension '{item['name']}': '{key}' is not carried over", key))
    return item


def _measure(slot: DbtMeasure, dialect: str, notes: list[Issue]) -> dict[str, Any] | None:
    """The measure, or None (noted) when its aggregation has no DataTruth equivalent."""
    name, agg, mea = slot.name, slot.agg, slot.measure
    if mea is None or agg not in _AGGS:
        notes.append(
            slot.source.issue(
                f"measure '{name}': aggregation '{agg}' is not supported; measure skipped", "agg"
            )
        )
        return None
    item: dict[str, Any] = {"name": name, "agg": _AGGS[agg]}
    if mea.expr is not None:
        item["expr"] = portable_sql(mea.expr, dialect)
    if agg == "sum_boolean":
        item["expr"] = f"CASE WHEN {item.get('expr', name)} THEN 1 ELSE 0 END"
    if agg == "percentile":
        params = mea.agg_params
        percentile = params.percentile if params is not None else None
        item["percentile"] = float(percentile if percentile is not None else 0.5)
        if params is not None and params.use_discrete_percentile:
            notes.append(slot.source.issue(f"measure '{name}': discrete percentile becomes a continuous one"))
    if mea.agg_time_dimension:
        item["agg_time_dimension"] = mea.agg_time_dimension
    _copy_texts(mea.label, mea.description, item)
    if mea.non_additive_dimension:
        notes.append(
            slot.source.issue(
                f"measure '{name}': non_additive_dimension is not supported; the measure is summed "
                "over every row",
                "non_additive_dimension",
            )
        )
    return item


def _created_metric(mea: PydanticMeasure) -> dict[str, Any]:
    """The simple metric a `create_metric: true` measure stands for."""
    name = mea.name.strip()
    metric: dict[str, Any] = {"name": name, "type": "simple", "measure": name}
    _copy_texts(mea.label, mea.description, metric)
    return metric


def _copy_texts(label: str | None, description: str | None, item: dict[str, Any]) -> None:
    for key, text in (("label", label), ("description", description)):
        if text:
            item[key] = text.strip()
