"""Follow-up questions: "now by channel", "only 2024", "top 5 instead", "and margin?", "what about Texas".

A question is a follow-up only when it reads as one: it opens with a follow-up word ("now", "and", "what about",
"same for", "only"), ends with "instead", leans on a pronoun ("show it by month"), or names nothing to compute
and does not start like a question of its own. Anything else is planned alone, even when the caller passes the
previous plan. A follow-up is read like any question but may name no metric; its parts are then merged into the
previous plan: "and/also/plus" add (metrics, dimensions), "now/instead/what about" replace, "only/just" narrow
(filters, time), "same for …" keeps the analysis and changes the subset.
"""

from __future__ import annotations

from dataclasses import dataclass

from datatruth.ask.assemble import default_time_dimension, reachable
from datatruth.ask.planner import compile_problems, finish, read_question
from datatruth.ask.reading import PlanningContext
from datatruth.ask.vocabulary import split_words
from datatruth.errors import PlanningError
from datatruth.semantic.model import METRIC_TIME
from datatruth.semantic.plan import DimensionRef, Evidence, Filter, OrderBy, QueryPlan

_ADD = ("and", "also", "plus", "as well", "add", "include")
_REPLACE = ("now", "instead", "what about", "how about", "and what about", "switch to", "change to", "rather")
_NARROW = ("only", "just", "limit to", "restrict to", "but only", "filter to", "for only")
_SAME = ("same for", "same but", "same", "do the same for", "the same for", "same thing for")
_OPENERS = (
    _ADD
    + _REPLACE
    + _NARROW
    + _SAME
    + ("but", "then", "ok", "okay", "what if", "and now", "and only", "how about")
)


@dataclass(frozen=True)
class FollowupMode:
    """How a follow-up combines with the previous plan."""

    add: bool
    replace: bool
    narrow: bool
    same: bool


def _starts(lowered: str, phrases: tuple[str, ...]) -> bool:
    return any(lowered == p or lowered.startswith(p + " ") for p in phrases)


def mode_of(question: str) -> FollowupMode:
    """Read the follow-up's opening words (and a trailing 'instead')."""
    lowered = " ".join(w.lower for w in split_words(question))
    words = set(lowered.split())
    return FollowupMode(
        add=_starts(lowered, _ADD) and not _starts(lowered, ("and what about", "and now")),
        replace=_starts(lowered, _REPLACE)
        or "instead" in words
        or "rather" in words
        or _starts(lowered, ("and what about", "and now")),
        narrow=_starts(lowered, _NARROW) or _starts(lowered, ("and only",)),
        same=_starts(lowered, _SAME),
    )


_STANDALONE_STARTS = (
    "what",
    "which",
    "how",
    "who",
    "list",
    "show",
    "give",
    "tell",
    "when",
    "where",
    "top",
    "bottom",
    "the",
    "number",
    "count",
    "total",
    "average",
    "median",
)
_PRONOUNS = {"it", "that", "those", "them", "these", "this"}


def is_followup(question: str, ctx: PlanningContext) -> bool:
    """True when the question reads as continuing the previous one (see the module docstring)."""
    words = [w.lower for w in split_words(question)]
    lowered = " ".join(words)
    if _starts(lowered, _OPENERS) or " instead" in f" {lowered}":
        return True
    if (
        words[:1]
        and words[0] in ("show", "break", "split", "plot", "chart", "sort", "rank")
        and set(words[1:3]) & _PRONOUNS
    ):
        return True
    try:
        d = read_question(question, ctx)
    except PlanningError:  # a question the reader refuses is decided (and refused) by the normal planner
        return False
    if words and words[0] in _STANDALONE_STARTS:
        # "top 5" on its own names nothing to rank: it can only rank the previous answer
        return words[0] in ("top", "bottom") and d.ranking is not None and not d.picks and not d.aggs
    return (
        not any(p.kind in ("metric", "measure", "entity", "phrasing") for p in d.picks)
        and not d.adhoc
        and not d.aggs
        and not d.definitions
    )


def merge_followup(previous: QueryPlan, question: str, ctx: PlanningContext) -> QueryPlan:
    """The previous plan changed by a follow-up question (raises PlanningError for words it cannot place)."""
    mode = mode_of(question)
    context = list(previous.metrics) + [m for a in previous.adhoc_metrics for m in _names_in(a.expr, ctx)]
    d = read_question(question, ctx)
    # openers and pronouns are part of a follow-up: they are placed here, the rest must be placed by the reader
    for i, w in enumerate(d.words):
        if w.lower in (
            "now",
            "instead",
            "also",
            "same",
            "rather",
            "then",
            "about",
            "what",
            "how",
            "but",
            "it",
            "that",
            "those",
            "them",
            "these",
            "this",
            "add",
            "include",
            "switch",
            "change",
            "limit",
            "restrict",
            "filter",
            "only",
            "just",
            "thing",
            "break",
            "split",
        ):
            d = d.mark(i, i + 1)
    new = finish(d, ctx, context, followup=True)
    if not (
        new.metrics
        or new.adhoc_metrics
        or new.dimensions
        or new.filters
        or new.time_range
        or new.comparison
        or new.share_of_total
        or new.order
        or new.limit
        or new.aggregates
        or new.periods
    ):
        raise PlanningError(
            f"I could not read a change to the previous question in '{question}'",
            "ask e.g. 'now by region', 'only 2024', 'and orders?' or a full question",
            suggestions=list(ctx.vocabulary.nearest(question, ("metric", "dimension"), 5)),
        )
    metrics, adhoc = _merge_metrics(previous, new, mode)
    if not metrics and not adhoc and not (new.aggregates or previous.aggregates):
        raise PlanningError(
            "the follow-up leaves no metric to compute",
            "name a metric, e.g. 'and revenue?'",
            suggestions=list(ctx.layer.metric_names()[:5]),
        )
    dims = _merge_dimensions(previous, new, mode, d.time.grain is not None)
    filters = _merge_filters(previous, new, ctx)
    order, limit = _merge_order(previous, new, metrics)
    all_metrics = list(metrics) + [m for a in adhoc for m in _names_in(a.expr, ctx)]
    for ref in dims:
        if ref.name != METRIC_TIME and not reachable(ctx, ref.name, all_metrics):
            raise PlanningError(
                f"{ref.name} cannot be combined with {', '.join(all_metrics)}",
                "pick a dimension the metric can be broken down by",
                unmatched=[ref.name],
            )
    for f in filters:
        if not reachable(ctx, f.dimension, all_metrics):
            filters = tuple(x for x in filters if x is not f)
    if (new.time_range or previous.time_range) and not any(
        default_time_dimension(ctx.layer, m) for m in all_metrics
    ):
        raise PlanningError(
            f"{', '.join(all_metrics)} cannot be placed in time: no time dimension",
            "ask without the time words",
        )
    note = Evidence(question, "other", f"follow-up of: {previous.describe()}", 1.0, "followup")
    aggregates = new.aggregates or (previous.aggregates if not new.metrics else ())
    merged = QueryPlan(
        metrics,
        dims,
        filters,
        new.time_range or (None if new.periods else previous.time_range),
        new.time_dimension or previous.time_dimension,
        new.comparison or previous.comparison,
        new.share_of_total or previous.share_of_total,
        order,
        limit,
        adhoc,
        (note,) + new.evidence,
        aggregates,
        new.conditions or previous.conditions,
        new.periods or (previous.periods if not new.time_range else ()),
        new.result_filters or previous.result_filters,
        previous.entity,
        # "top 3 in each category" carries on while the answer is still split by the category
        tuple(
            n
            for n in (new.limit_per or previous.limit_per)
            if any(d.name == n.partition(":")[0] for d in dims)
        )
        if limit is not None
        else (),
    )
    problems = compile_problems(merged, ctx)
    if problems:
        raise PlanningError(
            f"the follow-up cannot be answered: {problems[0]}",
            "ask the whole question, e.g. 'revenue by month in 2025'",
            interpretation="",
        )
    return merged


def _names_in(expr: str, ctx: PlanningContext) -> list[str]:
    return [w for w in expr.replace("(", " ").replace(")", " ").split() if ctx.layer.has_metric(w)]


def _merge_metrics(previous: QueryPlan, new: QueryPlan, mode: FollowupMode) -> tuple[tuple[str, ...], tuple]:
    if not new.metrics and not new.adhoc_metrics:
        return previous.metrics, previous.adhoc_metrics
    if mode.same and new.filters:
        # "same for flights from JFK": the metric word names the subset, the analysis stays
        return previous.metrics, previous.adhoc_metrics
    if mode.add:
        metrics = tuple(dict.fromkeys(previous.metrics + new.metrics))
        return metrics, previous.adhoc_metrics + tuple(
            a for a in new.adhoc_metrics if a not in previous.adhoc_metrics
        )
    return new.metrics, new.adhoc_metrics


def _merge_dimensions(
    previous: QueryPlan, new: QueryPlan, mode: FollowupMode, grain_named: bool
) -> tuple[DimensionRef, ...]:
    if not new.dimensions:
        return previous.dimensions
    if mode.add:
        kept = [d for d in previous.dimensions if not (d.name == METRIC_TIME and grain_named)]
        return tuple(dict.fromkeys(kept + list(new.dimensions)))
    if mode.replace or mode.same or not mode.narrow:
        only_grain = all(d.name == METRIC_TIME for d in new.dimensions)
        if only_grain and not mode.replace:
            # "by month" after "revenue by region": region stays, the month grain is added or changed
            kept = [d for d in previous.dimensions if d.name != METRIC_TIME]
            return tuple(kept + list(new.dimensions))
        return new.dimensions
    return tuple(dict.fromkeys(list(previous.dimensions) + list(new.dimensions)))


def _merge_filters(previous: QueryPlan, new: QueryPlan, ctx: PlanningContext) -> tuple[Filter, ...]:
    """New filters replace old ones on the same dimension (or on a sibling of the same model and prefix:
    'what about TX' after 'in California'); others are kept."""
    replaced = {f.dimension for f in new.filters}
    siblings = {_family(f.dimension) for f in new.filters}
    kept = [
        f for f in previous.filters if f.dimension not in replaced and _family(f.dimension) not in siblings
    ]
    return tuple(kept + list(new.filters))


_IDENTIFIERS = {"name", "faa", "carrier", "code", "iata", "icao", "id"}


def _family(dimension: str) -> str:
    """Dimensions naming the same thing two ways share a family: customer__state and customer__state_code,
    origin_airport__faa and origin_airport__name."""
    entity, _, local = dimension.partition("__")
    local = local.removesuffix("_code")
    return f"{entity}__{'id' if local in _IDENTIFIERS else local}"


def _merge_order(
    previous: QueryPlan, new: QueryPlan, metrics: tuple[str, ...]
) -> tuple[tuple[OrderBy, ...], int | None]:
    if new.limit is None and not new.order:
        order = tuple(o for o in previous.order if o.key in metrics or "__" in o.key)
        if previous.order and not order and metrics:
            order = (OrderBy(metrics[0], previous.order[0].descending),)
        return order, previous.limit
    order = new.order
    if not order:
        key = previous.order[0].key if previous.order else (metrics[0] if metrics else "")
        order = (OrderBy(key, True),) if key else ()
    elif order[0].key not in metrics and metrics and order[0].key not in [o.key for o in previous.order]:
        order = (OrderBy(metrics[0], order[0].descending),)
    return order, new.limit if new.limit is not None else previous.limit
