"""dbt metrics as DataTruth metrics: simple/cumulative/ratio/derived, filtered inputs, and implied metrics.

Pure conversion over a Catalog of the converted models; nothing here reads files or a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlglot
from sqlglot import exp

from datatruth.semantic.dbt.expressions import Unsupported, portable_sql
from datatruth.semantic.dbt.filters import Catalog, ModelInfo, translate_filter
from datatruth.yamlsource import Issue

_METRIC_TYPES = ("simple", "ratio", "derived", "cumulative")

Placed = tuple[str, dict[str, Any]]  # (dbt file, metric): the file a metric is written to


def convert_metric(raw: Mapping[str, Any], catalog: Catalog) -> dict[str, Any]:
    """A dbt metric as DataTruth plain data; ratio/derived inputs are finished later (`finish_composite`)."""
    name = str(raw.get("name", "")).strip()
    kind = str(raw.get("type", "simple")).lower()
    if kind not in _METRIC_TYPES:
        raise Unsupported(f"metric '{name}': type '{kind}' is not supported")
    params = dict(raw.get("type_params") or {})
    params.update(raw.get("cumulative_type_params") or {})
    params.update((raw.get("type_params") or {}).get("cumulative_type_params") or {})
    out: dict[str, Any] = {"name": name, "type": kind}
    for key in ("label", "description"):
        if raw.get(key):
            out[key] = str(raw[key]).strip()
    if kind in ("simple", "cumulative"):
        out.update(_measure_metric(name, kind, params, raw.get("filter"), catalog))
    elif kind == "ratio":
        out["numerator"] = params.get("numerator")
        out["denominator"] = params.get("denominator")
    else:
        out["expr"] = portable_sql(params.get("expr", ""), catalog.dialect)
        out["metrics"] = list(params.get("metrics") or [])
    return out


def _measure_metric(
    name: str, kind: str, params: Mapping[str, Any], raw_filter: Any, catalog: Catalog
) -> dict[str, Any]:
    """The measure, filter and window of a simple or cumulative metric."""
    measure, measure_filter, _alias = input_parts(params.get("measure"))
    if measure not in catalog.measures:
        raise Unsupported(f"metric '{name}': measure '{measure}' is not defined")
    out: dict[str, Any] = {"measure": measure}
    filters = [f for f in (raw_filter, measure_filter) if f]
    if filters:
        out["filter"] = translate_filter(filters, catalog.measures[measure], catalog)
    if kind == "cumulative":
        if params.get("window"):
            out["window"] = str(params["window"])
        if params.get("grain_to_date"):
            out["grain_to_date"] = str(params["grain_to_date"]).lower()
    return out


def input_parts(value: Any) -> tuple[str, Any, str | None]:
    """A metric input written as a name or as `{name, filter, alias}`, as (name, filter, alias)."""
    if isinstance(value, Mapping):
        return str(value.get("name", "")), value.get("filter"), value.get("alias")
    return str(value), None, None


# -- ratio and derived inputs ------------------------------------------------------------------------------


def finish_composite(
    metric: dict[str, Any], by_name: Mapping[str, dict[str, Any]], raw_filter: Any, catalog: Catalog
) -> list[dict[str, Any]]:
    """A ratio or derived metric with its inputs resolved, preceded by any helper metric it needs."""
    if metric["type"] == "ratio":
        return _finish_ratio(metric, by_name, raw_filter, catalog)
    if metric["type"] == "derived":
        inputs = [_derived_input(v, by_name, raw_filter, catalog) for v in metric["metrics"]]
        return [dict(metric, metrics=inputs)]
    return [metric]


def _finish_ratio(
    metric: dict[str, Any], by_name: Mapping[str, dict[str, Any]], raw_filter: Any, catalog: Catalog
) -> list[dict[str, Any]]:
    """Plain inputs stay; a filtered input becomes a helper metric (a ratio's inputs carry no filter)."""
    helpers = []
    finished = dict(metric)
    for side in ("numerator", "denominator"):
        input_name, input_filter, _alias = input_parts(metric[side])
        wanted = [f for f in (input_filter, raw_filter) if f]
        if wanted:
            helper = _helper_metric(metric["name"], side, by_name.get(input_name), wanted, catalog)
            helpers.append(helper)
            input_name = helper["name"]
        finished[side] = input_name
    return helpers + [finished]


def _helper_metric(
    ratio: str, side: str, base: Mapping[str, Any] | None, wanted: list[Any], catalog: Catalog
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
    value: Any, by_name: Mapping[str, Mapping[str, Any]], raw_filter: Any, catalog: Catalog
) -> Any:
    """One input of a derived metric: its name, or a mapping when it has an alias, offset or filter."""
    input_name, input_filter, alias = input_parts(value)
    item: dict[str, Any] = {"name": input_name}
    if alias:
        item["alias"] = str(alias)
    options = value if isinstance(value, Mapping) else {}
    if options.get("offset_window"):
        item["offset_window"] = str(options["offset_window"])
    if options.get("offset_to_grain"):
        raise Unsupported("offset_to_grain is not supported")
    wanted = [f for f in (input_filter, raw_filter) if f]
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
