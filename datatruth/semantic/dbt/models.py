"""One dbt semantic model as a DataTruth model: table, entities, dimensions, measures, `create_metric` metrics.

Pure conversion: each function reads the dbt mapping and appends what it cannot carry over to `notes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from datatruth.semantic.dbt.expressions import portable_sql, table_of
from datatruth.semantic.units import unit_from_name
from datatruth.yamlsource import Issue, KeyPath, YamlDoc

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


@dataclass(frozen=True)
class _Where:
    """Where in which dbt file an item sits, to place notes."""

    doc: YamlDoc
    keys: KeyPath

    def note(self, notes: list[Issue], message: str, *more: str | int) -> None:
        notes.append(self.doc.issue(self.keys + more, message))


def convert_model(
    raw: Mapping[str, Any],
    doc: YamlDoc,
    keys: KeyPath,
    ref_map: Mapping[str, str],
    dialect: str,
    notes: list[Issue],
) -> ConvertedModel:
    """A dbt semantic model as DataTruth plain data (raises Unsupported when it cannot be carried over)."""
    where = _Where(doc, keys)
    name = str(raw.get("name", "")).strip()
    out: dict[str, Any] = {"name": name, "table": table_of(raw.get("model"), ref_map)}
    if raw.get("description"):
        out["description"] = str(raw["description"]).strip()
    defaults = raw.get("defaults") or {}
    if defaults.get("agg_time_dimension"):
        out["defaults"] = {"agg_time_dimension": str(defaults["agg_time_dimension"])}
    for key in _MODEL_DROPPED:
        if key in raw:
            where.note(notes, f"model '{name}': '{key}' is not carried over", key)
    entities = [
        _entity(ent, _Where(doc, keys + ("entities", i)), dialect, notes)
        for i, ent in enumerate(raw.get("entities") or [])
    ]
    dims = [
        _dimension(dim, _Where(doc, keys + ("dimensions", i)), dialect, notes)
        for i, dim in enumerate(raw.get("dimensions") or [])
    ]
    measures = []
    created = []
    for i, mea in enumerate(raw.get("measures") or []):
        item = _measure(mea, _Where(doc, keys + ("measures", i)), dialect, notes)
        if item is None:
            continue
        measures.append(item)
        if mea.get("create_metric"):
            created.append(_created_metric(mea))
    for key, items in (("entities", entities), ("dimensions", dims), ("measures", measures)):
        if items:
            out[key] = items
    return ConvertedModel(out, tuple(created), _origins(name, raw, doc, keys))


def _origins(
    name: str, raw: Mapping[str, Any], doc: YamlDoc, keys: KeyPath
) -> dict[tuple[str, str], int | None]:
    out: dict[tuple[str, str], int | None] = {}
    for kind in ("entities", "dimensions"):
        for i, item in enumerate(raw.get(kind) or []):
            out.setdefault((name, str(item["name"]).strip()), doc.line(*keys, kind, i))
    return out


def _entity(ent: Mapping[str, Any], where: _Where, dialect: str, notes: list[Issue]) -> dict[str, Any]:
    item: dict[str, Any] = {"name": str(ent["name"]).strip(), "type": str(ent.get("type", "foreign")).lower()}
    if ent.get("expr") is not None:
        item["expr"] = portable_sql(ent["expr"], dialect)
    if ent.get("description"):
        item["description"] = str(ent["description"]).strip()
    if ent.get("role"):
        where.note(notes, "entity 'role' is not carried over", "role")
    return item


def _dimension(dim: Mapping[str, Any], where: _Where, dialect: str, notes: list[Issue]) -> dict[str, Any]:
    kind = str(dim.get("type", "categorical")).lower()
    item: dict[str, Any] = {"name": str(dim["name"]).strip(), "type": kind}
    if dim.get("expr") is not None:
        item["expr"] = portable_sql(dim["expr"], dialect)
    grain = (dim.get("type_params") or {}).get("time_granularity") or dim.get("time_granularity")
    if kind == "time":
        item["time_granularity"] = str(grain or "day").lower()
    elif unit_from_name(item["name"]):
        # dbt has no units; a name ending in _miles or _minutes says it ("10 miles from the fire station")
        item["unit"] = unit_from_name(item["name"])
    _copy_texts(dim, item)
    for key in _DIMENSION_DROPPED:
        if key in dim:
            where.note(notes, f"dimension '{item['name']}': '{key}' is not carried over", key)
    return item


def _measure(
    mea: Mapping[str, Any], where: _Where, dialect: str, notes: list[Issue]
) -> dict[str, Any] | None:
    """The measure, or None (noted) when its aggregation has no DataTruth equivalent."""
    name = str(mea["name"]).strip()
    agg = str(mea.get("agg", "sum")).lower()
    if agg not in _AGGS:
        where.note(notes, f"measure '{name}': aggregation '{agg}' is not supported; measure skipped", "agg")
        return None
    item: dict[str, Any] = {"name": name, "agg": _AGGS[agg]}
    if mea.get("expr") is not None:
        item["expr"] = portable_sql(mea["expr"], dialect)
    if agg == "sum_boolean":
        item["expr"] = f"CASE WHEN {item.get('expr', name)} THEN 1 ELSE 0 END"
    if agg == "percentile":
        params = mea.get("agg_params") or {}
        item["percentile"] = float(params.get("percentile", 0.5))
        if params.get("use_discrete_percentile"):
            where.note(notes, f"measure '{name}': discrete percentile becomes a continuous one")
    if mea.get("agg_time_dimension"):
        item["agg_time_dimension"] = str(mea["agg_time_dimension"])
    _copy_texts(mea, item)
    if mea.get("non_additive_dimension"):
        where.note(
            notes,
            f"measure '{name}': non_additive_dimension is not supported; the measure is summed "
            "over every row",
            "non_additive_dimension",
        )
    return item


def _created_metric(mea: Mapping[str, Any]) -> dict[str, Any]:
    """The simple metric a `create_metric: true` measure stands for."""
    name = str(mea["name"]).strip()
    metric: dict[str, Any] = {"name": name, "type": "simple", "measure": name}
    _copy_texts(mea, metric)
    return metric


def _copy_texts(raw: Mapping[str, Any], item: dict[str, Any]) -> None:
    for key in ("label", "description"):
        if raw.get(key):
            item[key] = str(raw[key]).strip()
