"""dbt metrics as DataTruth metrics: simple/cumulative/ratio/derived, filtered inputs, and implied metrics.

Pure conversion of dbt-semantic-interfaces metrics (`parse.py`) over a Catalog of the converted models;
nothing here reads files or a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlglot
from dbt_semantic_interfaces.implementations.metric import (
    PydanticMetric,
    PydanticMetricInput,
    PydanticMetricInputMeasure,
    PydanticMetricTypeParams,
)
from sqlglot import exp

from datatruth.semantic.dbt.expressions import Unsupported, portable_sql
from datatruth.semantic.dbt.filters import Catalog, ModelInfo, translate_filter
from datatruth.semantic.dbt.parse import METRIC_TYPES, filter_templates
from datatruth.yamlsource import Issue

Placed = tuple[str, dict[str, Any]]  # (dbt file, metric): the file a metric is written to


def convert_metric(dbt: PydanticMetric, catalog: Catalog) -> dict[str, Any]:
    """A dbt metric as DataTruth plain data; ratio/derived inputs are finished later (`finish_composite`)."""
    name = dbt.name.strip()
    kind = dbt.type.value
    if kind not in METRIC_TYPES:
        raise Unsupported(f"metric '{name}': type '{kind}' is not supported")
    out: dict[str, Any] = {"name": name, "type": kind}
    for key, text in (("label", dbt.label), ("description", dbt.description)):
        if text:
            out[key] = text.strip()
    params = dbt.type_params
    if kind in ("simple", "cumulative"):
        out.update(_measure_metric(name, kind, params, filter_templates(dbt.filter), catalog))
    elif kind == "ratio":
        out["numerator"] = input_parts(params.numerator)[0]
        out["denominator"] = input_parts(params.denominator)[0]
    else:
        out["expr"] = portable_sql(params.expr or "", catalog.dialect)
        out["metrics"] = [input_parts(m)[0] for m in params.metrics or []]
    return out


def _measure_metric(
    name: str, kind: str, params: PydanticMetricTypeParams, metric_filter: tuple[str, ...], catalog: Catalog
) -> dict[str, Any]:
    """The measure, filter and window of a simple or cumulative metric."""
    measure, measure_filter, _alias = input_parts(params.measure)
    if measure not in catalog.measures:
        raise Unsupported(f"metric '{name}': measure '{measure}' is not defined")
    out: dict[str, Any] = {"measure": measure}
    filters = [*metric_filter, *measure_filter]
    if filters:
        out["filter"] = translate_filter(filters, catalog.measures[measure], catalog)
    if kind == "cumulative":
        # a cumulative_type_params value wins over the older one written directly in type_params
        cumulative = params.cumulative_type_params
        window = (
            cumulative.window if cumulative is not None and cumulative.window is not None else params.window
        )
        if window is not None:
            out["window"] = window.window_string
        grain = cumulative.grain_to_date if cumulative is not None else None
        if grain is None and params.grain_to_date is not None:
            grain = params.grain_to_date.value
        if grain:
            out["grain_to_date"] = str(grain).lower()
    return out


def input_parts(
    value: PydanticMetricInput | PydanticMetricInputMeasure | None,
) -> tuple[str, tuple[str, ...], str | None]:
    """A metric's input (a metric or a measure, with an optional filter and alias) as (name, filter, alias)."""
    if value is None:
        return "None", (), None
    return value.name, filter_templates(value.filter), value.alias


# -- ratio and derived inputs ------------------------------------------------------------------------------


def finish_composite(
    metric: dict[str, Any],
    by_name: Mapping[str, dict[str, Any]],
    dbt: PydanticMetric | None,
    catalog: Catalog,
) -> list[dict[str, Any]]:
    """A ratio or derived metric with its inputs resolved from its dbt metric, preceded by any helper metric."""
    if dbt is None or metric["type"] not in ("ratio", "derived"):
        return [metric]
    metric_filter = filter_templates(dbt.filter)
    if metric["type"] == "ratio":
        return _finish_ratio(metric, by_name, dbt.type_params, metric_filter, catalog)
    inputs = [_derived_input(v, by_name, metric_filter, catalog) for v in dbt.type_params.metrics or []]
    return [dict(metric, metrics=inputs)]


def _finish_ratio(
    metric: dict[str, Any],
    by_name: Mapping[str, dict[str, Any]],
    params: PydanticMetricTypeParams,
    metric_filter: tuple[str, ...],
    catalog: Catalog,
) -> list[dict[str, Any]]:
    """Plain inputs stay; a filtered input becomes a helper metric (a ratio's inputs carry no filter)."""
    helpers = []
    finished = dict(metric)
    for side, value in (("numerator", params.numerator), ("denominator", params.denominator)):
        input_name, input_filter, _alias = input_parts(value)
        wanted = [*input_filter, *metric_filter]
        if wanted:
            helper = _helper_metric(metric["name"], side, by_name.get(input_name), wanted, catalog)
            helpers.append(helper)
            input_name = helper["name"]
        finished[side] = input_name
    return helpers + [finished]


def _helper_metric(
    ratio: str, side: str, base: Mapping[str, Any] | None, wanted: list[str], catalog: Catalog
) -> dict[str, Any]:
    if base is None or base["type"] != "simple":
        raise Unsupported(f"a filtered {side} must be a simple metric")
    helper = dict(
        base, name=f"{ratio}_{side}", description=f"{side.title()} of {ratio} (a filtered input, from dbt)"
    )
    helper.pop("label", None)
    filters = ([base["filter"]] if base.get("filter") else []) + [
        translate_filter(wanted, catalog.measures[base["measure"]], catalog)
    ]
    helper["filter"] = " AND ".join(f"({f})" for f in filters) if len(filters) > 1 else filters[0]
    return helper


def _derived_input(
    value: PydanticMetricInput,
    by_name: Mapping[str, Mapping[str, Any]],
    metric_filter: tuple[str, ...],
    catalog: Catalog,
) -> Any:
    """One input of a derived metric: its name, or a mapping when it has an alias, offset or filter."""
    input_name, input_filter, alias = input_parts(value)
    item: dict[str, Any] = {"name": input_name}
    if alias:
        item["alias"] = str(alias)
    if value.offset_window is not None:
        item["offset_window"] = value.offset_window.window_string
    if value.offset_to_grain:
        raise Unsupported("offset_to_grain is not supported")
    wanted = [*input_filter, *metric_filter]
    if wanted:
        item["filter"] = translate_filter(wanted, _metric_model(input_name, by_name, catalog), catalog)
    return item if len(item) > 1 else input_name


def _metric_model(name: str, metrics: Mapping[str, Mapping[str, Any]], catalog: Catalog) -> str:
    """The model a (simple/cumulative) metric's measure lives on, for filters placed on it."""
    raw = metrics.get(name)
    if raw is None:
        raise Unsupported(f"metric '{name}' is not defined")
    measure = raw.get("measure")
    if measure is None or measure not in catalog.measures:
        raise Unsupported(f"a filter on metric '{name}' needs it to be a simple metric over a known measure")
    return catalog.measures[measure]


# -- metrics the dbt project implies --------------------------------------------------------------------------


def implied_metrics(placed: tuple[Placed, ...], catalog: Catalog, notes: list[Issue]) -> list[Placed]:
    """Subset metrics, then one plain simple metric for every measure no unfiltered simple metric reads."""
    taken = {m["name"] for _f, m in placed}
    simple = {(m["measure"], m.get("filter", "")) for _f, m in placed if m["type"] == "simple"}
    out = _subset_metrics(taken, simple, catalog, notes)
    for measure, model in catalog.measures.items():
        if (measure, "") in simple:
            continue
        name = measure if measure not in taken else f"{model}_{measure}"
        if name in taken:
            notes.append(
                Issue(
                    catalog.files[model],
                    None,
                    f"measure '{measure}': no metric made for it, the names "
                    f"'{measure}' and '{name}' are taken",
                )
            )
            continue
        out.append((catalog.files[model], {"name": name, "type": "simple", "measure": measure}))
        taken.add(name)
    return out


def _constant_flag(info: ModelInfo) -> tuple[str, str] | None:
    """The first categorical dimension whose expression is a constant (a `has_x: "1"` marker), as (name, SQL)."""
    for name, (kind, expr) in info.dimensions.items():
        if kind != "categorical":
            continue
        try:
            tree = sqlglot.parse_one(expr)
        except sqlglot.errors.ParseError:
            continue
        if isinstance(tree, exp.Literal | exp.Boolean):
            return name, tree.sql()
    return None


def _subset_markers(
    catalog: Catalog, measures_of: Mapping[str, list[str]]
) -> list[tuple[ModelInfo, str, tuple]]:
    """Models without measures that have one primary entity and a constant flag: (model, entity, flag)."""
    out = []
    for marker in catalog.models.values():
        primaries = [n for n, (t, _) in marker.entities.items() if t == "primary"]
        flag = _constant_flag(marker)
        if marker.name not in measures_of and len(primaries) == 1 and flag is not None:
            out.append((marker, primaries[0], flag))
    return out


def _subset_metrics(
    taken: set[str], simple: set[tuple[str, str]], catalog: Catalog, notes: list[Issue]
) -> list[Placed]:
    """Metrics over a subtype table: a model with no measures that shares the primary entity of a model with
    measures and carries a constant flag dimension marks a subset of that model's rows (dbt projects filter
    a measure on `{{ Dimension('entity__has_x') }} = 1` for it). Each base measure gets that filtered metric,
    unless the project already defines it."""
    measures_of: dict[str, list[str]] = {}
    for measure, model in catalog.measures.items():
        measures_of.setdefault(model, []).append(measure)
    out: list[Placed] = []
    for marker, entity, flag in _subset_markers(catalog, measures_of):
        for base in catalog.models.values():
            if (
                base.name != marker.name
                and base.name in measures_of
                and base.entities.get(entity, ("", ""))[0] == "primary"
            ):
                out += _subset_of(
                    marker, base, entity, flag, measures_of[base.name], taken, simple, catalog, notes
                )
    return out


def _subset_of(
    marker: ModelInfo,
    base: ModelInfo,
    entity: str,
    flag: tuple[str, str],
    measures: list[str],
    taken: set[str],
    simple: set[tuple[str, str]],
    catalog: Catalog,
    notes: list[Issue],
) -> list[Placed]:
    """The subset metrics `marker` implies over `base`'s measures (`taken` and `simple` are updated)."""
    file = catalog.files[marker.name]
    try:
        condition = translate_filter(
            f"{{{{ Dimension('{entity}__{flag[0]}') }}}} = {flag[1]}", base.name, catalog
        )
    except Unsupported as err:
        notes.append(Issue(file, None, f"model '{marker.name}': no subset metric: {err}"))
        return []
    several = len(measures) > 1
    out: list[Placed] = []
    for measure in measures:
        if (measure, condition) in simple:
            continue  # the project defines this metric itself
        name = f"{marker.name}_{measure}" if several or marker.name in taken else marker.name
        if name in taken:
            continue
        label = marker.name.replace("_", " ").title() + (f" ({measure.replace('_', ' ')})" if several else "")
        out.append(
            (
                file,
                {
                    "name": name,
                    "type": "simple",
                    "measure": measure,
                    "filter": condition,
                    "label": label,
                    "description": f"{measure} over the {base.name} rows that also have a row in {marker.name} "
                    f"({flag[0]} = {flag[1]}); implied by the dbt project's subset model",
                },
            )
        )
        taken.add(name)
        simple.add((measure, condition))
    return out
