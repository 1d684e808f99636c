"""Checks a plan must pass before it is compiled, whoever planned it (the rules, an LLM or a verified question).

Each check returns the problems it finds, in words people read; an empty list means the plan holds together.
"""

from __future__ import annotations

from datatruth.semantic.model import METRIC_TIME, SemanticLayer
from datatruth.semantic.plan import QueryPlan

_IDENTIFYING = ("name", "title", "label", "number", "code", "faa", "carrier", "id", "identifier", "key")


def _identifying(layer: SemanticLayer, dimension: str) -> bool:
    local = dimension.partition("__")[2]
    keys = {k for e in layer.entities() for k in layer.entity_keys(e)}
    return dimension in keys or any(local == w or local.endswith("_" + w) for w in _IDENTIFYING)


def contradictory_filters(plan: QueryPlan, layer: SemanticLayer) -> list[str]:
    """Two equality filters that cannot both hold: one column equal to two values, or one member of an entity
    named through two identifying columns ("SAN" and "San Francisco Intl")."""
    problems = []
    equal: dict[str, set[object]] = {}
    for f in plan.filters:
        if f.op == "=" and f.dimension != METRIC_TIME:
            equal.setdefault(f.dimension, set()).add(f.values[0])
    for dim, values in equal.items():
        if len(values) > 1:
            problems.append(f"{dim} cannot equal {' and '.join(repr(v) for v in values)} at once")
    by_entity: dict[str, list[str]] = {}
    for f in plan.filters:
        if (
            f.op in ("=", "in")
            and f.dimension != METRIC_TIME
            and layer.has_dimension(f.dimension)
            and _identifying(layer, f.dimension)
        ):
            by_entity.setdefault(f.dimension.split("__")[0], []).append(f.dimension)
    for entity, dims in by_entity.items():
        if len(set(dims)) > 1:
            problems.append(
                f"{entity.replace('_', ' ')} is named twice in different ways ({', '.join(sorted(set(dims)))});"
                " they hold together only for the same one"
            )
    return problems


def share_total(plan: QueryPlan, layer: SemanticLayer) -> list[str]:
    """A share must divide by the total of every member: never by the filtered slice itself."""
    if not plan.share_of_total:
        return []
    grouped = {d.name for d in plan.dimensions}
    problems = []
    for f in plan.filters:
        if f.dimension in grouped and f.op in ("=", "in") and len(f.values) == 1:
            problems.append(
                f"the share would divide {f.dimension} = {f.values[0]!r} by itself (100%); "
                "the total must include every member"
            )
    if not grouped:
        problems.append("a share needs something to split the total by")
    for name in plan.metrics:
        metric = layer.metric(name)
        if metric.type in ("ratio", "cumulative") or (
            metric.measure
            and layer.measure(metric.measure)[1].agg in ("avg", "median", "percentile", "min", "max")
        ):
            problems.append(f"{metric.title} does not add up, so it has no share of a total")
    return problems


def time_usable(plan: QueryPlan, layer: SemanticLayer) -> list[str]:
    """Periods, time ranges and grains need metrics that are counted on a date."""
    from datatruth.ask.assemble import default_time_dimension

    uses_time = (
        plan.time_range is not None or plan.periods or plan.comparison or plan.time_grain() is not None
    )
    if not uses_time:
        return []
    return [
        f"{layer.metric(m).title} is not counted on a date, so it has no period"
        for m in plan.metrics
        if default_time_dimension(layer, m) is None
    ]


def asks_something(plan: QueryPlan, layer: SemanticLayer) -> list[str]:
    """A list whose every column is held to the values the question named ("Reagan National vs Dulles" with no
    figure) would only repeat them: say what to show of them."""
    if plan.metrics or plan.adhoc_metrics or plan.aggregates or not plan.dimensions:
        return []
    pinned = {f.dimension for f in plan.filters if f.op in ("=", "in")}
    if any(d.name not in pinned for d in plan.dimensions):
        return []
    from datatruth.ask.interpret import dimension_label

    named = ", ".join(sorted({dimension_label(layer, d.name).lower() for d in plan.dimensions}))
    return [f"the question names only values of {named} and asks for no figure about them"]


CHECKS = (contradictory_filters, share_total, time_usable, asks_something)


def check_plan(plan: QueryPlan, layer: SemanticLayer) -> list[str]:
    """Every problem of a plan (empty when it holds together)."""
    problems: list[str] = []
    for check in CHECKS:
        problems += check(plan, layer)
    return problems
