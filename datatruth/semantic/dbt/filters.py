"""dbt filters (`{{ Dimension('entity__dim') }} = 'x'`) as portable SQL over one model's columns."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from datatruth.semantic.dbt.expressions import Unsupported, normalize_tree, parse_portable

# Jinja in dbt filters is templating, not SQL: it is replaced by placeholder columns before sqlglot parses.
_JINJA_RE = re.compile(
    r"\{\{\s*(Dimension|TimeDimension|Entity|Metric)\s*\(([^)]*)\)\s*"
    r"(?:\.grain\(\s*['\"](\w+)['\"]\s*\))?\s*\}\}"
)
_ARG_RE = re.compile(r"['\"]([^'\"]*)['\"]")
_PLACEHOLDER = "dt_ref_"
_KEYS = ("primary", "unique", "natural")


@dataclass(frozen=True)
class ModelInfo:
    """What filter translation needs to know about a converted model."""

    name: str
    table: str
    prefix: str
    entities: Mapping[str, tuple[str, str]]  # name → (type, expr)
    dimensions: Mapping[str, tuple[str, str]]  # name → (type, expr)
    agg_time_dimension: str | None = None


@dataclass(frozen=True)
class Catalog:
    """The converted models of a project, by name, and where each measure lives, for resolving filters."""

    dialect: str = "snowflake"
    models: Mapping[str, ModelInfo] = field(default_factory=dict)
    measures: Mapping[str, str] = field(default_factory=dict)  # measure → model name, in the project's order
    files: Mapping[str, str] = field(default_factory=dict)  # model name → the dbt file it came from


@dataclass(frozen=True)
class _Call:
    """One `{{ Dimension(...) }}`-style call of a filter: its kind, its quoted arguments, its `.grain()`."""

    kind: str
    args: tuple[str, ...]
    grain: str | None


def model_info(model: Mapping[str, Any], dbt_primary: str | None) -> ModelInfo:
    """The filter-relevant facts of a converted model; `dbt_primary` is its dbt `primary_entity`, if any."""
    entities = {e["name"]: (e["type"], e.get("expr", e["name"])) for e in model.get("entities", [])}
    prefix = (
        dbt_primary
        or next((n for n, (t, _) in entities.items() if t == "primary"), None)
        or next((n for n, (t, _) in entities.items() if t in ("unique", "natural")), None)
        or model["name"]
    )
    dims = {d["name"]: (d["type"], d.get("expr", d["name"])) for d in model.get("dimensions", [])}
    agg = (model.get("defaults") or {}).get("agg_time_dimension")
    return ModelInfo(model["name"], model["table"], prefix, entities, dims, agg)


def translate_filter(text: Any, model_name: str, catalog: Catalog) -> str:
    """A dbt filter (Jinja over Dimension/TimeDimension/Entity) as portable SQL over `model_name`'s columns.

    A dimension of the model itself becomes its expression; a dimension of another model reached through a
    shared entity becomes `key IN (SELECT key FROM other WHERE …)`, which cannot multiply rows.
    """
    home = catalog.models[model_name]
    calls: list[_Call] = []
    parts = [part for item in _flatten(text) for part in _conditions(str(item), calls, catalog.dialect)]
    out = [_rewrite(part, calls, home, catalog) for part in parts]
    combined = out[0] if len(out) == 1 else exp.and_(*out)
    return normalize_tree(combined).sql()


def _flatten(value: Any) -> Iterator[Any]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)
    elif value is not None and str(value).strip():
        yield value


def _conditions(text: str, calls: list[_Call], dialect: str) -> list[exp.Expr]:
    """The AND-ed conditions of one filter text, its Jinja calls replaced by numbered placeholder columns."""

    def placeholder(match: re.Match[str]) -> str:
        args = _ARG_RE.findall(match.group(2))
        if not args:
            raise Unsupported(f"cannot read {match.group(0)!r}")
        calls.append(_Call(match.group(1), tuple(args), match.group(3)))
        return f"{_PLACEHOLDER}{len(calls) - 1}"

    sql_text = _JINJA_RE.sub(placeholder, text)
    if "{{" in sql_text or "{%" in sql_text:
        raise Unsupported(f"filter {text.strip()!r} uses Jinja other than Dimension/TimeDimension/Entity")
    try:
        parsed = sqlglot.parse_one(sql_text, read=dialect)
    except sqlglot.errors.ParseError as err:
        raise Unsupported(f"filter {text.strip()!r} is not SQL: {str(err).splitlines()[0]}") from None
    return list(parsed.flatten()) if isinstance(parsed, exp.And) else [parsed]


def _rewrite(part: exp.Expr, calls: list[_Call], home: ModelInfo, catalog: Catalog) -> exp.Expr:
    """One condition with its placeholders replaced; a condition on another model becomes a semi-join."""
    used = sorted({_index(c) for c in part.find_all(exp.Column) if c.name.startswith(_PLACEHOLDER)})
    resolved = {i: _resolve(calls[i], home, catalog) for i in used}
    owners = {info.name for info, _ in resolved.values()}
    if len(owners) > 1:
        raise Unsupported(f"a filter condition mixes dimensions of models {', '.join(sorted(owners))}")
    foreign = next(iter(owners)) if owners and owners != {home.name} else None
    alias = "dt_f" if foreign else None
    for column in list(part.find_all(exp.Column)):
        if column.name.startswith(_PLACEHOLDER):
            value = resolved[_index(column)][1].copy()
            column.replace(_qualify(value, alias) if alias else value)
    if foreign is None:
        return part
    return _semi_join(home, catalog.models[foreign], part, "dt_f")


def _index(column: exp.Column) -> int:
    return int(column.name.rsplit("_", 1)[1])


def _resolve(call: _Call, home: ModelInfo, catalog: Catalog) -> tuple[ModelInfo, exp.Expr]:
    """The model owning a Jinja call's dimension or entity, and the call's expression over that model."""
    if call.kind == "Metric":
        raise Unsupported("metric filters ({{ Metric(...) }}) are not supported")
    name = call.args[0]
    grain = call.args[1] if call.kind == "TimeDimension" and len(call.args) > 1 else call.grain
    if call.kind == "Entity":
        entity = name.split("__")[-1]
        if entity not in home.entities:
            raise Unsupported(f"entity '{name}' is not an entity of model '{home.name}'")
        return home, parse_portable(home.entities[entity][1])
    if name == "metric_time":
        if not home.agg_time_dimension or home.agg_time_dimension not in home.dimensions:
            raise Unsupported(f"metric_time in a filter needs a local agg_time_dimension on '{home.name}'")
        return home, _truncated(parse_portable(home.dimensions[home.agg_time_dimension][1]), grain)
    pieces = name.split("__")
    if len(pieces) != 2:
        raise Unsupported(f"dimension '{name}': only one entity hop (entity__dimension) is supported")
    owner = _find_dimension(catalog, pieces[0], pieces[1], home)
    return owner, _truncated(parse_portable(owner.dimensions[pieces[1]][1]), grain)


def _find_dimension(catalog: Catalog, prefix: str, dim: str, home: ModelInfo) -> ModelInfo:
    if home.prefix == prefix and dim in home.dimensions:
        return home  # several models may share a primary entity; the measure's own model comes first
    for info in catalog.models.values():
        if info.prefix == prefix and dim in info.dimensions:
            return info
    for info in catalog.models.values():  # a dimension named through a non-primary entity of its own model
        if prefix in info.entities and dim in info.dimensions:
            return info
    raise Unsupported(f"dimension '{prefix}__{dim}' is not defined by any semantic model")


def _truncated(value: exp.Expr, grain: str | None) -> exp.Expr:
    if not grain or grain == "day":
        return value
    return sqlglot.parse_one(f"DATE_TRUNC('{grain.lower()}', x)").transform(
        lambda node: value.copy() if isinstance(node, exp.Column) and node.name == "x" else node
    )


def _qualify(tree: exp.Expr, alias: str) -> exp.Expr:
    for column in list(tree.find_all(exp.Column)):
        if not column.table:
            column.set("table", exp.to_identifier(alias))
    return tree


def _semi_join(home: ModelInfo, other: ModelInfo, condition: exp.Expr, alias: str) -> exp.Expr:
    """`home_key IN (SELECT alias.key FROM other AS alias WHERE condition)` over their shared entity."""
    shared = [n for n in home.entities if n in other.entities and other.entities[n][0] in _KEYS]
    if other.prefix in shared:
        shared = [other.prefix]
    if not shared:
        raise Unsupported(
            f"model '{home.name}' shares no entity with '{other.name}' to filter on its dimensions"
        )
    entity = shared[0]
    outer = parse_portable(home.entities[entity][1])
    inner = _qualify(parse_portable(other.entities[entity][1]), alias)
    query = (
        exp.select(inner)
        .from_(
            exp.Table(
                this=exp.to_identifier(other.table), alias=exp.TableAlias(this=exp.to_identifier(alias))
            )
        )
        .where(condition)
    )
    return exp.In(this=outer, query=exp.Subquery(this=query))
