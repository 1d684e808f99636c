"""Import a dbt MetricFlow project (`semantic_models:` / `metrics:` YAML) into DataTruth's semantic format.

The import is a list of named stages: read the dbt YAML → convert models (refs → tables, aggregations,
`create_metric` measures) → convert metrics (filters' Jinja → portable SQL, derived inputs) → add the metrics
the project implies (subset models, measures no metric reads) → render YAML files for review.
`create_from_dbt` adds: load the seed CSVs into a new DuckDB workspace, repair column types the seeds leave
unknown (all-empty columns), so every imported metric compiles and runs, and split role tables whose
"primary" key repeats in the data. docs/semantic_format.md ("Importing from dbt MetricFlow") has the rules.
Anything that cannot be carried over is reported as a note with its file and line, never dropped silently.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import exp

from datatruth.errors import ConfigError, UserError
from datatruth.semantic.units import unit_from_name
from datatruth.settings import Settings, load_settings
from datatruth.workspace.load_files import LoadReport, Progress
from datatruth.yamlsource import Issue, YamlDoc, load_yaml

# Jinja in dbt filters is templating, not SQL: it is replaced by placeholder columns before sqlglot parses.
_JINJA_RE = re.compile(r"\{\{\s*(Dimension|TimeDimension|Entity|Metric)\s*\(([^)]*)\)\s*"
                       r"(?:\.grain\(\s*['\"](\w+)['\"]\s*\))?\s*\}\}")
_ARG_RE = re.compile(r"['\"]([^'\"]*)['\"]")
_REF_RE = re.compile(r"^\s*ref\(\s*['\"]([^'\"]+)['\"](?:\s*,\s*['\"]([^'\"]+)['\"])?\s*(?:,[^)]*)?\)\s*$")
_SOURCE_RE = re.compile(r"^\s*source\(\s*['\"]([^'\"]+)['\"]\s*,\s*['\"]([^'\"]+)['\"]\s*\)\s*$")
_PLACEHOLDER = "dt_ref_{}"
_AGGS = {"sum": "sum", "max": "max", "min": "min", "count": "count", "count_distinct": "count_distinct",
         "average": "avg", "avg": "avg", "median": "median", "percentile": "percentile", "sum_boolean": "sum"}
_MODEL_DROPPED = ("meta", "config", "label", "node_relation")
_DIMENSION_DROPPED = ("is_partition", "meta", "config", "validity_params")
_METRIC_TYPES = ("simple", "ratio", "derived", "cumulative")


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

    def as_texts(self) -> dict[str, str]:
        """File name → YAML text (the shape the semantic version store keeps)."""
        return {f.name: f.text() for f in self.files}

    def metric_names(self) -> tuple[str, ...]:
        """Every metric the import produced."""
        return tuple(m["name"] for f in self.files for m in f.content.get("metrics", []))


@dataclass(frozen=True)
class _ModelInfo:
    """What filter translation needs to know about a converted model."""

    name: str
    table: str
    prefix: str
    entities: dict[str, tuple[str, str]]  # name → (type, expr)
    dimensions: dict[str, tuple[str, str]]  # name → (type, expr)
    agg_time_dimension: str | None = None


@dataclass(frozen=True)
class _Context:
    """Shared state of one import: models by name and by dbt prefix, dialect, notes sink."""

    models: dict[str, _ModelInfo]
    measures: dict[str, str]  # measure → model name, in the project's order
    dialect: str
    notes: list[Issue] = field(default_factory=list)
    model_files: list[tuple[str, str]] = field(default_factory=list)  # (file, model name)


class _Unsupported(Exception):
    """A construct that cannot be carried over; becomes a note and the item is skipped."""


# -- stage 1: read -----------------------------------------------------------------------------------------

def load_ref_map(source: str | Path | Mapping[str, str] | None) -> dict[str, str]:
    """A ref map (dbt ref name → table) from a mapping or a YAML file of `name: table` lines."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return {str(k): str(v) for k, v in source.items()}
    doc = load_yaml(source)
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise ConfigError(f"{source} must map dbt ref names to table names", "write lines like `fire_claim: fireclaim`",
                          [doc.issue((), "top level is not a mapping")])
    return {str(k): str(v) for k, v in doc.data.items()}


def _read_project(dbt_dir: Path) -> list[YamlDoc]:
    """Every YAML file under the folder that declares semantic_models or metrics (sorted by path)."""
    if not dbt_dir.is_dir():
        raise UserError(f"{dbt_dir} is not a folder", "point at the dbt project's models folder")
    docs = []
    issues: list[Issue] = []
    for path in sorted(p for p in dbt_dir.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()):
        try:
            doc = load_yaml(path)
        except ConfigError as err:
            issues += err.issues
            continue
        if isinstance(doc.data, dict) and ("semantic_models" in doc.data or "metrics" in doc.data):
            docs.append(doc)
    if issues:
        raise ConfigError(f"{len(issues)} dbt file(s) could not be read", "fix the YAML and import again", issues)
    if not docs:
        raise UserError(f"no dbt semantic_models or metrics found under {dbt_dir}",
                        "point at the folder holding the MetricFlow YAML files")
    return docs


# -- SQL helpers -------------------------------------------------------------------------------------------

def _normalize_tree(tree: exp.Expression) -> exp.Expression:
    """Lower-case unquoted identifiers: tables are loaded with lower-case columns, and PostgreSQL folds too."""
    for ident in tree.find_all(exp.Identifier):
        if not ident.quoted:
            ident.set("this", ident.this.lower())
    return tree


def _sql(text: Any, ctx: _Context) -> str:
    """A dbt SQL expression rewritten as portable SQL (read in the project's dialect, identifiers lower-cased)."""
    raw = str(text).strip()
    try:
        tree = sqlglot.parse_one(raw, read=ctx.dialect)
    except sqlglot.errors.ParseError as err:
        raise _Unsupported(f"expression {raw!r} is not SQL: {str(err).splitlines()[0]}") from None
    return _normalize_tree(tree).sql()


def _table_of(model_ref: Any, ref_map: Mapping[str, str]) -> str:
    text = str(model_ref or "")
    match = _REF_RE.match(text)
    if match:
        name = match.group(2) or match.group(1)
        return ref_map.get(name, name).lower()
    match = _SOURCE_RE.match(text)
    if match:
        key = f"{match.group(1)}.{match.group(2)}"
        return ref_map.get(key, ref_map.get(match.group(2), match.group(2))).lower()
    raise _Unsupported(f"model '{text}' is neither ref('…') nor source('…', '…')")


# -- stage 2: models ---------------------------------------------------------------------------------------

def _convert_model(raw: Mapping[str, Any], doc: YamlDoc, keys: tuple, ctx: _Context, ref_map: Mapping[str, str],
                   extra_metrics: list[dict[str, Any]]) -> dict[str, Any]:
    name = str(raw.get("name", "")).strip()
    out: dict[str, Any] = {"name": name, "table": _table_of(raw.get("model"), ref_map)}
    if raw.get("description"):
        out["description"] = str(raw["description"]).strip()
    defaults = raw.get("defaults") or {}
    if defaults.get("agg_time_dimension"):
        out["defaults"] = {"agg_time_dimension": str(defaults["agg_time_dimension"])}
    for key in _MODEL_DROPPED:
        if key in raw:
            ctx.notes.append(doc.issue(keys + (key,), f"model '{name}': '{key}' is not carried over"))
    entities = []
    for i, ent in enumerate(raw.get("entities") or []):
        item: dict[str, Any] = {"name": str(ent["name"]).strip(), "type": str(ent.get("type", "foreign")).lower()}
        if ent.get("expr") is not None:
            item["expr"] = _sql(ent["expr"], ctx)
        if ent.get("description"):
            item["description"] = str(ent["description"]).strip()
        if ent.get("role"):
            ctx.notes.append(doc.issue(keys + ("entities", i, "role"), "entity 'role' is not carried over"))
        entities.append(item)
    dims = []
    for i, dim in enumerate(raw.get("dimensions") or []):
        kind = str(dim.get("type", "categorical")).lower()
        item = {"name": str(dim["name"]).strip(), "type": kind}
        if dim.get("expr") is not None:
            item["expr"] = _sql(dim["expr"], ctx)
        grain = (dim.get("type_params") or {}).get("time_granularity") or dim.get("time_granularity")
        if kind == "time":
            item["time_granularity"] = str(grain or "day").lower()
        elif unit_from_name(item["name"]):
            # dbt has no units; a name ending in _miles or _minutes says it ("10 miles from the fire station")
            item["unit"] = unit_from_name(item["name"])
        for key in ("label", "description"):
            if dim.get(key):
                item[key] = str(dim[key]).strip()
        for key in _DIMENSION_DROPPED:
            if key in dim:
                ctx.notes.append(doc.issue(keys + ("dimensions", i, key),
                                           f"dimension '{item['name']}': '{key}' is not carried over"))
        dims.append(item)
    measures = []
    for i, mea in enumerate(raw.get("measures") or []):
        mkeys = keys + ("measures", i)
        mname = str(mea["name"]).strip()
        agg = str(mea.get("agg", "sum")).lower()
        if agg not in _AGGS:
            ctx.notes.append(doc.issue(mkeys + ("agg",), f"measure '{mname}': aggregation '{agg}' is not supported; "
                                       "measure skipped"))
            continue
        item = {"name": mname, "agg": _AGGS[agg]}
        expr = mea.get("expr")
        if expr is not None:
            item["expr"] = _sql(expr, ctx)
        if agg == "sum_boolean":
            item["expr"] = f"CASE WHEN {item.get('expr', mname)} THEN 1 ELSE 0 END"
        params = mea.get("agg_params") or {}
        if agg == "percentile":
            item["percentile"] = float(params.get("percentile", 0.5))
            if params.get("use_discrete_percentile"):
                ctx.notes.append(doc.issue(mkeys, f"measure '{mname}': discrete percentile becomes a continuous one"))
        if mea.get("agg_time_dimension"):
            item["agg_time_dimension"] = str(mea["agg_time_dimension"])
        for key in ("label", "description"):
            if mea.get(key):
                item[key] = str(mea[key]).strip()
        if mea.get("non_additive_dimension"):
            ctx.notes.append(doc.issue(mkeys + ("non_additive_dimension",),
                                       f"measure '{mname}': non_additive_dimension is not supported; the measure "
                                       "is summed over every row"))
        measures.append(item)
        if mea.get("create_metric"):
            metric = {"name": mname, "type": "simple", "measure": mname}
            if mea.get("label"):
                metric["label"] = str(mea["label"]).strip()
            if mea.get("description"):
                metric["description"] = str(mea["description"]).strip()
            extra_metrics.append(metric)
    if entities:
        out["entities"] = entities
    if dims:
        out["dimensions"] = dims
    if measures:
        out["measures"] = measures
    return out


def _model_info(model: dict[str, Any], dbt_primary: str | None) -> _ModelInfo:
    entities = {e["name"]: (e["type"], e.get("expr", e["name"])) for e in model.get("entities", [])}
    prefix = dbt_primary or next((n for n, (t, _) in entities.items() if t == "primary"), None) \
        or next((n for n, (t, _) in entities.items() if t in ("unique", "natural")), None) or model["name"]
    dims = {d["name"]: (d["type"], d.get("expr", d["name"])) for d in model.get("dimensions", [])}
    agg = (model.get("defaults") or {}).get("agg_time_dimension")
    return _ModelInfo(model["name"], model["table"], prefix, entities, dims, agg)


# -- stage 3: filters --------------------------------------------------------------------------------------

def _find_dimension(ctx: _Context, prefix: str, dim: str, home: _ModelInfo) -> _ModelInfo:
    if home.prefix == prefix and dim in home.dimensions:
        return home  # several models may share a primary entity; the measure's own model comes first
    for info in ctx.models.values():
        if info.prefix == prefix and dim in info.dimensions:
            return info
    for info in ctx.models.values():  # a dimension named through a non-primary entity of its own model
        if prefix in info.entities and dim in info.dimensions:
            return info
    raise _Unsupported(f"dimension '{prefix}__{dim}' is not defined by any semantic model")


def _parse_expr(text: str, ctx: _Context) -> exp.Expression:
    """An already converted (portable) expression of the model, as a tree."""
    return _normalize_tree(sqlglot.parse_one(text))


def _truncated(value: exp.Expression, grain: str | None) -> exp.Expression:
    if not grain or grain == "day":
        return value
    return sqlglot.parse_one(f"DATE_TRUNC('{grain.lower()}', x)").transform(
        lambda node: value.copy() if isinstance(node, exp.Column) and node.name == "x" else node)


def _qualify(tree: exp.Expression, alias: str) -> exp.Expression:
    for column in list(tree.find_all(exp.Column)):
        if not column.table:
            column.set("table", exp.to_identifier(alias))
    return tree


def _flatten(value: Any) -> Any:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)
    elif value is not None and str(value).strip():
        yield value


def translate_filter(text: Any, model_name: str, ctx: _Context) -> str:
    """A dbt filter (Jinja over Dimension/TimeDimension/Entity) as portable SQL over `model_name`'s columns.

    A dimension of the model itself becomes its expression; a dimension of another model reached through a
    shared entity becomes `key IN (SELECT key FROM other WHERE …)`, which cannot multiply rows.
    """
    texts = list(_flatten(text))
    home = ctx.models[model_name]
    refs: list[tuple[str, list[str], str | None]] = []

    def placeholder(match: re.Match[str]) -> str:
        args = _ARG_RE.findall(match.group(2))
        if not args:
            raise _Unsupported(f"cannot read {match.group(0)!r}")
        refs.append((match.group(1), args, match.group(3)))
        return _PLACEHOLDER.format(len(refs) - 1)

    parts: list[exp.Expression] = []
    for item in texts:
        sql_text = _JINJA_RE.sub(placeholder, str(item))
        if "{{" in sql_text or "{%" in sql_text:
            raise _Unsupported(f"filter {str(item).strip()!r} uses Jinja other than Dimension/TimeDimension/Entity")
        try:
            parsed = sqlglot.parse_one(sql_text, read=ctx.dialect)
        except sqlglot.errors.ParseError as err:
            raise _Unsupported(f"filter {str(item).strip()!r} is not SQL: {str(err).splitlines()[0]}") from None
        parts += list(parsed.flatten()) if isinstance(parsed, exp.And) else [parsed]

    def resolve(index: int) -> tuple[_ModelInfo, exp.Expression]:
        kind, args, grain = refs[index]
        if kind == "Metric":
            raise _Unsupported("metric filters ({{ Metric(...) }}) are not supported")
        name = args[0]
        if kind == "TimeDimension" and len(args) > 1:
            grain = args[1]
        if kind == "Entity":
            entity = name.split("__")[-1]
            if entity not in home.entities:
                raise _Unsupported(f"entity '{name}' is not an entity of model '{home.name}'")
            return home, _parse_expr(home.entities[entity][1], ctx)
        if name == "metric_time":
            if not home.agg_time_dimension or home.agg_time_dimension not in home.dimensions:
                raise _Unsupported(f"metric_time in a filter needs a local agg_time_dimension on '{home.name}'")
            return home, _truncated(_parse_expr(home.dimensions[home.agg_time_dimension][1], ctx), grain)
        pieces = name.split("__")
        if len(pieces) != 2:
            raise _Unsupported(f"dimension '{name}': only one entity hop (entity__dimension) is supported")
        owner = _find_dimension(ctx, pieces[0], pieces[1], home)
        return owner, _truncated(_parse_expr(owner.dimensions[pieces[1]][1], ctx), grain)

    out: list[exp.Expression] = []
    for part in parts:
        used = sorted({int(c.name.rsplit("_", 1)[1]) for c in part.find_all(exp.Column)
                       if c.name.startswith("dt_ref_")})
        resolved = {i: resolve(i) for i in used}
        owners = {info.name for info, _ in resolved.values()}
        if len(owners) > 1:
            raise _Unsupported(f"a filter condition mixes dimensions of models {', '.join(sorted(owners))}")
        foreign = next(iter(owners)) if owners and owners != {home.name} else None
        alias = "dt_f" if foreign else None
        for column in list(part.find_all(exp.Column)):
            if column.name.startswith("dt_ref_"):
                value = resolved[int(column.name.rsplit("_", 1)[1])][1].copy()
                column.replace(_qualify(value, alias) if alias else value)
        if foreign is not None:
            part = _semi_join(home, ctx.models[foreign], part, alias or "dt_f", ctx)
        out.append(part)
    combined = out[0] if len(out) == 1 else exp.and_(*out)
    return _normalize_tree(combined).sql()


def _semi_join(home: _ModelInfo, other: _ModelInfo, condition: exp.Expression, alias: str,
               ctx: _Context) -> exp.Expression:
    """`home_key IN (SELECT alias.key FROM other AS alias WHERE condition)` over their shared entity."""
    shared = [n for n in home.entities if n in other.entities and other.entities[n][0] in ("primary", "unique",
                                                                                         "natural")]
    if other.prefix in shared:
        shared = [other.prefix]
    if not shared:
        raise _Unsupported(f"model '{home.name}' shares no entity with '{other.name}' to filter on its dimensions")
    entity = shared[0]
    outer = _parse_expr(home.entities[entity][1], ctx)
    inner = _qualify(_parse_expr(other.entities[entity][1], ctx), alias)
    query = exp.select(inner).from_(exp.Table(this=exp.to_identifier(other.table), alias=exp.TableAlias(
        this=exp.to_identifier(alias)))).where(condition)
    return exp.In(this=outer, query=exp.Subquery(this=query))


def _dangling_keys(converted: Mapping[str, dict[str, Any]], ctx: _Context) -> None:
    """A foreign key no model owns cannot join; keep its column as a categorical dimension instead."""
    owned = {e["name"] for content in converted.values() for m in content.get("semantic_models", [])
             for e in m.get("entities", []) if e["type"] in ("primary", "unique", "natural")}
    for path, content in converted.items():
        for model in content.get("semantic_models", []):
            kept = []
            for ent in model.get("entities", []):
                if ent["type"] != "foreign" or ent["name"] in owned:
                    kept.append(ent)
                    continue
                dims = model.setdefault("dimensions", [])
                names = {d["name"] for d in dims}
                if ent["name"] not in names:
                    dim = {"name": ent["name"], "type": "categorical", "expr": ent.get("expr", ent["name"])}
                    dims.append(dim)
                ctx.notes.append(Issue(path, None, f"model '{model['name']}': foreign entity '{ent['name']}' has no "
                                       "model that owns the key, so it cannot join; kept as a categorical dimension"))
            if kept:
                model["entities"] = kept
            else:
                model.pop("entities", None)


# -- stage 3: metrics --------------------------------------------------------------------------------------

def _input_name(value: Any) -> tuple[str, Any, str | None]:
    if isinstance(value, Mapping):
        return str(value.get("name", "")), value.get("filter"), value.get("alias")
    return str(value), None, None


def _metric_model(name: str, metrics: Mapping[str, Mapping[str, Any]], ctx: _Context) -> str:
    """The model a (simple/cumulative) metric's measure lives on, for filters placed on it."""
    raw = metrics.get(name)
    if raw is None:
        raise _Unsupported(f"metric '{name}' is not defined")
    measure = raw.get("measure")
    if measure is None or measure not in ctx.measures:
        raise _Unsupported(f"a filter on metric '{name}' needs it to be a simple metric over a known measure")
    return ctx.measures[measure]


def _convert_metric(raw: Mapping[str, Any], ctx: _Context) -> dict[str, Any]:
    name = str(raw.get("name", "")).strip()
    kind = str(raw.get("type", "simple")).lower()
    if kind not in _METRIC_TYPES:
        raise _Unsupported(f"metric '{name}': type '{kind}' is not supported")
    params = dict(raw.get("type_params") or {})
    params.update(raw.get("cumulative_type_params") or {})
    params.update((raw.get("type_params") or {}).get("cumulative_type_params") or {})
    out: dict[str, Any] = {"name": name, "type": kind}
    for key in ("label", "description"):
        if raw.get(key):
            out[key] = str(raw[key]).strip()
    filters = [raw["filter"]] if raw.get("filter") else []
    if kind in ("simple", "cumulative"):
        measure, measure_filter, _alias = _input_name(params.get("measure"))
        if measure not in ctx.measures:
            raise _Unsupported(f"metric '{name}': measure '{measure}' is not defined")
        out["measure"] = measure
        if measure_filter:
            filters.append(measure_filter)
        if filters:
            out["filter"] = translate_filter(filters, ctx.measures[measure], ctx)
        if kind == "cumulative":
            if params.get("window"):
                out["window"] = str(params["window"])
            if params.get("grain_to_date"):
                out["grain_to_date"] = str(params["grain_to_date"]).lower()
    elif kind == "ratio":
        out["numerator"] = params.get("numerator")
        out["denominator"] = params.get("denominator")
    else:
        out["expr"] = _sql(params.get("expr", ""), ctx)
        out["metrics"] = list(params.get("metrics") or [])
    return out


def _finish_composites(metrics: list[tuple[str, dict[str, Any]]], raws: Mapping[str, Mapping[str, Any]],
                       ctx: _Context) -> list[tuple[str, dict[str, Any]]]:
    """Ratio/derived inputs: plain names stay; filtered inputs get a filter (derived) or a helper metric (ratio).

    Works on (file, metric) pairs so a helper metric lands in the file of the ratio that needs it.
    """
    by_name = {m["name"]: m for _f, m in metrics}
    out: list[tuple[str, dict[str, Any]]] = []
    for file, metric in metrics:
        try:
            out += [(file, m) for m in _finish_one(metric, by_name, raws.get(metric["name"], {}).get("filter"), ctx)]
        except _Unsupported as err:
            ctx.notes.append(Issue(file, None, f"metric '{metric['name']}' skipped: {err}"))
    return out


def _finish_one(metric: dict[str, Any], by_name: Mapping[str, dict[str, Any]], raw_filter: Any,
                ctx: _Context) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if metric["type"] == "ratio":
        for side in ("numerator", "denominator"):
            input_name, input_filter, _alias = _input_name(metric[side])
            wanted = [f for f in (input_filter, raw_filter) if f]
            if wanted:
                base = by_name.get(input_name)
                if base is None or base["type"] != "simple":
                    raise _Unsupported(f"a filtered {side} must be a simple metric")
                helper = dict(base, name=f"{metric['name']}_{side}",
                              description=f"{side.title()} of {metric['name']} (a filtered input, from dbt)")
                helper.pop("label", None)
                filters = ([base["filter"]] if base.get("filter") else []) + \
                    [translate_filter(wanted, ctx.measures[base["measure"]], ctx)]
                helper["filter"] = " AND ".join(f"({f})" for f in filters) if len(filters) > 1 else filters[0]
                out.append(helper)
                input_name = helper["name"]
            metric[side] = input_name
    elif metric["type"] == "derived":
        inputs: list[Any] = []
        for value in metric["metrics"]:
            input_name, input_filter, alias = _input_name(value)
            item: dict[str, Any] = {"name": input_name}
            if alias:
                item["alias"] = str(alias)
            if isinstance(value, Mapping) and value.get("offset_window"):
                item["offset_window"] = str(value["offset_window"])
            if isinstance(value, Mapping) and value.get("offset_to_grain"):
                raise _Unsupported("offset_to_grain is not supported")
            wanted = [f for f in (input_filter, raw_filter) if f]
            if wanted:
                item["filter"] = translate_filter(wanted, _metric_model(input_name, by_name, ctx), ctx)
            inputs.append(item if len(item) > 1 else input_name)
        metric["metrics"] = inputs
    return out + [metric]


# -- stage 4: metrics the dbt project implies ---------------------------------------------------------------

def _constant_flag(info: _ModelInfo) -> tuple[str, str] | None:
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


def _subset_metrics(taken: set[str], simple: set[tuple[str, str]], ctx: _Context) -> list[tuple[str, dict[str, Any]]]:
    """Metrics over a subtype table: a model with no measures that shares the primary entity of a model with
    measures and carries a constant flag dimension marks a subset of that model's rows (dbt projects filter
    a measure on `{{ Dimension('entity__has_x') }} = 1` for it). Each base measure gets that filtered metric,
    unless the project already defines it."""
    files = {name: file for file, name in ctx.model_files}
    measures_of: dict[str, list[str]] = {}
    for measure, model in ctx.measures.items():
        measures_of.setdefault(model, []).append(measure)
    out: list[tuple[str, dict[str, Any]]] = []
    for marker in ctx.models.values():
        primaries = [n for n, (t, _) in marker.entities.items() if t == "primary"]
        flag = _constant_flag(marker)
        if marker.name in measures_of or len(primaries) != 1 or flag is None:
            continue
        entity = primaries[0]
        for base in ctx.models.values():
            if base.name == marker.name or base.name not in measures_of or \
                    base.entities.get(entity, ("", ""))[0] != "primary":
                continue
            several = len(measures_of[base.name]) > 1
            for measure in measures_of[base.name]:
                try:
                    condition = translate_filter(f"{{{{ Dimension('{entity}__{flag[0]}') }}}} = {flag[1]}",
                                                 base.name, ctx)
                except _Unsupported as err:
                    ctx.notes.append(Issue(files[marker.name], None, f"model '{marker.name}': no subset metric: {err}"))
                    break
                if (measure, condition) in simple:
                    continue  # the project defines this metric itself
                name = f"{marker.name}_{measure}" if several or marker.name in taken else marker.name
                if name in taken:
                    continue
                label = marker.name.replace("_", " ").title() + (f" ({measure.replace('_', ' ')})" if several else "")
                out.append((files[marker.name], {
                    "name": name, "type": "simple", "measure": measure, "filter": condition, "label": label,
                    "description": f"{measure} over the {base.name} rows that also have a row in {marker.name} "
                                   f"({flag[0]} = {flag[1]}); implied by the dbt project's subset model"}))
                taken.add(name)
                simple.add((measure, condition))
    return out


def _implied_metrics(pairs: list[tuple[str, dict[str, Any]]], ctx: _Context) -> list[tuple[str, dict[str, Any]]]:
    """Subset metrics, then one plain simple metric for every measure no unfiltered simple metric reads."""
    taken = {m["name"] for _f, m in pairs}
    simple = {(m["measure"], m.get("filter", "")) for _f, m in pairs if m["type"] == "simple"}
    out = _subset_metrics(taken, simple, ctx)
    files = {name: file for file, name in ctx.model_files}
    for measure, model in ctx.measures.items():
        if (measure, "") in simple:
            continue
        name = measure if measure not in taken else f"{model}_{measure}"
        if name in taken:
            ctx.notes.append(Issue(files[model], None, f"measure '{measure}': no metric made for it, the names "
                                   f"'{measure}' and '{name}' are taken"))
            continue
        out.append((files[model], {"name": name, "type": "simple", "measure": measure}))
        taken.add(name)
    return out


# -- the pipeline ------------------------------------------------------------------------------------------

def import_dbt(dbt_dir: str | Path, ref_map: str | Path | Mapping[str, str] | None = None,
               dialect: str = "snowflake") -> DbtImport:
    """Convert a dbt MetricFlow folder into DataTruth model files (one per dbt file), with notes."""
    docs = _read_project(Path(dbt_dir))
    refs = load_ref_map(ref_map)
    ctx = _Context({}, {}, dialect)
    converted: dict[str, dict[str, Any]] = {}
    created: dict[str, list[dict[str, Any]]] = {}
    raw_metrics: list[tuple[YamlDoc, tuple, Mapping[str, Any]]] = []
    for doc in docs:
        models = []
        created[doc.path] = []
        for i, raw in enumerate(doc.data.get("semantic_models") or []):
            keys = ("semantic_models", i)
            try:
                model = _convert_model(raw, doc, keys, ctx, refs, created[doc.path])
            except _Unsupported as err:
                ctx.notes.append(doc.issue(keys, f"semantic model skipped: {err}"))
                continue
            models.append(model)
            ctx.models[model["name"]] = _model_info(model, raw.get("primary_entity"))
            ctx.model_files.append((doc.path, model["name"]))
            for measure in model.get("measures", []):
                ctx.measures[measure["name"]] = model["name"]
            if raw.get("primary_entity") and raw["primary_entity"] != model["name"] and not any(e["type"] == "primary" for e in model.get("entities", [])):
                ctx.notes.append(doc.issue(keys + ("primary_entity",), f"model '{model['name']}' has no primary key: "
                                           f"its dimensions are named {model['name']}__<dimension> here, not "
                                           f"{raw['primary_entity']}__<dimension>"))
        converted[doc.path] = {"semantic_models": models} if models else {}
        for i, raw in enumerate(doc.data.get("metrics") or []):
            raw_metrics.append((doc, ("metrics", i), raw))
    pairs: list[tuple[str, dict[str, Any]]] = [(d.path, dict(m)) for d in docs for m in created[d.path]]
    raws: dict[str, Mapping[str, Any]] = {}
    for doc, keys, raw in raw_metrics:
        try:
            metric = _convert_metric(raw, ctx)
        except _Unsupported as err:
            ctx.notes.append(doc.issue(keys, f"metric skipped: {err}"))
            continue
        raws[metric["name"]] = raw
        pairs.append((doc.path, metric))
    pairs += _implied_metrics(pairs, ctx)
    finished = _finish_composites(pairs, raws, ctx)
    _dangling_keys(converted, ctx)
    files = []
    root = Path(dbt_dir)
    for doc in docs:
        content = dict(converted[doc.path])
        file_metrics = [m for f, m in finished if f == doc.path]
        if file_metrics:
            content["metrics"] = file_metrics
        if not content:
            continue
        rel = Path(doc.path).relative_to(root) if Path(doc.path).is_relative_to(root) else Path(Path(doc.path).name)
        files.append(ConvertedFile(str(rel.with_suffix(".yaml")), content, str(rel)))
    tables = tuple(sorted({m.table for m in ctx.models.values()}))
    return DbtImport(tuple(files), tuple(ctx.notes), tables)


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


# -- create a workspace from a dbt project -----------------------------------------------------------------

def _column_types(database: Path) -> dict[str, dict[str, tuple[str, bool]]]:
    """table → column → (type, all values NULL), read from the loaded DuckDB file."""
    import duckdb

    con = duckdb.connect(str(database), read_only=True)
    try:
        out: dict[str, dict[str, tuple[str, bool]]] = {}
        for table, column, kind in con.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'main'").fetchall():
            empty = con.execute(f'SELECT COUNT("{column}") = 0 FROM "{table}"').fetchall()[0][0]
            out.setdefault(table, {})[column] = (str(kind), bool(empty))
        return out
    finally:
        con.close()


def _plain_column(expr: str | None, default: str) -> str | None:
    text = expr if expr is not None else default
    try:
        tree = sqlglot.parse_one(text)
    except sqlglot.errors.ParseError:
        return None
    return tree.name if isinstance(tree, exp.Column) and not tree.table else None


def repair_types(result: DbtImport, database: Path) -> tuple[DbtImport, list[str]]:
    """Give all-empty seed columns the type the model uses them as, and read year numbers as dates.

    Seed CSVs often hold columns with no values at all; type inference makes them text, which a date
    truncation, a sum or a join to a numeric key rejects. An all-NULL column changes type without any
    value changing. Returns the adjusted import and one line per change.
    """
    import duckdb

    types = _column_types(database)
    alters: dict[tuple[str, str], str] = {}
    key_types: dict[str, str] = {}
    models = [m for f in result.files for m in f.content.get("semantic_models", [])]
    for model in models:
        cols = types.get(model["table"], {})
        for ent in model.get("entities", []):
            col = _plain_column(ent.get("expr"), ent["name"])
            if col in cols and not cols[col][1] and ent["type"] in ("primary", "unique", "natural"):
                key_types.setdefault(ent["name"], cols[col][0])
    changes: list[str] = []
    new_files = []
    for f in result.files:
        content = yaml.safe_load(yaml.safe_dump(f.content))  # a deep copy
        for model in content.get("semantic_models", []):
            cols = types.get(model["table"], {})
            changes += _match_columns(model, set(cols))
            for dim in model.get("dimensions", []):
                col = _plain_column(dim.get("expr"), dim["name"])
                if dim["type"] != "time" or col not in cols:
                    continue
                kind, empty = cols[col]
                if empty and "DATE" not in kind and "TIME" not in kind:
                    alters[(model["table"], col)] = "DATE"
                elif kind.upper() in ("BIGINT", "INTEGER", "SMALLINT", "HUGEINT") and \
                        dim.get("time_granularity") == "year":
                    dim["expr"] = f"CAST(CAST({col} AS VARCHAR) || '-01-01' AS DATE)"
                    changes.append(f"{model['name']}.{dim['name']}: year numbers in {model['table']}.{col} are read "
                                   "as the first day of that year")
            for mea in model.get("measures", []):
                col = _plain_column(mea.get("expr"), mea["name"])
                if col in cols and cols[col][1] and cols[col][0] == "VARCHAR" and mea["agg"] not in ("count",
                                                                                                      "count_distinct"):
                    alters[(model["table"], col)] = "DOUBLE"
            for ent in model.get("entities", []):
                col = _plain_column(ent.get("expr"), ent["name"])
                wanted = key_types.get(ent["name"])
                if col in cols and cols[col][1] and wanted and cols[col][0] != wanted:
                    alters[(model["table"], col)] = wanted
        new_files.append(replace(f, content=content))
    if alters:
        con = duckdb.connect(str(database))
        try:
            for (table, col), kind in sorted(alters.items()):
                con.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{col}" TYPE {kind}').fetchall()
                changes.append(f"{table}.{col}: empty column typed {kind} (as the semantic model uses it)")
        finally:
            con.close()
    return replace(result, files=tuple(new_files)), changes


def _snake(label: str) -> str:
    """`PolicyHolder`, `Policy holder` → `policy_holder`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", label)
    return "_".join(w.lower() for w in re.findall(r"[A-Za-z0-9]+", spaced)) or "role"


def _role_labels(types: Mapping[str, Mapping[str, tuple[str, bool]]], read: set[str], column: str,
                 con: Any) -> dict[str, str]:
    """Code → name from a loaded table no model reads that has the code column (unique) and a `*_name` column."""
    for table in sorted(types):
        cols = types[table]
        names = [c for c in cols if c.endswith("_name") and not cols[c][1]]
        if table in read or column not in cols or not names:
            continue
        rows = con.execute(f'SELECT CAST("{column}" AS VARCHAR), CAST("{names[0]}" AS VARCHAR) FROM "{table}"'
                           ).fetchall()
        labels = {str(code): str(name) for code, name in rows if code is not None and name is not None}
        if len(labels) == len(rows):
            return labels
    return {}


def split_roles(result: DbtImport, database: Path, max_roles: int = 12) -> tuple[DbtImport, list[str]]:
    """Demote primary keys that repeat in the data; split role tables into one model per named role.

    dbt lets a link table such as agreement_party_role declare the agreement as its primary entity although
    each agreement has one row per role (policy holder, agent). Joined as one-to-one it would repeat every
    fact row once per role. Here the key is demoted to foreign (its dimensions are then refused as a fan-out),
    and each role becomes its own model over `SELECT * … WHERE code = 'X'`, where the key is unique, with one
    dimension named after the role (from a lookup table of the codes when the seeds hold one) whose value is
    the row's other column: "loss payments by agent" groups by the agent's party identifier.
    """
    import duckdb

    types = _column_types(database)
    models = [m for f in result.files for m in f.content.get("semantic_models", [])]
    read = {m["table"] for m in models if m.get("table")}
    taken = {m["name"] for m in models}
    changes: list[str] = []
    new_files = []
    con = duckdb.connect(str(database), read_only=True)
    try:
        for f in result.files:
            content = yaml.safe_load(yaml.safe_dump(f.content))  # a deep copy
            added: list[dict[str, Any]] = []
            for model in content.get("semantic_models", []):
                before = [dict(e) for e in model.get("entities", [])]
                split = _split_one(model, types.get(model.get("table", ""), {}), types, read, taken, con, max_roles)
                demoted = [e["name"] for e, now in zip(before, model.get("entities", []), strict=True)
                           if e["type"] != now["type"]]
                if split:
                    added += split
                    changes.append(f"{model['name']}: entity '{demoted[0]}' repeats once per "
                                   f"{split[0]['role_column']}; made foreign, with one model per role: "
                                   + ", ".join(m["name"] for m in split))
                elif demoted:
                    changes.append(f"{model['name']}: primary entity '{demoted[0]}' repeats in {model['table']}; "
                                   "made foreign so that joining to it cannot repeat rows")
            for item in added:
                item.pop("role_column")
            if added:
                content["semantic_models"] = content["semantic_models"] + added
            new_files.append(replace(f, content=content))
    finally:
        con.close()
    return replace(result, files=tuple(new_files)), changes


def _split_one(model: dict[str, Any], cols: Mapping[str, tuple[str, bool]],
               types: Mapping[str, Mapping[str, tuple[str, bool]]], read: set[str], taken: set[str], con: Any,
               max_roles: int) -> list[dict[str, Any]]:
    """The role models of one model (and its key demoted), or [] when it is not a role table."""
    primaries = [e for e in model.get("entities", []) if e["type"] == "primary"]
    key = _plain_column(primaries[0].get("expr"), primaries[0]["name"]) if len(primaries) == 1 else None
    if key not in cols or cols[key][1]:
        return []
    table = model["table"]
    total, distinct = con.execute(f'SELECT COUNT(*), COUNT(DISTINCT "{key}") FROM "{table}"').fetchall()[0]
    if total == distinct:
        return []
    categorical = [d for d in model.get("dimensions", []) if d["type"] == "categorical"]
    codes = [c for d in categorical if (c := _plain_column(d.get("expr"), d["name"])) in cols and c != key]
    labelled = {c: labels for c in dict.fromkeys(codes) if (labels := _role_labels(types, read, c, con))}
    primaries[0]["type"] = "foreign"  # not unique in the data: joining to it as one-to-one would repeat rows
    # a column whose codes a lookup table names is the role; the other column is who plays it
    for code, labels in labelled.items():
        others = {c for d in categorical if (c := _plain_column(d.get("expr"), d["name"])) not in (code, key, None)}
        roles, pairs, nulls = con.execute(
            f'SELECT COUNT(DISTINCT "{code}"), COUNT(DISTINCT ("{key}", "{code}")), COUNT(*) - COUNT("{code}") '
            f'FROM "{table}"').fetchall()[0]
        values = [str(r[0]) for r in con.execute(
            f'SELECT DISTINCT CAST("{code}" AS VARCHAR) FROM "{table}" ORDER BY 1').fetchall()]
        if pairs != total or nulls or roles > max_roles or len(others) != 1 or not set(values) <= set(labels):
            continue
        player = others.pop()
        out = []
        for value in values:
            label = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", labels.get(value, value))
            role = _snake(label)
            name = role if role not in taken else f"{model['name']}_{role}"
            taken.add(name)
            literal = exp.Literal.string(value) if cols[code][0] == "VARCHAR" else sqlglot.parse_one(value)
            where = exp.EQ(this=exp.column(code), expression=literal)
            out.append({
                "name": name,
                "sql": exp.select("*").from_(table).where(where).sql(),
                "description": f"The {table} rows whose {code} is {value} ({label}): one per {primaries[0]['name']}.",
                "entities": [dict(primaries[0], type="primary")],
                "dimensions": [{"name": role, "type": "categorical", "expr": player, "label": label,
                                "description": f"{player} of the {label.lower()} ({code} = {value})"}],
                "role_column": code,
            })
        return out
    return []


@dataclass(frozen=True)
class DbtWorkspace:
    """A workspace built from a dbt project: where it is, what was imported, loaded and retyped."""

    path: Path
    result: DbtImport
    load: LoadReport
    type_changes: tuple[str, ...] = ()


def build_from_dbt(name: str, dbt_dir: str | Path, data_dir: str | Path,
                   ref_map: str | Path | Mapping[str, str] | None = None, replace: bool = False,
                   settings: Settings | None = None, progress: Progress | None = None) -> DbtWorkspace:
    """Create a DuckDB-backed workspace from a dbt project and its seed CSVs, with the full report."""
    from datatruth.workspace.load_files import duckdb_path_of, load_directory_csvs
    from datatruth.workspace.registry import create_workspace, load_config

    settings = settings or load_settings()
    result = import_dbt(dbt_dir, ref_map)
    ws_dir = settings.workspaces_dir / name
    if (ws_dir / "workspace.yaml").exists() and not replace:
        raise UserError(f"workspace '{name}' already exists at {ws_dir}", "pick another name or pass --replace")
    model_dir = ws_dir / "semantic_models"
    if model_dir.exists() and replace:
        shutil.rmtree(model_dir)
    write_import(result, model_dir)
    path = create_workspace(name, semantic_models=["semantic_models"], settings=settings, replace=replace,
                            title=f"{name.replace('_', ' ').title()} (from dbt)")
    database = duckdb_path_of(load_config(name, settings).warehouse_url)
    if replace and database.exists():
        database.unlink()  # a re-import must not keep tables of the previous one
    load = load_directory_csvs(name, Path(data_dir), settings, progress=progress)
    repaired, changes = repair_types(result, database)
    repaired, roles = split_roles(repaired, database)
    changes += roles
    shutil.rmtree(model_dir)
    write_import(repaired, model_dir)
    return DbtWorkspace(path, repaired, load, tuple(changes))


def _match_columns(model: dict[str, Any], columns: set[str]) -> list[str]:
    """Plain-column exprs naming a column the table lacks: take a near-identical column, else drop the item."""
    from rapidfuzz import process

    if not columns:
        return []
    changes = []
    for key, what in (("entities", "entity"), ("dimensions", "dimension")):
        kept = []
        for item in model.get(key, []):
            col = _plain_column(item.get("expr"), item["name"])
            if col is None or col in columns:
                kept.append(item)
                continue
            best = process.extractOne(col, sorted(columns), score_cutoff=90)
            if best:
                item["expr"] = best[0]
                kept.append(item)
                changes.append(f"{model['name']}.{item['name']}: column '{col}' is not in {model['table']}; "
                               f"using '{best[0]}'")
            else:
                changes.append(f"{model['name']}.{item['name']}: column '{col}' is not in {model['table']}; "
                               f"{what} left out")
        if kept:
            model[key] = kept
        else:
            model.pop(key, None)
    return changes


def create_from_dbt(name: str, dbt_dir: str | Path, data_dir: str | Path,
                    ref_map: str | Path | Mapping[str, str] | None = None, replace: bool = False,
                    settings: Settings | None = None) -> Path:
    """Create a DuckDB-backed workspace from a dbt project and its seed CSVs; return its workspace.yaml."""
    return build_from_dbt(name, dbt_dir, data_dir, ref_map, replace, settings).path


def import_report(result: DbtImport) -> list[str]:
    """Readable lines summarising an import: counts, then each note."""
    models = sum(len(f.content.get("semantic_models", [])) for f in result.files)
    lines = [f"{len(result.files)} file(s), {models} semantic model(s), {len(result.metric_names())} metric(s), "
             f"{len(result.tables)} table(s)"]
    lines += [f"note: {n}" for n in result.notes]
    return lines
