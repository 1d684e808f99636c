"""Turn a reading of a question (a ReadingState) into a QueryPlan: decide what each name, value, number and time phrase
does in the question, and collect every reading that cannot hold.

A builder walks the steps in order — definitions, phrasings, metrics, entities, numbers, aggregates, values,
time, ranking, share — each placing the words it uses and adding to the plan. Problems (a number bound to a
column that cannot take it, two filters on one thing that cannot both hold, a share over the wrong total) are
collected, not thrown one by one: the planner refuses with all of them and what was understood so far.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from datatruth.ask.interpret import dimension_label
from datatruth.ask.lexicon import default_lexicon
from datatruth.ask.reading import (
    AggWord,
    Definition,
    NumberSpan,
    Pick,
    PlanningContext,
    Ranking,
    ReadingState,
    additive,
    counts_things,
    holds_words,
    is_numeric,
    metric_unit,
    model_verbs,
    number_of,
    ranked_by_at,
    said_on_average,
    sentence_ends_before,
)
from datatruth.ask.timeparse import TimeHit, combine_ranges, period_start, shift
from datatruth.ask.value_index import ValueCandidate
from datatruth.ask.vocabulary import (
    GRAIN_NOUNS,
    RECORD_NOUNS,
    RECORD_PLURALS,
    entity_words,
    normalize,
    plural,
    tokens,
)
from datatruth.errors import InternalError, present
from datatruth.semantic.compiler import bracketed, in_simple_terms
from datatruth.semantic.joins import JoinGraph
from datatruth.semantic.model import (
    METRIC_TIME,
    ROWS_SUFFIX,
    TIME_GRAINS,
    Phrasing,
    QualifiedDimension,
    SemanticLayer,
    SemanticModel,
)
from datatruth.semantic.plan import (
    AdhocMetric,
    Aggregate,
    Condition,
    DimensionRef,
    Evidence,
    Filter,
    FilteredInput,
    OrderBy,
    QueryPlan,
    Scalar,
    TimeRange,
)
from datatruth.semantic.units import QUANTITY_NOUNS, Unit, convert, unit, unit_of_word

_NEGATION_WORDS = {
    "excluding",
    "exclude",
    "except",
    "not",
    "without",
    "but",
    "other",
    "apart",
    "besides",
    "aside",
    "ignoring",
    "non",
    "outside",
    "no",
}
_FROM_CUES = {"from", "out", "departing", "leaving", "origin", "originating", "depart", "left", "leave"}
_TO_CUES = {
    "to",
    "into",
    "arriving",
    "bound",
    "destination",
    "towards",
    "toward",
    "arrive",
    "landing",
    "landed",
}
_PAIR_DASHES = ("-", "–", "→", "->")
_HOLDER_WORDS = {"with", "who", "that", "having", "which", "whose", "where"}
_ARRIVAL_VERBS = {"arrive", "arrived", "arrives", "arriving", "land", "landed", "lands", "landing", "bound"}
_SKIP_BEFORE = {
    "of",
    "is",
    "was",
    "were",
    "are",
    "with",
    "a",
    "an",
    "the",
    "that",
    "had",
    "has",
    "have",
    "having",
    "be",
    "been",
    "by",
    "who",
    "which",
    *RECORD_PLURALS,
}
_ID_COLUMNS = ("name", "title", "label", "number", "code", "faa", "carrier", "id", "identifier", "key")
_PLURAL_DEFAULT_LIMIT = 10
_RECENCY = {"recent", "latest", "newest", "earliest", "oldest", "last", "first"}


# nouns that name no thing of the model ("at least one item")
_SOME_THING = frozenset({"item", "items", "thing", "things", "one", "time", "times"})
# the operators between two names defined in the question ("reserves minus payments"); "divided by" is two words
_OPERATORS = {"minus": ("-", 1), "plus": ("+", 1), "over": ("/", 1), "times": ("*", 1), "less": ("-", 1)}
# the words that restate, after a comma, what is before them ("to Washington, i.e. DCA or IAD")
_RESTATING_WORDS = frozenset(
    {"i.e", "ie", "i", "e", "namely", "aka", "that", "is", "meaning", "specifically"}
)
# words that open a noun phrase ("to the airports", "to all our stores"): a 'to' before them is a destination
_DETERMINERS = frozenset(
    {
        "the",
        "a",
        "an",
        "all",
        "any",
        "our",
        "my",
        "your",
        "their",
        "these",
        "those",
        "this",
        "that",
        "each",
        "every",
    }
)
# the verbs a question that lists rows opens with ("pull the claims opened in June")
_LIST_OPENERS = frozenset(
    {"list", "show", "display", "give", "name", "enumerate", "pull", "fetch", "retrieve"}
)
# words that ask for the members of a list side by side
_COMPARE_WORDS = frozenset(
    {"compare", "compared", "comparing", "comparison", "versus", "vs", "against", "contrast"}
)
# two words that ask for a count or a total, wherever the question starts
_COUNT_PHRASES = frozenset({("how", "many"), ("how", "much"), ("number", "of"), ("count", "of")})
# words that sort the rows without choosing some of them
_SORT_WORDS = frozenset(
    {"sorted", "ordered", "ranked", "sort", "rank", "order", "ascending", "asc", "descending", "desc"}
)
# period nouns: "how many hours" counts periods or asks for an amount of time, never different hours of the day
_PERIOD_WORDS = frozenset({"hours", "days", "weeks", "months", "quarters", "years"})
# "in force on 2020-02-01": words saying a thing with a start and an end date spans a day, and those dates' names
_IN_FORCE = (("in", "force"), ("in", "effect"), ("active",), ("valid",), ("live",))
_STARTS = frozenset({"effective", "start", "begin", "inception", "from"})
_ENDS = frozenset({"expiration", "expiry", "end", "termination", "until", "to"})
# words after a plural noun that narrow which ones are meant ("planes made by Boeing", "stores located in Ohio")
_NARROWING = frozenset(
    {
        "made",
        "built",
        "manufactured",
        "produced",
        "operated",
        "owned",
        "located",
        "based",
        "that",
        "which",
        "who",
    }
)


@dataclass(frozen=True)
class Assembled:
    """The plan of a question, the reading with the words assembly placed, and what could not hold."""

    plan: QueryPlan
    reading: ReadingState
    problems: tuple[str, ...] = ()
    low_confidence: tuple[Evidence, ...] = ()
    rewrites: tuple[
        str, ...
    ] = ()  # questions close to this one that would settle a problem, to offer as choices


def metric_models(layer: SemanticLayer, metric: str) -> tuple[str, ...]:
    """Names of the models holding the measures of a metric."""
    return tuple(m.name for m in layer.models_for(metric))


def default_time_dimension(layer: SemanticLayer, metric: str) -> str | None:
    """The qualified time dimension a metric is counted on (its first measure's), or None."""
    m = layer.metric(metric)
    for measure in layer.measures_for(metric):
        model, meas = layer.measure(measure)
        if m.time_dimension:
            return f"{model.prefix}__{m.time_dimension}" if "__" not in m.time_dimension else m.time_dimension
        name = model.agg_time_dimension_name(meas)
        if name:
            return name
    return None


def model_time_dimension(layer: SemanticLayer, model_name: str) -> str | None:
    """The time dimension a model's rows are placed in time by (its default agg_time_dimension)."""
    from datatruth.semantic.model import Measure

    return layer.model(model_name).agg_time_dimension_name(Measure("", "count", "1"))


def reaches(ctx: PlanningContext, source: str, dimension: str) -> bool:
    """True when a model reaches a dimension's model by many-to-one joins (or holds it)."""
    target = ctx.layer.dimension(dimension).model.name
    return target == source or ctx.graph.path(source, target) is not None


def reachable(ctx: PlanningContext, dimension: str, metrics: Iterable[str]) -> bool:
    """True when every model of every metric reaches the dimension's model by many-to-one joins."""
    return all(
        reaches(ctx, model, dimension) for metric in metrics for model in metric_models(ctx.layer, metric)
    )


def _distance(ctx: PlanningContext, dimension: str, models: Sequence[str]) -> int:
    target = ctx.layer.dimension(dimension).model.name
    total = 0
    for model in models:
        if model != target:
            path = ctx.graph.path(model, target)
            total += len(path.steps) if path else 99
    return total


def is_yes_no(ctx: PlanningContext, dimension: str) -> bool:
    """True when a dimension holds only true/false (seen in the warehouse)."""
    return ctx.values.numeric.get(dimension) == "bool"


def label_dimension(ctx: PlanningContext, entity: str) -> str | None:
    """The dimension that names an entity's members for people ("customer__name"), or None."""
    model = ctx.layer.entity_model(entity)
    if model is None:
        return None
    keys = set(ctx.layer.entity_keys(entity))
    base = entity.split("_")[0]
    choices = []
    for dim in model.dimensions:
        if dim.is_time or f"{model.prefix}__{dim.name}" in keys:
            continue
        words = dim.name.split("_")
        for rank, tail in enumerate(("name", "title", "label", "number", "code")):
            # "name", "customer_name", "company_claim_number": a name or number of this entity
            if words[-1] == tail and (
                len(words) == 1 or base in words or entity in words or tail in ("name", "title")
            ):
                choices.append((rank, len(words), dim.name))
    if not choices:
        return None
    return f"{model.prefix}__{min(choices)[2]}"


def identifying_dimension(layer: SemanticLayer, entity: str) -> str | None:
    """The column holding an entity's number or code for people ("company_claim_number"), or None."""
    model = layer.entity_model(entity)
    if model is None:
        return None
    base = entity.split("_")[0]
    for dim in model.dimensions:
        words = dim.name.split("_")
        if _CLASS_WORDS & set(words):
            continue  # "party_type_code" sorts parties into kinds; it names none of them
        if not dim.is_time and words[-1] in ("number", "code", "no") and (base in words or len(words) == 1):
            return f"{model.prefix}__{dim.name}"
    return None


# words of a column that classifies members rather than naming one ("catastrophe_type_code")
_CLASS_WORDS = frozenset({"type", "kind", "status", "class", "category", "role", "group"})


def entity_dimensions(ctx: PlanningContext, entity: str) -> list[DimensionRef]:
    """Grouping by an entity: its key (so members who share a name stay apart) and its label."""
    refs = [DimensionRef(k, _key_grain(ctx, k)) for k in ctx.layer.entity_keys(entity)]
    label = label_dimension(ctx, entity)
    if label and all(r.name != label for r in refs):
        refs.append(DimensionRef(label))
    return refs


def _key_grain(ctx: PlanningContext, name: str) -> str | None:
    dim = ctx.layer.dimension(name).dimension
    return (dim.time_granularity or "day") if dim.is_time else None


def display_dimensions(ctx: PlanningContext, entity: str) -> list[DimensionRef]:
    """The columns shown when rows of an entity are listed: its declared `display`, else key, label and the
    keys of the entities it points to."""
    model = ctx.layer.entity_model(entity)
    if model is None:
        return []
    owner = model.primary_entity
    if owner is not None and owner.display:
        out = []
        for name in owner.display:
            qualified = name if "__" in name else f"{model.prefix}__{name}"
            out.append(DimensionRef(qualified, _key_grain(ctx, qualified)))
        return out
    refs = entity_dimensions(ctx, entity)
    for e in model.entities:
        if e.type == "foreign" and len(e.key_exprs) == 1:
            keys = ctx.layer.entity_keys(e.name)
            if len(keys) == 1 and reaches(ctx, model.name, keys[0]) and all(r.name != keys[0] for r in refs):
                refs.append(DimensionRef(keys[0]))
    return refs[:8]


def _name_forms(d: ReadingState, definition: Definition) -> list[list[str]]:
    """The words a defined name is used by: in full, then without its owner."""
    short = d.unowned_name(definition)
    return [tokens(definition.label)] + ([short] if short else [])


class _Builder:
    """Collects the plan while assembly decides what each read piece of the question does."""

    def __init__(self, d: ReadingState, ctx: PlanningContext, context_metrics: Sequence[str]) -> None:
        self.d = d
        self.ctx = ctx
        self.layer = ctx.layer
        self.context_metrics = list(context_metrics)
        self.metrics: list[str] = []
        self.adhoc: list[AdhocMetric] = list(d.adhoc)
        self.said_units: list[int] = []  # metric words read as the unit asked for ("delay in miles")
        self.aggregates: list[Aggregate] = []
        self.dims: list[DimensionRef] = []
        self.filters: list[Filter] = []
        self.conditions: list[Condition] = []
        self.result_filters: list[Filter] = []
        self.periods: list[TimeRange] = []
        self.time_range: TimeRange | None = None
        self.time_dimension: str | None = None
        self.date_pieces: list[
            tuple[str, TimeRange]
        ] = []  # separate periods of a named date, placed by `time`
        self.order: list[OrderBy] = []
        self.limit: int | None = None
        self.limit_per: list[
            str
        ] = []  # "top 3 products in each category": the limit holds within each category
        self.within_period: str | None = None  # "the worst day of each month": the grain of the outer period
        self.entity: str | None = None
        self.over: str | None = None
        self.rows_of: str | None = None  # "across all premium records": the figure taken over its own rows
        self.comparison = d.comparison
        self.share = d.share
        self.notes: list[Evidence] = list(d.evidence)
        self.low: list[Evidence] = []
        self.problems: list[str] = []
        self.placed: set[int] = set()
        self.roles: dict[int, str] = {}  # pick start → role decided (group, subject, describes, bound, …)
        self.picks: list[Pick] = list(d.picks)
        self.group_entities: list[str] = []
        self.list_entity: str | None = None
        self.value_dims: dict[str, list[tuple[Pick, list[ValueCandidate]]]] = {}
        self.per_row: list[
            str
        ] = []  # figures defined row by row and asked for no aggregate (checked when grouped)
        self.bound_dims: dict[
            int, str
        ] = {}  # pick start → the dimension a phrasing/dimension pick stands for
        self.phrasing_filters: dict[int, Filter] = {}
        self.number_filters: dict[int, Filter] = {}  # where a compared number's phrase starts → its filter
        self.number_conditions: dict[int, Condition] = {}  # the same for a test of members' own figures
        self.said_numbers: dict[int, Filter] = {}  # where each number compared with a column is written
        self.defined: dict[str, AdhocMetric] = {}
        self.growth_metric: str | None = None
        self.in_parens = _parenthesized(d)
        self.metric_ranges: list[TimeRange] = []
        self.rewrites: list[str] = []

    # -- helpers --------------------------------------------------------------------------------------------
    def place(self, start: int, end: int) -> None:
        self.placed.update(range(start, end))

    def models(self) -> list[str]:
        """The models the plan computes over (metrics, aggregates, ad-hoc inputs, or the context's)."""
        names: list[str] = []
        for m in self.all_metrics():
            names += [x for x in metric_models(self.layer, m) if x not in names]
        for a in self.aggregates:
            model = a.over or self.over or self.layer.dimension(a.dimension).model.name
            if model not in names:
                names.append(model)
        if not names and self.over:
            names.append(self.over)
        return names

    def all_metrics(self) -> list[str]:
        inputs = [m for a in self.adhoc for m in _names_in(a.expr, self.layer)] + [
            i.metric for a in self.adhoc for i in a.inputs
        ]
        out = self.metrics + [m for m in inputs if m not in self.metrics]
        return out or list(self.context_metrics)

    def reach_ok(self, dimension: str) -> bool:
        models = self.models()
        return not models or all(reaches(self.ctx, m, dimension) for m in models)

    def prev_pick(self, p: Pick) -> Pick | None:
        before = [q for q in self.picks if q.end <= p.start]
        return before[-1] if before else None

    def next_pick(self, p: Pick) -> Pick | None:
        return next((q for q in self.picks if q.start >= p.end), None)

    def words_between(self, a: int, b: int) -> list[str]:
        return [self.d.lower(k) for k in range(a, b)]

    def phrasing(self, p: Pick) -> Phrasing:
        return self.layer.phrasings[int(p.targets[0])]

    def group_position(self, p: Pick) -> bool:  # noqa: C901 - one rule per cue that asks to group, tried in order
        """True when words before a pick ask to group by it: 'by X', 'per X', 'each X', 'which X', 'top 5 X',
        or 'and X' after a grouped name ("per airline and origin"); the cue words are placed."""
        d = self.d
        lowers = [w.lower for w in d.words]
        if p.start in self.in_parens and not self._grouped_in_parens(p):
            return False  # "(tail number)" restates; "(by claim number)" still asks for a grouping
        prev = self.prev_pick(p)
        if (
            prev is not None
            and self.roles.get(prev.start) == "group"
            and prev.kind in ("entity", "dimension", "concept")
            and all(w in ("and", "&") for w in lowers[prev.end : p.start])
            and (lowers[prev.end : p.start] or "," in d.gap(p.start))
        ):
            self.place(prev.end, p.start)
            return True
        if (
            lowers[p.start - 1 : p.start] in (["and"], ["&"])
            and p.start >= 2
            and d.used[p.start - 2]
            and self._grain_word_at(p.start - 2)
        ):
            self.place(p.start - 1, p.start)
            return True  # "by month and origin": the grain was read as time, the next name groups too
        # "among physical stores, which one had the most orders": the one asked for is one of them
        if (p.kind in ("entity", "concept") or p.alt("entity")) and lowers[p.end : p.end + 2] in (
            ["which", "one"],
            ["which", "ones"],
        ):
            self.place(p.end, p.end + 2)
            return True
        verb = 1 if lowers[:1] in (["please"], ["now"]) else 0
        if (
            d.ranking is not None
            and lowers[verb : verb + 1] in (["rank"], ["sort"], ["order"])
            and verb < p.start
            and all(w in ("the", "our", "all", "my") for w in lowers[verb + 1 : p.start])
        ):
            self.place(verb + 1, p.start)
            return True  # "Rank the coverage details by premium": the rows ranked
        said = p.start - 1 if number_of(lowers[p.start - 1]) is not None else p.start
        if lowers[said - 2 : said] == ["across", "the"] and (self.share or _SPREAD_WORDS & set(lowers)):
            # "split the miles across the (three) origin airports"; "premium across the policies they sold" is a
            # total
            self._said_count(said, p)
            self.place(said - 2, p.start)
            return True
        for cue in self.ctx.lexicon.group_cues:
            k = len(cue)
            if p.start - k >= 0 and tuple(lowers[p.start - k : p.start]) == cue:
                if cue == ("by",) and self._agentive_by(p):
                    return False
                if cue in (("for", "all"), ("every",), ("for", "every"), ("all",)) and self._all_but(p):
                    # "for all return reasons except Changed mind": every reason but one, together
                    self.place(p.start - k, p.start)
                    return False
                self.place(p.start - k, p.start)
                return True
        previous = d.lower(p.start - 1)
        if previous in ("which", "what", "each", "every"):
            return True
        if p.kind in ("entity", "concept", "dimension") or p.alt("entity"):
            # "which physical store", "which Texas customers", "each Electronics subcategory": words narrowing
            # the noun sit between
            k = p.start - 1
            while k >= 0:
                if (q := d.pick_at(k)) is not None and q.kind in ("phrasing", "value"):
                    k = q.start - 1
                elif q is not None and q.kind == "dimension" and self._kind_of_value_before(q):
                    k = q.start - 1  # "which South region stores": the kind of the value said with it
                elif number_of(d.lower(k)) is not None and d.lower(k - 1) in ("which", "what"):
                    k -= 1  # "which 5 physical stores": the number is the limit, read by the ranking
                elif d.lower(k) in ("our", "the", "your", "their") and d.lower(k - 1) == "of":
                    k -= 2  # "which of our physical stores"
                else:
                    break
            if k < p.start - 1 and d.lower(k) in ("which", "what"):
                return True
            if (
                k < p.start - 1
                and d.lower(k) == "by"
                and (d.lower(k - 1) in self._any_verb() or self._phrasing_at(k - 1))
                and d.lower(k - 1) not in ("broken", "split", "grouped", "broke", "break")
            ):
                return False  # "flights flown by turboprop planes": who flew them, the value filters
            if k < p.start - 1 and d.lower(k) in ("by", "per", "each", "every") and not d.used[k]:
                self.place(
                    k, k + 1
                )  # "broken out by NYC departure airport": each of them, the values still filter
                return True
        r = d.ranking
        if (
            r is not None
            and r.word in ("most", "least", "fewest", "more", "less", "highest", "lowest")
            and p.kind in ("metric", "measure")
            and (r.end == p.start or (r.end == p.start - 1 and previous == "the"))
        ):
            return False  # "the most orders" counts orders, "the highest marketing spend" is a figure
        if r is not None and (r.end == p.start or (r.end == p.start - 1 and previous == "the")):
            return True
        figure = d.pick_at(p.start - 1)
        if (
            r is not None
            and (r.limit is not None or self._per_group_said())
            and (p.kind in ("entity", "concept") or p.alt("entity"))
            and figure is not None
            and figure.kind in ("metric", "measure")
            and figure.start == r.end
        ):
            # "our six highest gross-margin products", "the highest-revenue store in each region": the figure
            # ranks the things after it
            return True
        if (
            r is not None
            and r.start > p.end
            and (p.kind in ("entity", "concept") or p.alt("entity"))
            and r.word not in ("top", "bottom")
            and 0 < r.start - p.end <= 3
            and all(
                d.lower(k) in ("with", "the", "that", "had", "has", "having", "who", "which")
                for k in range(p.end, r.start)
            )
        ):
            return True  # "the store with the most orders": the store is what the ranking picks
        if (
            r is not None
            and r.end < p.start
            and (p.kind in ("entity", "concept") or p.alt("entity"))
            and all(
                (q := d.pick_at(k)) is not None
                and (
                    q.kind == "value"
                    or q.kind == "dimension"
                    and not any(
                        is_numeric(self.ctx, t) or self.layer.dimension(t).dimension.is_time
                        for t in q.targets
                    )
                    or q.kind == "phrasing"
                    and not self._direct_target(p)
                )
                or d.lower(k) in self.ctx.lexicon.function_words | {"-", "single"}
                and not d.used[k]
                for k in range(r.end, p.start)
            )
            and d.lower(self._before_places(p.start - 1))
            != "any"  # "the longest any United flight spent in the air"
        ):
            return True  # "top 3 Beauty products", "top 5 Corporate-segment customers"
        if number_of(previous) is not None and d.ranking is not None and not d.used[p.start - 1]:
            return True
        # "which 5 customers", "the 3 airlines": a number in front of the noun, with a ranking elsewhere
        if d.lower(p.start - 2) in ("which", "what", "the") and number_of(previous) is not None:
            return True
        return False

    def _per_group_said(self) -> bool:
        """Whether 'each' / 'every' / 'for each' is said anywhere in the question."""
        return any(w.lower in ("each", "every") for w in self.d.words)

    def _grain_word_at(self, i: int, cues: Sequence[str] = ("by", "per", "each")) -> bool:
        """True when word i ends a time grain asked for with a group cue ("by month", "per week")."""
        m = self.d.time
        if not m.grain:
            return False
        w = self.d.words[i]
        pattern = r"\b(" + "|".join(cues) + r")\b"
        return any(a < w.end <= b and re.search(pattern, self.d.question[a:b].lower()) for a, b in m.spans)

    # -- steps ----------------------------------------------------------------------------------------------
    def verbs(self) -> None:
        """ "did we make", "they use": a light verb right after its subject pronoun is a verb, even when the
        model also has a name spelled that way (make = brand)."""
        lex = self.ctx.lexicon
        for p in list(self.picks):
            if (
                p.end - p.start == 1
                and self.d.lower(p.start - 1) in _SUBJECT_PRONOUNS
                and self.d.lower(p.start) in lex.light_verbs
                and p.kind not in ("metric", "phrasing")
            ):
                self.picks.remove(p)
                self.place(p.start, p.end)
                self.notes.append(Evidence(p.phrase, "other", "a verb here", 1.0, "grammar"))

    def untimed_verbs(self) -> None:
        """ "customers who placed more than 10 orders": a verb the model ties to a date ("placed" → order date)
        says which date a time next to it is about; with no time next to it, it is only a verb."""
        d = self.d
        for p in list(self.picks):
            ph = self.phrasing(p) if p.kind == "phrasing" else None
            if ph is None or ph.dimension is None or ph.op or ph.metric or ph.model:
                continue
            if not self.layer.dimension(ph.dimension).dimension.is_time:
                continue
            k = p.end
            while k < len(d.words) and d.lower(k) in (
                "in",
                "on",
                "during",
                "before",
                "after",
                "since",
                "between",
            ):
                k += 1
            if k < len(d.words) and self._in_time_phrase(k):
                continue
            if all(d.lower(i) in self.ctx.lexicon.light_verbs for i in range(p.start, p.end)):
                self.picks.remove(p)
                self.place(p.start, p.end)

    def definitions(self) -> None:
        d = self.d
        for definition in d.definitions:
            if definition.ratio is not None or definition.days is not None:
                self._defined_ratio(definition)
                continue
            metric = AdhocMetric(definition.name, definition.expr, definition.filtered)
            self.defined[definition.name] = metric
            self.notes.append(
                Evidence(
                    definition.phrase,
                    "metric",
                    f"{definition.label} = {definition.expr}",
                    1.0,
                    "defined in the question",
                )
            )
            norms = [w.norm for w in d.words]
            found = False
            for words in _name_forms(d, definition):
                for i in range(len(norms) - len(words) + 1):
                    inside = definition.start <= i < definition.end
                    if (
                        norms[i : i + len(words)] == words
                        and not inside
                        and not (definition.start <= i + len(words) - 1 < definition.end)
                    ):
                        # "incurred amount" for a defined "incurred": the noun restates the figure
                        end = i + len(words) + (d.norm(i + len(words)) in _RESTATING_NOUNS)
                        self.place(i, end)
                        self.picks = [p for p in self.picks if p.end <= i or p.start >= end]
                        found = True
                if found:
                    break
            self.adhoc.append(metric)
            if not found:
                self.notes.append(Evidence(definition.label, "other", "computed as defined", 1.0, "defined"))
        self._defined_arithmetic()

    def _defined_arithmetic(self) -> None:
        """ "work out reserves minus payments, where reserves = A + B and payments = C + D": two names defined in
        the question, set against each other by an operator, are the one figure asked for."""
        d = self.d
        plain = [x for x in d.definitions if x.ratio is None and x.days is None]
        norms = [w.norm for w in d.words]
        for a in plain:
            for b in plain:
                left, right = tokens(a.label), tokens(b.label)
                for i in range(len(norms) - len(left) + 1):
                    if norms[i : i + len(left)] != left or any(x.start <= i < x.end for x in plain):
                        continue
                    k = i + len(left)
                    op, width = _OPERATORS.get(d.lower(k), ("", 1))
                    if d.lower(k) == "divided" and d.lower(k + 1) == "by":
                        op, width = "/", 2
                    if not op or a is b or norms[k + width : k + width + len(right)] != right:
                        continue
                    both = AdhocMetric(
                        f"{a.name}_{d.lower(k)}_{b.name}",
                        f"( {a.expr} ) {op} ( {b.expr} )",  # spaced: the interpretation reads it word by word
                        a.filtered + b.filtered,
                    )
                    self.place(k, k + width)
                    self.adhoc = [m for m in self.adhoc if m.name not in (a.name, b.name)] + [both]
                    self.notes.append(
                        Evidence(d.text(i, k + width + len(right)), "metric", both.expr, 1.0, "defined names")
                    )
                    return

    def _defined_ratio(self, definition: Definition) -> None:
        """ "the average of firefighters per mile, where firefighters per mile = number of firefighters divided by
        miles to the nearest fire station": the aggregate word before the defined name takes each row's ratio (or
        each row's days between two dates, "where return lag is return date minus order date")."""
        d = self.d
        words = tokens(definition.label)
        norms = [w.norm for w in d.words]
        uses = [
            i
            for i in range(len(norms) - len(words) + 1)
            if norms[i : i + len(words)] == words and not definition.start <= i < definition.end
        ]
        word = next(
            (
                a
                for a in d.aggs
                for i in uses
                if a.end <= i and all(d.lower(k) in ("of", "the", "a") for k in range(a.end, i))
            ),
            None,
        )
        if definition.ratio is not None:
            top, bottom, since = definition.ratio[0], definition.ratio[1], None
            shown = f"{dimension_label(self.layer, top)} ÷ {dimension_label(self.layer, bottom)}"
        else:
            assert definition.days is not None  # narrows the type only: the caller sends ratios or days
            since, top, bottom = definition.days[0], definition.days[1], None
            shown = f"days from {dimension_label(self.layer, since).lower()} to {dimension_label(self.layer, top).lower()}"
        self.notes.append(
            Evidence(
                definition.phrase, "metric", f"{definition.label} = {shown}", 1.0, "defined in the question"
            )
        )
        for i in uses:
            self.place(i, i + len(words))
            self.picks = [p for p in self.picks if p.end <= i or p.start >= i + len(words)]
        word = word or self._aggregate_word_before(uses)
        if word is None and since is not None:
            # "days to settle each claim, computed as …, by claim number": one value per row, shown per member
            self.aggregates.append(
                Aggregate(
                    definition.name, "max", top, None, None, f"{definition.label} ({shown})", since=since
                )
            )
            self.per_row.append(definition.name)
            return
        if word is None or word.function in ("count", "count_distinct"):
            self.problems.append(
                f"{definition.label} is worked out row by row; say how to combine the rows "
                f"(the average, median, smallest or largest {definition.label})"
            )
            if uses and word is None:
                first = uses[0]
                self.rewrites.append(d.replaced(first, first + 1, f"the average {d.words[first].raw}"))
            return
        self.place(word.start, word.end)
        self.d = replace(self.d, aggs=tuple(a for a in self.d.aggs if a != word))
        self.aggregates.append(
            Aggregate(
                definition.name,
                word.function,
                top,
                None,
                0.5 if word.function == "median" else None,
                f"{_FUNCTION_LABEL[word.function]} {definition.label} ({shown})",
                bottom,
                since,
            )
        )

    def per_row_figures(self) -> None:
        """A figure defined row by row with no aggregate word is shown per row: the rows must be split by the
        member each row is ("by claim number"); over many rows it needs an average, a median, a total."""
        for a in [a for a in self.aggregates if a.name in self.per_row]:
            model = self.layer.dimension(a.dimension).model
            own = model.primary_entity
            keys = set(self.layer.entity_keys(own.name)) if own is not None else set()
            label = label_dimension(self.ctx, own.name) if own is not None else None
            if not any(r.name in keys or r.name == label for r in self.dims):
                self.problems.append(
                    f"{a.label} is worked out for each {model.name.replace('_', ' ')} row; split it by "
                    f"{own.name.replace('_', ' ') if own else 'its rows'} or say how to combine the rows "
                    "(the average, median, smallest or largest)"
                )
                self.rewrites.append(f"the average {self.d.question.strip()}")

    def _aggregate_word_before(self, starts: Sequence[int]) -> AggWord | None:
        """An aggregate word ("median", "the largest") right before one of the given word positions, which the
        aggregate stage left alone because no name followed it."""
        d = self.d
        lex = self.ctx.lexicon
        lowers = [w.lower for w in d.words]
        for i in starts:
            k = i
            while k > 0 and lowers[k - 1] in ("of", "the", "a"):
                k -= 1
            for j in range(max(0, k - 3), k):
                phrase = lex.starts(lowers, j, [p for p, _ in lex.aggregates])
                # its words may have been read into a name that the defined words cut (that name is gone)
                taken = any(p.start <= j < p.end for p in self.picks) or j in self.placed
                if phrase is not None and j + len(phrase) == k and not taken:
                    return AggWord(j, k, dict(lex.aggregates)[phrase], d.text(j, k))
        return None

    def phrasings(self) -> None:
        d = self.d
        self._phrasings_as_values()
        for p in list(self.picks):
            if p.kind != "phrasing":
                continue
            ph = self.phrasing(p)
            if (
                ph.model
                and d.lower(p.end) == "for"
                and "what" in {d.lower(k) for k in range(p.start - 4, p.start)}
            ):
                # "what each line sold for" asks for a price; as a verb of the rows it would be silently dropped
                self.problems.append(f"'what … {p.phrase} for' asks for a price: name the figure to show")
                continue
            p, ph = self._condition_when_nothing_said(p, ph)
            self.place(p.start, p.end)
            self.roles[p.start] = "phrasing"
            if ph.model:
                self.over = self.over or ph.model
            if ph.ranking and ph.metric:
                self.comparison = self.comparison or "previous_period"
                self.d = replace(self.d, growth=True)
            if ph.metric and not ph.ranking:
                self.picks[self.picks.index(p)] = replace(
                    p, kind="metric", targets=(ph.metric,), method="phrasing"
                )
                continue
            if ph.metric and ph.ranking:
                self.growth_metric = ph.metric
            if ph.dimension:
                self.bound_dims[p.start] = ph.dimension
                if ph.op:
                    values = tuple(_scalar(v) for v in ph.values)
                    self.phrasing_filters[p.start] = Filter(ph.dimension, ph.op, values)
            self.notes.append(
                Evidence(
                    p.phrase, "filter" if ph.op else "other", _describe_phrasing(ph), p.score, "phrasing"
                )
            )

    def _condition_when_nothing_said(self, p: Pick, ph: Phrasing) -> tuple[Pick, Phrasing]:
        """ "how many flights actually took off": words that place a time said next to them, with none said after
        them, are the condition the same words state elsewhere in the model (the flight departed)."""
        if ph.op or not ph.dimension or len(p.targets) < 2:
            return p, ph
        k = p.end
        while (q := self.d.pick_at(k)) is not None and q.kind == "value":
            k = q.end
        if any(s.start in (k, k + 1) for s in self.d.numbers):
            return p, ph  # "actually left at 6 am": the time of day
        for t in p.targets[1:]:
            other = self.layer.phrasings[int(t)]
            if other.dimension == ph.dimension and other.op:
                chosen = replace(p, targets=(t,))
                self.picks[self.picks.index(p)] = chosen
                return chosen, other
        return p, ph

    def _phrasings_as_values(self) -> None:
        """ "online vs in-store", "in-store or online": a phrasing that names one value of a column, listed with
        another value of that column, is that value, so the list (and 'vs', one row per value) reads as one."""
        lex = self.ctx.lexicon

        def value_of(p: Pick) -> ValueCandidate | None:
            if p.kind != "phrasing":
                return None
            ph = self.phrasing(p)
            if ph.metric or ph.model or ph.ranking or ph.op != "=" or len(ph.values) != 1 or not ph.dimension:
                return None
            return ValueCandidate(ph.dimension, str(_scalar(ph.values[0])))

        def dims(p: Pick) -> set[str]:
            own = value_of(p)
            return {own.dimension} if own else {c.dimension for c in p.values} if p.kind == "value" else set()

        picks = sorted(self.picks, key=lambda p: p.start)
        convert: set[int] = set()
        narrow: dict[int, set[str]] = {}
        for a, b in zip(picks, picks[1:], strict=False):
            between = tuple(self.d.lower(k) for k in range(a.end, b.start))
            listed = bool(between) and (set(between) <= {"or", "and", "&"} or between in lex.versus)
            shared = dims(a) & dims(b)
            if listed and (value_of(a) or value_of(b)) and shared:
                convert |= {p.start for p in (a, b) if value_of(p)}
                # the value listed with the phrasing is of the phrasing's column ("online" is a store type here)
                narrow.update({p.start: shared for p in (a, b) if not value_of(p)})
        for k, p in enumerate(self.picks):
            found = value_of(p) if p.start in convert else None
            if found is not None:
                self.picks[k] = replace(p, kind="value", values=(found,), method="phrasing")
            elif p.start in narrow and p.kind == "value":
                self.picks[k] = replace(
                    p, values=tuple(c for c in p.values if c.dimension in narrow[p.start])
                )

    def bare_totals(self) -> None:
        """ "List the orders …, with each order's date and total": 'total' said alone in a list of things is
        their total as the model's phrasing names it ("order total"), never a word to drop."""
        d = self.d
        if not self.list_question():
            return
        for i, w in enumerate(d.words):
            if w.lower in ("amount", "amounts") and not d.used[i] and d.pick_at(i) is None:
                self._bare_amount(i)
                continue
            if w.lower not in ("total", "totals") or d.used[i] or d.pick_at(i) is not None:
                continue
            for p in self.picks:
                if p.end > i or not (p.targets if p.kind == "entity" else p.alt("entity")):
                    continue
                said = [
                    t
                    for t in self.ctx.vocabulary.lookup(normalize(f"{p.phrase} total"))
                    if t.kind == "phrasing"
                ]
                if said:
                    self.picks.append(Pick(i, i + 1, "phrasing", (said[0].target,), w.raw, 0.9, "implied"))
                    self.picks.sort(key=lambda q: q.start)
                    self.notes.append(Evidence(w.raw, "metric", f"{p.phrase} total", 0.9, "implied"))
                    return

    def _bare_amount(self, i: int) -> None:
        """ "the policy amount rows …: policy number, effective date and amount": 'amount' listed alone beside
        the columns of things whose rows are amounts is that amount (the measure summing it, per row)."""
        d = self.d
        if d.lower(i + 1) == "of" or not (
            d.lower(i - 1) in ("and", "the", "its", "their") or "," in d.gap(i)
        ):
            return
        if any(p.kind in ("metric", "measure") for p in self.picks):
            return  # "the claim amount records that are loss payments, with … amount": the figure named
        listed = [p.targets[0] for p in self.picks if p.kind == "entity" and p.end <= i]
        found = {m for e in listed if (m := self._amount_of_rows(e)) is not None}
        if len(found) == 1:
            metric = found.pop()
            self.picks.append(Pick(i, i + 1, "metric", (metric,), d.words[i].raw, 0.9, "implied"))
            self.picks.sort(key=lambda q: q.start)
            self.notes.append(Evidence(d.words[i].raw, "metric", metric, 0.9, "the amount of each row"))
        elif listed:
            self.problems.append(
                f"'{d.words[i].raw}' names no one amount of the {listed[0].replace('_', ' ')} rows"
            )

    def split_figures(self) -> None:
        """ "how many items did we sell": a figure the model names by a noun and a verb ("items sold"), asked with
        the verb after the noun; the noun counted and the verb read together are that figure, not a count of
        different products. The verb's other forms come from its phrasing ("sell", "sold", "selling")."""
        for p in list(self.picks):
            if p.kind not in ("entity", "metric") or not self._count_word_before(p):
                continue
            for q in self.picks:
                if q.kind != "phrasing" or not 0 < q.start - p.end <= 3:
                    continue
                said = self.phrasing(q)
                if said.model is None or said.op or said.dimension or said.metric:
                    continue  # a verb saying where a thing happens, never a condition ("were cancelled")
                forms = (q.phrase, *said.words)
                found = {
                    t.target
                    for f in forms
                    for t in self.ctx.vocabulary.lookup(normalize(f"{p.phrase} {f}"))
                    if t.kind == "metric"
                }
                if len(found) != 1:
                    continue
                metric = found.pop()
                self.picks[self.picks.index(p)] = replace(p, kind="metric", targets=(metric,), alts=())
                self.place(q.start, q.end)
                self.notes.append(Evidence(f"{p.phrase} … {q.phrase}", "metric", metric, 1.0, "split name"))
                break

    def restated_heads(self) -> None:
        """ "the 5 worst arrival delays: carrier, flight number … and the delay": a one-word figure that is the
        last word of a column named earlier restates that column; it is no figure of its own."""
        d = self.d
        for p in list(self.picks):
            if p.kind not in ("metric", "measure") or p.end - p.start != 1 or d.lower(p.start - 1) != "the":
                continue
            earlier = [
                q
                for q in self.picks
                if q.kind == "dimension"
                and q.end <= p.start - 1
                and q.end - q.start > 1
                and d.words[q.end - 1].norm == d.words[p.start].norm
            ]
            if earlier:
                self.picks.remove(p)
                self.place(p.start, p.end)
                self.notes.append(
                    Evidence(p.phrase, "other", f"the {earlier[-1].phrase} again", 1.0, "restated")
                )

    def restated_metric_words(self) -> None:
        """ "new sign-ups": a word of a metric's own name right before a synonym of it restates the metric."""
        d = self.d
        for p in self.picks:
            k = p.start - 1
            if self.roles.get(p.start) != "metric" or k < 0 or d.used[k] or k in self.placed:
                continue
            metric = self.layer.metric(p.targets[0])
            own = set(tokens(" ".join([metric.name, metric.label or ""])))
            if d.words[k].norm in own and d.words[k].norm not in {w.norm for w in d.words[p.start : p.end]}:
                self.place(k, k + 1)

    def metrics_step(self) -> None:  # noqa: C901 - one rule per role a metric word can take, tried in order
        """Metric picks become metrics, unless they are the subject of another metric, an entity being grouped,
        listed or counted, or a column being aggregated."""
        d = self.d
        if self.list_question():
            # in a list, a metric word that names a column of the rows is that column ("…, with air time")
            listed = self._listed_model()
            for p in list(self.picks):
                columns = [
                    t
                    for t in p.alt("dimension")
                    if is_numeric(self.ctx, t) and (listed is None or reaches(self.ctx, listed, t))
                ]
                if p.kind == "metric" and columns and not p.alt("entity"):
                    self.picks[self.picks.index(p)] = replace(p, kind="dimension", targets=tuple(columns))
        self._each_ones_figure()
        metric_picks = [p for p in self.picks if p.kind in ("metric", "measure")]
        for p in metric_picks:
            idx = self.picks.index(p)
            entity = p.alt("entity")
            column = [t for t in p.alt("dimension") if is_numeric(self.ctx, t)]
            listed = self._listed_model() if self.list_question() else None
            column = [t for t in column if listed is None or reaches(self.ctx, listed, t)]
            column = column or self._extreme_of_a_sum(p)
            if self._aggregated(p) and column:
                self.picks[idx] = replace(p, kind="dimension", targets=tuple(column))
                continue
            # "number of customers who placed more than 10 orders": the count stays; the condition is on them
            holds = self._holds_condition(p) and not self._count_word_before(p)
            if entity and self._figure_ranked_by(p):
                continue
            if entity and (self.group_position(p) or holds or self._is_counted_entity(p)):
                self.picks[idx] = replace(p, kind="entity", targets=entity)
                continue
            # "give me marketing spend": a figure that adds up an amount is that amount, though its rows are
            # named alike; "give me orders" (a count of the rows) lists them
            counts = p.kind == "metric" and self._metric_kind(p.targets[0]) in ("count", "count_distinct")
            rows = counts or p.kind != "metric" or d.lower(p.end) in ("rows", "records", "entries")
            if entity and self._listed_entity(p) and rows:
                self.picks[idx] = replace(p, kind="entity", targets=entity)
                continue
            said = d.lower(self._before_places(p.start - 1))
            if entity and (said in ("any", "single") or self._relative_row(p, said)):
                self.picks[idx] = replace(p, kind="entity", targets=entity)  # "of any flight": the population
                continue
            if (
                entity
                and d.lower(p.start - 1) in ("did", "do", "does")
                and (
                    p.start >= 3
                    # "what did shoppers spend": the verb names the figure, the noun who did it
                    or d.lower(p.start - 2) == "what"
                    and any(
                        q.start == p.end
                        and (
                            q.kind == "metric" or q.kind == "phrasing" and self.phrasing(q).metric is not None
                        )
                        for q in self.picks
                    )
                )
            ):
                # "how many brands did customers in Ohio buy": the subject of the verb, not a second count
                self.picks[idx] = replace(p, kind="entity", targets=entity)
                self.place(p.start - 1, p.start)
                continue
        metric_picks = [p for p in self.picks if p.kind in ("metric", "measure")]
        counted = [p for p in self.picks if p.kind == "entity" and self._is_counted_entity(p)]
        if counted and len(metric_picks) == 1 and not self.over and not self.adhoc:
            # "how many distinct customers made a return": the return is where the customers are counted
            p = metric_picks[0]
            model = metric_models(self.layer, p.targets[0]) if p.kind == "metric" else ()
            if (
                model
                and self.layer.metric(p.targets[0]).type == "simple"
                and not self.layer.metric(p.targets[0]).filter
            ):
                self.over = model[0]
                self.place(p.start, p.end)
                self.roles[p.start] = "relation"
                self.picks.remove(p)
                self.notes.append(
                    Evidence(p.phrase, "other", f"counted over {model[0]} rows", p.score, "relation")
                )
                metric_picks = []
        if self.over:
            metric_picks = [q for q in (self._verb_metric(p) for p in metric_picks) if q.kind != "counted"]
        subjects = _subject_nouns(d, metric_picks)
        for p in metric_picks:
            # "median refund amount of the returns": the rows an aggregate is taken over
            if (
                any(a.end <= p.start for a in d.aggs)
                and d.lower(p.start - 1) in ("of", "the", "among")
                and d.lower(p.start - 2) in ("of", "among", "across", "")
                and not self.metrics
            ):
                subjects.add(id(p))
        if self.growth_metric and not metric_picks and not self.adhoc:
            self.metrics.append(self.growth_metric)
            self.notes.append(Evidence("grew", "metric", self.growth_metric, 0.9, "phrasing"))
        for p in metric_picks:
            if (
                len(metric_picks) > 1
                and p.end - p.start == 1
                and d.lower(p.start - 1) in ("in", "as")
                and unit_of_word(p.phrase.lower()) is not None
            ):
                # "average delay in miles": a unit asked for the answer, though the model calls a figure "miles"
                self.said_units.append(p.start)
                self.picks[self.picks.index(p)] = replace(p, kind="subject")
                continue
            if id(p) in subjects:
                self.place(p.start, p.end)
                self.roles[p.start] = "subject"
                self.notes.append(Evidence(p.phrase, "other", "describes what is counted", p.score, p.method))
                self.picks[self.picks.index(p)] = replace(p, kind="subject")
                continue
            if p.kind == "measure":
                name = next((m for t in p.targets if (m := _metric_of_measure(self.layer, t))), None)
                if name is None:
                    continue
            else:
                name = p.targets[0]
            self.place(p.start, p.end)
            self.roles[p.start] = "metric"
            if name not in self.metrics:
                self.metrics.append(name)
                self.notes.append(Evidence(p.phrase, "metric", name, p.score, p.method))
                if p.score < 0.85 or p.method in ("partial", "phonetic", "meaning"):
                    self.low.append(Evidence(p.phrase, "metric", name, p.score, p.method))

    def _verb_metric(self, p: Pick) -> Pick:
        """ "units were returned": the verb says the rows are returns; the metric named must count those rows
        (returned units), else the question mixes two tables and is refused."""
        if p.kind != "metric" or self.over is None:
            return p
        models = metric_models(self.layer, p.targets[0])
        if self.over in models or not models:
            return p
        kind = self._metric_kind(p.targets[0])
        if kind == "count_distinct":
            counted = self._members_over(p, self.over)
            if counted is not None:
                return counted
        words = set(tokens(p.targets[0])) | set(tokens(self.layer.metric(p.targets[0]).title))
        # the same kind of number on the verb's rows: a sum for a sum, a count for a count
        same = [
            m.name
            for m in self.layer.metrics
            if self.over in metric_models(self.layer, m.name)
            and words & (set(tokens(m.name)) | set(tokens(m.title)))
            and self._metric_kind(m.name) == kind
        ]
        if len(same) == 1:
            swapped = replace(p, targets=(same[0],), method="verb")
            self.picks[self.picks.index(p)] = swapped
            self.notes.append(Evidence(p.phrase, "metric", same[0], 0.9, "verb"))
            return swapped
        return p

    def _members_over(self, p: Pick, over: str) -> Pick | None:
        """ "customers who bought Beauty products": a metric counting distinct members is counted again over the
        verb's rows (distinct counts do not double count), so filters on those rows apply."""
        metric = self.layer.metric(p.targets[0])
        if metric.type != "simple" or not metric.measure or metric.filter:
            return None
        model, measure = self.layer.measure(metric.measure)
        if measure.filter:
            return None
        entity = next((e for e in model.entities if e.key_exprs == (measure.expr,)), None)
        keys = self.layer.entity_keys(entity.name) if entity is not None else ()
        if entity is None or len(keys) != 1 or not reaches(self.ctx, over, keys[0]):
            return None
        self.aggregates.append(Aggregate(metric.name, "count_distinct", keys[0], over, None, metric.title))
        self.place(p.start, p.end)
        self.roles[p.start] = "counted"
        self.picks.remove(p)
        self.notes.append(
            Evidence(p.phrase, "metric", f"distinct {entity.name} over {over} rows", p.score, "verb")
        )
        if p.score < 0.85 or p.method in ("partial", "phonetic", "meaning", "fuzzy"):
            self.low.append(Evidence(p.phrase, "metric", metric.name, p.score, p.method))
        return replace(p, kind="counted")

    def _metric_kind(self, metric: str) -> str:
        """A simple metric's aggregation (sum, count, count_distinct, …), else the metric's type."""
        m = self.layer.metric(metric)
        if m.type == "simple" and m.measure:
            agg = self.layer.measure(m.measure)[1].agg
            return "count" if agg == "count" else agg
        return m.type

    def _extreme_of_a_sum(self, p: Pick) -> list[str]:
        """ "the longest distance flown on any single flight": an extreme word before a figure that sums one
        column, over the rows of one thing each ('any single …'), is that column's extreme row."""
        d = self.d
        r = d.ranking
        if (
            r is None
            or r.limit is not None
            or r.word not in _EXTREME_WORDS
            or r.end != p.start
            or p.kind != "metric"
            or not any(w.lower in ("any", "single") for w in d.words[p.end :])
        ):
            return []
        metric = self.layer.metric(p.targets[0])
        if metric.type != "simple" or not metric.measure or metric.filter:
            return []
        model, measure = self.layer.measure(metric.measure)
        column = f"{model.prefix}__{measure.expr or measure.name}"
        if measure.agg != "sum" or not self.layer.has_dimension(column) or not is_numeric(self.ctx, column):
            return []
        return [column]

    def _figure_ranked_by(self, p: Pick) -> bool:
        """ "top 5 customers by orders": after a ranking that cuts and the things it ranks, 'by' and a figure say
        what ranks them (the figure, not its rows to group by)."""
        r = self.d.ranking
        return (
            r is not None
            and ranked_by_at(self.d, p.start)
            and any(
                q.kind in ("entity", "dimension", "concept") and r.end <= q.start and q.end < p.start
                for q in self.picks
            )
        )

    def _aggregated(self, p: Pick) -> bool:
        d = self.d
        agg = next(
            (
                a
                for a in d.aggs
                if a.end <= p.start and all(d.lower(k) in ("the", "of", "a") for k in range(a.end, p.start))
            ),
            None,
        )
        if agg is not None:
            return True
        r = d.ranking
        last = d.words[p.end - 1]
        if r is not None and r.word in _COUNTING_RANKS and last.lower != last.norm:
            return False  # "the most refunds": how many or how much in all, never one row's refund
        return (
            r is not None
            and r.end <= p.start
            and all(d.lower(k) in ("the", "of", "a") for k in range(r.end, p.start))
        )

    def _holds_condition(self, p: Pick) -> bool:
        """ "customers with more than 5 orders": the word before 'with' holds a condition on a metric (the number
        is followed by a metric, not by a column like "a discount of at least 20%")."""
        d = self.d
        if d.lower(p.end) not in _HOLDER_WORDS:
            return False
        span = next((s for s in d.numbers if s.start > p.end), None)
        if span is None:
            return False
        after = next((q for q in self.picks if q.start >= span.end), None)
        return (
            after is not None
            and after.kind in ("metric", "measure")
            and all(d.lower(k) in ("of", "the", "a") for k in range(span.end, after.start))
            and not [t for t in after.alt("dimension") if is_numeric(self.ctx, t)]
        )

    def _is_counted_entity(self, p: Pick) -> bool:
        return any(
            a.end <= p.start
            and a.function in ("count", "count_distinct")
            and a.distinct
            and all(self.d.lower(k) in ("the", "of", "a") for k in range(a.end, p.start))
            for a in self.d.aggs
        )

    def list_question(self) -> bool:
        """A question that lists rows: it opens with a list verb, or names a number of rows of an entity ("the 5
        flights with …"), and asks for no aggregate."""
        d = self.d
        if d.aggs or self.adhoc or d.definitions:
            return False
        if self._count_phrase_before(len(d.words)):
            return False  # "show me how many JFK flights …" asks for a number, not the rows
        if d.lower(0) in _LIST_OPENERS or self._return_verb(0):
            return True
        if self._list_verb_closing():
            return True
        for p in self.picks:
            entity = p.targets if p.kind == "entity" else p.alt("entity")
            k = p.start - 1
            while (q := d.pick_at(k)) is not None and q.kind in ("value", "phrasing"):
                k = q.start - 1  # "the 3 United flights with …"
            if (
                entity
                and k >= 0
                and number_of(d.lower(k)) is not None
                and not d.used[k]
                and d.lower(k - 1) in ("the", "which", "what", "")
                and d.lower(self._past_places(p.end)) in ("with", "that", "who", "whose", "where", "having")
            ):
                return True
        return False

    def _list_verb_closing(self) -> bool:
        """ "Flights … before 6 am on July 4th - show them": a list verb after a break at the end asks for rows."""
        d = self.d
        for k in range(len(d.words) - 1, 0, -1):
            if d.lower(k) in _LIST_OPENERS:
                rest = [d.lower(j) for j in range(k + 1, len(d.words))]
                return (
                    any(mark in d.gap(k) for mark in "-–—,:;.") or d.lower(k - 1) in ("-", "–", "—")
                ) and all(w in ("them", "those", "these", "all", "me", "please") for w in rest)
        return False

    def phrasing_figures(self) -> None:
        """A column name that is also a phrasing of a figure, where the column's table has no link to what the
        question is about, means the figure: "how much did customers in Ohio spend" is revenue, not marketing
        spend."""
        for p in list(self.picks):
            said = p.alt("phrasing") if p.kind in ("dimension", "metric") else ()
            metric = self.layer.phrasings[int(said[0])].metric if said else None
            if metric is None:
                continue
            anchors = [  # what the question is about: the entities it names, also where a count names them
                m.name
                for q in self.picks
                if q is not p
                for e in (q.targets if q.kind == "entity" else q.alt("entity"))
                if (m := self.layer.entity_model(e)) is not None
            ]
            if not anchors:
                continue
            own = (
                [self.layer.dimension(t).model.name for t in p.targets]
                if p.kind == "dimension"
                else list(metric_models(self.layer, p.targets[0]))
            )
            if any(self.ctx.graph.connected(a, m) for m in own for a in anchors):
                continue
            if not all(
                self.ctx.graph.connected(m, a) for m in metric_models(self.layer, metric) for a in anchors
            ):
                continue
            self.picks[self.picks.index(p)] = replace(p, kind="metric", targets=(metric,), alts=())

    def empty_columns(self) -> None:
        """A column empty in every row of the warehouse adds only blanks to a list; a list of nothing else is no
        answer."""
        if self.metrics or self.aggregates or self.adhoc:
            return
        empty = [r for r in self.dims if r.name != METRIC_TIME and self.ctx.values.is_empty(r.name)]
        if empty and len(empty) == len(self.dims):
            self.problems.append(
                f"{dimension_label(self.layer, empty[0].name)} is empty in every row of the warehouse"
            )
        for r in empty:
            self._empty_figure(r.name)
        self.dims = [r for r in self.dims if r not in empty] or self.dims

    def _empty_figure(self, column: str) -> None:
        """ "total premium of the policies …": an empty column whose words also name a figure of the model was
        most likely meant as that figure; dropping it would answer another question, so it is refused with the
        figure offered."""
        d = self.d
        for p in self.picks:
            if p.kind != "dimension" or column not in p.targets:
                continue
            for k in range(p.start, p.end):
                metric = next(
                    (t.target for t in self.ctx.vocabulary.lookup(d.words[k].norm) if t.kind == "metric"),
                    None,
                ) or next(iter(p.alt("metric")), None)  # "premuim": the figure its correction also names
                if metric is not None:
                    self.problems.append(
                        f"'{p.phrase}' reads as {dimension_label(self.layer, column).lower()}, a column that is empty in "
                        f"every row; '{d.words[k].raw}' is also the figure {metric.replace('_', ' ')}"
                    )
                    self.rewrites.append(d.replaced(p.start, p.end, d.words[k].raw))
                    return

    def _compares(self) -> bool:
        """True when the question asks to compare ("compare", "compared with", "vs", "against"); the words are
        placed."""
        found = [
            i for i, w in enumerate(self.d.words) if w.lower in _COMPARE_WORDS and not self._booked_against(i)
        ]
        for i in found:
            self.place(i, i + 1)
            if self.d.lower(i + 1) in ("with", "to", "against"):
                self.place(i + 1, i + 2)
        return bool(found)

    def _before_places(self, k: int) -> int:
        """The first word from k back that is not a value or a word joining values ("any JFK to LAX flight")."""
        d = self.d
        while k >= 0:
            q = d.pick_at(k)
            if q is not None and q.kind == "value":
                k = q.start - 1
            elif (
                d.lower(k) in ("to", "from", "-")
                and (q := d.pick_at(k - 1)) is not None
                and q.kind == "value"
            ):
                k -= 1
            else:
                return k
        return k

    def _past_places(self, k: int) -> int:
        """The first word from k on that is not a value or the preposition before one ("to SFO", "out of JFK")."""
        d = self.d
        while k < len(d.words):
            q = d.pick_at(k)
            if q is not None and q.kind == "value":
                k = q.end
            elif d.lower(k) in ("to", "from", "at", "out", "of", "in", "into") and (
                (q := d.pick_at(k + 1)) is not None and q.kind == "value" or d.lower(k + 1) == "of"
            ):
                k += 1
            else:
                return k
        return k

    def _count_phrase_before(self, end: int) -> bool:
        """True when words before `end` ask for a count or a total ("how many", "number of")."""
        lowers = [w.lower for w in self.d.words[:end]]
        return any(tuple(lowers[k : k + 2]) in _COUNT_PHRASES for k in range(len(lowers)))

    def _said(self, p: Pick) -> str:
        """The words of a pick for a label: as written, or the name it was read as when they were misspelt
        ("custmers" is labelled customers)."""
        if p.score >= 1.0 or not p.targets:
            return p.phrase
        return p.targets[0].replace("_", " ") if p.kind == "entity" else p.phrase

    def _phrasing_at(self, k: int) -> bool:
        """Whether word `k` is part of one of the model's phrasings ("flown", "cancelled")."""
        return (q := self.d.pick_at(k)) is not None and q.kind == "phrasing"

    def _any_verb(self) -> frozenset[str]:
        """Light and relation verbs of the lexicon, and the verbs of the model's phrasings."""
        return self.ctx.lexicon.light_verbs | self.ctx.lexicon.relation_verbs | model_verbs(self.layer)

    def _each_ones_figure(self) -> None:
        """ "which Velo items do we carry, and what does each one cost us": a figure asked of each one of the
        things named, where their rows hold that figure per item ('unit cost'), is that column; the total cost of
        everything sold is not what one item costs."""
        d = self.d
        each = [i for i in range(len(d.words)) if d.lower(i) == "each" and d.lower(i + 1) in ("one", "item")]
        each += [i for i in range(len(d.words)) if d.lower(i) == "apiece"]
        if not each:
            return
        named = next((q for q in self.picks if q.kind == "entity" and q.end <= each[0]), None)
        model = self.layer.entity_model(named.targets[0]) if named is not None else None
        if named is None or model is None:
            return
        after = named.end
        for p in [q for q in self.picks if q.kind == "metric" and q.end - q.start == 1 and q.start > after]:
            column = f"{model.prefix}__unit_{d.norm(p.start)}"
            if self.layer.has_dimension(column) and is_numeric(self.ctx, column):
                self.picks[self.picks.index(p)] = replace(p, kind="dimension", targets=(column,))
                self.notes.append(Evidence(p.phrase, "dimension", column, p.score, "each one"))

    def _listed_model(self) -> str | None:
        """The model of the entity a list question names ("the 5 customers who …" → customers), or None."""
        for p in self.picks:
            entity = p.targets if p.kind == "entity" else p.alt("entity")
            if entity:
                model = self.layer.entity_model(entity[0])
                return model.name if model else None
        return None

    def _listed_entity(self, p: Pick) -> bool:
        """A metric word naming an entity in a question that asks for rows ("list the flights …")."""
        d = self.d
        if self._count_phrase_before(p.start):
            return False  # "show me how many flights …": the number
        if d.lower(0) in _LIST_OPENERS and all(
            d.lower(k) in ("the", "all", "every", "me", "us", "each")
            or any(a <= d.words[k].start < b for a, b in d.time.spans)  # "October's"
            or (q := d.pick_at(k)) is not None
            and q.kind == "value"  # "the Trailhead returns"
            for k in range(1, p.start)
        ):
            # "list the orders placed …", "list October's returns": the rows listed, whatever else is shown
            return True
        if self._list_verb_closing() and all(
            d.lower(k) in ("the", "all", "every") or (q := d.pick_at(k)) is not None and q.kind == "value"
            for k in range(0, p.start)
        ):
            return True  # "Flights … on July 4th - show them": the rows the question opens with
        r = d.ranking
        ranked = d.pick_at(r.end) if r is not None and r.limit is not None else None
        model = self.layer.entity_model(p.alt("entity")[0]) if p.alt("entity") else None
        if (
            d.lower(0) in _LIST_OPENERS - {"name", "enumerate"}
            and ranked is not None
            and ranked.kind == "dimension"
            and ranked.end <= p.start
            and model is not None
            and any(is_numeric(self.ctx, t) and reaches(self.ctx, model.name, t) for t in ranked.targets)
        ):
            return True  # "list the 10 worst arrival delays on flights out of LaGuardia": flights, ranked
        others = [q for q in self.picks if q.kind in ("metric", "measure") and q is not p]
        if others or d.aggs or self.adhoc:
            return False
        lowers = [w.lower for w in d.words]
        if (
            all(w in ("the", "all", "our") for w in lowers[: p.start])
            and not self._count_phrase_before(p.start)
            and any(lowers[k : k + 2] in (["each", "one"], ["each", "of"]) for k in range(p.end, len(lowers)))
        ):
            return True  # "claims and the coverage detail each one is filed under": the claims, one row each
        if model is not None and self._own_columns_follow(p, model.name):
            return True
        first = d.lower(0)
        return (
            first in _LIST_OPENERS
            and d.ranking is None
            or (
                d.ranking is not None
                and any(number_of(d.lower(k)) is not None for k in range(max(0, p.start - 2), p.start))
            )
        )

    def _own_columns_follow(self, p: Pick, model: str) -> bool:
        """ "Hartford customers who signed up in October - id, name and signup date": a question that opens with
        things and, after a colon or dash, names only columns of their own asks for their rows, not a count."""
        d = self.d
        if any(
            not (d.used[k] or d.lower(k) in ("the", "our", "all"))
            for k in range(self._before_places(p.start - 1) + 1)
        ):
            return False
        cut = next(
            (
                k + (d.lower(k) in ("-", "—", "–"))
                for k in range(p.end + 1, len(d.words))
                if ":" in d.gap(k) or d.lower(k) in ("-", "—", "–")
            ),
            None,
        )
        if cut is None:
            return False
        columns = [q for q in self.picks if q.start >= cut]
        return bool(columns) and all(
            q.kind == "dimension" and all(self.layer.dimension(t).model.name == model for t in q.targets[:1])
            for q in columns
        )

    def _per_unit(self, p: Pick) -> bool:
        """ "average quantity per order line": 'per' + the entity whose rows the averaged column lives on names
        the averaging unit, not a grouping; values may stand between ("per Damaged return")."""
        d = self.d
        if d.lower(self._before_places(p.start - 1)) != "per":
            return False
        model = self.layer.entity_model(p.targets[0])
        for a in d.aggs:
            if a.function not in ("avg", "median") or a.end > p.start:
                continue
            target = next((q for q in self.picks if q.start >= a.end), None)
            if target is None:
                continue
            columns = [
                t
                for t in ((target.targets if target.kind == "dimension" else ()) + target.alt("dimension"))
                if is_numeric(self.ctx, t)
            ]
            if model is not None and any(self.layer.dimension(c).model.name == model.name for c in columns):
                return True
        return False

    def _said_count(self, k: int, p: Pick, column: str | None = None) -> None:
        """ "the three origin airports": a count said of the members grouped, which the answer must have (the
        pipeline checks it against the rows)."""
        n = number_of(self.d.lower(k)) if 0 <= k < p.start else None
        if n is None or n != int(n) or n < 2:
            return
        columns = (
            [column]
            if column
            else self.layer.entity_keys(p.targets[0])
            if p.kind == "entity"
            else p.targets[:1]
        )
        if len(columns) == 1:
            phrase = self.d.text(k, p.end)
            self.notes.append(Evidence(phrase, "members", f"{int(n)} {columns[0]}", 1.0, "count"))

    def _kind_of_value_before(self, p: Pick) -> bool:
        """True for a column name right after a value of that column ("the South region")."""
        before = self.d.pick_at(p.start - 1)
        return (
            before is not None
            and before.kind == "value"
            and any(c.dimension in p.targets for c in before.values)
        )

    def _relative_row(self, p: Pick, said: str) -> bool:
        """ "the longest arrival delay a Hawaiian flight had": a superlative of a column, then 'a' row of the
        entity with its verb, is the extreme over every such row (as "… of any Hawaiian flight")."""
        d = self.d
        verbs = self.ctx.lexicon.light_verbs | self.ctx.lexicon.relation_verbs
        # "how many different coverage details have had a claim filed": a count of other things is no extreme
        extremes = [a for a in d.aggs if a.function not in ("count", "count_distinct")]
        before = [k for k in range(p.start) if any(a.start <= k < a.end for a in extremes)]
        if d.ranking is not None and d.ranking.end <= p.start:
            before.append(d.ranking.start)
        return said in ("a", "an") and d.lower(p.end) in verbs and bool(before)

    def model_words(self) -> None:
        """ "fire claim records": the name of a table whose rows the question is about (a model without an
        entity of its own name); its rows are what is aggregated or listed."""
        for p in list(self.picks):
            if p.kind != "model":
                continue
            self.place(p.start, p.end)
            self.roles[p.start] = "model"
            self.over = self.over or p.targets[0]
            k = p.start - 1
            while k >= 0 and self.d.lower(k) in ("the", "all", "its", "their"):
                k -= 1
            if self.d.lower(k) in ("across", "among", "over", "of", "in", "for"):
                self.place(k, k + 1)  # "across the fire claim records": over its rows
            self.notes.append(Evidence(p.phrase, "other", f"rows of {p.targets[0]}", p.score, p.method))

    def entities(self) -> None:
        for p in list(self.picks):
            if p.kind != "entity":
                continue
            entity = p.targets[0]
            self.place(p.start, p.end)
            if p.start in self.in_parens and not self.group_position(p):
                self.roles[p.start] = "restated"
                continue
            # "the total of every claim amount": all of them, not one total each
            every = self.d.lower(p.start - 1) == "every" and any(
                a.end in (p.start - 2, p.start - 1) for a in self.d.aggs
            )
            said = self.d.lower(self._before_places(p.start - 1))
            # "show all occurrences with their dates": with nothing to compute, all of them are the rows listed
            figure = bool(self.metrics or self.adhoc or self.d.aggs) or said != "all"
            if every or (
                (said in ("any", "single", "all") and figure or self._relative_row(p, said))
                and not self.group_position(p)
            ):
                if every:
                    self.place(p.start - 1, p.start)
                self.roles[p.start] = "population"  # "the longest air time of any flight"
                if self.d.lower(p.start - 2) == "across":
                    self.place(p.start - 2, p.start - 1)  # "across all claims": over every one of them
                continue
            if self._per_unit(p):
                k = self._before_places(p.start - 1)
                self.place(k, k + 1)
                self.roles[p.start] = "unit"
                self.notes.append(
                    Evidence(f"per {p.phrase}", "other", f"averaged over each {entity}", 1.0, "unit")
                )
                continue
            if self._describes_a_column(p):
                self.roles[p.start] = "restated"  # "the agent id of the policy each claim falls under"
                if self.d.lower(p.start - 1) == "each":
                    self.place(p.start - 1, p.start)
                continue
            listed = self.list_question() and self._listed_entity(p) and not self.group_entities
            if (self.group_position(p) or listed or self._each_refers_back(p)) and not self._is_counted(p):
                # "list the orders … with their order total": one row per order, with the number beside it
                self.roles[p.start] = "group"
                if entity not in self.group_entities:
                    self.group_entities.append(entity)
                self.notes.append(
                    Evidence(p.phrase, "dimension", f"each {entity} (by its key)", p.score, p.method)
                )
            else:
                self.roles[p.start] = "entity"

    def _describes_a_column(self, p: Pick) -> bool:
        """An entity that only says whose column another word names: the owner after "of the" ("the agent id of
        the policy": the policy's agent id), or the subject of a clause right after that owner ("the policy each
        claim falls under"). Neither asks for a row each."""
        d, entity = self.d, p.targets[0]
        before = next((q for q in self.picks if q.end == p.start - 2), None)
        if (
            d.lower(p.start - 2) == "of"
            and d.lower(p.start - 1) in ("the", "its", "their")
            and before is not None
            and before.kind == "dimension"
            and all(t.startswith(f"{entity}__") for t in before.targets)
        ):
            return True
        owner = next((q for q in self.picks if q.end == p.start - 1 and q.kind == "entity"), None)
        verbs = self.ctx.lexicon.relation_verbs | self.ctx.lexicon.light_verbs
        return (
            owner is not None
            and owner.targets[0] != entity
            and d.lower(p.start - 1) == "each"
            and (d.lower(p.end) in verbs or d.lower(p.end + 1) in verbs and d.lower(p.end) in ("was", "is"))
            and self._describes_a_column(owner)
        )

    def _is_counted(self, p: Pick) -> bool:
        return any(
            a.end <= p.start
            and all(self.d.lower(k) in ("the", "of", "a") or self.d.used[k] for k in range(a.end, p.start))
            and a.function in ("count", "count_distinct")
            for a in self.d.aggs
        )

    def verb_subjects(self) -> None:
        """ "buildings built before 1980": a plural noun right before the verb of a column (year_built) names
        what the verb is about, which the column already says; it adds no condition of its own."""
        d = self.d
        for p in self.picks:
            k = p.start - 1
            if (
                p.kind != "dimension"
                or k < 0
                or d.used[k]
                or k in self.placed
                or d.pick_at(k) is not None
                or d.lower(k) in self.ctx.lexicon.function_words
                or not d.lower(k).endswith("s")
                or not d.lower(k).isalpha()
                or "(" in d.gap(p.start)  # "coverage periods (start and end dates)": no verb across a bracket
            ):
                continue
            if any(
                t.source == "verb" and t.target in p.targets
                for t in self.ctx.vocabulary.lookup(normalize(p.phrase))
            ):
                self.place(k, k + 1)
                self.notes.append(
                    Evidence(d.text(k, p.end), "other", f"what is {p.phrase}", 0.9, "verb subject")
                )

    def extreme_rows(self) -> None:
        """ "the largest single claim amount": a superlative before an entity whose words also name its own number
        column, with no figure to rank by, is about that column (read by `superlatives`), not the entity."""
        d = self.d
        if any(p.kind in ("metric", "measure") for p in self.picks):
            return
        # "the largest single claim amount" (a ranking word) or "the average claim amount" (an aggregate word)
        ends = [r.end for r in (d.ranking,) if r is not None and r.limit is None]
        ends += [a.end for a in d.aggs if a.function not in ("count", "count_distinct")]
        for end in ends:
            target = next((p for p in self.picks if p.start >= end), None)
            if (
                target is None
                or target.kind != "entity"
                or not all(
                    d.lower(k) in ("the", "of", "a", "single", "one", "each")
                    for k in range(end, target.start)
                )
            ):
                continue
            own = self._own_number_column(target)
            if own:
                self.picks[self.picks.index(target)] = replace(target, kind="dimension", targets=tuple(own))

    def _rows_named(self, target: Pick) -> None:
        """ "the longest air time recorded on a flight to Honolulu": the count of the column's own rows, said
        after it with on / of / for / among, names the rows the superlative looks over, not a figure to rank by."""
        d = self.d
        if len(self.metrics) != 1 or not self.layer.has_dimension(target.targets[0]):
            return
        model = self.layer.dimension(target.targets[0]).model.name
        if self.metrics[0] not in self._row_counts(model):
            return
        rows = next((p for p in self.picks if p.kind == "metric" and p.targets[0] == self.metrics[0]), None)
        if rows is None or rows.start < target.end:
            return
        k = rows.start - 1
        while d.lower(k) in ("a", "an", "the", "any", "all", "each", "every", "single", "one"):
            k -= 1
        if d.lower(k) not in ("on", "of", "for", "among", "across"):
            return
        self.metrics.remove(rows.targets[0])
        self.roles[rows.start] = "entity"
        self.notes.append(Evidence(rows.phrase, "other", f"the rows of {model}", 0.9, "rows of the column"))

    def rows_named_by_count(self) -> None:
        """ "the 5 LaGuardia departures with the longest arrival delays": the name of a count of a model's rows,
        after a number and before 'with' / 'that', names those rows, as "the 5 flights with …" does."""
        d = self.d
        for p in list(self.picks):
            last = d.words[p.end - 1]
            if p.kind != "metric" or p.alt("entity") or last.lower == last.norm:
                continue
            if d.lower(p.end) not in ("with", "that", "which", "where", "whose"):
                continue
            model = next(
                (m.name for m in self.layer.models if p.targets[0] in self._row_counts(m.name)), None
            )
            own = self.layer.model(model).primary_entity if model else None
            k = p.start - 1
            while k >= 0 and ((q := d.pick_at(k)) is not None and q.kind == "value" or d.lower(k) == "the"):
                k -= 1
            count = number_of(d.lower(k)) if k >= 0 else None
            if own is None or count is None or count != int(count) or count < 1:
                continue
            self.picks[self.picks.index(p)] = replace(p, kind="entity", targets=(own.name,))

    def _asks_which_date(self) -> bool:
        """ "… and in what year?" in a list whose rows show a date or a year: the words ask for that column."""
        d = self.d
        asked = any(
            w.norm in GRAIN_NOUNS and d.lower(k - 1) in ("what", "which") for k, w in enumerate(d.words)
        )
        return asked and any(
            r.name != METRIC_TIME
            and (self.layer.dimension(r.name).dimension.is_time or _year_like(self.layer.dimension(r.name)))
            for r in self.dims
        )

    def _population_words(self) -> set[int]:
        """The words naming the rows a figure looks over ("any United flight spent"), with the verb after them."""
        out: set[int] = set()
        for p in self.picks:
            if self.roles.get(p.start) == "population":
                out.update(range(self._before_places(p.start - 1), p.end))
                if self.d.lower(p.end) in self.ctx.lexicon.light_verbs:
                    out.add(p.end)  # "the longest any flight spent in the air"
        return out

    def superlatives(self) -> None:
        """A superlative right before a column, with nothing to rank ("the shortest flight distance", "the latest
        order date"), asks for the column's maximum or minimum."""
        d = self.d
        r = d.ranking
        if r is None or r.limit is not None:
            return
        population = self._population_words()
        target = next((p for p in self.picks if p.start >= r.end and p.start not in population), None)
        if (
            target is None
            or target.kind != "dimension"
            or holds_words(self.ctx, target.targets[0])  # "the most expensive category" ranks categories
            or not all(
                d.lower(k) in ("the", "of", "a", "single", "one") or k in population
                for k in range(r.end, target.start)
            )
        ):
            return
        last = d.words[target.end - 1]
        if (
            target.alt("metric")
            and last.lower != last.norm
            and d.lower(0) in ("which", "what")
            and any(q.kind in ("entity", "dimension") and q.end <= r.start for q in self.picks)
        ):
            # "which category had the largest refunds": the figure in the plural (the total) ranks the members;
            # "the largest refund" is one row's
            self.picks[self.picks.index(target)] = replace(
                target, kind="metric", targets=target.alt("metric")
            )
            self.place(target.start, target.end)
            self.roles[target.start] = "metric"
            if target.alt("metric")[0] not in self.metrics:
                self.metrics.append(target.alt("metric")[0])
                self.notes.append(
                    Evidence(target.phrase, "metric", target.alt("metric")[0], target.score, "name")
                )
            return
        grouped = [
            p
            for p in self.picks
            if p is not target
            and p.kind in ("entity", "concept", "dimension")
            and (self.group_position(p) or p.kind == "entity" and self.roles.get(p.start) == "group")
        ]
        # "the longest departure delay by carrier", "maximum delay of each airline": the column's maximum per
        # group; "which carrier had the longest delay" still ranks the carriers
        per_group = (
            bool(grouped)
            and all(
                p.start >= target.end and d.lower(p.start - 1) in ("by", "per", "each", "every")
                for p in grouped
            )
            and not {"which", "who", "whose"} & {w.lower for w in d.words}
            # "what airline had …" asks which one; "what was the longest delay for each airline" asks the figure
            and not any(w.lower == "what" and d.pick_at(k + 1) is not None for k, w in enumerate(d.words))
        )
        self._rows_named(target)
        if (grouped and not per_group) or self.metrics:
            return
        from datatruth.ask.reading import AggWord

        high = r.direction == "high"
        if r.direction in ("best", "worst"):
            # "the worst arrival delay": for a number where lower is better, the worst is the largest
            lower_better = any(w in target.targets[0] for w in self.ctx.lexicon.lower_is_better)
            high = (r.direction == "best") != lower_better
        function = "max" if high else "min"
        self.d = replace(
            d,
            aggs=tuple(sorted(d.aggs + (AggWord(r.start, r.end, function, r.word),), key=lambda a: a.start)),
            ranking=None,
        )
        self.place(r.start, r.end)

    def _times(self, a: object) -> bool:
        """ "how many times did United flight 1545 operate": the number of rows of the verb's table."""
        d = self.d
        end = getattr(a, "end", 0)
        if getattr(a, "function", "") != "count" or d.lower(end) != "times":
            return False
        model = self.over or (self._listed_model() or "")
        counts = [
            m.name
            for m in self.layer.metrics
            if m.type == "simple"
            and not m.filter
            and m.measure
            and self.layer.measure(m.measure)[0].name == model
            and self.layer.measure(m.measure)[1].agg == "count"
            and not self.layer.measure(m.measure)[1].filter
        ]
        if not counts:
            return False
        self.place(getattr(a, "start", 0), end + 1)
        if counts[0] not in self.metrics:
            self.metrics.append(counts[0])
        self.notes.append(Evidence("how many times", "metric", counts[0], 1.0, "count of rows"))
        return True

    def days_between(self) -> None:
        """ "the average number of days from claim open date to claim close date": an aggregate of each row's
        whole days between the two dates, over the later date's table."""
        for x in self.d.days_between:
            over = self.layer.dimension(x.until).model.name
            if not reaches(self.ctx, over, x.since):
                self.problems.append(
                    f"{dimension_label(self.layer, x.since)} and {dimension_label(self.layer, x.until)} are not "
                    "dates of one row, so the days between them cannot be counted"
                )
                continue
            label = (
                f"{_FUNCTION_LABEL[x.function]} days from {dimension_label(self.layer, x.since).lower()} "
                f"to {dimension_label(self.layer, x.until).lower()}"
            )
            name = (
                f"days_{x.function}"
                if not any(a.name == f"days_{x.function}" for a in self.aggregates)
                else (f"days_{x.function}_{len(self.aggregates) + 1}")
            )
            self.aggregates.append(Aggregate(name, x.function, x.until, None, None, label, since=x.since))
            self.notes.append(Evidence(x.phrase, "metric", label, 1.0, "duration"))

    def aggregates_step(self) -> None:  # noqa: C901 - one branch per kind of name an aggregate word applies to
        d = self.d
        for a in d.aggs:
            if a.period is not None:
                self._period_count(a)
                continue
            if self._times(a):
                continue
            target = next(
                (
                    p
                    for p in self.picks
                    if p.start >= a.end
                    and not (
                        p.kind in ("value", "phrasing")
                        and (
                            p.kind == "value" or self.phrasing(p).op is not None
                        )  # "how many in-store orders"
                        and any(q.start >= p.end and q.kind not in ("value", "phrasing") for q in self.picks)
                    )
                ),
                None,
            )
            # "the longest any flight spent in the air": the rows looked over stand between
            after_rows = next(
                (q for q in self.picks if target is not None and q.start >= target.end and q.kind != "value"),
                None,
            )
            if (
                target is not None
                and self.roles.get(target.start) == "population"
                and after_rows is not None
                and after_rows.kind == "dimension"
            ):
                target = after_rows
            if target is None:
                self.problems.append(f"'{a.phrase}' is not followed by something to compute it over")
                continue
            self.place(a.start, a.end)
            function = a.function
            r = self.d.ranking
            if (
                function == "count"
                and r is not None
                and r.limit is None
                and r.end in (a.start, a.start - 1)
                and target.kind == "dimension"
                and all(is_numeric(self.ctx, t) for t in target.targets[:1])
            ):
                # "the largest number of seats": the column holds the number; take its maximum
                function = "max" if r.direction in ("high", "best") else "min"
                self.place(r.start, r.end)
                self.d = replace(self.d, ranking=None)
            if target.kind == "model" and function in ("count", "count_distinct"):
                rows = f"{target.targets[0]}_rows"  # "number of fire claim records": the table's rows
                if self.layer.has_metric(rows):
                    self.metrics.append(rows)
                    self.roles[target.start] = "counted"
                    self.notes.append(Evidence(f"{a.phrase} {target.phrase}", "metric", rows, 1.0, "rows"))
                    continue
            if target.kind == "entity":
                entity = target.targets[0]
                keys = self.layer.entity_keys(entity)
                summed = self._amount_of_rows(entity) if function == "sum" else None
                if summed is not None:
                    # "the total of all the claim amounts": the rows are amounts; their measure sums them
                    self.metrics.append(summed)
                    self.roles[target.start] = "counted"
                    self.notes.append(Evidence(f"{a.phrase} {target.phrase}", "metric", summed, 1.0, "rows"))
                    continue
                if function not in ("count", "count_distinct") or len(keys) != 1:
                    if function in ("count", "count_distinct"):
                        self.problems.append(
                            f"I cannot count {target.phrase} one by one (it has no single key)"
                        )
                    else:
                        self.problems.append(
                            f"'{a.phrase} {target.phrase}' does not say which number of "
                            f"{target.phrase} to take the {function} of"
                        )
                    continue
                name = f"{entity}_count"
                self.aggregates.append(
                    Aggregate(
                        name,
                        "count_distinct",
                        keys[0],
                        self.over,
                        None,
                        f"Number of {_plural(self._said(target))}",
                    )
                )
                self.roles[target.start] = "counted"
                self.notes.append(
                    Evidence(
                        f"{a.phrase} {target.phrase}", "metric", f"count distinct {entity}", 1.0, "aggregate"
                    )
                )
                continue
            if (
                target.kind == "dimension"
                and function == "count"
                and not a.distinct
                and all((self.layer.dimension(t).dimension.unit or "") == "count" for t in target.targets[:1])
            ):
                if (at := said_on_average(self.d)) is None:
                    continue  # "number of seats": the column already holds the number
                function = (
                    "avg"  # "on average, how many seats does an Embraer plane have": the column's average
                )
                self.place(at, at + 2)
            target = self._summed_condition(target, function)
            if target.kind == "dimension":
                dim = target.targets[0]
                numeric = is_numeric(self.ctx, dim)
                if function in ("avg", "sum", "median") and not numeric:
                    self.problems.append(f"{target.phrase} is not a number, so it has no {function}")
                    continue
                held = self.layer.dimension(dim)
                rows = f"{held.model.name}{ROWS_SUFFIX}"
                if (
                    function == "count"
                    and not a.distinct
                    and held.dimension.unit not in (None, "count")
                    and self.layer.has_metric(rows)
                ):
                    # "how many refunds over $100": amounts are counted as the rows that hold them, not as
                    # distinct amounts
                    self.metrics.append(rows)
                    self.roles[target.start] = "counted"
                    self.place(target.start, target.end)
                    self.notes.append(Evidence(f"{a.phrase} {target.phrase}", "metric", rows, 1.0, "rows"))
                    continue
                if function == "count" and not a.distinct and target.phrase.lower() in _PERIOD_WORDS:
                    # "how many hours of delay": an amount of time, not how many different hours of the day
                    self.problems.append(
                        f"'{a.phrase} {target.phrase}' reads as an amount of time, which I cannot total here; "
                        f"ask for the total or average of the time itself"
                    )
                    continue
                if function == "count":
                    function = "count_distinct"
                name = f"{dim.split('__', 1)[1]}_{function}"
                column = self.layer.dimension(dim).dimension.label or target.phrase
                label = f"{_FUNCTION_LABEL[function]} {column[:1].lower() + column[1:] if column[1:2].islower() else column}"
                self.aggregates.append(
                    Aggregate(name, function, dim, None, 0.5 if function == "median" else None, label.strip())
                )
                self.roles[target.start] = "aggregated"
                self.place(target.start, target.end)
                self.notes.append(
                    Evidence(
                        f"{a.phrase} {target.phrase}",
                        "metric",
                        f"{function} of {dim}",
                        target.score,
                        "aggregate",
                    )
                )
                if target.score < 0.85:
                    self.low.append(Evidence(target.phrase, "dimension", dim, target.score, target.method))
                continue
            if target.kind == "metric" and function in ("avg",) and self.d.lower(target.end) == "per":
                continue  # "average revenue per customer": read with the per-entity ratio below
            if (
                target.kind == "metric"
                and function == "count"
                and self.layer.metric(target.targets[0]).format == "currency"
            ):
                # "how many revenue": a count word in front of an amount of money counts nothing named
                self.problems.append(
                    f"'{a.phrase}' counts things, but {target.phrase} is an amount of money "
                    f"(ask for the total {target.phrase}, or name what to count)"
                )
                continue
            if target.kind == "metric" and function in ("sum", "count"):
                continue
            if target.kind == "metric" and function == "avg" and not additive(self.layer, target.targets[0]):
                self.place(a.start, a.end)  # "average basket size": the metric already is an average
                continue
            if target.kind == "metric" and self._figure_per_member(a, target, function):
                continue
            self.problems.append(
                f"'{a.phrase}' of {target.phrase} is not something I can compute "
                f"({target.phrase} is already a {self._kind_word(target)})"
            )

    def _figure_per_member(self, a: AggWord, target: Pick, function: str) -> bool:
        """ "the median order total", "the largest revenue per store", "the most lines on a single order": a total
        or count taken once per member of an entity (named after 'per' / 'on a single', or as the figure's first
        word), then aggregated over the members. A ratio over a count of the members ("median order value" =
        revenue / orders) is its numerator per member."""
        d, metric = self.d, target.targets[0]
        if function not in ("avg", "median", "min", "max"):
            return False
        named, stop = self._member_named_after(target)
        single = d.lower(target.start - 1) in ("single", "individual")
        own = self._own_rows_entity(metric) if single or self.rows_of == metric else None
        if named is not None:
            entity = named.targets[0] if named.kind == "entity" else named.alt("entity")[0]
        elif own is not None:
            entity, stop = own, target.end  # "the largest single refund": one refund is one row of returns
            if single:
                self.place(target.start - 1, target.start)
        else:
            first = d.words[target.start].norm
            owners = [e for e in self.layer.entities() if first in entity_words(self.layer, e)]
            if len(owners) != 1 or target.end - target.start < 2:
                return False
            entity, stop = owners[0], target.end
        if not additive(self.layer, metric):
            numerator = self._numerator_per(metric, entity)
            if numerator is None or function == "avg":
                return False  # "average order value" already is the average
            metric = numerator
        keys = self.layer.entity_keys(entity)
        models = metric_models(self.layer, metric)
        if len(keys) != 1 or not models or not all(reaches(self.ctx, m, keys[0]) for m in models):
            return False
        label = f"{_FUNCTION_LABEL[function]} {target.phrase.lower()}"
        if named is not None:
            label += f" per {named.phrase.lower()}"
        else:  # "median order total (each order's revenue)": the figure behind the words, said
            label += f" (each {entity.replace('_', ' ')}'s {self.layer.metric(metric).title.lower()})"
        self.aggregates.append(
            Aggregate(
                f"{metric}_per_{entity}_{function}",
                function,
                keys[0],
                None,
                0.5 if function == "median" else None,
                label,
                metric=metric,
            )
        )
        for asked in (target, named, self._one_member_named(entity)):
            if asked is not None and asked.kind == "metric" and asked.targets[0] in self.metrics:
                self.metrics.remove(asked.targets[0])
        self.roles[target.start] = "aggregated"
        self.place(a.start, a.end)
        self.place(target.start, stop)
        self.notes.append(
            Evidence(f"{a.phrase} {target.phrase}", "metric", f"{label} (each {entity})", 1.0, "aggregate")
        )
        return True

    def _one_member_named(self, entity: str) -> Pick | None:
        """ "… for a Late delivery return": the entity said once, after 'a', where it also reads as the count of
        its rows; the words name the member the figure is of, not a second figure."""
        d = self.d
        model = self.layer.entity_model(entity)
        counts = self._row_counts(model.name) if model is not None else []
        for p in self.picks:
            if p.kind != "metric" or p.targets[0] not in self.metrics:
                continue
            if not (p.targets[0] in counts or entity in p.alt("entity")):
                continue
            k = p.start - 1
            if (before := d.pick_at(k)) is not None and before.kind == "value":
                k = before.start - 1  # "a Late delivery return"
            plural = any(w.raw.lower() != w.norm for w in d.words[p.start : p.end])
            if d.lower(k) in ("a", "an", "one") and not plural:
                self.roles[p.start] = "entity"
                return p
        return None

    def _extreme_per_member(self, r: Ranking, metric: str, direction: str) -> bool:
        """A ranking word with nothing to rank but a figure of one member ("the largest order value", "the most
        lines on a single order"): the maximum (or minimum) of the figure per member; the order is dropped."""
        pick = next(
            (p for p in self.picks if p.kind == "metric" and p.targets == (metric,) and p.start >= r.end),
            None,
        )
        word = AggWord(r.start, r.end, "max" if direction == "high" else "min", self.d.text(r.start, r.end))
        if pick is None or not self._figure_per_member(word, pick, word.function):
            return False
        self.order, self.limit = [], None
        return True

    def _own_rows_entity(self, metric: str) -> str | None:
        """The entity whose rows a simple metric adds up (refunds: returns), or None."""
        found = self.layer.metric(metric)
        if found.type != "simple" or not found.measure:
            return None
        own = self.layer.measure(found.measure)[0].primary_entity
        return own.name if own is not None else None

    def _member_named_after(self, target: Pick) -> tuple[Pick | None, int]:
        """The entity named right after a figure as its member ("per store", "on a single order", "in an
        order"), with where its words end; (None, 0) when there is none."""
        d = self.d
        k = target.end
        if d.lower(k) == "per":
            k += 1
        elif d.lower(k) in ("on", "in", "for") and d.lower(k + 1) in ("a", "an", "one", "single"):
            k += 2 if d.lower(k + 2) != "single" else 3
        else:
            return None, 0
        # "a return" names the entity even where the model also counts returns as a metric
        named = next(
            (p for p in self.picks if p.start == k and (p.kind == "entity" or p.alt("entity"))), None
        )
        return (named, named.end) if named is not None else (None, 0)

    def _numerator_per(self, metric: str, entity: str) -> str | None:
        """For a ratio whose denominator counts an entity's members (average order value = revenue / orders),
        the additive numerator: the ratio's figure for one member. None otherwise."""
        m = self.layer.metric(metric)
        if m.type != "ratio" or not m.numerator or not m.denominator:
            return None
        if self._counted_key(m.denominator) not in self.layer.entity_keys(entity):
            return None
        return m.numerator if additive(self.layer, m.numerator) else None

    def _counted_key(self, metric: str) -> str | None:
        """The key of the entity whose members a metric counts (orders: COUNT(DISTINCT order_id)), or None."""
        found = self.layer.metric(metric)
        if found.type != "simple" or not found.measure or found.filter:
            return None
        model, measure = self.layer.measure(found.measure)
        own = model.primary_entity
        keys = self.layer.entity_keys(own.name) if own is not None else ()
        if measure.agg != "count_distinct" or len(keys) != 1:
            return None
        same = self.layer.dimension(keys[0]).dimension.expr.strip().lower() == measure.expr.strip().lower()
        return keys[0] if same else None

    def _summed_condition(self, target: Pick, function: str) -> Pick:
        """ "how many inches of rain fell": a sum of a condition that only keeps the rows where its column is
        above zero ("raining" = precipitation > 0) is the sum of that column; the rows it leaves out add 0."""
        if target.kind != "phrasing" or function != "sum":
            return target
        ph = self.phrasing(target)
        if ph.dimension is None or ph.op not in (">", "!=") or tuple(ph.values) != (0,):
            return target
        return replace(target, kind="dimension", targets=(ph.dimension,))

    def _period_count(self, a: AggWord) -> None:
        """ "for how many hours was visibility below 1 mile": the distinct hours of the rows the rest of the
        question keeps. The rows are chosen once the filters are known (`over_models`); until then the first
        model with a date stands in."""
        self.place(a.start, a.end)
        stand_in = next(
            (t for m in self.layer.models if (t := model_time_dimension(self.layer, m.name)) is not None),
            None,
        )
        if stand_in is None:
            self.problems.append(f"'{a.phrase}' counts periods, but no table here has a date")
            return
        self.aggregates.append(
            Aggregate(
                f"{a.period}_count",
                "count_distinct",
                stand_in,
                None,
                None,
                f"Number of {a.period}s",
                grain=a.period,
            )
        )
        self.notes.append(Evidence(a.phrase, "metric", f"count of distinct {a.period}s", 1.0, "aggregate"))

    def _counted_periods(self, a: Aggregate) -> Aggregate:
        """A period count over the rows it counts, or the problem that stops it."""
        self._one_row_a_period()
        if self.all_metrics():
            # "how many days had flights cancelled": the days on which the figure holds, or the figure and all
            # days? Either reading is a guess
            figures = ", ".join(self._metric_words(m) for m in self.all_metrics())
            self.problems.append(
                f"counting {a.grain}s beside a figure ({figures}) does not say which {a.grain}s to count; name "
                f"the condition a {a.grain} must meet (e.g. 'on how many days was it raining')"
            )
        rows = self._period_rows(a)
        if rows is None:
            self.problems.append(f"no table with a date holds every filter asked, to count {a.grain}s in")
        return rows or a

    def _one_row_a_period(self) -> None:
        """ "on how many days did a flight go to Nantucket": 'a' (or 'any') before the one figure, which counts
        rows, asks for the periods with at least one of those rows; the rows are counted over, not shown."""
        d = self.d
        metric = self.metrics[0] if len(self.metrics) == 1 and not self.adhoc else None
        said = next(
            (p for p in self.picks if p.kind == "metric" and metric is not None and p.targets[0] == metric),
            None,
        )
        if said is None or metric is None or d.lower(said.start - 1) not in ("a", "an", "any", "one"):
            return
        if self._metric_kind(metric) not in ("count", "count_distinct") or self.layer.metric(metric).filter:
            return
        self.over = metric_models(self.layer, metric)[0]
        self.metrics = []
        self.place(said.start - 1, said.end)
        self.notes.append(
            Evidence(d.text(said.start - 1, said.end), "other", f"at least one of {metric}", 1.0, "rows")
        )

    def _period_rows(self, a: Aggregate) -> Aggregate | None:
        """The rows whose dates a period count counts: a model holding a filtered column (the weather readings
        of "hours with visibility below 1 mile"), else the verb's or the figures' model, that has a date and
        reaches every filter."""
        asked = [f.dimension for f in self.filters if f.dimension != METRIC_TIME]
        candidates = [self.layer.dimension(x).model.name for x in asked]
        candidates += [self.over] if self.over else []
        candidates += [m for x in self.all_metrics() for m in metric_models(self.layer, x)]
        candidates += [m.name for m in self.layer.models]
        for name in dict.fromkeys(candidates):
            t = model_time_dimension(self.layer, name)
            if t is not None and all(reaches(self.ctx, name, x) for x in asked):
                return replace(a, dimension=t, over=name)
        return None

    def _kind_word(self, p: Pick) -> str:
        return {"metric": "metric", "dimension": "column", "value": "value"}.get(p.kind, p.kind)

    def numbers(self) -> None:
        for span in self.d.numbers:
            self.place(span.start, span.end)
            if span.between is not None:
                self._days_between(span, *span.between)
                continue
            if span.start in self.in_parens and span.comparator == "" and self._restates_phrasing(span):
                continue
            held = len(self.conditions)
            if not self._averaged(span):
                self._bind_number(span)
            if len(self.conditions) == held + 1:
                self.number_conditions[span.start] = self.conditions[-1]
        self._having_one()
        self._counted_equalities()
        self._numbers_versus()

    def _numbers_versus(self) -> None:
        """ "fire claims 1 mile from the station vs 2 miles", "4 firefighters vs 10 firefighters": two numbers
        of one column set side by side are one row each, not two conditions that cannot both hold."""
        d = self.d
        said = sorted(self.said_numbers.items())
        for (a, first), (b, second) in zip(said, said[1:], strict=False):
            between = [k for k in range(a, b) if d.lower(k) in ("vs", "versus") and not d.used[k]]
            if (
                not between
                or first.op != "="
                or second.op != "="
                or first.dimension != second.dimension
                or first not in self.filters
                or second not in self.filters
            ):
                continue
            self.filters.remove(second)
            self._side_by_side(first, second.values)
            self.place(between[0], between[0] + 1)
            self.notes.append(Evidence(d.text(a, b), "dimension", first.dimension, 1.0, "one row each"))

    def _side_by_side(self, said: Filter, more: tuple[Scalar, ...]) -> None:
        """The values of a column said one after another with 'vs' between: one row for each of them."""
        self.filters.remove(said)
        self.filters.append(Filter(said.dimension, "in", (*said.values, *more)))
        if DimensionRef(said.dimension) not in self.dims:
            self.dims.append(DimensionRef(said.dimension))

    def _days_between(self, span: NumberSpan, since: str, until: str) -> None:
        """ "took more than 20 days from opening to closing": the whole days between two dates of the row."""
        assert span.unit is not None  # narrows the type only
        days = tuple(_clean(v * span.unit.factor / 1440) for v in span.values)  # a duration's base is minutes
        self.filters.append(Filter(until, span.op, days, since=since))

    def _counted_equalities(self) -> None:
        """ "planes with 2 engines", "orders with 3 items": a bare number right before a column that counts
        things is that count."""
        d = self.d
        for p in self.picks:
            if p.kind != "dimension" or p.start < 2 or d.used[p.start - 1] or p.start - 1 in self.placed:
                continue
            column = next((t for t in p.targets if _counts_things(self.layer.dimension(t))), None)
            # "with 5, 6 or 7 firefighters": the numbers listed before the column, each a value of it
            values: list[int | float] = []
            k = p.start - 1
            while k > 0 and not d.used[k] and k not in self.placed:
                value = number_of(d.lower(k))
                if value is not None:
                    values.insert(0, _clean(value))
                elif not values or d.lower(k) not in ("or", "and") and "," not in d.gap(k + 1):
                    break
                k -= 1
            first = k + 1
            if d.lower(first) == "and" and values:
                first += 1  # the loop read "… and 4" as a list of numbers that has only one
            verbs = ("with", "had", "has", "have", "of")
            # "had a fireplace, 4 firefighters and …": a number after a comma or 'and' goes on the list of what
            # the earlier 'had' / 'with' says the rows have
            joined = (d.lower(first - 1) == "and" or "," in d.gap(first)) and any(
                d.lower(x) in verbs[:-1] for x in range(first - 1)
            )
            # "with 4 firefighters vs 10 firefighters": the second count set beside the first, one row each
            earlier = next((f for f in self.filters if f.dimension == column and f.op == "="), None)
            if values and earlier is not None and d.lower(first - 1) in ("vs", "versus"):
                self._side_by_side(earlier, tuple(values))
                self.place(first - 1, p.end)
                self.roles[p.start] = "bound"
                continue
            if (
                not values
                or column is None
                or not (d.lower(first - 1) in verbs or joined)
                or number_of(d.lower(first)) is None
            ):
                continue
            self.place(first if d.lower(first - 1) != "and" else first - 1, p.end)
            self.roles[p.start] = "bound"
            self.filters.append(Filter(column, "=" if len(values) == 1 else "in", tuple(values)))
            if len(values) > 1 and self._per_member():
                self._add_dim(DimensionRef(column), p.phrase, f"one row per {column}")
            self.notes.append(
                Evidence(d.text(first, p.end), "filter", f"{column} in {values}", 1.0, "number")
            )

    def _having_one(self) -> None:
        """ "customers with a return", "stores that had any refunds": members with at least one — a condition
        that the count (or total) is above zero, not a second figure beside the first."""
        d = self.d
        for p in list(self.picks):
            if p.kind != "metric" or p.start < 2 or not additive(self.layer, p.targets[0]):
                continue
            if p.start - 1 in self.placed or self._number_follows(p):
                continue  # "with a premium above 10,000": the number says how much
            k = p.start - 1
            if (
                d.lower(k) not in ("a", "an", "any")
                or d.used[k]
                or d.lower(k - 1) not in ("with", "had", "has", "have", "having", "made", "placed", "filed")
            ):
                continue
            span = NumberSpan(k, k + 1, ">", (0.0,), None, d.text(k, p.end), k)
            if self._number_target(span, p):
                self.place(k, k + 1)

    def presence(self) -> None:
        """ "flights with a recorded arrival delay" (the column holds a value), "with no tail number" (it is
        empty), "with a negative arrival delay" (below zero): a condition on one column, never a second figure.
        A bare "with an arrival delay" could mean either a recorded delay or one above zero: refused with both."""
        d = self.d
        for p in list(self.picks):
            # (no group_position check: it places cue words, and a pick after 'with' is never grouped)
            if p.kind not in ("metric", "measure", "dimension") or p.start < 2 or d.used[p.start - 1]:
                continue
            own = p.targets if p.kind == "dimension" else ()
            columns = [t for t in (*own, *p.alt("dimension")) if not is_yes_no(self.ctx, t)]
            if not columns or self._number_follows(p):
                continue  # "had a departure delay of at least 90 minutes": the number says which
            k = p.start - 1
            qualifier = d.lower(k) if d.lower(k) in _PRESENT_WORDS or d.lower(k) in _SIGN_WORDS else None
            k -= 1 if qualifier else 0
            while k > 0 and d.lower(k) in ("a", "an", "any") and not d.used[k]:
                k -= 1
            lead = d.lower(k)
            if lead in _HAVE_WORDS:
                empty = False
            elif lead in ("without", "no", "missing", "lacking"):
                empty = True
                k -= 1 if lead == "no" and d.lower(k - 1) in _HAVE_WORDS else 0
            else:
                continue
            column = columns[0]
            if qualifier is None and not empty:
                if p.kind == "dimension" or additive(self.layer, p.targets[0]):
                    continue  # "customers with a return": at least one (read with the numbers)
                phrase = d.text(k, p.end)
                self.problems.append(
                    f"'{phrase}' could mean {p.phrase} is recorded or {p.phrase} is above zero"
                )
                article = p.start - 1 if d.lower(p.start - 1) in ("a", "an") else p.start
                self.rewrites += [
                    d.replaced(article, p.end, f"a recorded {p.phrase}"),
                    d.replaced(k, p.end, f"{d.lower(k)} {p.phrase} above 0"),
                ]
                self.place(k, p.end)
                self.picks.remove(p)
                continue
            if qualifier in _SIGN_WORDS:
                if empty or not is_numeric(self.ctx, column):
                    continue
                f = Filter(column, _SIGN_WORDS[qualifier], (0,))
            else:
                f = Filter(column, "is_null" if empty else "not_null", ())
            self.place(k, p.end)
            self.picks.remove(p)
            self.filters.append(f)
            self.notes.append(Evidence(d.text(k, p.end), "filter", f"{column} {f.op}", 1.0, "presence"))

    def existence(self) -> None:
        """ "customers who had returns", "categories that have returns", "agents with any claims": members with
        at least one of a counted figure; a condition on them, never a second figure."""
        d = self.d
        for p in list(self.picks):
            if p.kind != "metric" or not additive(self.layer, p.targets[0]) or self._number_follows(p):
                continue
            if self.roles.get(p.start) is not None and p.targets[0] not in self.metrics:
                continue
            k = p.start - 1
            if d.lower(k) == "any":
                k -= 1
            last = d.words[p.end - 1]
            verbs = self.ctx.lexicon.light_verbs | self.ctx.lexicon.relation_verbs
            # "customers who placed orders", "stores that made returns": a verb before a count in the plural
            acted = d.lower(k) in verbs and last.lower != last.norm and not d.used[k]
            # "how many customers returned units": the verb is the figure's own first word, right after the
            # things counted
            subject = self.prev_pick(p)
            if (
                not acted
                and p.end - p.start >= 2
                and d.lower(p.start) in model_verbs(self.layer)
                and last.lower != last.norm
                and subject is not None
                and subject.end == p.start
                and subject.kind == "metric"
                and subject.alt("entity")
            ):
                acted, k = True, p.start
            if (d.lower(k) not in _HAVE_WORDS and not acted) or (d.used[k] and k != p.start):
                continue  # "with a return" is read with the numbers
            span = NumberSpan(k, k, ">", (0.0,), None, "", k)
            holder = self._condition_holder(p, span)
            if holder is None:
                continue
            self.place(k, p.start)
            self.place(p.start, p.end)
            self.roles[p.start] = "condition"
            if p.targets[0] in self.metrics:
                self.metrics.remove(p.targets[0])
            self.conditions.append(Condition(holder[0], p.targets[0], ">", (0,), holder[1:]))
            self.notes.append(
                Evidence(d.text(k, p.end), "filter", f"{holder[0]} with {p.targets[0]} > 0", 1.0, "existence")
            )

    def existence_counts(self) -> None:
        """ "how many customers had a return in 2025": the customers counted among that figure's rows (who
        returned something then), not among the rows of another figure that counts them (who ordered then)."""
        if self.dims or self.group_entities or len(self.metrics) != 1 or len(self.conditions) != 1:
            return
        c = self.conditions[0]
        if c.together or not ((c.op == ">" and c.values == (0,)) or (c.op == ">=" and c.values == (1,))):
            return
        metric = self.layer.metric(self.metrics[0])
        if metric.type != "simple" or metric.measure is None or metric.filter:
            return
        _, measure = self.layer.measure(metric.measure)
        if measure.agg != "count_distinct" or normalize(measure.expr) != normalize(
            c.dimension.split("__")[-1]
        ):
            return
        over = metric_models(self.layer, c.metric)
        if len(over) != 1 or not reaches(self.ctx, over[0], c.dimension):
            return
        label = metric.title
        self.metrics = []
        self.conditions = []
        self.aggregates.append(
            Aggregate(
                f"{metric.name}_count",
                "count_distinct",
                c.dimension,
                over[0],
                None,
                f"Number of {label.lower()}",
            )
        )
        self.notes.append(
            Evidence(label, "metric", f"count distinct {c.dimension} over {over[0]}", 1.0, "existence")
        )

    def _restates_phrasing(self, span: NumberSpan) -> bool:
        """ "below freezing (32°F)": a bare number in parentheses after a phrasing names its threshold again."""
        prev = [
            p
            for p in self.picks
            if p.end <= span.start and p.kind == "phrasing" and p.start in self.phrasing_filters
        ]
        if not prev:
            return False
        f = self.phrasing_filters[prev[-1].start]
        return (
            len(f.values) == 1
            and isinstance(f.values[0], int | float)
            and abs(float(f.values[0]) - span.values[0]) < 1e-9
        )

    def _phrasing_before(self, span: NumberSpan) -> Pick | None:
        """The phrasing right before a number, past the values between ("leave JFK after 10 pm")."""
        q = self.d.pick_at(self._before_places(span.start - 1))
        return next(
            (p for p in self.picks if q is not None and p.start == q.start and p.kind == "phrasing"), None
        )

    def _pick_after_number(self, span: NumberSpan) -> Pick | None:
        """The name right after a number that it may be about, past values that narrow a figure ("fewer than 100
        LaGuardia departures"); never across a dash, a colon or a comma."""
        d = self.d
        first = next((p for p in self.picks if p.start >= span.end), None)
        after = first
        while after is not None and after.kind == "value":
            nxt = next((p for p in self.picks if p.start == after.end), None)
            if nxt is None or nxt.kind not in ("value", "metric", "measure"):
                break
            after = nxt
        if after is not None and after.kind == "value":
            after = first
        if after is not None and (
            not all(
                d.lower(k) in ("of", "the", "a", "in")
                or (q := d.pick_at(k)) is not None
                and q.kind == "value"
                for k in range(span.end, after.start)
            )
            # "records above 2,000 — claim number and amount"
            or any(c in d.gap(k) for k in range(span.end, after.start + 1) for c in ",;:—–()")
        ):
            return None
        return after

    def _bind_number(self, span: NumberSpan) -> None:
        d = self.d
        after = self._pick_after_number(span)
        k = span.start - 1
        while k >= 0 and d.lower(k) in _SKIP_BEFORE and not d.used[k]:
            k -= 1
        before = next((p for p in self.picks if p.start <= k < p.end), None)
        if (
            after is not None
            and before is not None
            and after.kind == "phrasing"
            and before.kind == "phrasing"
        ):
            # "arrived more than two hours late": the words around the number make one phrasing
            joined = [
                t
                for t in self.ctx.vocabulary.lookup(normalize(f"{before.phrase} {after.phrase}"))
                if t.kind == "phrasing"
            ]
            if joined:
                ph = self.layer.phrasings[int(joined[0].target)]
                if ph.dimension:
                    self.bound_dims[after.start] = ph.dimension
                    self.place(before.start, before.end)
                    self.phrasing_filters.pop(before.start, None)
        if (before is None or not self._can_take_number(before)) and (
            after is None or not self._can_take_number(after)
        ):
            # "visibility at the origin airport was below 1 mile": the nearest column a number fits, a few words
            # back, never across another number
            floor = max([s.end for s in d.numbers if s.end <= span.start] + [span.start - 7, 0])
            back = [
                p for p in self.picks if floor <= p.start and p.end <= span.start and self._can_take_number(p)
            ]
            before = back[-1] if back else before
        order = (after, before)
        said = self._phrasing_before(span)
        if (
            span.comparator in ("after", "before")
            and said is not None
            and after is not None
            and after.kind == "phrasing"
            and self._can_take_number(said)
        ):
            # "scheduled to leave JFK after 10 pm actually took off": 'after' attaches to the verb before it
            order = (said, after)
        measured = span.unit is not None and span.unit.name != "count"
        by_unit = self._dimension_by_unit(span) if measured else None
        for target in order:
            if target is None or (by_unit is not None and self._not_in_unit(target, span)):
                continue  # "number of firefighters: fire claims 1 mile from the station": the column in miles
            bound = self._number_target(span, target)
            if bound:
                return
        if self._figure_without_members(span, after, before):
            return
        dim = self._dimension_by_unit(span)
        if dim is not None:
            self._number_filter(span, dim, None)
            return
        if (
            self._at_least_one(span)
            or self._implied_worth(span)
            or self._times_done(span)
            or self._distinct_counted(span)
        ):
            return
        self.problems.append(f"I could not tell what '{span.phrase}' is about")

    def _not_in_unit(self, target: Pick, span: NumberSpan) -> bool:
        """A column named near a measured number ("1 mile") that holds no quantity of that kind."""
        if target.kind != "dimension" or span.unit is None:
            return False
        held = [unit(self.layer.dimension(t).dimension.unit or "") for t in target.targets]
        return all(u is None or u.kind != span.unit.kind for u in held)

    def _at_least_one(self, span: NumberSpan) -> bool:
        """ "customers who sent back at least one item": counted over the returns, each has one already; the
        words are placed and True returned."""
        d = self.d
        if (
            not self.over
            or span.unit is not None
            or (span.op, span.values) not in ((">=", (1.0,)), (">", (0.0,)))
        ):
            return False
        self.place(span.start, span.end)
        thing = d.pick_at(span.end)
        if thing is not None and thing.kind == "entity" and thing.start == span.end:
            self.place(thing.start, thing.end)  # "at least one item": what was returned, one or more
            self.roles[thing.start] = "restated"
        elif d.lower(span.end) in _SOME_THING:
            self.place(span.end, span.end + 1)
        return True

    def _figure_without_members(self, span: NumberSpan, *near: Pick | None) -> bool:
        """ "cancellation rate above 3%" with nothing to test it on: a metric next to a number in the unit it comes
        in (a rate and a percent, an amount and dollars) is the figure tested, never some other column in that
        unit; the problem is said and True returned."""
        for p in near:
            if p is None or p.kind != "metric" or span.unit is None:
                continue
            if (self.layer.metric(p.targets[0]).format, span.unit.name) in (
                ("percent", "percent"),
                ("currency", "currency"),
            ):
                self.problems.append(
                    f"'{p.phrase} {span.phrase}' tests a figure, but the question names no members or periods to "
                    "test it on (e.g. 'which months had …', 'airlines with …')"
                )
                return True
        return False

    def _distinct_counted(self, span: NumberSpan) -> bool:
        """ "airlines that flew to more than 40 different destinations": the number of different members counted
        right after it, for each member grouped, kept where it passes."""
        word = next((a for a in self.d.aggs if a.start == span.end and a.function == "count_distinct"), None)
        counted = [a for a in self.aggregates if a.function == "count_distinct"]
        grouped = any(
            p.kind == "entity"
            and p.end <= span.start
            and self.roles.get(p.start) in (None, "group", "entity")
            for p in self.picks
        )
        if word is None or len(counted) != 1 or not grouped or (span.unit and span.unit.name != "count"):
            return False
        values = tuple(int(v) if float(v).is_integer() else v for v in span.values)
        self.result_filters.append(Filter(counted[0].name, span.op, values))
        self.place(span.start, span.end)
        self.notes.append(Evidence(span.phrase, "filter", f"{counted[0].name} {span.op}", 1.0, "number"))
        return True

    def _averaged(self, span: NumberSpan) -> bool:
        """ "which airlines averaged more than 1,000 miles", "… averaged more than 10 minutes of arrival delay": the
        average of the column the number is about, for each member grouped, kept where it passes."""
        d = self.d
        word = span.start - 1
        said = any(
            a.start == word and a.function == "avg" for a in d.aggs
        )  # read as "average … arrival delay"
        if word < 0 or not d.words[word].raw.lower().startswith("averag") or (d.used[word] and not said):
            return False
        if not any(
            p.kind == "entity"
            and p.end <= span.start
            and self.roles.get(p.start) in (None, "group", "entity")
            for p in self.picks
        ):
            return False
        end, column, q = span.end, None, None
        if d.lower(span.end) == "of":
            q = d.pick_at(span.end + 1 + (d.lower(span.end + 1) == "the"))
            named = (q.targets + q.alt("dimension")) if q is not None else ()
            column = next((t for t in named if self.layer.has_dimension(t) and is_numeric(self.ctx, t)), None)
        else:
            column = self._dimension_by_unit(span)
        if column is None:
            return False
        before = len(self.filters)
        self._number_filter(span, column, None)
        if len(self.filters) > before:
            # the figure the aggregate word already made ("average arrival delay"), else the column's average
            name = next((m for m in self.metrics if q is not None and m in q.targets), None) or next(
                (a.name for a in self.aggregates if a.dimension == column and a.function == "avg"), None
            )
            if name is None:
                name = f"average_{column.split('__')[-1]}"
                label = f"Average {dimension_label(self.layer, column).lower()}"
                self.aggregates.append(Aggregate(name, "avg", column, label=label))
            self.result_filters.append(replace(self.filters.pop(), dimension=name))
            if self.notes and self.notes[-1].method == "number":
                self.notes.pop()  # the rows are not filtered: the note of the row filter would mislead
            rows = self._row_counts(self.layer.dimension(column).model.name)
            self.metrics = [
                m for m in self.metrics if m not in rows
            ]  # "airlines' flights": the rows averaged
        if q is not None:
            end, self.roles[q.start] = max(end, q.end), self.roles.get(q.start) or "bound"
        self.place(word, end)
        return True

    def _times_done(self, span: NumberSpan) -> bool:
        """ "how many products were returned more than 40 times": the verb's own rows (returns), counted per thing
        counted, compared with the number; only where the verb names the rows the things are counted over."""
        d = self.d
        if d.lower(span.end) != "times" or not self.over or span.unit is not None:
            return False
        verb = next(
            (p for p in reversed(self.picks) if p.kind == "phrasing" and p.end <= span.start),
            None,
        )
        counts = self._row_counts(self.over)
        keyed = [a for a in self.aggregates if a.function == "count_distinct" and a.over == self.over]
        if verb is None or self.phrasing(verb).model != self.over or not counts or len(keyed) != 1:
            return False
        # each row one time the verb happened: a row dated by a date of its own (a return), never one dated by
        # its parent's (an order line is not an order: "ordered more than 10 times" counts orders)
        if not any(x.type == "time" for x in self.layer.model(self.over).dimensions):
            return False
        values = tuple(_clean(v) for v in span.values)
        self.conditions.append(Condition(keyed[0].dimension, counts[0], span.op, values))
        self.place(span.start, span.end + 1)
        self.notes.append(
            Evidence(
                f"{verb.phrase} {span.phrase} times",
                "filter",
                f"{keyed[0].dimension} with {counts[0]} {span.op} {values[0]}",
                1.0,
                "times",
            )
        )
        return True

    def _implied_worth(self, span: NumberSpan) -> bool:
        """ "orders over $500": an amount of money right after the things it sizes is short for "worth over
        $500", read through the model's phrasing of 'worth' (no such phrasing: not understood)."""
        if span.unit is None or span.unit.name != "currency":
            return False
        # "orders over $500", "orders that were over $1,000"
        gap = span.start
        while gap > 0 and self.d.lower(gap - 1) in ("were", "was", "are", "is", "that", "which"):
            gap -= 1
        before = next((p for p in self.picks if p.end == gap), None)
        if before is None or before.kind not in ("metric", "entity"):
            return False
        worth = [
            self.layer.phrasings[int(t.target)].metric
            for t in self.ctx.vocabulary.lookup("worth")
            if t.kind == "phrasing" and self.layer.phrasings[int(t.target)].metric
        ]
        if len(set(worth)) != 1 or worth[0] is None:
            return False
        implied = Pick(span.start, span.start, "metric", (worth[0],), "worth", 0.8, "implied")
        if not self._number_target(span, implied):
            return False
        self.notes.append(Evidence(span.phrase, "metric", worth[0], 0.8, "worth"))
        return True

    def _amount_condition(self, span: NumberSpan, p: Pick, summed: str) -> bool:
        """ "the claim amount records above 2,000": things whose rows are amounts, each amount compared."""
        keys = self.layer.entity_keys(p.targets[0])
        if len(keys) != 1 or (span.unit is not None and span.unit.name not in ("count", "currency")):
            return False
        values = tuple(_clean(v) for v in span.values)
        self.conditions.append(Condition(keys[0], summed, span.op, values))
        self.notes.append(
            Evidence(
                f"{p.phrase} {span.phrase}",
                "filter",
                f"{keys[0]} with {summed} {span.op} {values[0]}",
                1.0,
                "amount of each",
            )
        )
        return True

    def _can_take_number(self, p: Pick) -> bool:
        """True when a pick can be what a number is about: a numeric column, a phrasing with one, or a metric."""
        if p.kind == "phrasing":
            return (
                p.start in self.bound_dims
                and is_numeric(self.ctx, self.bound_dims[p.start])
                or bool(self.phrasing(p).metric)
            )
        if p.kind == "dimension":
            return any(is_numeric(self.ctx, t) for t in p.targets)
        if p.kind == "entity":
            return bool(self._own_number_column(p)) or self._amount_of_rows(p.targets[0]) is not None
        if p.kind == "model":
            return self._record_amount(p) is not None
        return p.kind in ("metric", "measure")

    def _record_amount(self, p: Pick) -> str | None:
        """ "premium amounts over 16,000": the column holding each counted record's amount — the column the
        metric its words first named adds up, as a numeric dimension of that metric's table."""
        said = p.alt("metric")
        if not said:
            return None
        metric = self.layer.metric(said[0])
        if metric.measure is None:
            return None
        owner, measure = self.layer.measure(metric.measure)
        declared = [
            f"{owner.prefix}__{dim.name}"
            for dim in owner.dimensions
            if normalize(dim.expr or dim.name) == normalize(measure.expr or "") and not dim.is_time
        ]
        # else the table's own column of that name (columns of a model's table can be filtered on)
        column = f"{owner.prefix}__{measure.expr}" if re.fullmatch(r"\w+", measure.expr or "") else None
        return next(
            (
                c
                for c in [*declared, column]
                if c is not None and self.layer.has_dimension(c) and is_numeric(self.ctx, c)
            ),
            None,
        )

    def _member_total(self, metric: str) -> tuple[str, str] | None:
        """For a metric counting an entity's members (orders), that entity's key and the money metric the model
        calls its total ("order total" → revenue); None unless the model names exactly one."""
        key = self._counted_key(metric)
        if key is None:
            return None
        named = [
            t.target if t.kind == "metric" else self.layer.phrasings[int(t.target)].metric
            for word in entity_words(self.layer, key.split("__")[0])
            for t in self.ctx.vocabulary.lookup(normalize(f"{word} total"))
            if t.kind in ("metric", "phrasing")
        ]
        totals = {m for m in named if m and self.layer.metric(m).format == "currency"}
        return (key, totals.pop()) if len(totals) == 1 else None

    def _own_number_column(self, p: Pick) -> list[str]:
        """ "claim amount entries of 2,000 or more": the entity's words also name a number column of its own."""
        models = {m.name for e in p.targets if (m := self.layer.entity_model(e)) is not None}
        return [
            t
            for t in p.alt("dimension")
            if is_numeric(self.ctx, t) and self.layer.dimension(t).model.name in models
        ]

    def _number_target(self, span: NumberSpan, p: Pick) -> bool:  # noqa: C901 - one branch per kind of pick a number can be about
        if p.kind == "phrasing" and p.start in self.bound_dims:
            dim = self.bound_dims[p.start]
            if self.layer.dimension(dim).dimension.is_time or not is_numeric(self.ctx, dim):
                return (
                    False  # "physical stores had more than 2,600 orders": the number is not the store type's
                )
            default = self.phrasing_filters.pop(p.start, None)
            if default is not None and default.op in ("<", "<=") and default.values == (0,):
                # "at least half an hour early": early is a negative delay, so the number counts backwards
                flipped = (
                    {">=": "<=", ">": "<", "<=": ">=", "<": ">", "=": "="}[span.op]
                    if span.op in (">=", ">", "<=", "<", "=")
                    else span.op
                )
                span = replace(span, op=flipped, values=tuple(-v for v in span.values))
            return self._number_filter(span, dim, p)
        if p.kind == "phrasing" and (said := self.phrasing(p).metric):
            p = replace(p, kind="metric", targets=(said,))
        if p.kind == "dimension":
            dims = [t for t in p.targets if is_numeric(self.ctx, t)]
            if not dims:
                return False
            self.place(p.start, p.end)
            self.roles[p.start] = "bound"
            return self._number_filter(span, dims[0], p)
        if p.kind == "entity" and (own := self._own_number_column(p)):
            return self._number_filter(span, own[0], p)
        if p.kind == "model" and (amount := self._record_amount(p)):
            return self._number_filter(span, amount, p)
        if p.kind == "entity" and (summed := self._amount_of_rows(p.targets[0])) is not None:
            return self._amount_condition(span, p, summed)
        if p.kind in ("metric", "measure") and [t for t in p.alt("dimension") if is_numeric(self.ctx, t)]:
            column = [t for t in p.alt("dimension") if is_numeric(self.ctx, t)][0]
            column_unit = unit(self.layer.dimension(column).dimension.unit or "count")
            if (
                span.unit is None
                or span.unit.name == "count"
                or (column_unit is not None and column_unit.kind == span.unit.kind)
            ):
                self.place(p.start, p.end)
                self.roles[p.start] = "bound"
                if p.targets[0] in self.metrics:
                    self.metrics.remove(p.targets[0])
                self.picks[self.picks.index(p)] = replace(p, kind="dimension", targets=(column,))
                return self._number_filter(span, column, p)
        if p.kind == "metric" and span.unit is not None and span.unit.name == "currency":
            if (total := self._member_total(p.targets[0])) is not None:
                # "orders over $1,000": the orders whose order total (as the model names it) is over $1,000
                key, money = total
                values = tuple(_clean(v) for v in span.values)
                self.place(p.start, p.end)
                self.conditions.append(Condition(key, money, span.op, values))
                self.notes.append(Evidence(span.phrase, "metric", money, 0.8, "worth"))  # said in the reading
                self.notes.append(
                    Evidence(
                        f"{p.phrase} {span.phrase}",
                        "filter",
                        f"{key} with {money} {span.op} {values[0]}",
                        1.0,
                        "member total",
                    )
                )
                return True
        if p.kind in ("metric", "measure"):
            holder = self._condition_holder(p, span)
            metric = p.targets[0] if p.kind == "metric" else _metric_of_measure(self.layer, p.targets[0])
            if metric is None:
                return False
            if holder is None and self.d.time.grain is None:
                return False
            if span.unit is not None and span.unit.name not in ("count", "currency"):
                # "destinations where the average arrival delay was above 20 minutes": a unit the figure comes in
                # (converted); "flights of at least 1,000 miles": the miles are a column's, not a count's
                # a percent figure holds a fraction (0.41 shows as 41%): "under 40%" is under 0.4
                percent = self.layer.has_metric(metric) and self.layer.metric(metric).format == "percent"
                held = unit(metric_unit(self.layer, metric) or ("fraction" if percent else ""))
                converted = [convert(v, span.unit, held) for v in span.values] if held is not None else [None]
                if any(v is None for v in converted):
                    return False
                span = replace(span, values=tuple(v for v in converted if v is not None), unit=held)
            values = tuple(_clean(v) for v in span.values)
            if holder is None:
                # "which months had a cancellation rate above 3%": the periods whose figure passes are shown
                self.result_filters.append(Filter(metric, span.op, values))
                self.place(p.start, p.end)
                self.notes.append(
                    Evidence(f"{p.phrase} {span.phrase}", "filter", f"{metric} {span.op}", 1.0, "number")
                )
                return True
            self.place(p.start, p.end)
            self.roles[p.start] = "condition"
            if p.targets[0] in self.metrics:
                self.metrics.remove(p.targets[0])
            self.conditions.append(Condition(holder[0], metric, span.op, values, holder[1:]))
            self.notes.append(
                Evidence(
                    f"{p.phrase} {span.phrase}",
                    "filter",
                    f"{' + '.join(holder)} with {metric} {span.op} {values[0]}",
                    1.0,
                    "condition",
                )
            )
            return True
        return False

    def _in_time_phrase(self, k: int) -> bool:
        """True when word k belongs to a time phrase of the question."""
        w = self.d.words[k]
        return any(a <= w.start and w.end <= b for a, b in self.d.time.spans)

    def _condition_holder(self, metric_pick: Pick, span: NumberSpan) -> tuple[str, ...] | None:
        """The members a condition on a metric is about, as the columns naming one member: the entity or
        dimension before 'with'/'who'/'that', else what the question groups by or counts ("which products had
        revenue above $700,000", "how many customers placed more than 15 orders", "routes with more than 5,000
        flights": origin + destination)."""
        d = self.d
        k = min(span.start, metric_pick.start) - 1
        metric = self.layer.metric(metric_pick.targets[0]) if metric_pick.kind == "metric" else None
        # "have a total premium above 50,000": 'total' restates a sum, it asks nothing more
        total = {"total"} if metric is None or additive(self.layer, metric.name) else set()
        while (
            k >= 0
            and (
                d.lower(k)
                in _SKIP_BEFORE
                | total
                | {
                    "at",
                    "least",
                    "than",
                    "more",
                    "over",
                    "where",
                    "whose",
                }  # "destinations where the average …"
                | self.ctx.lexicon.light_verbs
                | self.ctx.lexicon.relation_verbs
                or self._in_time_phrase(k)  # "how many orders in 2025 had more than 5 lines"
            )
            and not any(p.start <= k < p.end for p in self.picks)
            or self._verb_of_rows(k)  # "which brands moved fewer than 3,000 units"
        ):
            k -= 1
        holder = next((p for p in self.picks if p.start <= k < p.end), None)
        if (
            holder is None
            or holder.kind not in ("entity", "dimension", "concept")
            and not holder.alt("entity")
        ):
            grouped = [
                p
                for p in self.picks
                if p.kind in ("entity", "dimension", "concept")
                and self.roles.get(p.start) in ("group", "counted")
            ]
            if len(grouped) != 1:
                return None
            holder = grouped[0]
        if holder.kind == "concept":
            concept = next(c for c in self.layer.concepts if c.name == holder.targets[0])
            return tuple(concept.dimensions) or None
        if holder.kind == "entity" or holder.alt("entity"):
            entity = holder.targets[0] if holder.kind == "entity" else holder.alt("entity")[0]
            keys = self.layer.entity_keys(entity)
            if keys:
                if holder.kind != "entity":
                    self.picks[self.picks.index(holder)] = replace(holder, kind="entity", targets=(entity,))
                    self.place(holder.start, holder.end)
                    # "orders over $500 by month": with another grouping asked, they are counted in each group
                    counted = self._count_word_before(holder) or self._grouped_elsewhere(holder)
                    if holder.kind == "metric" and holder.targets[0] in self.metrics and not counted:
                        # "customers who spent more than $5,000": those customers, not how many they are
                        self.metrics.remove(holder.targets[0])
                        self.roles[holder.start] = "group"
                        if entity not in self.group_entities:
                            self.group_entities.append(entity)
                return tuple(keys)
        if holder.kind == "dimension":
            return (holder.targets[0],)
        return None

    def _verb_of_rows(self, k: int) -> bool:
        """Whether word `k` is a phrasing's verb that names the rows it happens on ("sold": order lines)."""
        q = self.d.pick_at(k)
        return q is not None and q.kind == "phrasing" and self.phrasing(q).model is not None

    def _ranked_members(self, r: Ranking) -> str | None:
        """ "the best selling brands": a column right after a ranking word that stands for a figure is grouped
        and ranked by that figure. Returns the figure, or None."""
        figure = self._ranking_figure()
        ranked = next((p for p in self.picks if p.kind == "dimension" and p.start == r.end), None)
        if figure is None or ranked is None or not reachable(self.ctx, ranked.targets[0], [figure]):
            return None
        self.metrics.append(figure)
        self.place(ranked.start, ranked.end)
        self.roles[ranked.start] = "group"
        self._add_dim(DimensionRef(ranked.targets[0]), ranked.phrase, f"ranked by {figure}")
        self.notes.append(Evidence(r.word, "metric", figure, 0.9, "phrasing"))
        return figure

    def _ranking_figure(self) -> str | None:
        """The metric a ranking word stands for in the model's phrasings ("the busiest day": its flights)."""
        r = self.d.ranking
        if r is None:
            return None
        for t in self.ctx.vocabulary.lookup(normalize(r.word)):
            if t.kind == "phrasing" and (metric := self.layer.phrasings[int(t.target)].metric):
                return metric
        return None

    def _grouped_elsewhere(self, holder: Pick) -> bool:
        """True when the question groups by a grain of time or by another name ('by month', 'per region')."""
        d = self.d
        return d.time.grain is not None or any(
            q is not holder
            and q.kind in ("dimension", "entity", "concept")
            and d.lower(q.start - 1) in ("by", "per", "each", "across")
            for q in self.picks
        )

    def _number_filter(self, span: NumberSpan, dim: str, p: Pick | None) -> bool:
        qd = self.layer.dimension(dim)
        target_unit = unit(qd.dimension.unit) if qd.dimension.unit else None
        values: list[float] = list(span.values)
        if span.unit is not None and span.unit.name != "count":
            if target_unit is None:
                if not _year_like(qd) or span.unit.name != "years":
                    self.problems.append(
                        f"'{span.phrase}' is in {span.unit.label}, but {_title(qd)} has no unit "
                        f"to compare it with"
                    )
                    return True
            else:
                converted = [convert(v, span.unit, target_unit) for v in values]
                if any(v is None for v in converted):
                    self.problems.append(
                        f"'{span.phrase}' is in {span.unit.label}, but {_title(qd)} is in {target_unit.label}"
                    )
                    return True
                values = [v for v in converted if v is not None]
        elif (
            target_unit is not None
            and target_unit.name == "fraction"
            and span.comparator
            and any(v > 1 for v in values)
        ):
            values = [v / 100 for v in values]  # "discount over 15" against fractions: 15 percent
        clean = tuple(_clean(round(v, 10)) for v in values)
        op = span.op
        f = Filter(dim, op, clean)
        self.filters.append(f)
        self.number_filters[min(span.start, p.start) if p is not None else span.start] = f
        self.said_numbers[span.start] = f
        unit_text = (
            f" {target_unit.label}"
            if target_unit and target_unit.name not in ("count", "fraction", "hhmm")
            else ""
        )
        self.notes.append(
            Evidence(
                span.phrase if p is None else f"{p.phrase} {span.phrase}",
                "filter",
                f"{dim} {op} {' and '.join(str(v) for v in clean)}{unit_text}",
                1.0 if p is not None else 0.8,
                "number",
            )
        )
        return True

    def _dimension_by_unit(self, span: NumberSpan) -> str | None:
        """A number with a unit and no named column: the one reachable numeric column in that unit."""
        if span.unit is None or span.unit.name == "count":
            return None
        found = []
        for qd in self.layer.dimensions():
            u = unit(qd.dimension.unit) if qd.dimension.unit else None
            if u is not None and u.kind == span.unit.kind and self.reach_ok(qd.name):
                found.append(qd.name)
        own = [f for f in found if self.layer.dimension(f).model.name in self.models()]
        found = (
            own if len(own) == 1 else found
        )  # "flights of at least 1,000 miles": the flight's own distance
        return found[0] if len(found) == 1 else None

    def _booked_against(self, i: int) -> bool:
        """ "the amounts booked against it": 'against' before a word pointing back names what the rows are
        recorded on; it compares nothing."""
        d = self.d
        ends = i + 1 >= len(d.words) or any(
            c in d.gap(i + 1) for c in ".?!,;"
        )  # "… the claim was made against."
        return d.lower(i) == "against" and (ends or d.lower(i + 1) in ("it", "them", "each", "that", "this"))

    def across_all(self) -> None:
        """ "across all claims, what is the expense-to-loss ratio": the rows a figure runs over, said in full;
        the things named are the population, not a figure of their own (when the question has one)."""
        d = self.d
        for i in range(len(d.words) - 2):
            whole = (
                d.lower(i + 2) in ("whole", "entire") and d.pick_at(i + 3) is None and i + 3 < len(d.words)
            )
            if d.lower(i) in ("across", "over") and d.lower(i + 1) == "the" and whole and not d.used[i]:
                self.place(i, i + 4)  # "across the whole book": every row, said of the business itself
                continue
            over_all = d.lower(i) == "over" and d.lower(i + 1) in ("all", "every")  # "over all claims"
            if not (d.lower(i) == "across" or over_all) or d.used[i]:
                continue
            # "across all claims", "across Delta's flights": a qualifier says these are the rows, not a row each
            k = i + 1
            while (
                value := next((p for p in self.picks if p.start == k and p.kind == "value"), None)
            ) is not None:
                k = value.end
            if k == i + 1 and d.lower(k) not in ("all", "every") and not self._aggregated_rows(k):
                continue
            k += 1 if k == i + 1 else 0
            k += 1 if d.lower(k) == "the" and d.lower(k - 1) == "all" else 0  # "across all the claims"
            if (
                d.lower(k - 1) == "all"
                and d.lower(k) == "of"
                and d.lower(k + 1) in ("their", "its", "the", "our")
            ):
                k += 2  # "across all of their policies"
            named = next((p for p in self.picks if p.start == k), None)
            # "across all premium records": the rows of a table, said with its name and 'records'
            rows = named is not None and d.lower(named.end) in RECORD_PLURALS
            if named is None or not (named.kind == "entity" or named.alt("entity") or rows):
                continue
            figures = [p for p in self.picks if p is not named and p.kind in ("metric", "measure")]
            if not (figures or self.adhoc or self.aggregates or d.aggs or d.days_between or d.definitions):
                continue
            self.picks.remove(named)
            if rows and named.kind == "metric":
                self.rows_of = named.targets[0]
            self.place(i, i + 1)
            said_all = 3 if d.lower(named.start - 2) == "of" and d.lower(named.start - 3) == "all" else 1
            self.place(
                named.start - (said_all if d.lower(named.start - said_all) in ("all", "every") else 0),
                named.end + rows,
            )
            self.notes.append(Evidence(d.text(i, named.end), "other", "the rows counted", 1.0, "population"))

    def _aggregated_rows(self, k: int) -> bool:
        """ "distinct postal codes across the location addresses": 'the' + the entity whose own columns every
        aggregate word of the question takes names the rows they run over."""
        d = self.d
        named = d.pick_at(k + 1)
        if d.lower(k) != "the" or named is None or named.start != k + 1:
            return False
        entity = named.targets if named.kind == "entity" else named.alt("entity")
        model = self.layer.entity_model(entity[0]) if entity else None
        if model is None or not d.aggs:
            return False
        for a in d.aggs:
            column = next((q for q in self.picks if q.start >= a.end), None)
            if column is None or column.kind != "dimension" or column.start >= named.start:
                return False
            if any(self.layer.dimension(t).model.name != model.name for t in column.targets):
                return False
        return True

    def connector_phrases(self) -> None:
        """Place each 'against' that points back ("booked against it"), "next to" after a name ("each claim
        number next to its policy number": shown side by side) and "stack up" in a comparison ("how does AOV stack
        up for Consumer versus Corporate")."""
        d = self.d
        compares = any(w.lower in _COMPARE_WORDS for w in d.words)
        for i in range(len(d.words)):
            if compares and d.lower(i) in ("stack", "stacks") and d.lower(i + 1) == "up" and not d.used[i]:
                self.place(i, i + 2)
            if (
                d.lower(i) in ("of", "in")
                and d.lower(i + 1) in ("any", "every", "all")
                and d.norm(i + 2) in ("type", "kind", "sort")
                and not d.used[i + 2]
                and d.pick_at(i + 2) is None
            ):
                self.place(i, i + 3)  # "claim amount entries, of any type": no condition on the kind
            if d.norm(i) == "period" and not d.used[i] and any(self._period_model(q) for q in self.picks):
                self.place(
                    i, i + 1
                )  # "the coverage periods … the period's start and end dates": the same rows
            if not d.used[i] and d.pick_at(i) is None and self._head_noun_back(i):
                self.place(i, i + 1)  # "who the policy holder is … the holder's party id": the same holder
            if d.lower(i) == "but" and not d.used[i] and self._joins_conditions(i):
                self.place(i, i + 1)  # "at least 90 minutes late but less than 2 hrs late": both hold
            if d.lower(i) == "out" and d.lower(i + 1) == "of" and d.lower(i + 2) == "all" and not d.used[i]:
                self.place(i, i + 3)  # "out of all the planes that flew for American": among them
            if d.lower(i) in ("ended", "ends", "end", "wound") and d.lower(i + 1) == "up" and not d.used[i]:
                self.place(i, i + 2)  # "flights that ended up cancelled": the state they came to
            if (
                d.lower(i) in ("show", "shows", "showed", "turn", "turns", "turned", "come", "comes", "came")
                and d.lower(i + 1) == "up"
                and d.lower(i + 2) in ("most", "more", "least", "less")
                and d.lower(i + 3) == "often"
            ):
                # "which distance shows up most often": how often it is found in the rows
                self.place(i, i + 2)
            if self._booked_against(i) and not d.used[i]:
                self.place(i, i + 1)
            side_by_side = (
                d.lower(i) == "next"
                and d.lower(i + 1) == "to"
                and i > 0
                and (d.used[i - 1] or any(p.end == i for p in self.picks))
                and not d.used[i]
            )
            if side_by_side:
                self.place(i, i + 2)

    def _head_noun_back(self, i: int) -> bool:
        """True when word i, possessive, repeats the last word of a longer name said earlier ("the policy holder
        … the holder's party id"), pointing back at it."""
        d = self.d
        return any(
            q.kind in ("entity", "dimension")
            and q.end <= i
            and q.end - q.start >= 2
            and d.norm(q.end - 1) == d.norm(i)
            and d.words[i].possessive
            for q in self.picks
        )

    def _joins_conditions(self, i: int) -> bool:
        """True when word i stands between two numeric conditions the question read ("at least 90 minutes
        late but less than 2 hours late")."""
        spans = self.d.numbers
        return any(a.end <= i for a in spans) and any(b.start == i + 1 for b in spans)

    def date_words(self) -> None:
        """ "the date it expires", "the date each one becomes effective": 'date' before the words naming a date
        column is that column's, not a column of its own."""
        d = self.d
        for i, w in enumerate(d.words):
            if d.used[i] or w.lower not in ("date", "dates", "day"):
                continue
            k = i + 1
            owners: list[str] = []
            while k < min(len(d.words), i + 5):
                q = d.pick_at(k)
                if d.lower(k) in _DATE_FILLERS:
                    k += 1
                elif (
                    q is not None
                    and d.lower(k - 1) in ("each", "every")
                    and (q.kind == "entity" or q.alt("entity"))
                ):
                    # "the date each claim was opened": the thing whose date it is, between
                    owners += q.targets if q.kind == "entity" else q.alt("entity")
                    k = q.end
                else:
                    break
            p = d.pick_at(k)
            if (
                p is not None
                and p.start == k
                and p.kind == "dimension"
                and self.layer.dimension(p.targets[0]).dimension.is_time
                and all(
                    (m := self.layer.entity_model(e)) is not None
                    and m.name == self.layer.dimension(p.targets[0]).model.name
                    for e in owners
                )
            ):
                self.place(i, i + 1)

    def dimensions(self) -> None:  # noqa: C901 - one rule per role a column word can take, tried in order
        describing = self._describing()
        r = self.d.ranking
        listing = not (self.metrics or self.adhoc or self.aggregates)
        for p in list(self.picks):
            if p.kind != "dimension" or p.start in self.roles:
                continue
            self.place(p.start, p.end)
            if p.start in describing:
                self.roles[p.start] = "describes"
                continue
            if (
                self.d.lower(p.start - 1) == "both"
                and self.d.words[p.start].norm in GRAIN_NOUNS
                and (self.d.time.periods or self.d.time.comparison)
            ):
                self.roles[p.start] = (
                    "restated"  # "… versus last month? Show both months.": the compared ones
                )
                continue
            said = (
                unit_of_word(p.phrase.lower())
                if p.end - p.start == 1 and self.d.lower(p.start - 1) == "in"
                else None
            )
            shown = [u for _, u in self._output_units()]
            if said is not None and any(u.kind == said.kind for u in shown):
                # "average departure delay in hours": the unit of the answer, not a grouping by hour
                if not any(u.name == said.name for u in shown) and not self._converted(said):
                    self.problems.append(
                        f"the answer comes in {shown[0].label}, not {said.label}; ask without 'in {p.phrase}'"
                    )
                    self.rewrites.append(self.d.replaced(p.start - 1, p.end, ""))
                self.roles[p.start] = "unit"
                continue
            if (
                listing
                and r is not None
                and r.end <= p.start
                and all(self.d.lower(k) in ("the", "of", "a") for k in range(r.end, p.start))
            ):
                self.roles[p.start] = "ranked"  # "the 5 flights with the longest arrival delay"
                continue
            if p.start in self.in_parens and not self.group_position(p) and not self._dates_of_period(p):
                self.roles[p.start] = "restated"  # "(precipitation above zero at the scheduled hour)"
                continue
            if (
                not listing
                and not self.group_position(p)
                and any(
                    f.dimension in p.targets and f.op in ("<", "<=", ">", ">=", "between")
                    for f in [*self.filters, *self.phrasing_filters.values()]
                )
            ):
                self.roles[p.start] = (
                    "restated"  # "more than 10 miles from the nearest fire station": the column
                )
                continue
            if self._yes_no_condition(p):
                continue
            if self._grain_clause(p):
                continue
            head = self.d.pick_at(p.end)
            if self._kind_of_value_before(p) and (
                head is not None and head.kind in ("entity", "dimension") or not self.group_position(p)
            ):
                self.roles[p.start] = "restated"  # "South region stores": the kind of the value before them
                continue
            if self.d.lower(p.end) in RECORD_PLURALS and any(
                t.kind == "model" for t in self.ctx.vocabulary.lookup(normalize(p.phrase))
            ):
                # "the top 3 premium records": rows of the premium table (its figure, row by row), not a column
                # named premium
                self.roles[p.start] = "restated"
                self.place(p.end, p.end + 1)
                continue
            if self.d.lower(p.start - 1) in ("a", "an", "any", "no") and not self.group_position(p):
                self.problems.append(
                    f"'{self.d.text(p.start - 1, p.end)}' reads as a condition on "
                    f"{p.phrase}, which I cannot apply without a value"
                )
                continue
            if p.method in ("phonetic", "meaning") and not self.group_position(p):
                # "spent more than 5 hours" is not "speed": a sound-alike word splits nothing unless asked to
                label = dimension_label(self.layer, p.targets[0]).lower()
                self.problems.append(
                    f"'{p.phrase}' sounds like {label}, which the question does not ask to split by"
                )
                self.rewrites.append(self.d.replaced(p.start, p.end, ""))
                continue
            target = self._choose_dimension(p)
            if target is None:
                continue
            if (
                self.d.lower(p.end) in ("id", "ids", "identifier")
                and self.ctx.values.numeric.get(target) == "int"
            ):
                self.place(p.end, p.end + 1)  # "policy holder id": the column holds the holder's id
            qd = self.layer.dimension(target)
            self.roles[p.start] = "group"
            if p.score < 0.85 or p.method in ("partial", "phonetic", "meaning"):
                self.low.append(Evidence(p.phrase, "dimension", target, p.score, p.method))
            if qd.dimension.is_time:
                defaults = {default_time_dimension(self.layer, m) for m in self.all_metrics()}
                if target in defaults and not self.d.time.grain:
                    grain = qd.dimension.time_granularity or "day"
                    self._add_dim(DimensionRef(METRIC_TIME, grain), p.phrase, f"{METRIC_TIME} by {grain}")
                    continue
                if target in defaults:
                    continue
                self._add_dim(
                    DimensionRef(target, self.d.time.grain or qd.dimension.time_granularity or "day"),
                    p.phrase,
                    target,
                )
                continue
            self._add_dim(DimensionRef(target), p.phrase, target, p.score, p.method)

    def _add_dim(
        self, ref: DimensionRef, phrase: str, what: str, score: float = 1.0, method: str = "name"
    ) -> None:
        if ref not in self.dims:
            self.dims.append(ref)
            self.notes.append(Evidence(phrase, "dimension", what, score, method if score < 1.0 else "name"))

    def _yes_no_condition(self, p: Pick) -> bool:
        """ "with a fireplace" / "without one" / "no fireplace" on a yes/no column: the column is true (false);
        "with a fireplace vs without one" asks for one row per side."""
        d = self.d
        targets = [t for t in p.targets if is_yes_no(self.ctx, t)]
        if not targets or self.group_position(p):
            return False
        w = p.start - 1
        while w >= 0 and d.lower(w) in _WHETHER_GLUE and not d.used[w]:
            w -= 1
        if d.lower(w) == "whether" and d.lower(w - 1) in ("by", "on") and not d.used[w]:
            # "split by whether there is a fireplace": one row for each side
            self.place(w - 1, p.end)
            self.roles[p.start] = "bound"
            self._add_dim(
                DimensionRef(targets[0]), d.text(w - 1, p.end), f"one row per {targets[0]} (yes and no)"
            )
            return True
        k = p.start - 1
        while k >= 0 and d.lower(k) in ("a", "an", "any") and not d.used[k]:
            k -= 1
        if (
            d.lower(k) in ("without", "no")
            and d.lower(k - 1) in ("and", "or", "vs", "versus", "&")
            and d.lower(k - 2) in ("with", "has", "have", "having")
            and k >= 2
        ):
            # "with and without a fireplace", "with or without one": both sides, one row each
            self.place(k - 2, p.end)
            self.roles[p.start] = "bound"
            self._add_dim(
                DimensionRef(targets[0]), d.text(k - 2, p.end), f"one row per {targets[0]} (yes and no)"
            )
            return True
        if d.lower(k) in ("with", "has", "have", "had", "having"):
            yes, first = True, k
        elif d.lower(k) in ("without", "no", "lacking"):
            yes, first = False, k
        elif k < p.start - 1:
            yes, first = True, k + 1  # "claims of buildings that have a fireplace" … "a fireplace" alone
        elif self._negated_after(p):
            yes, first = True, p.start  # "fireplace vs no fireplace"
        else:
            return False
        dim = targets[0]
        self.place(first, p.end)
        self.roles[p.start] = "bound"
        # "… vs without one", "… vs no fireplace", "… or not": both sides, one row each
        j = p.end
        lowers = [w.lower for w in d.words]
        versus = self._negated_after(p)
        if versus:
            end = j + versus
            while end < len(lowers) and (
                lowers[end] in ("one", "it", "them", "a", "an", "any")
                or (at := d.pick_at(end)) is p
                or (at is not None and dim in at.targets)
            ):
                end += 1
            self.place(j, end)
            for q in self.picks:
                if j <= q.start < end:
                    self.roles[q.start] = "restated"
            self._add_dim(DimensionRef(dim), d.text(first, end), f"one row per {dim} (yes and no)")
            return True
        self.filters.append(Filter(dim, "=", (yes,)))
        self.notes.append(Evidence(d.text(first, p.end), "filter", f"{dim} = {yes}", 1.0, "yes/no"))
        return True

    def _negated_after(self, p: Pick) -> int:
        """How many words after a pick say "vs not" / "vs without" / "vs no" / "or not" (0 when they do not)."""
        lowers = [w.lower for w in self.d.words]
        j = p.end
        versus = next((ph for ph in self.ctx.lexicon.versus if tuple(lowers[j : j + len(ph)]) == ph), None)
        if versus is None and tuple(lowers[j : j + 2]) == ("or", "not"):
            versus = ("or",)
        if versus is None:
            return 0
        k = j + len(versus)
        while self.d.lower(k) in ("those", "the", "ones", "them") and k < j + len(versus) + 2:
            k += 1  # "… against those without one"
        if self.d.lower(k) in ("without", "no", "not", "with"):
            return k - j + 1
        return 0

    def _describing(self) -> set[int]:
        """Dimension words right next to a value of theirs ("Sports category", "state of Texas") name the value's
        column instead of asking for a grouping."""
        out: set[int] = set()
        picks = self.picks
        for k, p in enumerate(picks):
            if p.kind != "dimension" or self.group_position(p):
                continue
            for q in (picks[k - 1] if k > 0 else None, picks[k + 1] if k + 1 < len(picks) else None):
                if q is None or q.kind != "value":
                    continue
                gap = range(q.end, p.start) if q.end <= p.start else range(p.end, q.start)
                # "for all return reasons except Changed mind": the column the excluded value is of
                negating = (
                    {w for phrase in self.ctx.lexicon.negations for w in phrase} if q.start > p.end else set()
                )
                if all(
                    self.d.lower(i)
                    in ("of", "the", "=", "is", "in", "was", "were", "are")  # "the reason was X"
                    or self.d.lower(i) in negating
                    for i in gap
                ) and any(c.dimension in p.targets for c in q.values):
                    out.add(p.start)
                    break
        return out

    def _anchor_models(self, p: Pick) -> list[str]:
        """Models the question is about besides this pick: entities named, and dimensions read without doubt."""
        out: list[str] = []
        for q in self.picks:
            if q is p:
                continue
            if q.kind == "entity":
                model = self.layer.entity_model(q.targets[0])
                if model is not None and model.name not in out:
                    out.append(model.name)
            elif q.kind == "dimension" and len(q.targets) == 1:
                name = self.layer.dimension(q.targets[0]).model.name
                if name not in out:
                    out.append(name)
        if p.kind == "dimension" and self.layer.dimension(p.targets[0]).dimension.is_time:
            # "the start and end date of each of its coverage periods": a period's dates are its own
            periods = [m for q in self.picks if (m := self._period_model(q)) is not None]
            out = periods + [m for m in out if m not in periods]
        return out

    def _dates_of_period(self, p: Pick) -> bool:
        """ "the coverage periods (effective and expiration dates)": the dates in parentheses after a period
        are the columns asked for, not a restatement."""
        return self.layer.dimension(p.targets[0]).dimension.is_time and any(
            self._period_model(q) is not None and q.end <= p.start <= q.end + 3 for q in self.picks
        )

    def _period_model(self, q: Pick) -> str | None:
        """The model of an entity named as a period ("coverage periods"), or None."""
        if q.kind != "entity" or self.d.norm(q.end - 1) != "period":
            return None
        model = self.layer.entity_model(q.targets[0])
        return model.name if model is not None else None

    def _choose_dimension(self, p: Pick) -> str | None:
        models = self.models()
        if not models:
            # a list: prefer the column of the model the other words are about ("policy number with its
            # expiration date" → the policy's own expiration date, not another table's)
            anchors = self._anchor_models(p)
            wider = [
                t.target
                for t in self.ctx.vocabulary.containing(
                    [w.norm for w in self.d.words[p.start : p.end]], "dimension"
                )
            ]
            # a column another name of the question reads is that name's, never this one's
            # (a date a time phrase filters is not listed by it: "written with a start date in 2019 … effective
            # date" lists that same date)
            taken = {r.name for r in self.dims} | {
                t for q in self.picks if q is not p and self.roles.get(q.start) != "bound" for t in q.targets
            }
            own = [t for t in p.targets if self.layer.dimension(t).model.name in anchors and t not in taken]
            # a longer name of the anchor's own column only when the words name no column reachable from it
            # ("expiration date" → the policy's expiration date; "policy number" stays the policy number, not
            # the "policy coverage detail number")
            reachable = p.method == "exact" and any(
                reaches(self.ctx, a, t) for t in p.targets for a in anchors
            )
            own = own or [
                t
                for t in wider
                if self.layer.dimension(t).model.name in anchors
                and t not in taken
                and t not in p.targets
                and not reachable
            ]
            if own:
                return min(own, key=lambda t: anchors.index(self.layer.dimension(t).model.name))
            joined = [t for t in p.targets if any(reaches(self.ctx, a, t) for a in anchors)]
            return (joined or list(p.targets))[0]
        ok = [t for t in p.targets if all(reaches(self.ctx, m, t) for m in models) or self._hostable(t)]
        if ok:
            # "revenue per store by region": a column of something the question names (the store's region)
            # before the nearest one (the customer's)
            named = {
                t
                for q in self.picks
                if q is not p
                for t in (q.targets if q.kind == "entity" else q.alt("entity"))
            }
            named |= {self.bound_dims[s].split("__")[0] for s in self.bound_dims}
            return min(
                ok,
                key=lambda t: (
                    t.split("__")[0] not in named,
                    _distance(self.ctx, t, models),
                    p.targets.index(t),
                ),
            )
        words = set(tokens(p.phrase))
        longer = {
            t.target
            for t in self.ctx.vocabulary.terms
            if t.kind == "dimension"
            and words < set(t.phrase.split())
            and all(reaches(self.ctx, m, t.target) for m in models)
        }
        if len(longer) == 1:
            return longer.pop()
        self.problems.append(
            f"{p.phrase} cannot be combined with {', '.join(self.all_metrics()) or 'this'}: "
            "no join path links them"
        )
        return None

    def _merge_adjacent_values(self) -> None:
        """ "Chicago O'Hare": two value words written together name the values both match."""
        d = self.d
        out: list[Pick] = []
        for p in self.picks:
            prev = out[-1] if out else None
            if (
                prev is not None
                and prev.kind == "value"
                and p.kind == "value"
                and prev.end == p.start
                and not d.gap(p.start).strip()
            ):
                both = [c for c in prev.values if c in p.values]
                if both:
                    out[-1] = replace(
                        prev,
                        end=p.end,
                        phrase=f"{prev.phrase} {p.phrase}",
                        values=tuple(both),
                        score=max(prev.score, p.score),
                    )
                    continue
            out.append(p)
        self.picks = out

    def literals(self) -> None:
        """ "claim 12312701", "flight 1545", "tail number N725MQ", "postal code 78704 or 78751": codes and
        numbers written right after an entity or an identifying column are values of it (not in the value
        index: there are too many to list), compared as text."""
        d = self.d
        for p in list(self.picks):
            if p.kind not in ("entity", "dimension", "subject") and not p.alt("entity"):
                continue
            if p.kind == "subject" and not p.alt("entity"):
                continue
            dim = self._literal_column(p)
            if dim is None:
                continue
            found: list[str] = []
            k = p.end
            versus = False
            while k < len(d.words) and not d.used[k] and k not in self.placed:
                raw = d.words[k].raw
                if not found and d.gap(k).strip() in (",", ";"):
                    break  # "had a fireplace, 4 firefighters": a comma ends the name before the number
                if _is_code(raw) and (not found or _same_shape(found[0], raw)):
                    found.append(raw)
                    self.place(k, k + 1)
                    k += 1
                    continue
                if found and d.lower(k) in ("and", "or", "vs", "versus", "&") or (found and "," in d.gap(k)):
                    versus = versus or d.lower(k) in ("vs", "versus")
                    if d.lower(k) in ("and", "or", "vs", "versus", "&"):
                        self.place(k, k + 1)
                    k += 1 if d.lower(k) in ("and", "or", "vs", "versus", "&") else 0
                    if k < len(d.words) and d.norm(k) in {w.norm for w in d.words[p.start : p.end]}:
                        self._name_again(k, p, dim)
                        k += 1
                    if k < len(d.words) and _is_code(d.words[k].raw):
                        continue
                break
            if not found:
                continue
            self.place(p.start, p.end)
            self.roles[p.start] = "literal"
            self._literal_figure(p)
            if p.kind != "dimension":
                self.picks[self.picks.index(p)] = replace(p, kind="dimension", targets=(dim,))
            op = "=" if len(found) == 1 else "in"
            self.filters.append(Filter(dim, op, tuple(found)))
            compared = (
                d.lower(0) in ("compare", "comparing") and p.start <= 2
            )  # "Compare claim 1 and claim 2"
            if versus or (len(found) > 1 and (self._per_member() or compared)):
                self._add_dim(DimensionRef(dim), p.phrase, f"one row per {dim}")
            self.notes.append(
                Evidence(
                    f"{p.phrase} {' '.join(found)}",
                    "filter",
                    f"{dim} {op} {', '.join(found)}",
                    0.9,
                    "literal",
                )
            )

    def _literal_figure(self, p: Pick) -> None:
        """ "claims 12312701 and 12312702" names claims, not their count; "how many times did flight 1545 operate"
        counts its rows."""
        times = self._times_of_literal(p)
        if times is not None:
            self.place(times, times + 1)
            self.metrics += [p.targets[0]] if p.targets[0] not in self.metrics else []
            self.notes.append(
                Evidence(self.d.text(times - 2, times + 1), "metric", p.targets[0], 1.0, "count")
            )
        elif p.kind in ("metric", "measure") and p.targets[0] in self.metrics:
            self.metrics.remove(p.targets[0])

    def _times_of_literal(self, p: Pick) -> int | None:
        """ "how many times did flight 1545 operate": where 'times' is when the rows of the one named are counted,
        the verb after it being one of those rows happening ("was claim X paid" counts payments: not read)."""
        d = self.d
        times = next((k for k in range(p.start) if d.lower(k - 1) == "many" and d.lower(k) == "times"), None)
        verb = next((q for q in self.picks if q.start >= p.end), None)
        if times is None or verb is None or verb.kind != "phrasing" or p.kind != "metric":
            return None
        ph = self.phrasing(verb)
        plain = not ph.op and ph.dimension is None and ph.metric in (None, p.targets[0])
        own = ph.model in (None, *metric_models(self.layer, p.targets[0]))
        return times if plain and own and counts_things(self.ctx, p.targets[0]) else None

    def _name_again(self, k: int, p: Pick, dim: str) -> None:
        """ "claim 1 vs claim 2": the name said again before the next code names the same column, no figure."""
        self.place(k, k + 1)
        again = self.d.pick_at(k)
        if again is not None and again is not p:
            self.picks[self.picks.index(again)] = replace(again, kind="dimension", targets=(dim,))
            self.roles[k] = "literal"

    def _literal_column(self, p: Pick) -> str | None:
        if p.kind == "dimension":
            dim = p.targets[0]
            return None if self.layer.dimension(dim).dimension.is_time else dim
        return self._code_column(p.targets[0] if p.kind == "entity" else p.alt("entity")[0])

    def _code_column(self, entity: str) -> str | None:
        """The column a code written after an entity's word is a value of: its identifying column, else its key
        (also when the identifying column is empty in every row: "catastrophe 4" is no code nobody has)."""
        keys = self.layer.entity_keys(entity)
        ident = identifying_dimension(self.layer, entity)
        if ident is not None and not self.ctx.values.is_empty(ident):
            return ident
        return keys[0] if len(keys) == 1 else None

    def _number_follows(self, p: Pick) -> bool:
        """True when a number starts right after a pick ("a premium above 10,000"): the number says how much."""
        return any(p.end <= s.start <= p.end + 2 for s in self.d.numbers)

    def kinds_by_head_noun(self) -> None:
        """ "avg temperature by airport", "at each of the three airports": a noun that ends the names of several
        entities (origin airport, destination airport) names the one the question's figures reach."""
        d = self.d
        models = self.models()
        if not models:
            return
        for i, w in enumerate(d.words):
            if d.used[i] or i in self.placed or d.pick_at(i) is not None:
                continue
            k = i - 1
            if number_of(d.lower(k)) is not None:
                k -= 1  # "each of the three airports"
            while k >= 0 and d.lower(k) in ("the", "of") and d.lower(k - 1) in ("each", "of", "the", "every"):
                k -= 1
            if d.lower(k) not in ("by", "per", "each", "every", "across") or k in self.placed:
                continue
            kinds = [
                e
                for e in self.layer.entities()
                if tokens(e)[-1:] == [w.norm]
                or (
                    (model := self.layer.entity_model(e)) is not None
                    and (own := model.primary_entity) is not None
                    and own.name == e
                    and tokens(own.label or "")[-1:] == [w.norm]
                )
            ]
            reached = [
                e
                for e in kinds
                if len(keys := self.layer.entity_keys(e)) == 1
                and all(reaches(self.ctx, m, keys[0]) for m in models)
            ]
            before = {d.lower(k - 1), d.lower(k - 2)}
            if len(reached) > 1 and before & {"from", "out"}:
                reached = [e for e in reached if any(w in e for w in ("origin", "departure", "from"))]
            elif len(reached) > 1 and before & {"to", "into"}:
                reached = [
                    e for e in reached if any(w in e for w in ("dest", "arrival"))
                ]  # "into each airport"
            if len(reached) != 1:
                continue
            if before & {"from", "out", "to", "into", "of"}:
                self.place(
                    min(j for j in (k - 2, k - 1) if d.lower(j) in ("from", "out", "to", "into", "of")), k
                )
            self.place(k, i + 1)
            if reached[0] not in self.group_entities:
                self.group_entities.append(reached[0])
            self.notes.append(
                Evidence(d.text(k, i + 1), "dimension", f"each {reached[0]} (by its key)", 0.9, "head noun")
            )

    def value_kinds(self) -> None:
        """ "flights to airports in the Pacific time zone": the noun right before a value ('airports in the …')
        that ends the name of the entity whose column the value filters restates what the value is of."""
        d = self.d
        where = {id(q): dim for dim, items in self.value_dims.items() for q, _ in items}
        for q in self.picks:
            dim = where.get(id(q))
            if dim is None or q.score < 0.85 or q.method not in ("exact", "code", "synonym"):
                continue  # a doubtful value ("Texas" in an airport's name) is no sign of what the noun means
            self._column_words_before(q, dim)
            k = q.start - 1
            while k >= 0 and d.lower(k) in ("the", "a", "an"):
                k -= 1
            if d.lower(k) not in ("in", "with", "at", "on"):
                continue
            k -= 1
            if k < 0 or d.used[k] or k in self.placed or d.pick_at(k) is not None:
                continue
            own = self.layer.dimension(dim).model.primary_entity
            if own is None or d.words[k].norm not in (tokens(own.name)[-1:] + tokens(own.label or "")[-1:]):
                continue
            self.place(k, k + 1)
            self.notes.append(
                Evidence(
                    d.text(k, q.end), "other", f"{d.words[k].raw}: what {q.phrase} is of", 0.9, "head noun"
                )
            )

    def _column_words_before(self, q: Pick, dim: str) -> None:
        """ "where amount type is Year": the words before 'is' that spell part of the name of the value's column
        (amount_type_code) say which column the value is of."""
        d = self.d
        k = q.start - 1
        if d.lower(k) not in ("is", "was", "=", "equals"):
            return
        names = set(tokens(self.layer.dimension(dim).dimension.name))
        first = k
        while (
            first > 0
            and d.norm(first - 1) in names
            and not d.used[first - 1]
            and first - 1 not in self.placed
        ):
            first -= 1
        if first < k and any(d.pick_at(x) is None for x in range(first, k)):
            self.place(first, k + 1)

    def route_versus(self) -> None:
        """ "EWR to ORD vs LGA to ORD": two routes compared, one row each (by origin and destination). Two routes
        that share no end would bring in the routes between them too, so they are refused."""
        d = self.d
        where = {id(q): dim for dim, items in self.value_dims.items() for q, _ in items}
        routes = [
            (a, b)
            for a, b in zip(self.picks, self.picks[1:], strict=False)
            if a.kind == "value"
            and b.kind == "value"
            and b.start == a.end + 1
            and d.lower(a.end) in ("to", "→")
        ]
        for (a, b), (c, e) in zip(routes, routes[1:], strict=False):
            between = [d.lower(k) for k in range(b.end, c.start)]
            if not between or not all(
                w in ("vs", "versus", "compared", "with", "to", "against", "and") for w in between
            ):
                continue
            dims = [where.get(id(x)) for x in (a, b, c, e)]
            if None in dims or dims[0] != dims[2] or dims[1] != dims[3] or dims[0] == dims[1]:
                continue
            if a.phrase.lower() != c.phrase.lower() and b.phrase.lower() != e.phrase.lower():
                self.problems.append(
                    f"'{d.text(a.start, e.end)}' compares two routes with no end in common; one question per route, "
                    "or all routes between them, answers it"
                )
                self.rewrites.append(f"{self.d.question.split(a.phrase)[0]}{a.phrase} to {b.phrase}".strip())
                continue
            for dim in (dims[0], dims[1]):
                self._add_dim(DimensionRef(str(dim)), d.text(a.start, e.end), f"one row per route: {dim}")

    def _count_word_before(self, p: Pick) -> bool:
        """True when a count word stands before the name, past values that narrow it ("how many Texas customers",
        "number of non-Consumer customers")."""
        d = self.d
        j = p.start - 1
        while True:
            q = d.pick_at(j)
            if q is not None and q.kind in ("value", "phrasing"):
                j = q.start - 1
            elif d.lower(j) in ("non", "not") or j > 0 and d.lower(j) != "of" and self._in_time_phrase(j):
                j -= 1  # "what share of September 2026 orders": the period narrows them too
            else:
                break
        return d.lower(j) in ("many", "of", "count", "total", "number")

    def _all_but(self, p: Pick) -> bool:
        """True when a negation and a value of this column follow it ("all reasons except Changed mind")."""
        d = self.d
        lowers = [w.lower for w in d.words]
        phrase = self.ctx.lexicon.starts(lowers, p.end, self.ctx.lexicon.negations)
        if phrase is None:
            return False
        q = d.pick_at(p.end + len(phrase))
        return q is not None and q.kind == "value" and any(c.dimension in p.targets for c in q.values)

    def _grouped_in_parens(self, p: Pick) -> bool:
        """ "loss payments (by claim number)" groups; "outside of texas (by customer state)" says which column the
        value before the parenthesis is of."""
        d = self.d
        cue = p.start - 1
        if d.lower(cue) not in ("by", "per") or cue not in self.in_parens or cue - 1 in self.in_parens:
            return False
        before = d.pick_at(cue - 1)
        return not (
            before is not None
            and before.kind == "value"
            and any(c.dimension in p.targets for c in before.values)
        )

    def members_by_kind(self) -> None:
        """ "each NYC airport", "at each of the NYC airports", "one number per airport": the members the values
        name, of the kind the noun names, one row each (the values still filter them)."""
        d = self.d
        values = [p for p in self.picks if p.kind == "value"]
        for i, w in enumerate(d.words):
            if d.used[i] or i in self.placed or d.pick_at(i) is not None or not values:
                continue
            k = i - 1
            between = d.pick_at(k)
            if between is not None and between.kind == "value":
                k = between.start - 1  # "each NYC airport"
            said = number_of(d.lower(k))
            if said is not None and d.lower(k - 1) in ("the", "of", "each"):
                k -= 1  # "each of the three NYC airports"
            while k >= 0 and d.lower(k) in ("the", "of") and d.lower(k - 1) in ("each", "of", "the"):
                k -= 1  # "each of the NYC airports"
            ranked = d.lower(k) == "the" and d.lower(k - 1) in ("rank", "sort", "compare") and k - 1 == 0
            if d.lower(k) not in ("each", "every", "per") and not ranked:
                continue  # "rank the three New York airports by …": the members ranked, one row each
            dims = {
                c.dimension
                for p in values
                for c in p.values
                if w.norm in tokens(dimension_label(self.layer, c.dimension))
                or w.norm in tokens(self.layer.dimension(c.dimension).model.name)
            }
            dims &= {f.dimension for f in self.filters if f.op in ("=", "in")}  # the column the values filter
            if len(dims) != 1:
                continue
            dim = dims.pop()
            named = {v for f in self.filters if f.dimension == dim for v in f.values}
            if said is not None and said > len(named):
                continue  # "to O'Hare, … from each of the three airports": three members, not the one value named
            self.place(k, between.start if between is not None else i)
            self.place(i, i + 1)
            self._add_dim(DimensionRef(dim), d.text(k, i + 1), f"one row per {dim}")

    def values(self) -> None:
        self._merge_adjacent_values()
        value_picks = [p for p in self.picks if p.kind == "value"]
        inner = self._apposition(value_picks)
        lowers = [w.lower for w in self.d.words]
        asks_each = {
            i + k
            for i in range(len(lowers))
            if (ph := self.ctx.lexicon.starts(lowers, i, self.ctx.lexicon.per_member)) and len(ph) > 2
            for k in range(len(ph))
        }
        for p in value_picks:
            self.place(p.start, p.end)
            k = p.start - 1
            while k > 0 and self.d.lower(k) in ("the", "our", "their", "its", "a", "an"):
                k -= 1
            if self.d.lower(k) in ("through", "thru") and not self.d.used[k]:
                self.place(k, k + 1)  # "ordered through the online channel": the way, as 'via'
            if p.start in asks_each:
                continue  # "for each of those years": the words ask for one row each, they name no value
            if p.start in inner:
                self.roles[p.start] = "restated"
                continue
            chosen = self._choose_value_dimension(p)
            if chosen is None:
                continue
            dim, cands = chosen
            self.value_dims.setdefault(dim, []).append((p, cands))
            if p.score < 0.9 or p.method in ("fuzzy", "partial"):
                self.low.append(Evidence(p.phrase, "filter", f"{dim} = {cands[0].value}", p.score, p.method))
        for dim, items in self.value_dims.items():
            values = tuple(dict.fromkeys(c.value for _, c_list in items for c in c_list))
            negated = any(self._negated(p) for p, _ in items)
            heads = {self._chain_head(p).start for p, _ in items}
            # "revenue by Home and Beauty" asks a row each; "miles flown by United or Delta" names who flew them
            by_list = any(
                self.d.lower(h - 1) == "by" and self.d.lower(h - 2) not in self._any_verb() for h in heads
            )
            if by_list:
                for h in heads:
                    self.place(h - 1, h)
            versus = len(items) > 1 and (
                self._versus(items)
                or self._per_member()
                or by_list
                or (self._and_list(items) and not negated and not self._asks_total())
                or (self._compares() and self._compared_list(dim))  # "how does Delta's compare with United's"
            )
            op = ("!=" if negated else "=") if len(values) == 1 else ("not_in" if negated else "in")
            self.filters.append(Filter(dim, op, values))
            for p, c_list in items:
                self.notes.append(
                    Evidence(
                        p.phrase,
                        "filter",
                        f"{dim} {op} {', '.join(c.value for c in c_list)}",
                        p.score,
                        p.method,
                    )
                )
            first = min(heads)
            if (
                versus
                and self.d.lower(first - 1) in ("between", "across", "among")
                and any(w.lower in _COMPARE_WORDS | {"difference", "differ"} for w in self.d.words[:first])
            ):
                self.place(first - 1, first)  # "compare … between Corporate and Small Business"
            if versus and not negated:
                self._add_dim(
                    DimensionRef(dim), " vs ".join(p.phrase for p, _ in items), f"one row per {dim}"
                )
        self._check_same_entity_filters()
        self._restated_keys()

    def _grain_clause(self, p: Pick) -> bool:
        """ "departures scheduled in hours when the wind was over 20 mph": a period word heading a when/where
        clause names the grain the condition holds at, not a split. When the condition's table is keyed by that
        grain (weather by airport and hour) each row's joined reading is that period's: the words are placed.
        A coarser period ("on days when it rained") asks whether the condition held at any time that day, which
        one row's reading cannot say: refused."""
        d = self.d
        grain = d.norm(p.end - 1)
        if p.end - p.start != 1 or grain not in TIME_GRAINS or d.lower(p.end) not in ("when", "where"):
            return False
        k = p.start - 1 - (d.lower(p.start - 1) in ("a", "an", "the", "any"))
        if d.lower(k) not in ("in", "on", "during", "at"):
            return False
        own = self.layer.dimension(p.targets[0]).model.name
        columns = [f.dimension for f in self.filters] + [
            ph.dimension
            for q in self.picks
            if q.kind == "phrasing" and q.start > p.end and (ph := self.phrasing(q)).dimension and ph.op
        ]
        models = {m for c in columns if (m := self.layer.dimension(c).model) is not None and m.name != own}
        if not models:
            return False
        if all(_keyed_by_grain(m, grain) for m in models):
            self.roles[p.start] = "restated"
            self.place(k, p.end + 1)
            return True
        self.problems.append(
            f"'{d.text(k, p.end + 1)}' asks whether the condition held at any time in each {grain}; "
            "I can only test it at each row's own reading"
        )
        return True

    def _compared_list(self, dim: str) -> bool:
        """ "compare Virgin America, JetBlue and Delta … for flights to SFO or LAX": with two lists of values,
        the one nearest the compare word is compared (a row each); the other only filters."""
        lists = {x: [p.start for p, _ in items] for x, items in self.value_dims.items() if len(items) > 1}
        said = [i for i, w in enumerate(self.d.words) if w.lower in _COMPARE_WORDS]
        if len(lists) < 2 or not said:
            return True
        nearest = min(lists, key=lambda x: min(abs(i - k) for i in said for k in lists[x]))
        return dim == nearest

    def _negated(self, p: Pick) -> bool:
        d = self.d
        k = p.start - 1
        # walk back over the list this value is part of ("excluding the Midwest and the online shop")
        while k >= 0 and (
            d.lower(k) in self.ctx.lexicon.list_words
            or d.lower(k) in ("the", "a", "an")
            or ((at := d.pick_at(k)) is not None and at.kind in ("value", "entity", "dimension"))
        ):
            k -= 1
        if k >= 1 and d.lower(k) in ("from", "in", "at", "for", "to", "by") and not d.used[k]:
            k -= 1  # "not from the West", "not in Texas", "not operated by United"
        verbs = self._any_verb()
        if k >= 1 and d.lower(k) in verbs and not (d.used[k] and d.pick_at(k) is None):
            k -= 1  # "orders not placed online"
        lowers = [w.lower for w in d.words]
        for back in range(max(0, k - 4), k + 1):  # the longest phrase first: "if you leave out"
            phrase = self.ctx.lexicon.starts(lowers, back, self.ctx.lexicon.negations)
            if phrase is not None and back + len(phrase) > k:
                self.place(back, back + len(phrase))
                return True
        return False

    def _versus(self, items: list[tuple[Pick, list[ValueCandidate]]]) -> bool:
        d = self.d
        lex = self.ctx.lexicon
        ordered = sorted(items, key=lambda x: x[0].start)
        found = False
        for (a, _), (b, _) in zip(ordered, ordered[1:], strict=False):
            between = [d.lower(k) for k in range(a.end, b.start)]
            for phrase in lex.versus:
                if tuple(between[: len(phrase)]) == phrase:
                    self.place(a.end, a.end + len(phrase))
                    found = True
        return found

    def _apposition(self, value_picks: list[Pick]) -> set[int]:
        """ "to Chicago (ORD or MDW)", "to Boston or Washington National (BOS or DCA)": values in parentheses
        restate the list before them; the outer values are then read from the parentheses (which take the
        outer list's role, "to"). Returns the starts of the restated outer picks."""
        d = self.d
        restated: set[int] = set()
        for k, q in enumerate(value_picks):
            if k == 0 or not ("(" in d.gap(q.start) or self._restating(value_picks[k - 1].end, q.start)):
                continue
            p = value_picks[k - 1]
            if self._restating(p.end, q.start):
                self.place(p.end, q.start)  # "to Washington, i.e. DCA or IAD": the words that restate
            elif any(
                not d.used[i] and d.lower(i) not in self.ctx.lexicon.list_words for i in range(p.end, q.start)
            ):
                continue
            inner_dims = {c.dimension.split("__")[0] for c in q.values}
            outer = [x for x in value_picks[:k] if self._chain_head(x) is self._chain_head(p)]
            outer_dims = {c.dimension.split("__")[0] for x in outer for c in x.values}
            if inner_dims & outer_dims:
                for x in outer:
                    restated.add(x.start)
                self.notes.append(
                    Evidence(
                        " ".join(x.phrase for x in outer),
                        "other",
                        f"restated by '({q.phrase} …)'",
                        1.0,
                        "apposition",
                    )
                )
        return restated

    def _restating(self, end: int, start: int) -> bool:
        """True when the words from `end` to `start` restate what is before them, after a comma ("…, i.e. …",
        "…, namely …")."""
        words = [self.d.lower(k) for k in range(end, start)]
        return bool(words) and "," in self.d.gap(end) and set(words) <= _RESTATING_WORDS

    def _and_list(self, items: list[tuple[Pick, list[ValueCandidate]]]) -> bool:
        """ "for United, Delta and American": several values joined by 'and' (not 'or') ask for each of them."""
        d = self.d
        ordered = sorted((p for p, _ in items), key=lambda p: p.start)
        joins = [
            [d.lower(k) for k in range(a.end, b.start)] for a, b in zip(ordered, ordered[1:], strict=False)
        ]
        words = {w for j in joins for w in j}
        return (
            bool(joins)
            and "or" not in words
            and ("and" in words or "&" in words)
            and words <= {"and", "&", "the"}
        )

    def _asks_total(self) -> bool:
        """ "… in total", "combined", "as a single figure": one number for the whole list."""
        lowers = [w.lower for w in self.d.words]
        pairs = set(zip(lowers, lowers[1:], strict=False))
        return bool({"combined", "altogether", "together"} & set(lowers)) or bool(
            {
                ("in", "total"),
                ("single", "figure"),
                ("one", "figure"),
                ("one", "number"),
                ("as", "whole"),
                ("all", "together"),
            }
            & pairs
        )

    def _per_member(self) -> bool:
        """True when the question asks for one row per listed value ("…, one figure for each")."""
        d = self.d
        lowers = [w.lower for w in d.words]
        for i in range(len(lowers)):
            phrase = self.ctx.lexicon.starts(lowers, i, self.ctx.lexicon.per_member)
            if phrase is not None and any(d.used[i : i + len(phrase)]):
                # "for each of those years": the time reader took "years"; the words before it still ask
                free = next(k for k in range(len(phrase)) if d.used[i + k])
                phrase = phrase[:free] if phrase[:free] in self.ctx.lexicon.per_member else None
            if (
                phrase is None
                or any(d.used[i : i + len(phrase)])
                or any(i <= k < i + len(phrase) for k in self.placed)
            ):
                continue
            nxt = next((q for q in self.picks if q.start >= i + len(phrase)), None)
            if nxt is not None and nxt.start == i + len(phrase) and nxt.kind != "value":
                continue  # "for each region" is a group cue, read with its name
            end = i + len(phrase)
            # "each one separately": the words saying it twice over
            while (more := self.ctx.lexicon.starts(lowers, end, self.ctx.lexicon.per_member)) and not any(
                d.used[end : end + len(more)]
            ):
                end += len(more)
            self.place(i, end)
            return True
        return False

    def _choose_value_dimension(self, p: Pick) -> tuple[str, list[ValueCandidate]] | None:
        d = self.d
        by_dim: dict[str, list[ValueCandidate]] = {}
        for c in p.values:
            by_dim.setdefault(c.dimension, []).append(c)
        named = [
            q
            for q in self.picks
            if q.kind == "dimension"
            and q.start in self.roles
            and self.roles[q.start] == "describes"
            and (
                q.end == p.start or q.start == p.end or abs(q.start - p.end) <= 2 or abs(p.start - q.end) <= 2
            )
        ]
        narrowed = {t for q in named for t in q.targets} & set(by_dim)
        if narrowed:
            by_dim = {k: v for k, v in by_dim.items() if k in narrowed}
        models = self.models()
        ok = [dim for dim in by_dim if all(reaches(self.ctx, m, dim) for m in models) or self._hostable(dim)]
        if keyed := self._entity_and_key(p, models):
            by_dim, ok = keyed, list(keyed)  # "policy 31003000336": the policy's own code, not a name like it
        if not ok:
            shown = ", ".join(sorted({c.value for c in p.values})[:4])
            columns = ", ".join(dimension_label(self.layer, dim).lower() for dim in by_dim)
            figures = ", ".join(self._metric_words(m) for m in self.all_metrics()) or "the question"
            self.problems.append(
                f"'{p.phrase}' is a value of {columns} ({shown}), which {figures} cannot be filtered by"
            )
            return None
        head = self._chain_head(p)
        # the cue words of this list: after the previous value (another list's cue is not this one's)
        previous = max((q.end for q in self.picks if q.kind == "value" and q.end <= head.start), default=0)
        before = {
            d.lower(k)
            for k in range(max(previous, head.start - 3), head.start)
            # "I'd like to compare JFK …": 'to' before a verb is no destination
            if not (
                d.lower(k) == "to"
                and k + 1 < head.start
                and d.lower(k + 1) in self.ctx.lexicon.function_words | self.ctx.lexicon.light_verbs
                and d.lower(k + 1) not in _DETERMINERS
            )
        }
        after = d.lower(p.end)
        mentioned = {t for q in self.picks if q.kind == "entity" for t in q.targets}
        mentioned |= {self.layer.dimension(self.bound_dims[s]).model.prefix for s in self.bound_dims}

        arriving = any(d.lower(k) in _ARRIVAL_VERBS for k in range(0, head.start)) and d.lower(
            head.start - 1
        ) in ("at", "in", "into")

        # "from each of the three NYC airports": the cue stands before the words that ask for one row each
        cue = head.start - 1
        while cue > 0 and (
            d.lower(cue) in ("each", "every", "of", "the", "all") or number_of(d.lower(cue)) is not None
        ):
            cue -= 1

        def role(dim: str) -> int:
            name = dim.lower()
            is_from = "origin" in name or "from" in name or "departure" in name
            is_to = "dest" in name or "arrival" in name
            if d.gap(head.start).strip() in _PAIR_DASHES and head.start > 0 and d.pick_at(head.start - 1):
                return 0 if is_to else 1  # "JFK-LAX": the second of a pair is where it goes
            if arriving and not before & _FROM_CUES:
                return 0 if is_to else 1
            if d.lower(cue) in _FROM_CUES or (before & _FROM_CUES and not before & _TO_CUES):
                return 0 if is_from else 1
            if d.lower(cue) in _TO_CUES or before & _TO_CUES:
                return 0 if is_to else 1
            if after in ("to", "-", "→"):
                return 0 if is_from else 1
            return 0 if is_from else 1 if is_to else 0

        def entity_first(dim: str) -> int:
            return 0 if dim.split("__")[0] in mentioned else 1

        # "compare JetBlue's rate with Southwest's": the second member is of the column the first one took
        compared = any(
            w.lower in _COMPARE_WORDS and not self._booked_against(k) for k, w in enumerate(d.words)
        ) and bool(before & {"with", "to", "against"})
        taken = {
            x
            for x, items in self.value_dims.items()
            if all(self._chain_head(q) is not head for q, _ in items)
        }

        # "stores located in Texas": the entity named right before the value owns it, even when an earlier value
        # took its column ("stores in Florida and stores in Texas" are two states of the stores)
        near = {
            t
            for q in self.picks
            if previous <= q.start and q.end <= head.start <= q.end + 3
            for t in (q.targets if q.kind == "entity" else q.alt("entity"))
        }
        # "the store names in Texas": a column named right before the value is of the thing that owns it
        near |= {
            t.split("__")[0]
            for q in self.picks
            if q.kind == "dimension" and previous <= q.start and q.end <= head.start <= q.end + 2
            for t in q.targets
        }
        # "our Texas stores": the things named right after a value own it too
        # (first of all: "shoppers at our Texas stores" are the stores' state, "Texas store city" the store's)
        right_after = {
            t
            for q in self.picks
            if q.start == p.end
            for t in (q.targets if q.kind == "entity" else q.alt("entity"))
        } | {
            t.split("__")[0]
            for q in self.picks
            if q.start == p.end and q.kind == "dimension"
            for t in q.targets
        }
        near |= right_after

        # "United vs Delta", "Virgin America, JetBlue and Delta": a member of a list is of its earlier members' column
        listed = {
            x for x, items in self.value_dims.items() if any(self._chain_head(q) is head for q, _ in items)
        }
        # "to Orlando, Tampa and Fort Myers": the column every member of the list can be read in (the airport
        # codes), not an airport that happens to be called "Orlando"
        siblings = [q for q in self.picks if q.kind == "value" and q is not p and self._chain_head(q) is head]
        shared = {dim for dim in ok if all(any(c.dimension == dim for c in q.values) for q in siblings)}
        order = sorted(
            ok,
            key=lambda dim: (
                bool(listed) and dim not in listed,
                bool(siblings) and bool(shared) and dim not in shared,
                role(dim),
                dim.split("__")[0] not in right_after,
                dim.split("__")[0] not in near,
                dim in taken and not compared,
                entity_first(dim),
                -_exact_case(p, by_dim[dim]),
                _distance(self.ctx, dim, models) if models else 0,
                list(by_dim).index(dim),
            ),
        )
        for k in (head.start - 1, head.start - 2):
            if d.lower(k) in _FROM_CUES | _TO_CUES:
                self.place(k, k + 1)
        return order[0], by_dim[order[0]]

    def _entity_and_key(self, p: Pick, models: Sequence[str]) -> dict[str, list[ValueCandidate]]:
        """ "policy 31003000336" read as one value of another column (an agreement named "Policy 31003000336"):
        the entity's word, then a code of that entity (as `literals` reads it)."""
        d = self.d
        end = p.end
        while end > p.start + 1 and d.lower(end - 1) in ("-", "–", "—"):
            end -= (
                1  # "on policy 31003000336 - id, …": the dash after the code separates, it is no part of it
            )
        for cut in range(p.start + 1, end):
            if not all(_is_code(d.words[k].raw) for k in range(cut, end)):
                continue
            for term in self.ctx.vocabulary.lookup(normalize(d.text(p.start, cut))):
                if term.kind != "entity":
                    continue
                dim = self._code_column(term.target)
                if dim is not None and all(reaches(self.ctx, m, dim) for m in models):
                    return {dim: [ValueCandidate(dim, d.text(cut, end))]}
        return {}

    def _hostable(self, dim: str) -> bool:
        """With only aggregates of columns (no metric), some model must reach the columns and this dimension."""
        if self.all_metrics() or not self.aggregates or self.over:
            return False
        return any(
            reaches(self.ctx, m.name, dim)
            and all(reaches(self.ctx, m.name, a.dimension) for a in self.aggregates)
            for m in self.layer.models
        )

    def _chain_head(self, p: Pick) -> Pick:
        """The first value of the list a value belongs to ("to ORD or MDW": MDW's list starts at ORD)."""
        d = self.d
        values = [q for q in self.picks if q.kind == "value"]
        head = p
        while True:
            before = [q for q in values if q.end <= head.start]
            if not before:
                return head
            q = before[-1]
            between = [d.lower(k) for k in range(q.end, head.start)]
            if "," in d.gap(head.start) and not between and self._opens_versus(head):
                return head  # "to Denver, Newark vs LaGuardia": the pair after the comma is a list of its own
            if not between and d.gap(head.start).strip() in _PAIR_DASHES:
                return head  # "the JFK-LAX route": from the first to the second, not a list
            if d.lower(head.end) in ("to", "→") and d.lower(q.start - 1) in ("to", "→"):
                return head  # "EWR to ORD vs LGA to ORD": LGA starts a route of its own
            if all(
                w in self.ctx.lexicon.list_words or w in ("vs", "versus", "compared", "against")
                for w in between
            ) or self._restating(q.end, head.start):
                head = q  # joined by list words, a comma, a parenthesis, or written next to it as one name
                continue
            return head

    def _restated_keys(self) -> None:
        """ "distinct planes (tail numbers)": a key or label in parentheses right after its entity restates it."""
        d = self.d
        for q in self.picks:
            if q.kind != "dimension" or "(" not in d.gap(q.start):
                continue
            p = self.prev_pick(q)
            if p is None or p.kind != "entity" or p.end != q.start:
                continue
            entity = p.targets[0]
            own = set(self.layer.entity_keys(entity)) | {label_dimension(self.ctx, entity)}
            if set(q.targets) & own or any(self._holds_key(t, entity) for t in q.targets):
                self.roles[q.start] = "restated"
                self.place(q.start, q.end)
                self.dims = [r for r in self.dims if r.name not in q.targets]

    def _opens_versus(self, p: Pick) -> bool:
        """True when a value is the first of an "A vs B" pair."""
        d = self.d
        return d.lower(p.end) in ("vs", "versus") or (
            d.lower(p.end) == "compared" and d.lower(p.end + 1) in ("with", "to")
        )

    def _agentive_by(self, p: Pick) -> bool:
        """ "orders placed on 31 October by customers in Utah": 'by' after a verb names who did it, when the
        question lists rows; it does not group them."""
        d = self.d
        if self._narrowed_agent(p):
            return True
        noun = d.words[p.start] if p.end - p.start == 1 else None
        verbs = self._any_verb()
        k = p.start - 2
        while k > 0 and self._in_time_phrase(k):
            k -= 1  # "orders placed this year by customers who …": the verb's time stands between
        if (
            p.kind == "entity"
            and noun is not None
            and d.lower(k) in verbs
            and (
                noun.lower != noun.norm
                and (
                    d.lower(p.end) in _NARROWING | {"with", "having"}
                    # "orders placed in 2025 by customers in Utah": who placed them, narrowed by a value
                    or d.lower(p.end) in ("in", "from")
                    and (q := d.pick_at(p.end + 1)) is not None
                    and q.kind == "value"
                )
                # "flown by aircraft built before 1990": a noun the same in the plural, narrowed by a verb
                or d.lower(p.end) in verbs
                or any(q.start == p.end and q.kind == "phrasing" for q in self.picks)
            )
        ):
            return True  # "flights flown by planes with more than 300 seats": who flew them, narrowed
        if not self.list_question():
            return False
        lex = self.ctx.lexicon
        for k in range(p.start - 2, max(-1, p.start - 8), -1):
            word = d.lower(k)
            if (at := d.pick_at(k)) is not None and at.kind in ("metric", "measure"):
                return False  # "units sold by product category": the verb is a figure's name; 'by' groups
            if word in lex.light_verbs or word in lex.relation_verbs:
                return True
            if (at := d.pick_at(k)) is not None and at.kind in ("entity", "metric"):
                return False
        return False

    def _narrowed_agent(self, p: Pick) -> bool:
        """ "flights by planes made by Boeing, per carrier": things named in the plural and narrowed by what
        follows are who did it, when another word asks for the grouping; 'by' does not group them."""
        d = self.d
        word = d.words[p.start] if p.end - p.start == 1 else None
        if p.kind != "entity" or word is None or word.lower == word.norm or d.lower(p.end) not in _NARROWING:
            return False
        lowers = [w.lower for w in d.words]
        return any(
            tuple(lowers[k : k + len(cue)]) == cue
            and k + len(cue) != p.start
            and d.lower(k - 1) not in _NARROWING
            for cue in self.ctx.lexicon.group_cues
            if cue not in (("each",), ("every",))
            for k in range(len(lowers))
        )

    def _direct_target(self, p: Pick) -> bool:
        """True when another name is asked for directly ("which state", "top 3 states"), so a noun further on
        ("biggest-spending customers") is not what is ranked."""
        d = self.d
        r = d.ranking
        for q in self.picks:
            if q is p or q.kind not in ("entity", "dimension", "concept"):
                continue
            if (
                d.lower(q.start - 1) in ("which", "what")
                or (r is not None and r.end == q.start)
                or number_of(d.lower(q.start - 1)) is not None
                and d.lower(q.start - 2) == "top"
            ):
                return True
        return False

    def _holds_key(self, dimension: str, entity: str) -> bool:
        """True when a dimension is the column holding an entity's key in another model (flights.tailnum)."""
        qd = self.layer.dimension(dimension)
        e = qd.model.entity(entity)
        return e is not None and e.key_exprs == (qd.dimension.expr,)

    def _check_same_entity_filters(self) -> None:
        """Two filters naming members of one entity through different identifying columns ("SAN" and
        "San Francisco Intl") hold together only for the same member; the words must say so, or I refuse."""
        identifying: dict[str, list[str]] = {}
        for dim in self.value_dims:
            prefix, _, local = dim.partition("__")
            if any(local.endswith(w) or local == w for w in _ID_COLUMNS) or dim in {
                k for e in self.layer.entities() for k in self.layer.entity_keys(e)
            }:
                identifying.setdefault(prefix, []).append(dim)
        for prefix, dims in identifying.items():
            if len(dims) > 1:
                shown = " and ".join(
                    f"{dim} = {', '.join(c.value for _, cl in self.value_dims[dim] for c in cl)}"
                    for dim in dims
                )
                self.problems.append(
                    f"the question names {prefix.replace('_', ' ')} twice in different ways "
                    f"({shown}); they cannot both hold unless they are the same one"
                )

    def bind_times(self) -> None:
        """Time phrases next to a named date ("signed up in 2026", "built before 1990") filter that date; the
        others are the metric's own time, combined in `time`."""
        d = self.d
        metric_ranges: list[TimeRange] = []
        bound: dict[str, list[TimeRange]] = {}
        previous: tuple[str, int] | None = None
        for hit in d.time.hits:
            if hit.time_range is None:
                if hit.periods:
                    self._compared_on(hit)
                continue
            if self._changes() and len(hit.points) == 2:
                if hit.points[0].end != hit.points[1].start and not _year_apart(*hit.points):
                    self.problems.append(
                        f"'{d.question[hit.start : hit.end].strip()}' sets two periods that are not next to each "
                        "other against each other; ask for both, e.g. 'revenue in Q1 2026 vs Q3 2026'"
                    )
                metric_ranges += list(hit.points)  # "from Q3 to Q4" compares, it does not add up
                continue
            if self._in_force(hit):
                continue
            target = self._time_target(hit)
            between = d.question[previous[1] : hit.start].strip(" ,").lower() if previous else "-"
            if target is None and previous and between in ("", "or", "and", "and/or"):
                target = previous[0]  # "built in 1999, 2000 or 2016": the list goes on about the same date
            previous = (target, hit.end) if target is not None else None
            if target is None:
                metric_ranges.append(hit.time_range)
                continue
            bound.setdefault(target, []).append(hit.time_range)
        for target, ranges in bound.items():
            # "built in 1999, 2000 or 2016": phrases of one date are one set of periods, never all at once
            self._time_filter(target, combine_ranges(ranges) or ranges[0])
        self.metric_ranges = metric_ranges

    def _changes(self) -> bool:
        """Whether a growth word sets periods against each other ("grew fastest", "how much did revenue change
        from Q2 to Q3"), not a comparison said with a compare word ("Q2 to Q3 vs the previous period"), nor
        each period of a grain against the one before it ("revenue change by month from January to June")."""
        return self.d.growth or (
            self.d.comparison == "previous_period"
            and not self.d.time.explicit_comparison
            and self.d.time.grain is None
        )

    def weekdays(self) -> None:
        """ "on Saturdays", "at weekends", "Saturdays or Sundays": every such day of the week (ISO numbers, Monday
        = 1), a filter on the figures' own date; two or more days set against each other get a row each."""
        d = self.d
        said: list[int] = []
        days: list[int] = []
        for i, w in enumerate(d.words):
            if d.used[i] or i in self.placed:
                continue
            found = _WEEKDAY_PLURALS.get(w.lower)
            if found is None:
                continue
            said.append(i)
            days += [x for x in found if x not in days]
        if not days or not self.all_metrics():
            return
        for i in said:
            self.place(i, i + 1)
            if d.lower(i - 1) in ("on", "at", "during") and not d.used[i - 1]:
                self.place(i - 1, i)
        self.filters.append(
            Filter(METRIC_TIME, "in" if len(days) > 1 else "=", tuple(sorted(days)), "day_of_week")
        )
        self.notes.append(
            Evidence(
                ", ".join(d.words[i].raw for i in said), "time", f"day of week in {days}", 1.0, "weekday"
            )
        )
        if len(said) > 1 and any(
            d.lower(k) in ("or", "vs", "versus", "and") for k in range(said[0], said[-1])
        ):
            self._add_dim(
                DimensionRef(METRIC_TIME, "day_of_week"), "days of the week", "one row per day of the week"
            )

    def time(self) -> None:  # noqa: C901 - one branch per time construct: range, months, periods, comparison, grain
        d = self.d
        m = d.time
        metric_ranges = list(self.metric_ranges)
        if (
            self._changes()
            and len(metric_ranges) == 2
            and metric_ranges[0].end == metric_ranges[1].start
            and metric_ranges[0].grain == metric_ranges[1].grain
        ):
            # "grew from the third quarter to the fourth": the later period against the one before it
            self.time_range = metric_ranges[1]
            self.comparison = "previous_period"
            metric_ranges = []
        elif self._changes() and len(metric_ranges) == 2 and _year_apart(*metric_ranges):
            # "change in returns, Oct 2025 to Oct 2026": the later period against the same one a year before
            self.time_range = metric_ranges[1]
            self.comparison = "same_period_last_year"
            metric_ranges = []
        if len(metric_ranges) == 1:
            self.time_range = metric_ranges[0]
        elif metric_ranges:
            self.time_range = combine_ranges(metric_ranges)
        if m.months:
            if self.time_range is not None and not self.time_range.parts and _covers_year(self.time_range):
                pass  # "in 2025 winter months": the year bounds the months
            elif self.time_range is not None and self.time_range.start and self.time_range.end:
                # "winter (December, January and February)", "summer (June, July and August)": the listed months
                # restate the season
                months = {mo for a, b in self.time_range.pieces() if a and b for mo in _months_between(a, b)}
                if months == set(m.months):
                    self.time_range = None
            self.filters.append(Filter(METRIC_TIME, "in", tuple(m.months), "month_of_year"))
            self.notes.append(Evidence(m.months_label, "time", m.months_label, 1.0, "named period"))
        if m.periods:
            self.periods = list(m.periods)
        if self.comparison and self.time_range is not None and self.time_range.parts:
            # "December, January and February 2013 vs previous period": separate pieces have no one span to shift
            self.problems.append(
                f"{self.time_range.describe()} is made of separate periods, which cannot be set against a "
                "previous period; compare two named periods instead (e.g. 'winter 2013 vs winter 2012')"
            )
        elif self.comparison and m.explicit_comparison and not d.growth:
            base = self.time_range or _default_comparison_range(self.comparison, m.grain, self.ctx.today)
            if base.start and base.end and m.grain:
                # "revenue by month last quarter vs previous period": each month beside its counterpart
                self.time_range = base
            elif base.start and base.end:
                # "revenue last quarter vs the previous quarter": one row per period
                other = _shifted(base, self.comparison)
                self.periods = [replace(base, label=base.describe()), other]
                self.time_range = None
                self.comparison = None
        elif self.comparison and self.time_range is None:
            self.time_range = _default_comparison_range(self.comparison, m.grain, self.ctx.today)
            self.notes.append(Evidence("", "time", self.time_range.describe(), 1.0, "default for comparison"))
        grain = m.grain
        if grain:
            defaults = {
                t for x in self.all_metrics() if (t := default_time_dimension(self.layer, x)) is not None
            }
            if not defaults and self.aggregates:
                defaults = {
                    t
                    for a in self.aggregates
                    if (
                        t := model_time_dimension(
                            self.layer, a.over or self.layer.dimension(a.dimension).model.name
                        )
                    )
                    is not None
                }
            finer = _finer_dimension(self.ctx, grain, defaults, self.all_metrics())
            named = self._grain_of_named_time()
            if named is not None:
                # "by month of signup date": the grain is that date's, not the metric's own
                self.dims = [r for r in self.dims if r.name != named]
                self._add_dim(DimensionRef(named, grain), grain, named)
            elif any(
                r.name != METRIC_TIME and r.grain == grain and self.layer.dimension(r.name).dimension.is_time
                for r in self.dims
            ):
                pass  # "by the month they were opened": the named date already carries the grain
            elif finer is not None:
                self._add_dim(finer, grain, finer.column)
            elif not any(r.name == METRIC_TIME for r in self.dims):
                self.dims.insert(0, DimensionRef(METRIC_TIME, grain))
            self._period_within_period()
        self._range_on_split_date()
        uses_time = self.time_range is not None or grain or self.comparison or self.periods or m.months
        for dim, tr in self.date_pieces:
            if uses_time or len(self.date_pieces) > 1:
                self.problems.append(
                    f"{tr.describe()} are separate periods of {dimension_label(self.layer, dim).lower()}"
                    f", which I cannot combine with another period in one question"
                )
                continue
            # the only period of the question, on another date than the metric's: the plan's period, on that date
            self.time_range, self.time_dimension = tr, dim
            if self._per_member():
                # "…, for each of those years": one row per period, on that date
                self._add_dim(
                    DimensionRef(
                        dim, tr.grain or self.layer.dimension(dim).dimension.time_granularity or "day"
                    ),
                    tr.describe(),
                    f"one row per {dim}",
                )
            self.notes.append(
                Evidence(tr.describe(), "time", f"{dim} in {tr.describe()}", 1.0, "time of another date")
            )
            return
        if uses_time and not self._has_time():
            self.problems.append(
                f"{', '.join(self.all_metrics()) or 'this'} cannot be placed in time: no date to count it on"
            )

    def _period_within_period(self) -> None:
        """ "which day in each month had the most flights", "for each month, which day had the worst delay": a
        ranked period of one grain within each period of a coarser one said with each / every / per: a row per
        finer period beside its coarser one, the ranking kept within each (see limit_per_group)."""
        hits = [h for h in self.d.time.hits if h.grain]
        if len({h.grain for h in hits}) != 2 or self.d.ranking is None:
            return
        if any(h.grain not in _GRAIN_ORDER for h in hits):
            return  # "the busiest day of the week": a day of the week is a kind of day, not a period
        grains = sorted({h.grain for h in hits}, key=_GRAIN_ORDER.index)
        fine, coarse = grains
        said_each = [h for h in hits if set(h.phrase.lower().split()) & {"each", "every", "per"}]
        if [h.grain for h in said_each] != [coarse]:
            return
        refs = [r for r in self.dims if r.name == METRIC_TIME]
        if [r.grain for r in refs] not in ([coarse], [fine]):
            return
        self.dims = [r for r in self.dims if r.name != METRIC_TIME]
        self.dims[:0] = [DimensionRef(METRIC_TIME, fine), DimensionRef(METRIC_TIME, coarse)]
        self.within_period = coarse

    def _range_on_split_date(self) -> None:
        """ "claims opened per month in 2019": the rows are split by a date of the figure's own table other than
        the one it is counted on; a period said without a date of its own is on the date the rows are split by
        (the claims opened in 2019), never on the other date."""
        if self.time_range is None or self.time_dimension is not None or self.periods or self.comparison:
            return
        metrics = self.all_metrics()
        own = {m for x in metrics for m in metric_models(self.layer, x)}
        defaults = {default_time_dimension(self.layer, x) for x in metrics}
        split = [
            r.name
            for r in self.dims
            if r.name != METRIC_TIME
            and r.grain
            and self.layer.dimension(r.name).dimension.is_time
            and self.layer.dimension(r.name).model.name in own
            and r.name not in defaults
        ]
        if len(split) == 1 and len(own) == 1 and not any(r.name == METRIC_TIME for r in self.dims):
            self.time_dimension = split[0]
            self.notes.append(
                Evidence(
                    self.time_range.describe(),
                    "time",
                    f"{split[0]} in {self.time_range.describe()}",
                    1.0,
                    "split date",
                )
            )

    def _grain_of_named_time(self) -> str | None:
        """The date a grain is asked of: "by month of signup date", "per week of the open date"."""
        d = self.d
        for p in self.picks:
            if p.kind != "dimension" or not self.layer.dimension(p.targets[0]).dimension.is_time:
                continue
            k = p.start - 1
            while k > 0 and d.lower(k) in ("of", "the"):
                k -= 1
            if k < p.start - 1 and d.lower(p.start - 1) != "the" and self._grain_word_at(k):
                # of the dates so named, one the figures can be split by: their own date first
                metrics = self.all_metrics()
                dates = [
                    t
                    for t in p.targets
                    if self.layer.dimension(t).dimension.is_time and reachable(self.ctx, t, metrics)
                ]
                own = {default_time_dimension(self.layer, m) for m in metrics}
                return next((t for t in dates if t in own), dates[0] if dates else p.targets[0])
        return None

    def _has_time(self) -> bool:
        if self.all_metrics():
            return all(default_time_dimension(self.layer, x) for x in self.all_metrics())
        for a in self.aggregates:
            if a.over is None:
                if self._rows_of(a, timed=True) is None:
                    return False
                continue
            if model_time_dimension(self.layer, a.over) is None:
                return False
        if not self.aggregates and self.list_entity:
            return model_time_dimension(self.layer, self._list_model()) is not None
        return True

    def inclusive_ranges(self) -> None:
        """ "between 1 January 2017 and 31 December 2018, inclusive": ranges read from two named ends already hold
        both, so the word changes nothing after one ("inclusive of tax" is another matter)."""
        d = self.d
        for k, w in enumerate(d.words):
            if w.lower not in ("inclusive", "inclusively") or d.used[k] or d.lower(k + 1) == "of":
                continue
            if any(d.used[j] and d.lower(j) in ("between", "from") for j in range(k)):
                self.place(k, k + 1)

    def _compared_on(self, hit: TimeHit) -> None:
        """ "premium effective in 2018 vs premium effective in 2019": compared periods said with a date's name
        are compared on that date, which must be the figures' own."""
        target = self._time_target(hit)
        if target is None or not self.all_metrics():
            return
        own = {default_time_dimension(self.layer, m) for m in self.all_metrics()}
        models = {x for m in self.all_metrics() for x in metric_models(self.layer, m)}
        if (
            own != {target}
            and models == {self.layer.dimension(target).model.name}
            and self.time_dimension
            in (
                None,
                target,
            )
        ):
            # "claims opened: January 2019 vs June 2019": another date of the figures' own rows; compared on it
            self.time_dimension = target
            self.notes.append(Evidence(hit.phrase, "time", f"periods compared on {target}", 1.0, "time"))
        elif own != {target}:
            shown = dimension_label(self.layer, target).lower()
            self.problems.append(
                f"'{hit.phrase}' names the {shown}, but periods are compared on the figures' own date; "
                "ask for one period at a time"
            )

    def _time_target(self, hit: TimeHit) -> str | None:
        """The dimension a time phrase is about when the words before it name one ("signed up in 2026",
        "built before 1990", "opened after 2020"); None for the metric's own time."""
        d = self.d
        first = next((i for i, w in enumerate(d.words) if w.end > hit.start), None)
        if first is None:
            return None
        k = first - 1
        while (
            k >= 0
            and d.lower(k) in _SKIP_BEFORE | {"in", "on", "or", "during", "before", "after", "since", "until"}
            and not any(p.start <= k < p.end for p in self.picks)
        ):
            k -= 1
        p = next((q for q in self.picks if q.start <= k < q.end), None)
        if p is None:
            dim = self._date_named_by(k) or self._date_of_things(k)
            if dim is not None:
                self.place(k, k + 1)  # "premium effective in 2017": the effective date
            return dim
        if p.kind == "phrasing" and p.start in self.bound_dims:
            bound = self.layer.dimension(self.bound_dims[p.start])
            if self._figure_dates() == {self.bound_dims[p.start]}:
                return None  # "orders placed last month": the figures' own date, said again
            if bound.dimension.is_time or _year_like(bound):
                return self.bound_dims[p.start]  # "signed up in 2026", "built before 1990"
            return None  # "left late in May": May is the flights' own time
        if p.kind == "dimension":
            dims = [
                t
                for t in p.targets
                if self.layer.dimension(t).dimension.is_time or _year_like(self.layer.dimension(t))
            ]
            if dims:
                self.place(p.start, p.end)
                self.roles[p.start] = "bound"
                return self._nearest_date(dims)
        return None

    def _nearest_date(self, dims: list[str]) -> str:
        """Of several dates one phrase names ("took effect": the effective date of policies, of premiums, of
        coverages), the one of the figures' own rows, else the one their rows reach by the fewest joins."""
        metrics = self.all_metrics()
        listed = None if metrics else self._listed_model()
        if len(dims) == 1 or not (metrics or listed):
            return dims[0]
        if listed is not None:
            # "which policies took effect in 2019": the policies' own date, not a party role's
            return min(dims, key=lambda t: _distance(self.ctx, t, [listed]))
        models = [m for metric in metrics for m in metric_models(self.layer, metric)]
        reached = [t for t in dims if reachable(self.ctx, t, metrics)] or dims
        nearest = min(_distance(self.ctx, t, models) for t in reached)
        return next(t for t in reached if _distance(self.ctx, t, models) == nearest)

    def _in_force(self, hit: TimeHit) -> bool:
        """ "policies in force on 2020-02-01": things with a start and an end date that span the day (start on or
        before it, end on or after it). True when the phrase was read so."""
        d = self.d
        tr = hit.time_range
        first = next((i for i, w in enumerate(d.words) if w.end > hit.start), None)
        if tr is None or first is None or tr.start is None or tr.end is None:
            return False
        one_day = tr.end == tr.start + dt.timedelta(days=1)
        k = first - 1
        # "in force on 2020-02-01", "in force at some point in 2017", "active at any time during 2019"
        while k >= 0 and d.lower(k) in (
            "on",
            "as",
            "of",
            "at",
            "some",
            "any",
            "point",
            "time",
            "during",
            "in",
        ):
            k -= 1
        said = next(
            (p for p in _IN_FORCE if [d.lower(j) for j in range(k - len(p) + 1, k + 1)] == list(p)), None
        )
        if said is None:
            return False
        spans = []
        for model in self.layer.models:
            dates = [x for x in model.dimensions if x.is_time]
            starts = [x for x in dates if set(x.name.lower().split("_")) & _STARTS]
            ends = [x for x in dates if set(x.name.lower().split("_")) & _ENDS]
            if len(starts) == 1 and len(ends) == 1 and self._names_model(model.name):
                spans.append(
                    (
                        self._named_before(model.name, k),
                        f"{model.prefix}__{starts[0].name}",
                        f"{model.prefix}__{ends[0].name}",
                    )
                )
        # "which coverage details were in force …? show the policy number": the things named before the words
        nearest = max((at for at, _, _ in spans), default=-1)
        spans = [x for x in spans if x[0] == nearest] if nearest >= 0 else spans
        if len(spans) != 1:
            return False
        _, begin, end = spans[0]
        if one_day:
            self.filters += [Filter(begin, "<=", (tr.start,)), Filter(end, ">=", (tr.start,))]
            target = f"{begin} <= {tr.start} <= {end}"
        else:
            # in force at some point of a period: it began before the period ended and ended after it began
            self.filters += [Filter(begin, "<", (tr.end,)), Filter(end, ">=", (tr.start,))]
            target = f"{begin} < {tr.end} and {end} >= {tr.start}"
        self.place(k - len(said) + 1, k + 1)
        self.place(k + 1, first)
        self.notes.append(Evidence(" ".join(said), "filter", target, 0.9, "in force in a period"))
        return True

    def _named_before(self, model: str, k: int) -> int:
        """Where the last name of the model's things before word k starts, or -1."""
        return max(
            (
                p.start
                for p in self.picks
                if p.kind == "entity"
                and p.start < k
                and any((m := self.layer.entity_model(t)) is not None and m.name == model for t in p.targets)
            ),
            default=-1,
        )

    def _names_model(self, model: str) -> bool:
        """True when the question names the model's things (an entity of it) or computes over it."""
        named = {
            m.name
            for p in self.picks
            if p.kind == "entity"
            for t in p.targets
            if (m := self.layer.entity_model(t)) is not None
        }
        return model in named or model in self.models()

    def _date_of_things(self, k: int) -> str | None:
        """ "refunds on orders placed in December 2025": a light verb between a name of other things and a time
        dates those things (the orders' date), when the figure is counted on another date."""
        if k < 1 or self.d.lower(k) not in self.ctx.lexicon.light_verbs:
            return None
        thing = self.d.pick_at(k - 1)
        if thing is None or thing.end != k or thing.kind not in ("metric", "entity"):
            return None
        if thing.kind == "metric":
            date = default_time_dimension(self.layer, thing.targets[0])
        else:
            model = self.layer.entity_model(thing.targets[0])
            date = model_time_dimension(self.layer, model.name) if model is not None else None
        if date is None or date in self._figure_dates() or not reachable(self.ctx, date, self.all_metrics()):
            return None
        return date

    def _figure_dates(self) -> set[str | None]:
        """The dates the question's figures are counted on."""
        return {default_time_dimension(self.layer, m) for m in self.all_metrics()}

    def _date_named_by(self, k: int) -> str | None:
        """The date whose name starts with the free word k ("effective" → effective date), on a table of the
        question's figures when several are so named; None when none or no single one."""
        if k < 0 or self.d.used[k] or self.d.lower(k) in self.ctx.lexicon.words:
            return None
        word = self.d.words[k].norm
        fixed = None if word in self.ctx.vocabulary.words else self.ctx.vocabulary.correct(self.d.lower(k))
        if fixed is not None and " " not in fixed.becomes and fixed.score >= 0.9:
            word = fixed.becomes  # "premium effecive in 2018": the effective date, misspelt
        dates = list(
            dict.fromkeys(
                t.target
                for t in self.ctx.vocabulary.containing([word], "dimension", extra=1)
                if t.phrase.split()[:1] == [word]
                and self.layer.has_dimension(t.target)
                and self.layer.dimension(t.target).dimension.is_time
            )
        )
        own = {m for metric in self.all_metrics() for m in metric_models(self.layer, metric)}
        if not own and (listed := self._listed_model()) is not None:
            # "policies effective on or after 1 March 2019": the rows named first, their own date (which may
            # say their name first: "policy effective date")
            own = {listed}
            dates += [
                t.target
                for t in self.ctx.vocabulary.containing([word], "dimension", extra=2)
                if t.phrase.split()[1:2] == [word]
                and self.layer.has_dimension(t.target)
                and self.layer.dimension(t.target).dimension.is_time
                and self.layer.dimension(t.target).model.name == listed
            ]
        dates = list(dict.fromkeys(dates))
        mine = [t for t in dates if self.layer.dimension(t).model.name in own]
        chosen = mine or [t for t in dates if reachable(self.ctx, t, self.all_metrics())]
        if len(chosen) != 1:
            return None
        if word != self.d.words[k].norm:
            self.notes.append(Evidence(self.d.words[k].raw, "word", word, 0.9, "corrected"))
        return chosen[0]

    def _time_filter(self, dim: str, tr: TimeRange) -> None:
        qd = self.layer.dimension(dim)
        if tr.parts:
            self._pieces_filter(dim, tr)
            return
        if qd.dimension.is_time:
            pieces = []
            if tr.start:
                pieces.append(Filter(dim, ">=", (tr.start,)))
            if tr.end:
                pieces.append(Filter(dim, "<", (tr.end,)))
            self.filters += pieces
        else:
            if tr.start and tr.start.month == 1 and tr.start.day == 1:
                self.filters.append(Filter(dim, ">=", (tr.start.year,)))
            if tr.end:
                last = tr.end.year if (tr.end.month, tr.end.day) == (1, 1) else tr.end.year + 1
                self.filters.append(Filter(dim, "<", (last,)))
        self.notes.append(
            Evidence(tr.describe(), "filter", f"{dim} in {tr.describe()}", 1.0, "time of another date")
        )

    def _pieces_filter(self, dim: str, tr: TimeRange) -> None:
        """Separate periods of a named date ("signed up in January or March", "built in 1999, 2000 or 2016"):
        whole years of a column of years are a list of values; pieces of a date become the plan's period on
        that date (`time`), never the span from the first piece to the last."""
        qd = self.layer.dimension(dim)
        whole_years = all((a.month, a.day, b.month, b.day) == (1, 1, 1, 1) for a, b in tr.parts)
        if not qd.dimension.is_time and whole_years:
            years = tuple(y for a, b in tr.parts for y in range(a.year, b.year))
            self.filters.append(Filter(dim, "in" if len(years) > 1 else "=", years))
            self.notes.append(
                Evidence(tr.describe(), "filter", f"{dim} in {years}", 1.0, "time of another date")
            )
        elif qd.dimension.is_time:
            self.date_pieces.append((dim, tr))
        else:
            self.problems.append(
                f"{tr.describe()} names several periods of {dimension_label(self.layer, dim).lower()}"
                f", which holds no dates I can split that way"
            )

    def when_columns(self) -> None:
        """ "the Oregon stores with their city and when they opened": in a list, 'when' before a verb the model
        ties to a date (opened → opening date) asks for that date as a column."""
        d = self.d
        if self.metrics or self.aggregates or self.adhoc or d.aggs:
            return
        listing = self.list_question()
        for p in self.picks:
            if p.kind != "phrasing":
                continue
            ph = self.phrasing(p)
            if ph.dimension is None or ph.op or ph.values or not self.layer.has_dimension(ph.dimension):
                continue
            if not self.layer.dimension(ph.dimension).dimension.is_time:
                continue
            k = p.start - 1
            if d.lower(k) in ("they", "it", "each", "these", "those", "we", "was", "were"):
                k -= 1
            if d.lower(k) != "when" or any(h.start >= d.words[p.end - 1].end for h in d.time.hits):
                continue
            if not listing and d.lower(k - 1) != "and":
                continue  # "California stores and when they opened": the rows with one more column
            ref = DimensionRef(ph.dimension, "day")
            if ref not in self.dims:
                self.dims.append(ref)
            self.place(k, p.end)
            self.notes.append(Evidence(d.text(k, p.end), "dimension", ph.dimension, 0.9, "when"))

    def restated_definition(self) -> None:
        """ "Total loss amount (payments plus reserves) on claim 12312701": words in brackets right after a
        figure made of other figures, each a word of those figures' names, restate its definition; they add
        nothing (other words there are still left to the checks)."""
        d = self.d
        joiners = {"plus", "and", "minus", "less", "over", "divided", "by", "times", "+", "-", "/", "*"}
        for p in self.picks:
            if p.kind != "metric" or p.targets[0] not in self.metrics or p.end not in self.in_parens:
                continue
            inputs = [i.name for i in self.layer.metric(p.targets[0]).metrics]
            said = {
                w
                for name in inputs
                for text in (name, self.layer.metric(name).label or "")
                for w in normalize(text).split()
            }
            run = []
            k = p.end
            while k in self.in_parens:
                run.append(k)
                k += 1
            content = [i for i in run if not d.used[i] and i not in self.placed and d.lower(i) not in joiners]
            if inputs and content and all(d.norm(i) in said for i in content):
                self.place(run[0], run[-1] + 1)
                self.notes.append(
                    Evidence(d.text(run[0], run[-1] + 1), "other", "its definition", 1.0, "restated")
                )

    def listed_by_name(self) -> None:
        """ "List every catastrophe on file by name": rows of one thing listed 'by name' are in the order of
        the column that names them (shown already), not split by some other name column."""
        d = self.d
        entity = self.list_entity
        label = label_dimension(self.ctx, entity) if entity else None
        if label is None or self.order or self.metrics or self.aggregates:
            return
        for i in range(1, len(d.words)):
            k = i + (d.lower(i) in ("their", "its", "the"))
            if d.lower(i - 1) != "by" or d.lower(k) != "name" or d.used[k] or d.pick_at(k) is not None:
                continue
            if not any(r.name == label for r in self.dims):
                self.dims.append(DimensionRef(label))
            self.order.append(OrderBy(label))
            self.place(i - 1, k + 1)
            self.notes.append(Evidence(d.text(i - 1, k + 1), "dimension", label, 1.0, "in name order"))
            return

    def counted_both_ways(self) -> None:
        """ "How many fire claims have a fireplace and how many don't?": a count asked for the rows that hold a
        yes-or-no column and again for those that do not is the count split by that column."""
        d = self.d
        n = len(d.words)
        at = next(
            (
                i
                for i in range(1, n - 2)
                if d.lower(i) == "and"
                and d.lower(i + 1) == "how"
                and d.lower(i + 2) == "many"
                and not d.used[i + 2]
            ),
            None,
        )
        if at is None:
            return
        if tuple(d.lower(k) for k in range(at + 3, n)) not in _NEGATED_TAILS:
            return
        yes_no = [
            f
            for f in self.filters
            if f.op == "="
            and len(f.values) == 1
            and isinstance(f.values[0], bool)
            and f.dimension != METRIC_TIME
        ]
        if len(yes_no) != 1 or len(self.metrics) + len(self.aggregates) != 1:
            return
        self.filters.remove(yes_no[0])
        self.dims.append(DimensionRef(yes_no[0].dimension))
        self.place(at, n)
        self.notes.append(Evidence(d.text(at, n), "dimension", yes_no[0].dimension, 1.0, "both ways"))

    def when_verbs(self) -> None:
        """ "Occurrence 1: when did it begin and end?": with no figure, 'when did it' before verbs that name date
        columns of the thing asked about (begin → its begin date and time) asks for those columns."""
        d = self.d
        if self.metrics or self.aggregates or self.adhoc or d.aggs:
            return
        w = next((i for i in range(len(d.words)) if d.lower(i) == "when" and not d.used[i]), None)
        if w is None or d.lower(w + 1) not in ("did", "does", "do", "was", "were", "is"):
            return
        k = w + 2 + (d.lower(w + 2) in ("it", "they", "this", "that"))
        models = {
            self.layer.dimension(f.dimension).model.name
            for f in self.filters
            if self.layer.has_dimension(f.dimension)
        }
        found: list[str] = []
        verbs: list[int] = []
        for i in range(k, len(d.words)):
            word = d.lower(i)
            if word in ("and", "or") or d.used[i]:
                continue
            stem = word[:-2] if word.endswith("ed") else word
            dates = [
                f"{m.prefix}__{x.name}"
                for m in self.layer.models
                if m.name in models
                for x in m.dimensions
                if x.is_time and stem in x.name.split("_")
            ]
            if not dates:
                return
            found += [x for x in dates if x not in found]
            verbs.append(i)
        if not verbs:
            return
        self.dims += [DimensionRef(x, "day") for x in found if DimensionRef(x, "day") not in self.dims]
        self.place(w, k)
        for i in verbs:
            self.place(i, i + 1)
        self.notes.append(Evidence(d.text(w, verbs[-1] + 1), "dimension", ", ".join(found), 0.9, "when"))

    def groups_and_lists(self) -> None:  # noqa: C901 - lists and groupings share the checks on what the question names
        """With no metric, the question lists rows (of an entity, or of the columns named); else entities asked
        for by a group cue become key + label dimensions."""
        computed = bool(self.metrics or self.adhoc or self.aggregates)
        if not computed and self.conditions:
            # "which products had revenue above $700,000": show the metric the members were tested on
            self.metrics = list(dict.fromkeys(c.metric for c in self.conditions))
            for p in self.picks:
                if p.kind == "entity" and self.roles.get(p.start) in ("entity", "group"):
                    if p.targets[0] not in self.group_entities:
                        self.group_entities.append(p.targets[0])
                    self.roles[p.start] = "group"
            computed = True
        if not computed:
            for i, w in enumerate(self.d.words):
                # "what each line sold for" asks for a price, which a list verb would silently drop
                priced = self.d.lower(i + 1) == "for" and "what" in {self.d.lower(k) for k in range(i - 4, i)}
                if w.lower in self.ctx.lexicon.relation_verbs and not priced:
                    self.place(i, i + 1)
            entities = [
                p for p in self.picks if p.kind == "entity" and self.roles.get(p.start) in ("entity", "group")
            ]
            if not entities and self.over and self.dims:
                self.entity = self.over  # "list the fire claim records with …": rows of that table
            if entities:
                entity = entities[0].targets[0]
                self.list_entity = entity
                self.entity = self._list_model()
                if self.over and self.over != self.entity:
                    # "the planes Hawaiian Airlines flew": the rows are the verb's (flights), read for planes
                    self.entity = self.over
                if not self._explicit_columns():
                    base = display_dimensions(self.ctx, entity)
                else:
                    base = entity_dimensions(self.ctx, entity)  # the named columns, with what they belong to
                named = []
                for q in self.picks:
                    # "…, with carrier, origin and destination": other entities named are their keys
                    if (
                        q.kind == "entity"
                        and q.targets[0] != entity
                        and self.roles.get(q.start) in ("entity", "group")
                    ):
                        if len(self.layer.entity_keys(q.targets[0])) == 1:
                            named += entity_dimensions(self.ctx, q.targets[0])
                            self.roles[q.start] = "column"
                own_keys = self.layer.entity_keys(entity)
                if len(own_keys) == 1:
                    # "which planes …? show tail number": flights' tailnum holds the plane's key; list the key
                    self.dims = [
                        DimensionRef(own_keys[0])
                        if r.name != METRIC_TIME and self._holds_key(r.name, entity)
                        else r
                        for r in self.dims
                    ]
                self.dims = base + [r for r in dict.fromkeys(self.dims + named) if r not in base]
                self.entity = self._list_rows_of(self.entity)
                # "products with a list price of no more than $10": the value each row was tested on is shown
                tested = [
                    f.dimension
                    for f in self.filters
                    if f.op in ("<", "<=", ">", ">=", "between")
                    and f.since is None
                    and f.dimension != METRIC_TIME
                    and not self.layer.dimension(f.dimension).dimension.is_time
                    and (self.entity is None or reaches(self.ctx, self.entity, f.dimension))
                ]
                self.dims += [
                    DimensionRef(t) for t in dict.fromkeys(tested) if all(r.name != t for r in self.dims)
                ]
                if any(r.name == METRIC_TIME for r in self.dims) and self._asks_which_date():
                    # "which planes were built before 1965, and in what year?": the date shown already says it
                    self.dims = [r for r in self.dims if r.name != METRIC_TIME]
                ranked = self.d.ranking is not None and self._ranked_doers(self.d.ranking)
                if any(r.name == METRIC_TIME for r in self.dims) and not self.context_metrics and not ranked:
                    # "products by month": rows are listed one by one; a month splits a number, not a list
                    self.problems.append(
                        f"'{entities[0].phrase}' are listed one by one; a split by time needs a "
                        f"number, e.g. 'number of {entities[0].phrase} …' or a metric"
                    )
                    self.rewrites += [
                        f"{self._metric_words(m)} {self.d.question.strip()}"
                        for m in self._metrics_reaching([r for r in self.dims if r.name != METRIC_TIME])[:3]
                    ]
            else:
                for entity in self.group_entities:
                    self.dims += [r for r in entity_dimensions(self.ctx, entity) if r not in self.dims]
                split = [
                    p
                    for p in self.picks
                    if self.roles.get(p.start) == "group" and p.kind in ("dimension", "concept")
                ]
                only_time = (
                    bool(self.dims)
                    and all(r.name == METRIC_TIME for r in self.dims)
                    and not self.context_metrics
                )
                if only_time and not split and not self._ranking_figure():
                    self.problems.append(
                        "the question asks for a split by time, but names no number to split"
                    )
                    self.rewrites += [
                        f"{self._metric_words(m)} {self.d.question.strip()}"
                        for m in self.layer.metric_names()[:3]
                    ]
                elif (
                    split
                    and not self.context_metrics
                    and all(self.d.lower(p.start - 1) in ("by", "per") for p in split)
                ):
                    # "by region in 2025": a split asked for, of nothing
                    self.problems.append(
                        f"'{self.d.text(split[0].start - 1, split[0].end)}' splits a number, "
                        "but the question names none"
                    )
                    self.rewrites += [
                        f"{self._metric_words(m)} {self.d.question.strip()}"
                        for m in self._metrics_reaching(self.dims)[:3]
                    ]
            return
        self._keys_of_named_members()
        for entity in self.group_entities:
            for ref in entity_dimensions(self.ctx, entity):
                if ref not in self.dims:
                    self.dims.append(ref)
            # rows without a member (no plane, no customer) are not one of them: "top 5 planes" skips them
            for key in self.layer.entity_keys(entity):
                if Filter(key, "not_null") not in self.filters:
                    self.filters.append(Filter(key, "not_null"))

    def _keys_of_named_members(self) -> None:
        """Members named by their label, one row each ("JetBlue vs Southwest"): the rows are the members (by
        key, shown with the label), so two members who share a name are never added together."""
        named = {f.dimension for f in self.filters if f.op in ("=", "in")}
        for ref in list(self.dims):
            if ref.name not in named:
                continue
            for entity in self.layer.entities():
                keys = self.layer.entity_keys(entity)
                if len(keys) == 1 and label_dimension(self.ctx, entity) == ref.name:
                    if all(r.name != keys[0] for r in self.dims) and reaches(
                        self.ctx, self._metric_model(), keys[0]
                    ):
                        self.dims.insert(self.dims.index(ref), DimensionRef(keys[0]))
                    break

    def _metric_model(self) -> str:
        """The table of the question's first figure ("" when none)."""
        for metric in self.all_metrics():
            models = metric_models(self.layer, metric)
            if models:
                return models[0]
        return ""

    def _list_rows_of(self, model: str | None) -> str | None:
        """The table whose rows a list walks: the listed entity's own, unless a column named is on the many side of
        it ("which catastrophe was each claim? show claim number and catastrophe name" lists claims, each with
        its catastrophe); then the first named column's table that reaches every column."""
        names = [r.name for r in self.dims if r.name != METRIC_TIME]
        if model is None or all(reaches(self.ctx, model, n) for n in names):
            return model
        for n in names:
            other = self.layer.dimension(n).model.name
            if all(reaches(self.ctx, other, m) for m in names) and not any(
                self.ctx.graph.ambiguous(other, self.layer.dimension(m).model.name) for m in names
            ):
                return other
        return model

    def to_date_totals(self) -> None:
        """ "year to date revenue by month": by a grain, 'to date' asks for the running total that restarts each
        year (the model's cumulative metric of that measure), not for the months' own figures. "A running total
        by month" within one year is the same; a running total the model cannot give is refused, never dropped."""
        d = self.d
        phrases = " ".join(d.time.phrases).lower().replace("-", " ")
        running = [
            i
            for i, w in enumerate(d.words)
            if w.lower == "running"
            and d.lower(i + 1) in ("total", "count", "sum", "tally", "year", "quarter")
        ]
        to_date = next((g for g, words in _TO_DATE.items() if any(w in phrases for w in words)), None)
        span = self.time_range
        if to_date is None and running and span and span.start and span.end:
            within = span.start.year == (span.end - dt.timedelta(days=1)).year
            to_date = "year" if within else None
        found = self._running_metric(to_date) if to_date else None
        if found is None:
            if running:
                self.problems.append(
                    f"'{d.text(running[0], running[0] + 2)}' asks for a total to date that I cannot work out here: "
                    "the model declares none for this figure and grain, or the period spans more than one year"
                )
            return
        self.metrics = [found]
        grain = next((r.grain for r in self.dims if r.name == METRIC_TIME and r.grain), "")
        self.notes.append(Evidence(f"{to_date} to date", "metric", found, 1.0, "running total by " + grain))
        for i in running:
            self.place(i, i + 1 + (d.lower(i + 1) in ("total", "count", "sum", "tally")))

    def _running_metric(self, to_date: str) -> str | None:
        """The model's one cumulative metric of the asked metric's measure that restarts each `to_date` period,
        when the question asks for one figure by a grain."""
        grain = next((r.grain for r in self.dims if r.name == METRIC_TIME and r.grain), None)
        if grain is None or len(self.metrics) != 1 or self.adhoc or self.aggregates:
            return None
        metric = self.layer.metric(self.metrics[0])
        if metric.type != "simple" or not metric.measure or metric.filter:
            return None
        running = [
            m.name
            for m in self.layer.metrics
            if m.type == "cumulative"
            and m.measure == metric.measure
            and m.grain_to_date == to_date
            and not m.filter
        ]
        return running[0] if len(running) == 1 else None

    def summed_columns(self) -> None:
        """ "qty by brand": a numeric column asked for per group with no aggregate word means the metric that
        totals that column; with no such metric the question must say how to aggregate (a list is never it)."""
        if self.metrics or self.adhoc or self.aggregates or self.conditions or self.list_entity:
            return
        named = [
            p
            for p in self.picks
            if p.kind in ("dimension", "entity") and self.roles.get(p.start) in ("group", "entity")
        ]
        if len(named) < 2:
            return
        head, rest = named[0], named[1:]
        if head.kind == "entity":
            self._counted_entity(head, rest)
            return
        target = next((t for t in head.targets if self.layer.has_dimension(t)), None)
        if (
            target is None
            or not is_numeric(self.ctx, target)
            or self.group_position(head)
            or not all(self.group_position(p) for p in rest)
        ):
            return
        qd = self.layer.dimension(target)
        words = {w.lower for w in self.d.words}
        if words & {"list", "all", "every", "each", "enumerate"}:
            return  # 'list …' / 'for each …' asks for the rows
        # "distance per flight by origin": each row of the column's model is one flight, so the figure per
        # flight is the column's average
        own = next(
            (
                q
                for q in rest
                if q.kind == "entity"
                and q.start == head.end + 1
                and self.d.lower(head.end) == "per"
                and self.layer.entity_model(q.targets[0]) is qd.model
            ),
            None,
        )
        totals = self._metrics_of_column(target, "avg" if own is not None else "sum")
        if not qd.dimension.unit and len(totals) != 1:
            return  # ids and codes hold numbers too: only a column with a unit, or one a metric sums, is an amount
        if own is not None and len(totals) == 1:
            self.roles[own.start] = "per"
            self.group_entities = [e for e in self.group_entities if e != own.targets[0]]
            self.place(own.start - 1, own.end)
        if len(totals) != 1:
            self.problems.append(
                f"'{head.phrase}' is a column of numbers: say how to combine it per group, "
                f"e.g. 'total {head.phrase}' or 'average {head.phrase}'"
            )
            self.rewrites += [
                self.d.replaced(head.start, head.end, f"{how} {head.phrase}") for how in ("total", "average")
            ]
            return
        self._column_as_metric(head, target, totals[0])

    def _column_as_metric(self, p: Pick, column: str, metric: str) -> None:
        """The words of a column read as the one metric that aggregates it: the column leaves the answer's
        columns and the reading is named as a guess."""
        self.dims = [r for r in self.dims if r.name != column]
        self.metrics.append(metric)
        self.roles[p.start] = "metric"
        self.low.append(Evidence(p.phrase, "metric", metric, 0.8, "total of the column"))
        self.notes.append(Evidence(p.phrase, "metric", metric, 0.8, "total of the column"))

    def _metrics_of_column(self, dimension: str, agg: str) -> list[str]:
        """The unfiltered simple metrics that aggregate exactly this column of their own model this way."""
        qd = self.layer.dimension(dimension)
        column = qd.dimension.expr or qd.dimension.name
        return [
            m.name
            for m in self.layer.metrics
            if m.type == "simple"
            and m.measure
            and not m.filter
            and self.layer.measure(m.measure)[0].name == qd.model.name
            and self.layer.measure(m.measure)[1].agg == agg
            and (self.layer.measure(m.measure)[1].expr or m.measure) == column
        ]

    def _counted_entity(self, head: Pick, rest: list[Pick]) -> None:
        """ "planes by manufacturer": members of an entity split by something count them (a list would not be
        split); "list planes by manufacturer" still lists."""
        words = {w.lower for w in self.d.words}
        if (
            words & {"list", "all", "every", "show", "display", "which", "what"}
            or head.start in self.in_parens
            or self.d.ranking is not None
            or any(p.alt("metric") for p in rest)
        ):
            return
        if (self.d.lower(head.start - 1),) in self.ctx.lexicon.group_cues or not all(
            self.group_position(p) and self.d.lower(p.start - 1) in ("by", "per") for p in rest
        ):
            return
        entity = head.targets[0]
        keys = self.layer.entity_keys(entity)
        if len(keys) != 1:
            return
        self.aggregates.append(
            Aggregate(
                f"{entity}_count",
                "count_distinct",
                keys[0],
                self.over,
                None,
                f"Number of {_plural(self._said(head))}",
            )
        )
        self.roles[head.start] = "counted"
        self.place(head.start, head.end)
        self.notes.append(Evidence(head.phrase, "metric", f"count distinct {entity}", 0.9, "members counted"))

    def _column_metric(self, column: str, word: str = "", direction: str = "high") -> str | None:
        """ "which airline had the worst arrival delay": a column of other rows (flights) ranks the members listed
        through the one metric the model computes from that column; with none, or several, the question must say
        which figure ranks. "Which carrier had the longest delay": an extreme of one row is the column's maximum
        (minimum) per member."""
        qd = self.layer.dimension(column)
        expr = qd.dimension.expr or qd.dimension.name
        if word in _EXTREME_WORDS and is_numeric(self.ctx, column):
            function = "max" if direction in ("high", "best") else "min"
            name = f"{function}_{column.split('__')[-1]}"
            label = (
                f"{'Maximum' if function == 'max' else 'Minimum'} {(qd.dimension.label or column).lower()}"
            )
            self._unlist(column)
            self.aggregates.append(Aggregate(name, function, column, None, None, label))
            self.notes.append(Evidence(word, "metric", f"{function} of {column}", 1.0, "extreme of one row"))
            self._list_to_group()
            return name
        found = []
        for m in self.layer.metrics:
            if m.type == "simple" and m.measure and not m.filter:
                owner, measure = self.layer.measure(m.measure)
                if (
                    owner.name == qd.model.name
                    and measure.expr == expr
                    and not measure.filter
                    and measure.agg in ("avg", "sum", "median")
                ):
                    found.append(m.name)
        self._unlist(column)
        if len(found) != 1:
            shown = qd.dimension.label or column
            self.problems.append(
                f"'{shown}' belongs to each of many rows per member: say which figure ranks them, "
                f"e.g. the average or the total"
            )
            pick = next((p for p in self.picks if column in p.targets), None)
            if pick is not None:
                self.rewrites += [
                    self.d.replaced(pick.start, pick.end, f"{how} {pick.phrase}")
                    for how in ("average", "median", "total")
                ]
            return None
        self.metrics.append(found[0])
        self.notes.append(
            Evidence(qd.dimension.label or column, "metric", found[0], 0.9, "ranked by the column's metric")
        )
        self._list_to_group()
        return found[0]

    def _unlist(self, column: str) -> None:
        """A column that ranks the members is computed per member, not listed (nor required on each row)."""
        self.dims = [r for r in self.dims if r.name != column]
        self.filters = [f for f in self.filters if not (f.dimension == column and f.op == "not_null")]

    def _ranked_condition(self, r: Ranking) -> tuple[str, str] | None:
        """ "the 10 most delayed flights", "which 5 flights were delayed the most", "left the furthest behind
        schedule": a ranking word next to a condition of the model on a number's sign (delayed = departure delay
        > 0; early = arrival delay < 0) ranks the listed rows by that number, the way the condition points."""
        d = self.d
        for p in self.picks:
            if p.kind != "phrasing":
                continue
            after = p.start == r.end
            before = p.end <= r.start and all(d.lower(k) in ("the",) for k in range(p.end, r.start))
            if not (after or before):
                continue
            if after and d.words[p.end - 1].lower != d.words[p.end - 1].norm:
                continue  # "the most early arrivals": a plural names the rows counted, not a number to rank by
            ph = self.phrasing(p)
            if ph.dimension is None or tuple(ph.values) != (0,) or ph.op not in (">", ">=", "<", "<="):
                continue
            if not is_numeric(self.ctx, ph.dimension):
                continue
            up = ph.op in (">", ">=")
            direction = r.direction if up else ("low" if r.direction == "high" else "high")
            self.notes.append(Evidence(f"{r.word} {p.phrase}", "order", ph.dimension, 0.9, "phrasing"))
            return ph.dimension, direction
        return None

    def _counted_condition(self, r: Ranking) -> str | None:
        """ "the most early arrivals", "the fewest late departures": most/fewest right before a condition of the
        model written as a plural noun counts the rows the condition keeps (the condition stays a filter)."""
        d = self.d
        if r.word not in ("most", "least", "fewest") or r.limit is not None:
            return None
        for p in self.picks:
            if (
                p.kind != "phrasing"
                or p.start != r.end
                or d.words[p.end - 1].lower == d.words[p.end - 1].norm
            ):
                continue
            ph = self.phrasing(p)
            if ph.dimension is None or not ph.op:
                continue
            counts = self._row_counts(self.layer.dimension(ph.dimension).model.name)
            return counts[0] if counts else None
        return None

    def _each_refers_back(self, p: Pick) -> bool:
        """ "for the stores that opened in 2022, what's each one's revenue?": a later 'each' ('each one', 'each
        of them') that names nothing after it points back at the things named before it, so they group; the
        'each' words are placed. Only when no other thing is named between them and a figure is asked."""
        d = self.d
        for i in range(p.end, len(d.words)):
            if any(q.start == i and q.kind in ("entity", "model") for q in self.picks):
                return False
            if d.lower(i) != "each" or d.used[i] or any(q.start == i + 1 for q in self.picks):
                continue
            end = i + 1 + (d.lower(i + 1) == "one") + 2 * ([d.lower(i + 1), d.lower(i + 2)] == ["of", "them"])
            if not any(q.kind == "metric" for q in self.picks):
                return False
            self.place(i, end)
            return True
        return False

    def _list_to_group(self) -> None:
        """The entity that was to be listed becomes the grouping of a metric found later (ranking)."""
        entity = present(self.list_entity, "the entity being listed")
        self.group_entities.append(entity)
        # "which region do our biggest customers live in?": the columns the question named stay beside them
        named = {
            p.targets[0] for p in self.picks if p.kind == "dimension" and self.roles.get(p.start) == "group"
        }
        # "…: carrier, flight number, origin, destination": other things named as columns stay too
        named |= {
            r.name
            for p in self.picks
            if p.kind == "entity" and self.roles.get(p.start) == "column"
            for r in entity_dimensions(self.ctx, p.targets[0])
        }
        # "the busiest destination from each of JFK, LGA and EWR": the members asked for one row each stay
        named |= {f.dimension for f in self.filters if f.op == "in"}
        # "top 2 airlines flying to Charlotte in each quarter": a grain asked for stays too
        kept = [r for r in self.dims if r.name in named or r.name == METRIC_TIME]
        self.dims = entity_dimensions(self.ctx, entity)
        self.dims += [r for r in kept if r not in self.dims]
        for key in self.layer.entity_keys(entity):
            if Filter(key, "not_null") not in self.filters:
                self.filters.append(Filter(key, "not_null"))
        self.list_entity = None
        self.entity = None

    def _row_counts(self, model: str, declared: bool = False) -> list[str]:
        """The metrics that count a model's rows with no condition: declared ones first, then `<model>_rows`
        (left out when only `declared` ones are asked for)."""
        out = []
        for m in self.layer.metrics:
            if m.type == "simple" and m.measure and not m.filter:
                owner, measure = self.layer.measure(m.measure)
                if (
                    owner.name == model
                    and measure.agg == "count"
                    and measure.expr in (None, "1", "*")
                    and not measure.filter
                ):
                    out.append(m.name)
        if not declared and self.layer.has_metric(f"{model}_rows"):
            out.append(f"{model}_rows")
        return out

    def _metric_words(self, metric: str) -> str:
        m = self.layer.metric(metric)
        label = m.label or metric.replace("_", " ")
        return label if label[1:2].isupper() else label[:1].lower() + label[1:]

    def _metrics_reaching(self, dims: Sequence[DimensionRef]) -> list[str]:
        """The declared metrics that can be split by every dimension given (for choices)."""
        return [
            m
            for m in self.layer.metric_names()
            if all(
                reaches(self.ctx, model, r.name)
                for model in metric_models(self.layer, m)
                for r in dims
                if r.name != METRIC_TIME
            )
        ]

    def _explicit_columns(self) -> bool:
        """True when the question names columns to list (a number the rows are ranked by is not one: "the 3
        longest flights out of Newark by time in the air" still shows each flight's usual columns)."""
        r = self.d.ranking
        return any(
            self.roles.get(p.start) == "group"
            and p.kind == "dimension"
            and not (
                r is not None
                and r.end <= p.start
                and self.d.lower(p.start - 1) == "by"
                and is_numeric(self.ctx, p.targets[0])
            )
            for p in self.picks
        )

    def _prefix(self, entity: str) -> str:
        model = self.layer.entity_model(entity)
        return model.prefix if model else entity

    def _list_model(self) -> str:
        model = self.layer.entity_model(self.list_entity or "")
        return model.name if model else ""

    def ranking(self) -> None:  # noqa: C901 - one branch per ranking construct: limit, direction, target
        d = self.d
        r = d.ranking
        outputs = self.metrics + [a.name for a in self.adhoc] + [a.name for a in self.aggregates]
        if d.growth and outputs and (r is not None or self.growth_metric):
            key = f"{outputs[0]}__change_pct"
            descending = r is None or r.direction != "low"
            if r is not None:
                self.place(r.start, r.end)
            self.order = [OrderBy(key, descending)]
            self.limit = (r.limit if r is not None else None) or self._limit_from_words() or 1
            return
        if r is not None and self._asks_which_period(r):
            self.place(
                r.start, r.end
            )  # "was the cancellation rate worse in spring or in the fall?": both rows
            return
        if r is None:
            return
        self.place(r.start, r.end)
        following = not outputs and bool(self.context_metrics)
        if following:
            outputs = list(
                self.context_metrics
            )  # "top 5 instead": the previous question's first metric ranks
        if not outputs and (summed := self._ranked_total(r)) is not None:
            outputs = [summed]
        target = self._order_target(outputs)
        if target is None and not outputs and self.list_entity is None and not self.dims:
            target = self._ranked_members(r)
            if target is None:
                return
        direction = r.direction
        if direction in ("best", "worst"):
            lower_better = any(w in (target or "") for w in self.ctx.lexicon.lower_is_better)
            direction = "high" if (direction == "best") != lower_better else "low"
        if target is None:
            metric = self._ranking_figure()
            if metric is not None:
                # "the busiest route": busy is a number of the model (flights)
                self.metrics.append(metric)
                target = metric
                self.notes.append(Evidence(r.word, "metric", metric, 0.9, "phrasing"))
                if self.list_entity is not None:
                    self._list_to_group()
        column = self._ranked_column(r.word)
        if column is not None and (
            target == column or any(a.name == target and a.dimension == column for a in self.aggregates)
        ):
            column = None  # "the most expensive category by average list price": the figure is of that column
        if column is not None and target is not None:
            # "revenue of the most expensive product": ranked by list price, then its revenue; not revenue's top
            self.problems.append(
                f"'{r.word}' ranks by {dimension_label(self.layer, column).lower()}, not by the figure asked; "
                "ask for the ranked rows first"
            )
            return
        if target is None and column is not None:
            target = column
            self.notes.append(Evidence(r.word, "order", column, 0.9, "phrasing"))
            if self.dims and column not in {x.name for x in self.dims}:
                self._add_dim(DimensionRef(column), r.word, f"ranked by {column}")
        if target is None and self.list_entity is not None:
            by = next(
                (
                    p
                    for p in self.picks
                    if p.start > r.end
                    and self.d.lower(p.start - 1) == "by"
                    and p.kind != "metric"
                    and len(p.alt("metric")) == 1
                ),
                None,
            )
            if by is not None:
                # "top 3 destinations by flights": 'flights' after 'by' ranks, as the metric it also names
                target = by.alt("metric")[0]
                self.metrics.append(target)
                self.place(by.start - 1, by.end)
                self.roles[by.start] = "metric"
                self.notes.append(Evidence(by.phrase, "metric", target, 1.0, "ranked by"))
                self._list_to_group()
        if (
            target is None
            and self.over
            and (r.word in ("most", "least", "fewest") and r.limit is None or self._ranked_doers(r))
            and self.list_entity is not None
        ):
            counts = self._row_counts(self.over)
            if counts:
                # "which airline flies the most": the verb's rows (flights) are what is counted
                target = counts[0]
                self.metrics.append(target)
                self.notes.append(Evidence(r.word, "metric", target, 0.9, "rows of the verb"))
                self._list_to_group()
        named = self.d.pick_at(r.end)
        if (
            target is None
            and self.over
            and r.word in ("most", "least", "fewest")
            and r.limit is None
            and self.list_entity is None
            and self.dims
            and named is not None
            and self.roles.get(named.start) == "model"
            and (counts := self._row_counts(self.over))
        ):
            # "which build year has the most fire claims": the rows the model's name says are counted per group
            target = counts[0]
            self.metrics.append(target)
            self.entity = None
            self.notes.append(Evidence(named.phrase, "metric", target, 0.9, "rows named"))
        if target is None and self.list_entity is not None and (counted := self._counted_condition(r)):
            # "which airline had the most early arrivals": the condition's rows are counted per member
            target = counted
            self.metrics.append(target)
            self.notes.append(Evidence(r.word, "metric", target, 0.9, "rows of the condition"))
            self._list_to_group()
        if (
            target is None
            and self.list_entity is not None
            and (ranked := self._ranked_condition(r)) is not None
        ):
            target, direction = ranked  # "the 10 most delayed flights": by the departure delay, largest first
        if target is None:
            self.problems.append(f"'{r.word}' does not say by what to rank")
            for m in self._metrics_reaching(self.dims)[:4]:
                if r.word in ("most", "least", "fewest", "highest", "lowest", "biggest", "smallest"):
                    self.rewrites.append(
                        self.d.replaced(
                            r.start, r.end, f"{self.d.text(r.start, r.end)} {self._metric_words(m)}"
                        )
                    )
                else:
                    self.rewrites.append(f"{self.d.question.rstrip(' ?.')} by {self._metric_words(m)}")
            return
        if (
            self.list_entity is not None
            and self.layer.has_dimension(target)
            and not reaches(self.ctx, self._list_model(), target)
        ):
            target = self._column_metric(target, r.word, direction)
            if target is None:
                return
        self.order = [OrderBy(target, direction == "high")]
        if r.word in _SORT_WORDS or r.sort_only:
            # "sorted by revenue" orders every row; it keeps them all, unless a number says how many ("which two
            # coverage details carry the smallest premium? Lowest first")
            self.limit = r.limit if r.limit is not None else self._said_limit()
            return
        self.limit = r.limit if r.limit is not None else self._limit_from_words()
        if following:
            return
        if not self.dims and not self.list_entity and (self.limit is None or self.limit == 1):
            if r.limit is None and self._extreme_per_member(r, target, direction):
                return  # "the maximum number of lines on a single order": the largest figure of one order
            self.problems.append(
                f"'{r.word}' ranks, but nothing in the question says what is ranked "
                f"(the {r.word} what: which month, which store, which order?)"
            )
        if self.limit is not None and self.limit > 1 and not self.dims and not self.list_entity:
            self.problems.append(
                f"'{r.word}' asks for several rows but nothing in the question splits the "
                "answer into rows (top 3 what?)"
            )
        if outputs and self.limit is not None:
            # "which tail number flew the most": rows without a tail number are not one of them; a member's
            # label shown beside its key may be missing (San Juan is no row of airports) and keeps the row
            names = {ref.name for ref in self.dims}
            shown = [e for e in self.layer.entities() if set(self.layer.entity_keys(e) or ["-"]) <= names]
            keys = {k for e in shown for k in self.layer.entity_keys(e)}
            labels = {label_dimension(self.ctx, e) for e in shown} - keys
            for ref in self.dims:
                if ref.name in labels:
                    continue
                if ref.name != METRIC_TIME and Filter(ref.name, "not_null") not in self.filters:
                    self.filters.append(Filter(ref.name, "not_null"))
        self.notes.append(
            Evidence(r.word, "order", f"{target} {'desc' if direction == 'high' else 'asc'}", 1.0, "keyword")
        )

    def _ranked_total(self, r: Ranking) -> str | None:
        """ "which month of 2025 had the highest spend": rows cannot be split by period, so a column of amounts
        ranked per period is the metric that totals it (one metric must sum exactly that column)."""
        if not any(x.name == METRIC_TIME for x in self.dims):
            return None
        p = next((q for q in self.picks if q.kind == "dimension" and q.start == r.end), None)
        if p is None or not self.layer.has_dimension(p.targets[0]) or not is_numeric(self.ctx, p.targets[0]):
            return None
        totals = self._metrics_of_column(p.targets[0], "sum")
        if len(totals) != 1:
            return None
        self.filters = [f for f in self.filters if not (f.dimension == p.targets[0] and f.op == "not_null")]
        self.place(p.start, p.end)
        self._column_as_metric(p, p.targets[0], totals[0])
        return totals[0]

    def _order_target(self, outputs: list[str]) -> str | None:
        d = self.d
        for p in self.picks:
            if p.kind == "metric" and d.lower(p.start - 1) in ("by", "on") and p.targets[0] in outputs:
                return p.targets[0]
        r = d.ranking
        for p in self.picks:
            # "the 3 longest routes … by distance": a numeric column of the rows, after 'by'
            if (
                r is not None
                and p.kind == "dimension"
                and p.start > r.end
                and d.lower(p.start - 1) == "by"
                and is_numeric(self.ctx, p.targets[0])
                and DimensionRef(p.targets[0]) in self.dims
            ):
                return p.targets[0]
        recent_entity = self.list_entity or (
            self.group_entities[0] if len(self.group_entities) == 1 else None
        )
        if d.ranking is not None and d.ranking.word in _RECENCY and recent_entity is not None:
            # "the 5 most recent orders": by the date of the rows listed, latest first
            model = self.layer.entity_model(recent_entity)
            time_dim = _finest_time(self.layer, model) if model else None
            if time_dim is not None:
                grain = self.layer.dimension(time_dim).dimension.time_granularity or "day"
                ref = DimensionRef(time_dim, grain)
                if ref not in self.dims:
                    self.dims.append(ref)
                return ref.column
        if outputs:
            return outputs[0]
        often = d.ranking is not None and d.lower(d.ranking.end - 1) in (
            "often",
            "frequently",
            "common",
            "frequent",
        )
        named = [p for p in self.picks if p.kind == "dimension" and d.ranking and p.end <= d.ranking.start]
        if often and len(named) == 1 and not self.ctx.values.is_empty(named[0].targets[0]):
            # "which distance shows up most often": how many rows hold each value, whatever the column holds
            return self._counted_members(named[0], every_row=True)
        if self.list_entity is not None or (self.dims and not outputs):
            # "the 5 flights with the longest arrival delay", "the 3 longest routes by distance": the column
            # after the ranking word, else the one after 'by'
            after = [
                p
                for p in self.picks
                if p.kind == "dimension"
                and d.ranking
                and p.start >= d.ranking.end
                and self.roles.get(p.start) in ("ranked", "group")
            ]
            ranked = [p for p in after if self.roles.get(p.start) == "ranked"] or [
                p for p in after if d.lower(p.start - 1) == "by"
            ]
            return self._ranked_by_column(ranked[0]) if ranked else None
        return None

    def _ranked_doers(self, r: Ranking) -> bool:
        """ "top 2 airlines flying to Charlotte": the things ranked, right after 'top N', do what the model's verb
        says of its rows; how many of those rows each has is what ranks them."""
        named = self.d.pick_at(r.end)
        return (
            r.word in ("top", "bottom")
            and named is not None
            and named.start == r.end
            and named.kind == "entity"
            and self.d.lower(named.end) in model_verbs(self.layer)
        )

    def _ranked_by_column(self, col: Pick) -> str | None:
        """What ranks the rows when a ranking word stands before a column: the column itself if it holds numbers
        or dates, else the figure of a phrasing or the count of the rows the column belongs to."""
        column = col.targets[0]
        if self.ctx.values.is_empty(column):
            self.problems.append(
                f"{dimension_label(self.layer, column)} is empty in every row of the warehouse; "
                "nothing can be ranked by it"
            )
            return None
        if not is_numeric(self.ctx, column) and self._ranking_figure():
            # "best-selling brand in each category": the phrasing's figure ranks the brands, not their names
            self.roles[col.start] = "group"
            if DimensionRef(column) not in self.dims:
                self.dims.append(DimensionRef(column))
            return None
        if holds_words(self.ctx, column):
            # "top return reason in each region": names have no order; the column's own rows are counted
            return self._counted_members(col)
        if DimensionRef(column) not in self.dims:
            self.dims.append(DimensionRef(column))
        self.filters.append(Filter(column, "not_null"))
        return column

    def _counted_members(self, col: Pick, every_row: bool = False) -> str | None:
        """The declared count of the rows a ranked name column belongs to (any count of them, with `every_row`:
        "most often" asks how many rows), as the figure that ranks it; None (with a problem) when there is none
        or it cannot be split as asked."""
        column = col.targets[0]
        model = self.layer.dimension(column).model.name
        dims = [*self.dims, DimensionRef(column)]
        counts = [
            m
            for m in self._row_counts(model, declared=not every_row)
            if all(reaches(self.ctx, model, x.name) for x in dims)
        ]
        if not counts:
            r = present(self.d.ranking, "the ranking")
            self.problems.append(
                f"'{r.word}' would rank {dimension_label(self.layer, column).lower()} by its name; "
                "say by which figure"
            )
            return None
        self.roles[col.start] = "group"
        if DimensionRef(column) not in self.dims:
            self.dims.append(DimensionRef(column))
        self.metrics.append(counts[0])
        self.notes.append(Evidence(col.phrase, "metric", counts[0], 0.9, "rows of the ranked column"))
        return counts[0]

    def _ranked_column(self, word: str) -> str | None:
        """ "the most expensive products", "cheapest first": an adjective the model ties to a column (expensive →
        list price) ranks by that column, when the rows hold it."""
        for t in self.ctx.vocabulary.lookup(normalize(word.split()[-1])):
            ph = self.layer.phrasings[int(t.target)] if t.kind == "phrasing" else None
            if (
                ph is None
                or ph.dimension is None
                or ph.op
                or ph.metric
                or not is_numeric(self.ctx, ph.dimension)
            ):
                continue
            if not self.reach_ok(ph.dimension):
                continue
            return ph.dimension
        return None

    def _limit_from_words(self) -> int | None:
        said = self._said_limit()
        if said is not None:
            return said
        d = self.d
        group = [
            p
            for p in self.picks
            if p.kind in ("entity", "dimension", "concept") and self.roles.get(p.start) in ("group", "entity")
        ]
        if group:
            span = list(d.words[group[0].start : group[0].end])
            head = span[: next((k for k, w in enumerate(span) if w.lower == "of"), len(span))]
            plural = any(w.raw.lower() != w.norm for w in head)  # "which number of firefighters": one number
            # "which of our stores brought in the most", "among our stores, which one …": one of them
            one_of = d.lower(0) in ("which", "what") and d.lower(1) == "of" and not d.used[1]
            one_of = one_of or d.lower(group[0].end) == "which" and d.lower(group[0].end + 1) == "one"
            return _PLURAL_DEFAULT_LIMIT if plural and not one_of else 1
        # "quietest month"; "for each month, which day …": the period asked for, not the one it is ranked within
        for hit in (h for h in d.time.hits if h.grain):
            first = next((i for i, w in enumerate(d.words) if w.end > hit.start), None)
            before = d.lower(first - 1) if first else ""
            if before in self.ctx.lexicon.high | self.ctx.lexicon.low | {"which", "what"} or (
                d.ranking is not None and d.ranking.end == first
            ):
                return 1 if not hit.phrase.endswith("s") else _PLURAL_DEFAULT_LIMIT
        return None

    def _said_limit(self) -> int | None:
        """A number written before the things ranked ("which 3 physical stores", "5 jetblue flights"), placed."""
        d = self.d
        for p in self.picks:
            if p.kind in ("entity", "dimension", "concept") and self.roles.get(p.start) in (
                "group",
                "entity",
            ):
                k = p.start - 1
                # words narrowing the noun sit between
                while (q := d.pick_at(k)) is not None and q.kind in ("value", "phrasing") and q.start < k + 1:
                    k = q.start - 1
                while k > 0 and any(h.start <= d.words[k].start < h.end for h in d.time.hits):
                    k -= 1  # "the 10 january flights": the month narrows them too
                value = number_of(d.lower(k))
                if value is not None and value >= 1 and value == int(value) and not d.used[k] and k >= 0:
                    self.place(k, k + 1)
                    return int(value)
        return None

    def concepts(self) -> None:
        for p in list(self.picks):
            if p.kind != "concept":
                continue
            concept = next(c for c in self.layer.concepts if c.name == p.targets[0])
            self.place(p.start, p.end)
            if p.start in self.in_parens:
                self.roles[p.start] = "restated"
                continue
            self.group_position(p)  # places 'by'/'per' in front of it
            self.roles[p.start] = "group"
            for name in concept.dimensions:
                self._add_dim(DimensionRef(name), p.phrase, f"{concept.name}: {name}")

    def phrasing_filters_step(self) -> None:
        for start, f in list(self.phrasing_filters.items()):
            if self.d.lower(start - 1) in ("more", "less") and f.dimension != METRIC_TIME:
                # "were departures more delayed in spring or in autumn? avg dep delay": 'more delayed' compares
                # the delay the figure measures; it keeps no rows out
                if any(self._measures_column(m, f.dimension) for m in self.metrics):
                    self.place(start - 1, start)
                    continue
                self.problems.append(
                    f"'{self.d.text(start - 1, start + 1)}' compares {dimension_label(self.layer, f.dimension).lower()}"
                    " without saying which figure of it (the average, the total?)"
                )
                continue
            negated = self.d.lower(start - 1) in ("not", "never", "non") or (
                self.d.lower(start - 1) in ("weren't", "wasn't", "didn't", "were", "was")
                and self.d.lower(start - 2) in ("not",)
            )
            if negated:
                self.place(start - 1, start)
                f = _negate(f)
                self.phrasing_filters[start] = f
            self.filters.append(f)

    def _measures_column(self, metric: str, dimension: str) -> bool:
        """True when a metric aggregates the column a dimension reads (average departure delay: dep_delay)."""
        held = self.layer.dimension(dimension)
        for name in self.layer.measures_for(metric):
            model, measure = self.layer.measure(name)
            if (
                model.name == held.model.name
                and measure.expr.strip().lower() == held.dimension.expr.strip().lower()
            ):
                return True
        return False

    def _over_period(self, name: str, period: TimeRange, metric: str = "") -> FilteredInput | None:
        """A simple metric (the plan's one metric by default) counted only over one bounded period of its own
        date, or None when it cannot be (no measure, no date of its own, or a period in pieces)."""
        metric = metric or self.metrics[0]
        dim = default_time_dimension(self.layer, metric)
        if (
            dim is None
            or not self.layer.has_dimension(dim)
            or self.layer.metric(metric).measure is None
            or period.parts
            or period.months
            or period.start is None
            or period.end is None
        ):
            return None
        return FilteredInput(
            name, metric, (Filter(dim, ">=", (period.start,)), Filter(dim, "<", (period.end,)))
        )

    def _period_share(self) -> bool:
        """ "what share of the year's cancellations fell in February": the figure over a period, divided by the
        figure over a longer period that holds it."""
        ranges = [r for r in self.metric_ranges if r.start and r.end and not r.parts and not r.months]
        if len(ranges) != 2 or len(self.metrics) != 1:
            return False
        inner, outer = sorted(
            ranges, key=lambda r: (r.end - r.start) if r.start and r.end else dt.timedelta()
        )
        if not (inner.start and inner.end and outer.start and outer.end):
            return False
        if not (outer.start <= inner.start and inner.end <= outer.end) or (inner.end - inner.start) == (
            outer.end - outer.start
        ):
            return False
        metric = self.metrics[0]
        part, whole = self._over_period(f"{metric}_part", inner), self._over_period(f"{metric}_whole", outer)
        if part is None or whole is None:
            return False
        name = f"{metric}_{_slug(inner.describe())}_share_of_{_slug(outer.describe())}"
        self.adhoc.append(AdhocMetric(name, f"{part.name} / {whole.name}", (part, whole), "percent"))
        self.metrics, self.time_range, self.share = [], None, False
        self.notes.append(
            Evidence(inner.describe(), "comparison", f"share of {outer.describe()}", 1.0, "period")
        )
        return True

    def share_step(self) -> None:
        if not self.share:
            return
        adds_up = all(additive(self.layer, m) for m in self.metrics) and not self.adhoc
        if not adds_up:
            self.problems.append(
                "a share of total needs numbers that add up (a count or a sum); "
                f"{', '.join(self.metrics)} does not"
            )
            return
        grouped = {r.name for r in self.dims}
        if self._share_of_members():
            return
        if self._slice_share(bool(grouped)):
            return
        if grouped:
            return
        if self._period_share():
            return
        slices = [
            f
            for f in self.filters
            if f.op in ("=", "in")
            and f.dimension != METRIC_TIME
            and (f.dimension in self.value_dims or f in self.phrasing_filters.values())
        ]
        if not slices:
            self.problems.append(
                "a share needs a part to compare with the whole, e.g. 'share of revenue from "
                "online' or 'share of revenue by region'"
            )
            return
        for f in slices:
            self.filters.remove(f)
            self.dims.append(DimensionRef(f.dimension))
            self.result_filters.append(f)
        self.notes.append(
            Evidence(
                "share",
                "comparison",
                "share of the total over every " + ", ".join(f.dimension for f in slices),
                1.0,
                "share",
            )
        )

    def _share_of_members(self) -> bool:
        """ "what share of airlines had more than 10,000 flights" counts airlines, not their flights: a share of
        the members a test picks out is not computed here, so it is refused with the count it can give."""
        d = self.d
        for i in range(len(d.words) - 2):
            if d.lower(i) not in _SHARE_NOUNS or d.lower(i + 1) != "of":
                continue
            k = i + 2
            while d.lower(k) in ("the", "our", "all", "those", "these"):
                k += 1
            p = d.pick_at(k)
            if p is None or p.kind != "entity":
                continue
            keys = set(self.layer.entity_keys(p.targets[0]))
            if any(c.dimension in keys for c in self.conditions):
                self.problems.append(
                    f"a share of {p.phrase} counts {p.phrase}, which I cannot do with a test of their own "
                    f"figure; ask how many {p.phrase} pass it, and how many there are"
                )
                return True
        return False

    def _slice_share(self, grouped: bool) -> bool:
        """ "what percentage of flights from JFK were late", "share of orders placed online by month": the part
        (after 'were', 'from', 'placed'…) over the whole it is part of (the other filters), in each group — a
        figure over the part's rows divided by the same figure over all rows, never the part over itself."""
        metric_pick = next((p for p in self.picks if self.roles.get(p.start) == "metric"), None)
        if len(self.metrics) != 1 or self.adhoc or self.aggregates or metric_pick is None:
            return False
        d = self.d
        # "what fraction of flights arrived more than an hour late": a compared number names a part as a
        # phrasing does
        said = [*self.phrasing_filters.items(), *self.number_filters.items()]
        placed = [
            *said,
            *((q.start, f) for f in self.filters for q, _ in self.value_dims.get(f.dimension, [])),
        ]

        going = _GOING | model_verbs(self.layer)

        def cue(start: int) -> str:
            k = start - 1
            while k > metric_pick.end and d.lower(k) in ("the", "a", "an", "all", "any", "not"):
                k -= 1
            # "what share of Newark's flights went to O'Hare": the copula before the place's preposition; a
            # verb of going ("headed to", "flew to") says the same and is read as 'went'
            if k > metric_pick.end and d.lower(k) in _PLACE_WORDS and d.lower(k - 1) in _COPULAS | going:
                return d.lower(k - 1) if d.lower(k - 1) in _COPULAS else "went"
            return d.lower(k) if k >= metric_pick.end else ""

        after = [(s, f) for s, f in placed if s >= metric_pick.end and f in self.filters]
        copula_parts = [f for s, f in after if cue(s) in _COPULAS]
        cue_parts = [f for s, f in after if cue(s) in _PART_CUES]
        # "what share of departures did JetBlue account for", "what share of Newark's flights did United
        # operate": the subject of the verb after 'did' is the part
        cue_parts += [
            f
            for s, f in after
            if cue(s) in ("did", "do", "does")
            and any(d.lower(k) in _TAKING_A_PART | self._any_verb() for k in range(s, len(d.words)))
        ]
        # "what percent of flights arrived late", "fraction of flights cancelled": a verb of the model right after
        # the figure says which part
        verbs = model_verbs(self.layer) | self.ctx.lexicon.light_verbs

        def right_after(start: int) -> bool:
            k = start - 1
            while k >= metric_pick.end:
                if d.lower(k) in verbs | {"that", "which", "who"}:
                    k -= 1  # "flights departing late", "flights that arrived late"
                elif (q := d.pick_at(k)) is not None and q.kind == "value" and q.start >= metric_pick.end:
                    k = q.start - 1  # "flights from JFK that left late": the values narrow the whole
                elif d.lower(k) in ("from", "to", "at", "in", "out", "of"):
                    k -= 1
                else:
                    break
            return k == metric_pick.end - 1

        # "what share of September's orders had more than $750 of revenue", "… orders with revenue above $750":
        # members that pass a test of their own figure are a part too
        tested = [
            c
            for s, c in self.number_conditions.items()
            if s >= metric_pick.end
            and c in self.conditions
            and cue(self._past_figure(s)) in _COPULAS | _PART_CUES
        ]
        # a copula's part first ("flights from JFK were late"), then a verb's ("flights from JFK that left
        # late"), then a cue's ("revenue from online")
        parts = copula_parts or [f for s, f in said if right_after(s) and f in self.filters] or cue_parts
        # "which one cancelled a bigger share of its flights": the condition's verb before the share of them
        parts = parts or [
            f
            for s, f in self.phrasing_filters.items()
            if f in self.filters
            and (q := d.pick_at(s)) is not None
            and q.end < metric_pick.start
            and all(d.lower(k) in _SHARE_OF_ITS for k in range(q.end, metric_pick.start))
        ]
        # "what share of Newark's flights did United operate": a value that narrows the whole stays a filter of
        # both; without one, a share of equal-valued parts is read by `share_step` (one row per value)
        narrowed = any(f not in parts and f.dimension != METRIC_TIME for f in self.filters)
        if not (parts or tested) or not (
            grouped or narrowed or tested or any(f.op not in ("=", "in") for f in parts)
        ):
            return False
        metric = self.metrics[0]
        part = FilteredInput(f"{metric}_part", metric, tuple(dict.fromkeys(parts)), tuple(tested))
        for f in parts:
            if f in self.filters:
                self.filters.remove(f)
        for c in tested:
            self.conditions.remove(c)
        name = f"share_of_{metric}"
        self.metrics = []
        # "what percentage of JetBlue flights were on time": a comparison on a number says nothing of the rows
        # where the number is missing (a cancelled flight has no arrival delay), so the whole is the rows where
        # it is known, as the model's own rates count
        known = tuple(
            dict.fromkeys(
                Filter(f.dimension, "not_null", ())
                for f in parts
                if f.op in ("<", "<=", ">", ">=", "between") and is_numeric(self.ctx, f.dimension)
            )
        )
        inputs: tuple[FilteredInput, ...] = (part,)
        whole = metric
        if known:
            inputs += (FilteredInput(f"{metric}_known", metric, known),)
            whole = f"{metric}_known"
        self.adhoc.append(AdhocMetric(name, f"{part.name} / {whole}", inputs, "percent"))
        # "which airline cancelled the largest share of its flights": the share ranks, not the count
        self.order = [replace(o, key=name) if o.key == metric else o for o in self.order]
        self.share = False
        self.notes.append(
            Evidence(
                "share", "comparison", f"{name} = part of {metric} over all of it", 1.0, "share of a part"
            )
        )
        return True

    def _past_figure(self, start: int) -> int:
        """Where a compared number's phrase starts, past the figure named right before it ("with revenue above
        $750" starts at 'revenue')."""
        q = self.d.pick_at(start - 1)
        return q.start if q is not None and q.kind in ("metric", "measure") else start

    def per_entity(self) -> None:
        """ "average revenue per customer": a metric divided by the number of distinct members."""
        d = self.d
        for p in list(self.picks):
            if p.kind != "entity" or d.lower(p.start - 1) not in ("per", "across"):
                continue
            if self.roles.get(p.start) == "group" and self._per_own_row(p):
                continue
            if d.lower(p.start - 1) == "across":
                continue  # "across stores" groups, unless it restates the rows (above)
            if self.roles.get(p.start) == "group" and not self._per_is_ratio(p):
                continue
            entity = p.targets[0]
            keys = self.layer.entity_keys(entity)
            # "average quantity per order line": the aggregate's own rows; nothing to divide
            if self.aggregates and all(
                (own := self.layer.dimension(a.dimension).model.primary_entity) is not None
                and own.name == entity
                for a in self.aggregates
            ):
                self.place(p.start - 1, p.end)
                continue
            if self.metrics and len(keys) > 1 and self._per_row_ratio(p):
                continue
            if not self.metrics or len(keys) != 1:
                continue
            metric = self.metrics[0]
            count = Aggregate(
                f"{entity}_count",
                "count_distinct",
                keys[0],
                None,
                None,
                f"Number of {_plural(self._said(p))}",
            )
            if not any(reaches(self.ctx, m, keys[0]) for m in metric_models(self.layer, metric)):
                continue
            self.aggregates.append(replace(count, over=metric_models(self.layer, metric)[0]))
            self._divided_per(p, metric, count.name, f"distinct {entity}")

    def _divided_per(self, p: Pick, metric: str, denominator: str, what: str) -> None:
        """The metric becomes metric / denominator for "per <p>"; an 'average' in front of it is that division."""
        self.adhoc.append(AdhocMetric(f"{metric}_per_{p.targets[0]}", f"{metric} / {denominator}"))
        self.metrics.remove(metric)
        self.place(p.start - 1, p.end)
        for a in self.d.aggs:
            if a.end <= p.start and a.function == "avg":
                self.place(a.start, a.end)
        self.notes.append(
            Evidence(f"{metric} per {p.phrase}", "metric", f"{metric} / {what}", 1.0, "per entity")
        )

    def _per_own_row(self, p: Pick) -> bool:
        """ "average distance per flight by carrier": an average over the rows of the entity named after 'per'
        is already per member; the words restate it and split nothing."""
        prev = self.prev_pick(p)
        model = self.layer.entity_model(p.targets[0])
        if prev is None or model is None or prev.end != p.start - 1 or not (self.metrics or self.aggregates):
            return False
        # "average seats per flight", "average unit price across order lines": a column's average over the rows
        # of that entity
        for a in self.aggregates:
            rows = a.over or self.layer.dimension(a.dimension).model.name
            if a.function not in ("avg", "median", "min", "max", "percentile"):
                return False
            if rows != model.name and (a.over is not None or not reaches(self.ctx, model.name, a.dimension)):
                return False
        # "seats per flight": the seats of each flight's plane, averaged over flights
        self.aggregates = [
            a
            if (a.over or self.layer.dimension(a.dimension).model.name) == model.name
            else replace(a, over=model.name)
            for a in self.aggregates
        ]
        for name in self.metrics:
            metric = self.layer.metric(name)
            if (
                metric.type != "simple"
                or not metric.measure
                or self.layer.measure(metric.measure)[1].agg not in ("avg", "median")
                or list(metric_models(self.layer, name)) != [model.name]
            ):
                return False
        self.roles[p.start] = "per"
        self.group_entities = [e for e in self.group_entities if e != p.targets[0]]
        self.place(p.start - 1, p.end)
        self.notes.append(
            Evidence(
                f"per {p.phrase}", "other", f"each row of {model.name} is one {p.phrase}", 1.0, "per entity"
            )
        )
        return True

    def _per_row_ratio(self, p: Pick) -> bool:
        """ "distance per flight by origin": a member named by several columns is one row of its model, so the
        metric is divided by the number of those rows."""
        entity = p.targets[0]
        model = self.layer.entity_model(entity)
        rows = f"{model.name}{ROWS_SUFFIX}" if model is not None else ""
        metric = self.metrics[0]
        if (
            model is None
            or not self.layer.has_metric(rows)
            or model.name not in metric_models(self.layer, metric)
        ):
            return False
        self._divided_per(p, metric, rows, f"rows of {model.name}")
        return True

    def _per_is_ratio(self, p: Pick) -> bool:
        """ "revenue per order line by category" divides; "claims per catastrophe" groups. 'per <entity>' right
        after a metric divides when the question also groups by something else, or the metric is not a count."""
        prev = self.prev_pick(p)
        if (
            prev is None
            or prev.kind not in ("metric", "measure")
            or prev.end != p.start - 1
            or not self.metrics
        ):
            return False
        others: list[object] = [
            q
            for q in self.picks
            if q is not p
            and q.kind in ("dimension", "entity", "concept")
            and self.d.lower(q.start - 1) in ("by", "across", "each")
        ]
        others = others or [i for i in range(len(self.d.words)) if self._grain_word_at(i, ("by",))]
        metric = self.layer.metric(self.metrics[0])
        agg = (
            self.layer.measure(metric.measure)[1].agg
            if metric.type == "simple" and metric.measure
            else ("sum" if additive(self.layer, metric.name) else "")
        )
        # a sum divided per member ("revenue per customer"); a count only when the answer is also split by
        # something else ("orders per customer by segment"); an average or a rate per member is a grouping
        averaged = any(a.function == "avg" and a.end <= prev.start for a in self.d.aggs)
        # "the premium per policy? Show the policy number too": each one, shown by its number
        shown = {identifying_dimension(self.layer, p.targets[0]), *self.layer.entity_keys(p.targets[0])}
        if (
            agg == "sum"
            and not others
            and not averaged
            and any(
                q.start > p.start and q.kind == "dimension" and set(q.targets) & shown for q in self.picks
            )
        ):
            return False
        if agg == "sum" and not others and not averaged:
            # "expense reserves per claim": one figure per claim, or the average per claim? both are common
            self.problems.append(
                f"'{self.d.text(prev.start, p.end)}' can mean one figure for each {p.phrase} or "
                f"the average per {p.phrase}"
            )
            self.rewrites += [
                self.d.replaced(p.start - 1, p.end, f"by {p.phrase}"),
                self.d.replaced(prev.start, prev.end, f"average {prev.phrase}"),
            ]
            return False
        # "average number of orders per customer": an average said of a count per member divides too
        if agg == "sum" or (agg in ("count", "count_distinct") and (others or averaged)):
            self.roles[p.start] = "per"
            self.group_entities = [e for e in self.group_entities if e != p.targets[0]]
            return True
        return False

    def _rows_of_condition(self, a: Aggregate, own: str) -> str | None:
        """The model whose rows a condition on the counted members counts (the period of the question is that
        model's, not a date of the members' own table); None otherwise."""
        if a.function != "count_distinct":
            return None
        for c in self.conditions:
            models = metric_models(self.layer, c.metric)
            if c.dimension != a.dimension or len(models) != 1 or models[0] == own:
                continue
            if reaches(self.ctx, models[0], a.dimension):
                return models[0]
        return None

    def over_models(self) -> None:
        """Choose the rows each aggregate is computed over: the verb's model ("planes that flew" → flights),
        else the column's own model when it reaches every filter, else a model that reaches everything."""
        timed = bool(
            self.time_range is not None
            or self.periods
            or self.comparison
            or any(r.name == METRIC_TIME for r in self.dims)
        )
        out = []
        for a in self.aggregates:
            if a.grain is not None:
                out.append(self._counted_periods(a))
                continue
            if a.over is not None:
                out.append(a)
                continue
            own = self.layer.dimension(a.dimension).model.name
            if timed and (through := self._rows_of_condition(a, own)) is not None:
                # "stores that took more than 2,500 orders in 2025": the year is the orders', not the stores'
                # opening dates; the members are counted over the rows the condition counts
                out.append(replace(a, over=through))
                self.notes.append(
                    Evidence(a.label or a.name, "other", f"counted over {through} rows", 0.9, "rows")
                )
                continue
            chosen = self._rows_of(a, timed)
            if chosen is None:
                self.problems.append(
                    f"no table holds {a.label or a.dimension} together with every filter asked"
                )
                out.append(a)
                continue
            if chosen != own and self._own_column_for_group(own):
                # "coverage details per insured object": the coverage detail holds its object's key itself; counted
                # through claims it would leave out every coverage detail without a claim
                self.problems.append(
                    f"{a.label or a.dimension} by {', '.join(dimension_label(self.layer, r.name).lower() for r in self.dims)}"
                    " would count only the "
                    f"{own.replace('_', ' ')} rows found in {chosen.replace('_', ' ')}, though they hold that key "
                    "themselves; the model does not link the two, so ask for the key column by its own name"
                )
            if chosen != own and a.function in ("sum", "avg", "median", "percentile"):
                if self._names_own_rows(own, chosen):
                    # "the average seat count of the planes that flew for JetBlue": each plane once, or each
                    # flight's plane? The two differ; the question must say
                    rows = self.layer.model(chosen).primary_entity
                    per = (rows.name if rows else chosen).replace("_", " ")
                    self.problems.append(
                        f"{a.label or a.dimension} of the {own.replace('_', ' ')}: counting each one once, or once "
                        f"per {per}? Say 'per {per}' to weigh each by its {per}s"
                    )
                    self.rewrites.append(f"{self.d.question.rstrip(' ?.')} per {per}")
                self.notes.append(
                    Evidence(a.label, "other", f"over each row of {chosen}", 0.9, "aggregate rows")
                )
            out.append(replace(a, over=chosen if chosen != own else None))
        self.aggregates = out

    def _own_column_for_group(self, own: str) -> bool:
        """Whether a grouping key is also a plain column of the counted model, under the same column name."""
        columns = {d.expr for d in self.layer.model(own).dimensions}
        for ref in self.dims:
            if ref.name == METRIC_TIME:
                continue
            qd = self.layer.dimension(ref.name)
            owner = qd.model.primary_entity
            if (
                qd.model.name != own
                and qd.dimension.expr in columns
                and owner is not None
                and ref.name in self.layer.entity_keys(owner.name)
            ):
                return True
        return False

    def _names_own_rows(self, own: str, chosen: str) -> bool:
        """True when the question names the column's own things ("the planes …") and not the rows it would be
        counted over ("flights"), so which rows to weigh by is left open."""
        owner = self.layer.model(own).primary_entity
        rows = self.layer.model(chosen).primary_entity
        named = {t for p in self.picks for t in (p.targets if p.kind == "entity" else p.alt("entity"))}
        if owner is not None and any(
            p.kind == "value"
            and self.d.lower(p.start - 1) in ("a", "an", "each", "every", "one", "of")
            and any(self.layer.dimension(c.dimension).model.name == own for c in p.values)
            for p in self.picks
        ):
            named.add(owner.name)  # "the average catalog price of a laptop we sell": one of the products
        return owner is not None and owner.name in named and (rows is None or rows.name not in named)

    def _rows_of(self, a: Aggregate, timed: bool) -> str | None:
        """The model an aggregate is computed over: the verb's model, else the column's own, else any model that
        reaches the column and every filter and grouping; with a period asked, only a model placed in time
        ("distinct brands sold in 2025" counts brands over order lines, which have a date)."""
        needed = [f.dimension for f in self.filters if f.dimension != METRIC_TIME] + [
            r.name for r in self.dims if r.name != METRIC_TIME
        ]
        own = self.layer.dimension(a.dimension).model.name
        candidates = ([self.over] if self.over else []) + [own] + [m.name for m in self.layer.models]
        return next(
            (
                m
                for m in candidates
                if reaches(self.ctx, m, a.dimension)
                and all(reaches(self.ctx, m, n) for n in needed)
                and (not timed or model_time_dimension(self.layer, m) is not None)
            ),
            None,
        )

    def unused_entities(self) -> None:
        """An entity named but given nothing to do (not grouped, counted, listed, tested, nor the model of any
        filter or number asked) is a word the plan would drop: say so instead of answering without it."""
        if not (self.metrics or self.adhoc or self.aggregates):
            return
        used_models = set(self.models())
        for f in self.filters + self.result_filters:
            if f.dimension != METRIC_TIME and self.layer.has_dimension(f.dimension):
                used_models.add(self.layer.dimension(f.dimension).model.name)
        for c in self.conditions:
            used_models.add(self.layer.dimension(c.dimension).model.name)
        for a in self.aggregates:
            used_models.add(self.layer.dimension(a.dimension).model.name)
        tested = {
            self.layer.dimension(f.dimension).model.name
            for f in self.filters + self.result_filters
            if f.dimension != METRIC_TIME and self.layer.has_dimension(f.dimension)
        }
        path_models: set[str] | None = None
        for p in self.picks:
            if p.kind != "entity" or self.roles.get(p.start) != "entity":
                continue
            # "visibility at the origin airport", "the plane with tail number N725MQ": the entity says whose
            # column a filter tests
            if any(self.layer.model(x).entity(p.targets[0]) is not None for x in tested):
                continue
            entity = p.targets[0]
            model = self.layer.entity_model(entity)
            if model is None or model.name in used_models:
                continue
            # "how much did shoppers spend": the subject of the question's verb, who does what every row records
            k = p.start - 1
            while self.d.lower(k) in ("our", "the", "all", "your"):
                k -= 1
            if self.d.lower(k) in ("did", "do", "does") and self.d.lower(0) in ("how", "what"):
                continue
            # the entity of the rows a metric counts ("flights" next to the flights metric) is its subject
            if any(
                model.name == m.name or (m.primary_entity is not None and m.primary_entity.name == entity)
                for m in (self.layer.model(x) for x in self.models())
            ):
                continue
            if path_models is None:
                path_models = self._path_models()  # worked out once, and only when an entity is left over
            # "by the postal code of the insured object's address": the way to the grouped column; or what the
            # verb of the counted rows acts on
            if model.name in path_models or self._acted_on(p, k):
                continue
            self.problems.append(
                f"I read '{p.phrase}' as {entity.replace('_', ' ')} but the question does not say "
                "what to do with it (group by it, count it, or filter it)"
            )

    def _acted_on(self, p: Pick, k: int) -> bool:
        """ "how many customers bought products", "stores that sold items": the thing right after the verb of the
        rows counted, which every one of those rows holds one of, is what the verb acts on; no condition."""
        verbs = self.ctx.lexicon.light_verbs | self.ctx.lexicon.relation_verbs | model_verbs(self.layer)
        keys = self.layer.entity_keys(p.targets[0])
        if (
            k < 0
            or self.d.lower(k) not in verbs
            or self.d.lower(p.end - 1) == self.d.norm(p.end - 1)
            or not keys
        ):
            return False
        if not all(
            reaches(self.ctx, m, keys[0]) for m in [*self.models(), *([self.over] if self.over else [])]
        ):
            return False
        self.place(p.start, p.end)
        self.notes.append(Evidence(p.phrase, "other", f"what is {self.d.lower(k)}", 0.9, "verb object"))
        return True

    def _path_models(self) -> set[str]:
        """The models the joins pass through (or end at) on the way from the figures' models to a grouped
        column's model."""
        graph = JoinGraph.of(self.layer)
        grouped = {
            self.layer.dimension(r.name).model.name
            for r in self.dims
            if r.name != METRIC_TIME and self.layer.has_dimension(r.name)
        }
        found: set[str] = set()
        for source in self.models():
            for target in grouped:
                path = graph.path(source, target)
                if path is not None and len(path.steps) > 1:
                    found |= {step.target for step in path.steps}
        return found

    def path_nouns(self) -> None:
        """ "by the postal code of the insured object's address": after 'the' or another model of the way, the noun that ends
        the entity name of a model the joins pass through restates that way; it asks for nothing more."""
        d = self.d
        nouns: dict[str, str] = {}
        for name in self._path_models():
            own = self.layer.model(name).primary_entity
            if own is not None:
                nouns[own.name.split("_")[-1]] = name
        for i, w in enumerate(d.words):
            if w.norm not in nouns or d.used[i] or i in self.placed or d.pick_at(i) is not None:
                continue
            before = next((p for p in self.picks if p.end == i and p.kind == "entity"), None)
            on_way = before is not None and any(
                self.layer.model(m).entity(before.targets[0]) is not None for m in nouns.values()
            )
            if d.lower(i - 1) in ("the", "its", "their") or on_way:
                self.place(i, i + 1)  # "the insured object's address" (the possessive is read away)

    def trailing_each(self) -> None:
        """ "…? show each with its number of flights", "give the count for each": with a grouping asked, a
        closing 'each' repeats it."""
        if not self.dims and not self.group_entities and not self.periods:
            return  # "customers who spent more than $4,000, and how much each spent": the customers, each
        lowers = [w.lower for w in self.d.words]
        for i, w in enumerate(lowers):
            if (
                w in ("each", "every")
                and not self.d.used[i]
                and i not in self.placed
                # "each customer" names what is grouped; "how many units did each sell" points back
                and not any(q.start == i + 1 and q.kind != "phrasing" for q in self.picks)
            ):
                self.place(i, i + 1)

    def listed_keys(self) -> None:
        """ "list airlines with code and name": in a list of an entity's rows, 'code' / 'id' / 'number' after
        'with' or 'and' asks for its key, and 'name' for its label, which the rows already show."""
        # "which customers placed more than 16 orders? give me their ids and order counts": the one grouped
        # entity's key, shown on each row, is what 'ids' asks for
        if self.list_entity is not None and not (self.metrics or self.aggregates):
            entity = self.list_entity
        elif self.list_entity is None and len(self.group_entities) == 1:
            entity = self.group_entities[0]
        elif (owner := self._owner_listed()) is not None:
            entity = (
                owner  # "nimbus phones - id, name, list price": the columns of one table, its key among them
            )
        else:
            return
        keys = set(self.layer.entity_keys(entity))
        if not keys & {r.name for r in self.dims}:
            return
        d = self.d
        asked = {"code", "codes", "id", "ids", "identifier", "key", "number"}
        if label_dimension(self.ctx, entity) in {r.name for r in self.dims}:
            asked |= {"name", "names"}  # "the catastrophes with their ids and names": the label shown beside
        for i, w in enumerate(d.words):
            if (
                w.lower in asked
                and not d.used[i]
                and i not in self.placed
                and (
                    d.lower(i - 1) in ("with", "and", "its", "their", "the", "-", "record", "row", "entry")
                    or d.gap(i).strip() in (",", ":", "?", ".", "(", "—", "–")
                )
                and d.pick_at(i) is None
            ):
                self.place(i, i + 1)

    def _owner_listed(self) -> str | None:
        """The entity whose table holds every column a list shows, when nothing is computed."""
        if self.metrics or self.aggregates or self.adhoc:
            return None
        models = {self.layer.dimension(r.name).model.name for r in self.dims if r.name != METRIC_TIME}
        own = self.layer.model(models.pop()).primary_entity if len(models) == 1 else None
        return own.name if own is not None else None

    def named_amount(self) -> None:
        """ "for policy amount 11, what is the amount and its effective date": in a list of one table's rows,
        'the amount' / 'its value' names that table's one column spelled so; there it is no filler word."""
        if self.all_metrics() or self.aggregates or self.problems:
            return
        named = [r.name for r in self.dims if r.name != METRIC_TIME]
        named += [f.dimension for f in self.filters if self.layer.has_dimension(f.dimension)]
        models = {self.layer.dimension(x).model.name for x in named}
        if len(models) != 1:
            return
        model = models.pop()
        d = self.d
        for i, w in enumerate(d.words):
            if (
                w.lower not in ("amount", "value")
                or d.used[i]
                or i in self.placed
                or d.pick_at(i) is not None
                or d.lower(i - 1) not in ("the", "its", "their")
                or d.lower(i + 1) == "of"
            ):
                continue
            columns = [
                q.name
                for q in self.layer.dimensions()
                if q.model.name == model
                and not q.dimension.is_time
                and (q.dimension.expr or q.dimension.name).lower().rsplit("_", 1)[-1] == w.lower
            ]
            if len(columns) != 1:
                continue
            if columns[0] not in {r.name for r in self.dims}:
                self.dims.append(DimensionRef(columns[0]))
            self.place(i, i + 1)
            self.notes.append(Evidence(w.raw, "dimension", columns[0], 0.9, "column of the listed rows"))

    def keyed_rows(self) -> None:
        """ "list our phones with name, brand and list price", "the coverage detail records on policy X with their
        dates": columns of one kind of thing, its name among them (or 'records' said), list those things; each row
        shows its key first, since names and dates repeat."""
        if self.list_entity is not None or self.all_metrics() or self.aggregates or self.problems:
            return
        named = [r.name for r in self.dims if r.name != METRIC_TIME]
        models = {self.layer.dimension(x).model.name for x in named}
        if not named or len(models) != 1:
            return
        model = models.pop()
        # "list the unit costs" asks for the values; "the Voltix laptops with their cost", the laptops
        members = self._kind_listed(model) or self._members_named(model, named)
        if len(named) == 1 and not members:
            return
        own = self.layer.model(model).primary_entity
        keys = self.layer.entity_keys(own.name) if own is not None else []
        if (
            own is None
            or len(keys) != 1
            or keys[0] in named
            or identifying_dimension(self.layer, own.name) in named
        ):
            return
        rows = any(w.lower in RECORD_NOUNS for w in self.d.words)
        label = label_dimension(self.ctx, own.name)
        if label in named or rows or members:
            if label is not None and label not in named and not rows:
                self.dims.insert(
                    0, DimensionRef(label)
                )  # "the Voltix laptops with their price": which laptops
            self.dims.insert(0, DimensionRef(keys[0], _key_grain(self.ctx, keys[0])))
            self.notes.append(Evidence("", "dimension", f"each {own.name} (by its key)", 0.9, "listed rows"))

    def _members_named(self, model: str, named: list[str]) -> bool:
        """ "the street addresses with postal code 78704": a column said in the plural of the noun that ends its
        table's entity name (location address) names those rows themselves, not the column's distinct values."""
        own = self.layer.model(model).primary_entity
        if own is None:
            return False
        for p in self.picks:
            last = self.d.words[p.end - 1]
            if (
                set(named) & set(p.targets)
                and last.lower != last.norm
                and last.norm == own.name.split("_")[-1]
            ):
                return True
        return False

    def _kind_listed(self, model: str) -> bool:
        """ "show me the Voltix laptops with their list price": a value said in the plural before the columns
        ('with', 'and their', ',') names a kind of the model's rows, and those rows are what is listed."""
        d = self.d
        for p in self.picks:
            last = d.words[p.end - 1]
            if (
                p.kind != "value"
                or last.lower == last.norm
                or d.lower(p.end) not in ("with", "and", "including")
            ):
                continue
            if any(
                f.op in ("=", "in") and self.layer.dimension(f.dimension).model.name == model
                for f in self.filters
                if self.layer.has_dimension(f.dimension)
            ):
                return True
        return False

    def member_shown(self) -> None:
        """ "the loss ratio on policy 31003000336": a figure for one member named by its number shows that number,
        so the row says whose figure it is."""
        if self.dims or self.group_entities or self.list_entity is not None or self.problems:
            return
        if not (self.metrics or self.aggregates or self.adhoc or self.d.definitions):
            return  # nothing is computed: the number alone would be shown as a list
        keyed = [
            f
            for f in self.filters
            if f.op == "="
            and len(f.values) == 1
            and str(f.values[0]).isdigit()
            and self._names_member(f.dimension)
        ]
        if len(keyed) == 1:
            self.dims.append(DimensionRef(keyed[0].dimension))

    def _amount_of_rows(self, entity: str) -> str | None:
        """The one unfiltered metric summing the column an entity's rows are named for (a claim amount's
        `claim_amount`), or None."""
        model = self.layer.entity_model(entity)
        if model is None:
            return None
        found = [
            m.name
            for m in self.layer.metrics
            if m.type == "simple"
            and m.measure is not None
            and not m.filter
            and (meas := model.measure(m.measure)) is not None
            and meas.agg == "sum"
            and not meas.filter
            and meas.expr.strip().lower() == entity.lower()
        ]
        return found[0] if len(found) == 1 else None

    def _names_member(self, dimension: str) -> bool:
        """True for an entity's key or the column that identifies its members (a policy's number)."""
        entity = dimension.split("__")[0]
        if entity not in self.layer.entities():
            return False
        return dimension in {identifying_dimension(self.layer, entity), *self.layer.entity_keys(entity)}

    def _return_verb(self, i: int) -> bool:
        """True for "return" used as a command ("Return all the claims with …", "for each claim, return the claim
        number …"): opening the question or a clause, before a determiner, and naming nothing of the model."""
        d = self.d
        return (
            d.lower(i) == "return"
            and (i == 0 or "," in d.gap(i) or sentence_ends_before(d, i))
            and d.lower(i + 1) in ("the", "all", "every", "each", "a", "an", "me", "us", "their", "its")
            and not any(p.start <= i < p.end and p.end - p.start > 1 for p in self.picks)
        )

    def command_words(self) -> None:
        """ "return" used as a command asks for the answer, like "show" (even where the model has returns: the
        noun never opens a clause before 'the')."""
        for i in range(len(self.d.words)):
            if self._return_verb(i):
                self.picks = [p for p in self.picks if not p.start <= i < p.end]
                self.place(i, i + 1)
            if (
                self.d.lower(i) in ("work", "figure")
                and self.d.lower(i + 1) == "out"
                and not self.d.used[i + 1]
            ):
                self.place(i, i + 2)  # "work out its loss ratio": compute it

    def members_without_rows(self) -> None:
        """ "How many claims per catastrophe? Leave out catastrophes with no claims.": members with none of the
        figure never make a row of it, so leaving them out changes nothing; the clause is placed, not a filter.
        Only when the figure it names is the one the question asks for, named before it."""
        d = self.d
        lowers = [w.lower for w in d.words]
        for i in range(len(lowers)):
            phrase = next((x for x in _LEAVE_OUT if tuple(lowers[i : i + len(x)]) == x), None)
            if phrase is None or any(d.used[i : i + len(phrase)]):
                continue
            k = i + len(phrase)
            while (
                k < len(lowers)
                and k < i + len(phrase) + 4
                and lowers[k : k + 2] not in (["with", "no"], ["without"])
            ):
                k += 1
            cue = 2 if lowers[k : k + 2] == ["with", "no"] else 1 if lowers[k : k + 1] == ["without"] else 0
            figure = next(
                (p for p in self.picks if p.start == k + cue and p.kind in ("metric", "measure")), None
            )
            if not cue or figure is None:
                continue
            if not any(q.kind == "metric" and q.targets == figure.targets and q.end <= i for q in self.picks):
                continue
            if figure.kind != "metric" or not counts_things(self.ctx, figure.targets[0]):
                continue  # a member with rows may still sum to nothing ("stores without revenue")
            self.picks = [p for p in self.picks if not i <= p.start < figure.end]
            self.place(i, figure.end)
            self.notes.append(
                Evidence(d.text(i, figure.end), "other", "members without rows never show", 1.0, "grammar")
            )

    def _asks_which_period(self, r: Ranking) -> bool:
        """True for a ranking word in a yes-or-no question over compared periods ("was it worse in spring or in
        the fall?", "were there more …"): the rows of both periods answer it; nothing is ranked or cut."""
        return (
            bool(self.periods)
            and r.limit is None
            and r.end - r.start == 1
            and self.d.lower(0) in _YES_NO_OPENERS
        )

    def each_record(self) -> None:
        """ "every premium entry on policy X", "average premium per premium entry (premium divided by the number
        of premium records)": 'every' / 'each' before a figure's rows said as records are those rows, as "the
        premium records" are; 'per' there restates a division by their number already spelled out."""
        d = self.d
        exprs = [a.expr for a in self.adhoc] + [x.expr for x in d.definitions]
        for p in self.picks:
            if (
                p.kind != "metric"
                or d.lower(p.end) not in RECORD_NOUNS
                or d.used[p.start - 1 : p.start] != (False,)
            ):
                continue
            said = d.lower(p.start - 1)
            model = metric_models(self.layer, p.targets[0])
            counts = [*(self._row_counts(model[0]) if model else []), f"{p.targets[0]}{ROWS_SUFFIX}"]
            divided = any("/" in e and any(c in re.findall(r"\w+", e) for c in counts) for e in exprs)
            if said in ("every", "each") or (said == "per" and divided):
                self.place(p.start - 1, p.start)
                self.place(p.end, p.end + 1)
            if said == "per" and divided and p.targets[0] in self.metrics:
                self.place(p.start, p.end)
                self.metrics.remove(p.targets[0])  # restated by the division, no figure of its own

    def across_values(self) -> None:
        """ "units sold across Phones, Laptops or Audio": 'across' before listed values says over them, whether
        the answer splits by them or totals them (the list decides which)."""
        d = self.d
        read = {f.dimension for f in self.filters if f.op in ("=", "in")} | {r.name for r in self.dims}
        for i, w in enumerate(d.words):
            if w.lower != "across" or d.used[i] or i in self.placed:
                continue
            k = i + 1
            while d.lower(k) in ("the", "our", "all"):
                k += 1
            p = d.pick_at(k)
            if (
                p is not None
                and p.kind == "value"
                and p.start == k
                and {v.dimension for v in p.values} & read
            ):
                self.place(i, k)

    def versus_figures(self) -> None:
        """ "Loss payments vs expense payments: the total of each": 'vs' between two figures asked for sets them
        side by side, and 'each' after 'of' names them both."""
        d = self.d
        figures = [
            p for p in self.picks if p.kind in ("metric", "measure") and p.targets[0] in self.all_metrics()
        ]
        if len(set(self.all_metrics())) < 2:
            return
        versus = {p[0] for p in self.ctx.lexicon.versus if len(p) == 1}
        # "total loss amount vs total expenses (A plus B)": a figure defined in the question stands on a side too
        starts = {b.start for b in figures} | {x.named[0] for x in d.definitions if x.named != (0, 0)}
        ends = {a.end for a in figures} | {x.named[1] for x in d.definitions if x.named != (0, 0)}
        for i, w in enumerate(d.words):
            if d.used[i] or i in self.placed:
                continue
            between = i in ends and i + 1 in starts
            if w.lower in versus and between:
                self.place(i, i + 1)
            elif w.lower in ("each", "both") and d.lower(i - 1) == "of" and d.pick_at(i + 1) is None:
                self.place(i, i + 1)

    def limit_per_group(self) -> None:
        """ "the top 3 products in each category", "for each store, the best-selling product", "which airline
        had the most flights from each origin": a ranking of one thing beside another said with each / every /
        per holds within each value of that other."""
        if self.limit is None or not self.order or len(self.dims) < 2 or self.problems:
            return
        d = self.d
        names = {ref.name for ref in self.dims}
        per: list[str] = []
        others: set[str] = set()
        for p in self.picks:
            if p.kind == "entity":
                found = tuple(k for k in self.layer.entity_keys(p.targets[0]) if k in names)
            elif p.kind == "dimension":
                # "each region": the store's, shown; "for each channel": the column the figure reaches, read
                # for these words
                said = [n.target for n in self.notes if n.kind == "dimension" and n.phrase == p.phrase]
                found = tuple(t for t in (*p.targets, *said) if t in names)[:1]
            else:
                continue
            if not found:
                continue
            # "each customer's region" names the ranked thing's own column; "each airline's worst (month)" ranks
            possessive = any(w.possessive for w in d.words[p.start : p.end]) and not (
                d.ranking is not None and d.ranking.start == p.end
            )
            if (
                (
                    d.lower(self._before_places(p.start - 1)) in ("each", "every", "per")
                    or self._each_before(p.start)
                )
                and self.roles.get(p.start) != "unit"
                and not possessive
            ):
                per += [k for k in found if k not in per]
                self._said_count(p.start - 1, p)  # "each of the three origin airports"
            else:
                others.update(found)
        for dim, items in self.value_dims.items():
            # "from each of JFK, LGA and EWR", "each of the three NYC airports": the members, one group each
            if dim in names and any(self._each_before(p.start) for p, _ in items):
                per += [dim] if dim not in per else []
                first = min(p.start for p, _ in items)
                self._said_count(first - 1, items[0][0], dim)  # "each of the three NYC airports"
        for k, w in enumerate(d.words):
            if d.lower(k - 1) in ("each", "every", "per") and w.norm in GRAIN_NOUNS and METRIC_TIME in names:
                # "the top product each month"; "the worst day of each month": the month of two periods
                per.append(f"{METRIC_TIME}:{self.within_period}" if self.within_period else METRIC_TIME)
        if not per or set(per) & others or not names - set(per):
            return  # "top 5 customers … with each customer's region": the ranked thing itself, said again
        self.limit_per = per
        self.notes.append(
            Evidence("each", "limit", f"top {self.limit} within each {', '.join(per)}", 1.0, "each")
        )

    def shown_figure_asked(self) -> None:
        """ "Which … has the lowest average distance? Include that average.": a closing sentence asking to show a
        figure of the kind the answer already computes (an average, a total, a count) asks for nothing more."""
        d = self.d
        functions = {a.function for a in self.aggregates}
        functions |= {
            {"count_distinct": "count"}.get(k, k) for k in map(self._metric_kind, self.all_metrics())
        }
        kinds = {"average": "avg", "mean": "avg", "total": "sum", "sum": "sum", "count": "count"}
        for i, w in enumerate(d.words):
            if w.lower not in ("include", "show", "give", "add") or not sentence_ends_before(d, i):
                continue
            k = i + 1
            while d.lower(k) in ("me", "us", "also", "that", "the", "this", "its", "their", "those"):
                k += 1
            noun = d.norm(k)
            if k + 1 < len(d.words) and not sentence_ends_before(d, k + 1):
                continue  # more follows: a request of its own
            if (
                noun in kinds
                and kinds[noun] in functions
                or noun in ("figure", "value", "number")
                and functions
            ):
                self.place(i, k + 1)

    def figure_of_figure(self) -> None:
        """ "average hours of departure delay": a figure 'of' another figure is one figure said in two parts (a
        unit and its column), never two answers; that question is refused rather than guessed. A count of the
        rows the column is taken over ("the median distance of flights") names those rows, not a figure."""
        outputs = {a.dimension for a in self.aggregates} | set(self.metrics)
        if len(self.aggregates) + len(self.metrics) < 2:
            return
        picks = sorted(self.picks, key=lambda p: p.start)
        for p, q in zip(picks, picks[1:], strict=False):
            between = [self.d.lower(k) for k in range(p.end, q.start)]
            if between[:1] != ["of"] or any(w not in ("of", "the", "a", "an") for w in between):
                continue
            if not (set(p.targets) & outputs and set(q.targets) & outputs):
                continue
            columns = [a.dimension for a in self.aggregates if a.dimension in p.targets]
            models = {self.layer.dimension(c).model.name for c in columns}
            if len(models) == 1 and q.targets[0] in self._row_counts(models.pop()):
                # "the median distance of flights": the rows the column is taken over, no second figure
                self.metrics = [m for m in self.metrics if m != q.targets[0]]
                self.roles[q.start] = "population"
            else:
                self.problems.append(
                    f"'{self.d.text(p.start, q.end)}' reads as two figures ({p.phrase} and {q.phrase}), "
                    "not as one; ask for the one you mean"
                )

    def asked_when(self) -> None:
        """ "When was claim 12312701 opened?": a listing of dates answers 'when'."""
        listing = not (self.metrics or self.adhoc or self.aggregates)
        if self.d.lower(0) == "when" and listing and any(self._is_date(r.name) for r in self.dims):
            self.place(0, 1)

    def _is_date(self, name: str) -> bool:
        return name == METRIC_TIME or self.layer.dimension(name).dimension.is_time

    def keyed_labels(self) -> None:
        """ "loss payments by catastrophe name", "Hawaiian vs Alaska" (read as airline names): a figure split by the
        name of an entity is split by the entity, key first, so two members who share a name stay apart."""
        if not (self.metrics or self.adhoc or self.aggregates) or self.problems:
            return
        out: list[DimensionRef] = []
        for ref in self.dims:
            entity = next(
                (e for e in self.layer.entities() if label_dimension(self.ctx, e) == ref.name), None
            )
            keys = [DimensionRef(k, _key_grain(self.ctx, k)) for k in self.layer.entity_keys(entity or "")]
            if (
                entity is not None
                and keys
                and all(k not in self.dims and k not in out and self.reach_ok(k.name) for k in keys)
            ):
                out += keys
                self.notes.append(
                    Evidence(ref.name, "dimension", f"each {entity} (by its key)", 1.0, "label")
                )
            out.append(ref)
        self.dims = out

    def _each_before(self, k: int) -> bool:
        """Whether 'each of (the) (three)' or 'every' stands right before word `k`."""
        d = self.d
        k -= 1
        while k > 0 and (d.lower(k) in ("of", "the") or number_of(d.lower(k)) is not None):
            k -= 1
        return d.lower(k) in ("each", "every")

    def more_in_one_period(self) -> None:
        """ "Which categories took in more in October than in September?": of two compared periods, the members
        whose figure in the first is above (below) the second, one row each with both figures and the change."""
        d = self.d
        if len(self.periods) == 2 and not (self.metrics or self.adhoc or self.aggregates or self.problems):
            self._counted_more_often()
        if len(self.periods) != 2 or len(self.metrics) != 1 or self.adhoc or self.aggregates or self.problems:
            return
        holder = next(
            (
                p
                for p in self.picks
                if p.kind == "entity" and d.lower(p.end) in ("whose", "that", "with", "where")
            ),
            None,
        )
        if not self.dims and holder is not None and self.roles.get(holder.start) in (None, "entity"):
            self.dims = entity_dimensions(self.ctx, holder.targets[0])  # "stores whose revenue in A …"
            self.roles[holder.start] = "group"
        if any(r.name == METRIC_TIME for r in self.dims):
            return
        if not self.dims:
            self._how_many_more()
            return
        word = self._comparative_before_than(lambda i: d.lower(i) in _MORE_OR_LESS)
        op = _MORE_OR_LESS.get(d.lower(word)) if word is not None else self._phrased_comparative()
        if op is None:
            return
        metric = self.metrics[0]
        figures = self._in_each_period(metric)
        if figures is None:
            return
        exprs, inputs, money = figures
        change = f"{metric}_change"
        self.adhoc.append(AdhocMetric(change, _difference(exprs[0], exprs[1]), tuple(inputs), money))
        self.result_filters.append(Filter(change, op, (0,)))
        self.metrics, self.periods = [], []
        if word is not None:
            self.place(word, word + 1)
        self.notes.append(Evidence("than", "filter", f"{change} {op} 0", 1.0, "than"))

    def _counted_more_often(self) -> None:
        """ "Which return reasons came up more often in Q3 than in Q2?": how often is the number of rows the named
        column belongs to, when its model declares that count; "channels that got more spend in Q3 than in Q2":
        a column of numbers right after the comparative is its one total."""
        d = self.d
        word = self._comparative_before_than(lambda i: d.lower(i) in _MORE_OR_LESS)
        if word is None:
            return
        col = d.pick_at(word + 1)
        if col is not None and col.kind == "dimension" and col.start == word + 1:
            column = col.targets[0]
            sums = self._metrics_of_column(column, "sum") if is_numeric(self.ctx, column) else []
            if len(sums) == 1:
                self._column_as_metric(col, column, sums[0])
            return
        if (metric := self._phrasing_around(word)) is not None:
            self.metrics.append(metric)  # "which channels did we spend more on in A than in B"
            return
        if d.lower(word + 1) not in ("often", "frequently"):
            return
        models = {self.layer.dimension(r.name).model.name for r in self.dims if r.name != METRIC_TIME}
        if len(models) != 1 or not all(holds_words(self.ctx, r.name) for r in self.dims):
            return
        model = models.pop()
        counts = self._row_counts(model, declared=True)
        if counts:
            self.metrics.append(counts[0])
            self.place(word + 1, word + 2)
            self.notes.append(Evidence(d.text(word, word + 2), "metric", counts[0], 0.9, "rows counted"))

    def _phrasing_around(self, word: int) -> str | None:
        """The metric of a phrasing said with a comparative inside it ("we spend more on": "we spend on"), its
        words placed; None when the words around the comparative make none."""
        d = self.d
        for back in (2, 1):
            if word - back < 0 or word + 1 >= len(d.words):
                continue
            said = [w.lower for w in d.words[word - back : word]] + [d.lower(word + 1)]
            for t in self.ctx.vocabulary.lookup(normalize(" ".join(said))):
                metric = self.layer.phrasings[int(t.target)].metric if t.kind == "phrasing" else None
                if metric:
                    self.place(word - back, word)  # the comparative itself is left for the comparison
                    self.place(word + 1, word + 2)
                    self.notes.append(Evidence(" ".join(said), "metric", metric, 1.0, "phrasing"))
                    return metric
        return None

    def _phrased_comparative(self) -> str | None:
        """ "stores busier in A than in B": the metric read from a comparative phrasing word with a 'than' after
        it; '<' when its superlative is a low word ("quieter" → "quietest"), else '>'; None without one."""
        d = self.d
        for i, w in enumerate(d.words):
            low = w.lower
            if (
                self.roles.get(i) != "metric"
                or not low.endswith("er")
                or "than" not in [x.lower for x in d.words[i + 1 :]]
            ):
                continue
            if not any(n.phrase.lower() == low and n.method == "phrasing" for n in self.notes):
                continue
            superlative = low[:-3] + "iest" if low.endswith("ier") else low[:-2] + "est"
            return "<" if normalize(superlative) in default_lexicon().low else ">"
        return None

    def _comparative_before_than(self, fits: Callable[[int], bool]) -> int | None:
        """The first unplaced word that `fits` with a 'than' somewhere after it ("more in A than in B")."""
        d = self.d
        word = next(
            (i for i in range(len(d.words)) if fits(i) and not d.used[i] and i not in self.placed), None
        )
        if word is None or "than" not in [w.lower for w in d.words[word + 1 :]]:
            return None
        return word

    def _in_each_period(self, metric: str) -> tuple[list[str], list[FilteredInput], str] | None:
        """The metric over each of the two compared periods, added as figures of their own ("revenue q3 2026"),
        with the expression of each over its inputs and the format they share; a ratio or derived metric is
        worked out from its simple parts in each period. None when a period cannot be counted on its own."""
        names = [f"{metric}_{_slug(p.label or p.describe())}" for p in self.periods]
        if len(self.periods) != 2 or names[0] == names[1]:
            return None
        exprs: list[str] = []
        per_period: list[tuple[FilteredInput, ...]] = []
        for n, period in enumerate(self.periods, start=1):
            terms = in_simple_terms(self.layer, metric, partial(_in_period, n))
            if terms is None:
                return None
            found = [self._over_period(f"{m}_in_{n}", period, m) for m in terms[1]]
            figures = tuple(i for i in found if i is not None)
            if len(figures) != len(found):
                return None
            exprs.append(terms[0])
            per_period.append(figures)
        fmt = self.layer.metric(metric).format
        fmt = fmt if fmt in ("currency", "percent") else ""
        self.adhoc += [AdhocMetric(n, e, i, fmt) for n, e, i in zip(names, exprs, per_period, strict=True)]
        return exprs, [i for figures in per_period for i in figures], fmt

    def _how_many_more(self) -> None:
        """ "How many more online orders did we get in October 2026 than in October 2025?": the figure in each
        of the two periods and the difference, the first less the second ('fewer' / 'less': the second less the
        first)."""
        d = self.d
        word = self._comparative_before_than(
            lambda i: (
                i >= 2
                and d.lower(i) in ("more", "fewer", "less")
                and d.lower(i - 1) in ("many", "much")
                and d.lower(i - 2) == "how"
            )
        )
        if word is None:
            self._difference_asked()
            return
        metric = self.metrics[0]
        figures = self._in_each_period(metric)
        if figures is None:
            return
        exprs, inputs, money = figures
        # "how many more or fewer …": the signed difference, the first period less the second
        either = d.lower(word + 1) == "or" and d.lower(word + 2) in ("more", "fewer", "less")
        first, second = exprs if d.lower(word) == "more" or either else exprs[::-1]
        self.adhoc.append(
            AdhocMetric(f"{metric}_difference", _difference(first, second), tuple(inputs), money)
        )
        self.metrics, self.periods = [], []
        self.place(word - 1, word + (3 if either else 1))
        self.notes.append(
            Evidence(d.text(word - 2, word + 1), "comparison", _difference(first, second), 1.0, "than")
        )

    def _difference_asked(self) -> None:
        """ "signups in August 2026 compared with August 2025 - what's the difference?": the figure of the later
        period less that of the earlier (a change runs forward in time), beside each period's own figure."""
        d = self.d
        word = next(
            (
                i
                for i in range(len(d.words))
                if d.lower(i) == "difference" and not d.used[i] and i not in self.placed
            ),
            None,
        )
        starts = [p.start for p in self.periods]
        if word is None or starts[0] is None or starts[1] is None:
            return
        metric = self.metrics[0]
        later = 0 if starts[0] > starts[1] else 1
        figures = self._in_each_period(metric)
        if figures is None:
            return
        exprs, inputs, money = figures
        first, second = exprs[later], exprs[1 - later]
        self.adhoc.append(
            AdhocMetric(f"{metric}_difference", _difference(first, second), tuple(inputs), money)
        )
        self.metrics, self.periods = [], []
        self.place(word, word + 1)
        self.notes.append(
            Evidence("difference", "comparison", _difference(first, second), 1.0, "later less earlier")
        )

    def which_is_more(self) -> None:
        """ "were there more cancellations in June compared with July?": a yes-or-no question that sets compared
        periods against each other asks which is bigger; both rows answer it, so the comparative is placed."""
        d = self.d
        # "Delta vs American: which one cancelled a bigger share?": a row per member answers it too
        shown = {r.name for r in self.dims}
        members = any(f.op == "in" and f.dimension in shown for f in self.filters) and (
            any(w.lower in ("which", "who") for w in d.words) or d.lower(0) in _YES_NO_OPENERS
        )
        if not ((self.periods or self.comparison) and d.lower(0) in _YES_NO_OPENERS or members):
            return
        for i in range(1, len(d.words)):
            if d.lower(i) in _COMPARATIVES and not d.used[i]:
                self.place(i, i + 1)

    def _quantity_after_column(self) -> None:
        """ "distinct nearest-station distances": the noun of the quantity a column holds, right after its name,
        restates it."""
        d = self.d
        for p in self.picks:
            if p.kind != "dimension" or not p.targets or not self.layer.has_dimension(p.targets[0]):
                continue
            held = unit(self.layer.dimension(p.targets[0]).dimension.unit or "")
            k = p.end
            if held is None or k >= len(d.words) or d.used[k] or k in self.placed:
                continue
            if d.norm(k) in QUANTITY_NOUNS.get(held.kind, ()):
                self.place(k, k + 1)

    def unit_mentions(self) -> None:
        """ "…, in minutes": a unit named for the answer must be the unit of the column computed."""
        d = self.d
        self._quantity_after_column()
        columns = [a.dimension for a in self.aggregates] + [
            r.name for r in self.dims if r.name != METRIC_TIME
        ]
        units = {
            unit(u)
            for c in columns
            if self.layer.has_dimension(c) and (u := self.layer.dimension(c).dimension.unit)
        }
        if (
            self.share
            or self.comparison
            or any(self.layer.metric(m).format == "percent" for m in self.metrics)
        ):
            units.add(unit("percent"))
        units |= {unit(u) for m in self.metrics if (u := self._metric_unit(m))}
        if any(self.layer.metric(m).format == "currency" for m in self.metrics) or any(
            u is not None and u.name == "currency" for u in units
        ):
            # "brought in the most money", "spend money on": money is what the figure is counted in
            for i, w in enumerate(d.words):
                if w.lower in ("money", "cash") and not d.used[i] and i not in self.placed:
                    self.place(i, i + 1)
        for i, w in enumerate(d.words):
            # "(inches)", ", total inches": the unit said alone in parentheses or after 'total' at the end too
            alone = (
                "(" in d.gap(i) and ")" in d.gap(i + 1) or d.lower(i - 1) == "total" and i == len(d.words) - 1
            )
            # "by how many dollars did revenue change": the unit the answer is asked in
            asked = d.lower(i - 1) == "many" and d.lower(i - 2) == "how" and i - 1 not in self.placed
            if (
                (d.used[i] and i not in self.said_units)
                or i in self.placed
                or not (d.lower(i - 1) in ("in", "as") or alone or asked)
            ):
                continue
            said = unit_of_word(w.lower)
            if said is None or said.name == "count":
                continue
            if asked and any(u is not None and u.name == said.name for u in units):
                self.place(i - 1, i + 1)
            elif asked:
                continue
            elif any(u is not None and u.name == said.name for u in units):
                self.place(i, i + 1)
            elif self._converted(said):
                self.place(i, i + 1)
            elif any(u is not None and u.kind == said.kind for u in units) or (
                any(u is not None for u in units) and said.kind in ("duration", "distance", "speed", "money")
            ):
                # "average delay in miles" as much as "in weeks": a unit the answer does not come in
                self.problems.append(
                    f"the answer comes in {next(u.label for u in units if u)}, "
                    f"not {said.label}; ask without 'in {w.raw}'"
                )
                self.place(i, i + 1)

    def _metric_unit(self, metric: str) -> str | None:
        return metric_unit(self.layer, metric)

    def _output_units(self) -> list[tuple[str, Unit]]:
        """The unit of each figure the answer gives (metrics, and aggregates of a column that keep its unit),
        with the figure's name."""
        out = [(m, u) for m in self.metrics if (u := unit(self._metric_unit(m) or "")) is not None]
        out += [
            (a.name, u)
            for a in self.aggregates
            if self.layer.has_dimension(a.dimension)
            and a.function not in ("count", "count_distinct")
            and (u := unit(self.layer.dimension(a.dimension).dimension.unit or "")) is not None
        ]
        return out

    def _converted(self, said: Unit) -> bool:
        """ "average air time in hours": the one figure held in another unit of the same kind (minutes) is
        also given in the unit asked for, as a figure of its own beside it (a length of time or a distance)."""
        if said.kind not in ("duration", "distance") or self.share or self.comparison:
            return False
        held = self._output_units()
        if len(held) != 1 or held[0][1].kind != said.kind or held[0][1].name == said.name:
            return False
        name, source = held[0]
        ratio = said.factor / source.factor
        expr = f"{name} / {ratio:g}" if ratio >= 1 else f"{name} * {1 / ratio:g}"
        label = next((a.label for a in self.aggregates if a.name == name), "") or (
            self.layer.metric(name).title if self.layer.has_metric(name) else name
        )
        words = (
            re.sub(r"\(.*?\)", "", label).lower().split()
        )  # "Average air time (min)": without the old unit
        self.adhoc.append(AdhocMetric("_".join([*words, "in", said.name]), expr))
        return True

    # -- the plan -------------------------------------------------------------------------------------------
    def plan(self) -> QueryPlan:
        return QueryPlan(
            tuple(dict.fromkeys(self.metrics)),  # a figure named twice is one column
            tuple(self.dims),
            tuple(self.filters),
            self.time_range,
            self.time_dimension,
            self.comparison,
            self.share and not self.problems and bool(self.dims),
            tuple(self.order),
            self.limit,
            tuple(self.adhoc),
            tuple(self.notes),
            tuple(dict.fromkeys(self.aggregates)),  # an aggregate named twice is one column
            tuple(self.conditions),
            tuple(self.periods),
            tuple(self.result_filters),
            self.entity,
            tuple(self.limit_per) if self.limit is not None else (),
        )


_FUNCTION_LABEL = {
    "avg": "Average",
    "median": "Median",
    "min": "Minimum",
    "max": "Maximum",
    "sum": "Total",
    "count": "Number of",
    "count_distinct": "Number of distinct",
    "percentile": "Percentile of",
}


_RESTATING_NOUNS = frozenset({"amount", "figure", "value", "total"})
# "was it windier at Newark, JFK or LaGuardia?": comparatives that a row per member (or period) answers
# verbs that say a part takes its share of a whole ("what share of departures did JetBlue account for")
_TAKING_A_PART = frozenset(
    {"account", "accounted", "represent", "represented", "contribute", "contributed", "make", "made"}
)
# the words between 'whether' and a yes/no column ("whether there is a fireplace", "whether it had one")
_WHETHER_GLUE = frozenset(
    {"there", "is", "are", "was", "were", "it", "they", "has", "have", "had", "a", "an", "the"}
)
# verbs that spread a figure over the members of a group ("split the flights across the airports")
_SPREAD_WORDS = frozenset({"split", "spread", "break", "distribute", "distributed", "divide"})
# "more in October than in September": which side of the other period a member's figure must be on
_MORE_OR_LESS = {
    "more": ">",
    "higher": ">",
    "bigger": ">",
    "greater": ">",
    "larger": ">",
    "less": "<",
    "fewer": "<",
    "lower": "<",
    "smaller": "<",
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


_COMPARATIVES = frozenset(
    {
        "more",
        "fewer",
        "less",
        "higher",
        "lower",
        "bigger",
        "smaller",
        "larger",
        "greater",
        "busier",
        "quieter",
        "longer",
        "shorter",
        "windier",
        "hotter",
        "colder",
        "warmer",
        "wetter",
        "rainier",
        "better",
        "worse",
        "up",  # "are sign-ups up this month versus last month?"
        "down",
    }
)
# the words between a condition's verb and the figure it takes a share of ("cancelled a bigger share of its flights")
_SHARE_OF_ITS = frozenset(
    {
        "a",
        "the",
        "bigger",
        "larger",
        "higher",
        "greater",
        "largest",
        "biggest",
        "highest",
        "greatest",
        "smallest",
        "lowest",
        "smaller",
        "lower",
        "share",
        "proportion",
        "fraction",
        "percentage",
        "percent",
        "of",
        "its",
        "their",
    }
)


def _in_period(n: int, metric: str) -> str:
    """The name of a simple metric's figure in the n-th compared period ("revenue_in_1")."""
    return f"{metric}_in_{n}"


def _difference(first: str, second: str) -> str:
    """`first - second` over two ad-hoc expressions, each in brackets unless it is a single name."""
    return f"{bracketed(first)} - {bracketed(second)}"


def _keyed_by_grain(model: SemanticModel, grain: str) -> bool:
    """True when a model's own key includes a time column at this grain (weather: airport and hour)."""
    key = model.primary_entity
    if key is None:
        return False
    parts = key.expr if isinstance(key.expr, tuple) else (key.expr,)
    return any(t.is_time and t.time_granularity == grain and t.expr in parts for t in model.dimensions)


def assemble(d: ReadingState, ctx: PlanningContext, context_metrics: Sequence[str] = ()) -> Assembled:
    """Decide what each read piece does and build the QueryPlan; problems are collected, not raised."""
    b = _Builder(d, ctx, context_metrics)
    b.verbs()
    b.command_words()
    b.members_without_rows()
    b.untimed_verbs()
    b.definitions()
    b.across_all()
    b.bare_totals()
    b.phrasings()
    b.model_words()
    b.literals()
    b.presence()
    b.verb_subjects()
    b.extreme_rows()
    b.rows_named_by_count()
    b.phrasing_figures()
    b.split_figures()
    b.restated_heads()
    b.metrics_step()
    b.restated_metric_words()
    b.each_record()
    b.entities()
    b.concepts()
    b.superlatives()
    b.days_between()
    b.aggregates_step()
    b.numbers()
    b.existence()
    b.existence_counts()
    b.per_entity()
    b.bind_times()
    b.dimensions()
    b.date_words()
    b.connector_phrases()
    b.counted_both_ways()
    b.values()
    b.route_versus()
    b.members_by_kind()
    b.kinds_by_head_noun()
    b.value_kinds()
    b.phrasing_filters_step()
    b.time()
    b.weekdays()
    b.inclusive_ranges()
    b.to_date_totals()
    b.summed_columns()
    b.when_columns()
    b.when_verbs()
    b.groups_and_lists()
    b.empty_columns()
    b.ranking()
    b.listed_by_name()
    b.per_row_figures()
    b.share_step()
    b.over_models()
    b.more_in_one_period()
    b.unused_entities()
    b.path_nouns()
    b.trailing_each()
    b.named_amount()
    b.keyed_rows()
    b.listed_keys()
    b.member_shown()
    b.unit_mentions()
    b.which_is_more()
    b.across_values()
    b.versus_figures()
    b.limit_per_group()
    b.keyed_labels()
    b.asked_when()
    b.figure_of_figure()
    b.shown_figure_asked()
    b.restated_definition()
    plan = b.plan()
    draft = b.d
    for i in b.placed:
        draft = draft.mark(i, i + 1)
    return Assembled(plan, draft, tuple(b.problems), tuple(b.low), tuple(b.rewrites))


# -- small helpers ---------------------------------------------------------------------------------------------

# superlatives that name one row's extreme ("the longest delay" is the longest single delay), unlike best/worst
# ("highest refunds", "biggest spenders" are totals: those words rank by the metric)
_EXTREME_WORDS = frozenset(
    {
        "longest",
        "shortest",
        "earliest",
        "latest",
        "oldest",
        "newest",
        "maximum",
        "minimum",
        "max",
        "min",
        "farthest",
        "furthest",
        "heaviest",
        "lightest",
    }
)

# "… and how many don't": the other side of a yes-or-no column asked for after the first
_NEGATED_TAILS = frozenset(
    {
        ("dont",),
        ("don't",),
        ("do", "not"),
        ("doesnt",),
        ("does", "not"),
        ("not",),
        ("didnt",),
        ("did", "not"),
        ("dont", "have"),
        ("do", "not", "have"),
        ("without",),
    }
)
# ranking words that count or add up, never pick one row's extreme ("the most refunds", "the fewest returns")
_COUNTING_RANKS = frozenset({"most", "fewest", "least"})

_TO_DATE = {
    "year": ("year to date", "ytd", "so far this year"),
    "quarter": ("quarter to date", "qtd"),
    "month": ("month to date", "mtd"),
}
# words that say a column holds a value ("a recorded arrival delay"), or which side of zero it is on
_PRESENT_WORDS = frozenset({"recorded", "known", "reported", "valid", "logged", "measured", "available"})
_SIGN_WORDS = {"negative": "<", "positive": ">"}
_HAVE_WORDS = frozenset({"with", "has", "have", "had", "having"})


# words before the part a share asks about: "flights … were late" (the whole is in the subject), "revenue from
# discounted lines", "orders placed online"
_LEAVE_OUT = (
    ("leave", "out"),
    ("leaving", "out"),
    ("skip",),
    ("skipping",),
    ("exclude",),
    ("excluding",),
    ("omit",),
    ("drop",),
    ("ignore",),
)


# words between 'date' and the words naming the date ("the date each one becomes effective")
_DATE_FILLERS = frozenset({"each", "one", "it", "they", "that", "this", "was", "were", "is", "will", "when"})
# plural day names mean every such day ("on Saturdays"); the singular may name one date, so it is left alone
_WEEKDAY_PLURALS = {
    **{f"{name.lower()}s": (n,) for n, name in enumerate(calendar.day_name, start=1)},
    "weekends": (6, 7),
    "weekdays": (1, 2, 3, 4, 5),
}
_YES_NO_OPENERS = frozenset({"were", "was", "did", "do", "does", "is", "are", "has", "have"})
_COPULAS = frozenset({"were", "was", "are", "is", "got", "been", "came", "come", "comes", "went"})
_GOING = frozenset({"headed", "heading", "bound", "travelled", "traveled"})
_SHARE_NOUNS = frozenset({"share", "fraction", "percent", "percentage", "proportion"})
_PLACE_WORDS = frozenset({"to", "from", "into", "at", "in", "on", "for", "through", "via"})
_PART_CUES = frozenset(
    {"from", "placed", "made", "through", "via", "using", "with", "had", "have", "has", "worth"}
)
_SUBJECT_PRONOUNS = frozenset({"we", "they", "you", "i", "he", "she", "it"})


def _same_shape(a: str, b: str) -> bool:
    """Two codes of one kind: both numbers or both codes, of similar length ("12312701 vs 12312702")."""
    return a.isdigit() == b.isdigit() and min(len(a), len(b)) * 2 >= max(len(a), len(b))


def _is_code(raw: str) -> bool:
    """A code or number written as a value: digits ("12312701"), or capitals with digits ("N725MQ")."""
    text = raw.replace("-", "")
    return (
        bool(text)
        and text.isalnum()
        and (text.isdigit() or (any(c.isdigit() for c in text) and text.upper() == text))
    )


def _parenthesized(d: ReadingState) -> set[int]:
    """Indices of the words written inside parentheses."""
    inside: set[int] = set()
    depth = 0
    for i in range(len(d.words)):
        gap = d.gap(i) if i else d.question[: d.words[0].start]
        depth += gap.count("(") - gap.count(")")
        depth = max(depth, 0)
        if depth:
            inside.add(i)
    return inside


def _names_in(expr: str, layer: SemanticLayer) -> list[str]:
    return [w for w in expr.replace("(", " ").replace(")", " ").split() if layer.has_metric(w)]


def _metric_of_measure(layer: SemanticLayer, measure: str) -> str | None:
    for metric in layer.metrics:
        if metric.type == "simple" and metric.measure == measure and not metric.filter:
            return metric.name
    return None


def _subject_nouns(d: ReadingState, picks: list[Pick]) -> set[int]:
    """A metric word that only describes what another metric is computed over is not a second metric:
    'cancellation rate for flights to Chicago', 'how many flights were cancelled' (flights is the subject of
    cancelled_flights), 'gross profit for Corporate customers'."""
    subjects: set[int] = set()
    list_words = {
        "and",
        "or",
        "vs",
        "versus",
        "plus",
        "with",
        "minus",
        "per",
        "/",
        "+",
        "-",
        "*",
        "over",
        "to",
        "times",
        "divided",
        "compared",
    }
    for p in picks:
        if p.kind != "metric" or len(picks) - len(subjects) < 2:
            continue
        if any(n.end == p.start or (n.end == p.start - 1 and d.lower(n.end) == "of") for n in d.numbers):
            continue  # "more than 2 hours of air time": a number is about it, it describes nothing
        earlier = [q for q in picks if q.end <= p.start and id(q) not in subjects] or [
            q for q in d.picks if q.end <= p.start and q.kind == "entity"
        ]
        before = p.start - 1
        while before >= 0 and (q := d.pick_at(before)) is not None and q.kind in ("value", "phrasing"):
            before = (
                q.start - 1
            )  # "for Corporate customers", "in in-store orders": the values describe the subject
        ranked_by = d.lower(before) == "by" and d.ranking is not None and d.ranking.end <= before
        if ranked_by:
            continue  # "top 2 regions by revenue": what ranks them, never a description of another figure
        if earlier and d.lower(before) in (
            "for",
            "of",
            "on",
            "among",
            "from",
            "by",
            "in",
            "excluding",
            "except",
            "without",
        ):
            subjects.add(id(p))
            continue
        own = set(tokens(p.targets[0]))
        for q in picks:
            if q is p or id(q) in subjects or any(n.end == q.start for n in d.numbers):
                continue  # "orders with more than 5 order lines": a counted threshold is not what p describes
            between = {d.lower(i) for i in range(min(p.end, q.end), max(p.start, q.start))}
            if own < set(tokens(q.targets[0])) and not between & list_words:
                subjects.add(id(p))
                break
    return subjects


def _exact_case(p: Pick, cands: Sequence[ValueCandidate]) -> int:
    return int(any(c.value == p.phrase for c in cands))


def _scalar(value: object) -> str | int | float | bool:
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _clean(value: float) -> int | float:
    return int(value) if value == int(value) else value


def _title(qd: QualifiedDimension) -> str:
    return qd.dimension.label or qd.dimension.name.replace("_", " ")


_GRAIN_ORDER = ("second", "minute", "hour", "day", "week", "month", "quarter", "year")


def _finest_time(layer: SemanticLayer, model: SemanticModel) -> str | None:
    """The model's most precise time column ("the most recent orders" are ordered by the order timestamp, so
    that orders of one day are not tied); the model's own time dimension when none is finer."""
    default = model_time_dimension(layer, model.name)
    times = [d for d in model.dimensions if d.is_time]
    if not times:
        return default
    rank = {g: i for i, g in enumerate(_GRAIN_ORDER)}
    best = min(times, key=lambda d: rank.get(d.time_granularity or "day", 3))
    own = layer.dimension(default).dimension if default else None
    if own is not None and rank.get(own.time_granularity or "day", 3) <= rank.get(
        best.time_granularity or "day", 3
    ):
        return default
    return f"{model.prefix}__{best.name}"


def _counts_things(qd: QualifiedDimension) -> bool:
    """A column that counts things: declared in counts, or named so ("number_of_firefighters", "seat_count")."""
    name = normalize(qd.dimension.name)
    return (
        qd.dimension.unit == "count"
        or name.startswith(("number of ", "num ", "count of ", "no of "))
        or name.endswith(" count")
    )


def _year_like(qd: QualifiedDimension) -> bool:
    """A numeric column holding years ("year built")."""
    words = set(tokens(" ".join([qd.dimension.name, qd.dimension.label])))
    return "year" in words and not qd.dimension.is_time


def _plural(phrase: str) -> str:
    return plural(phrase)


def _describe_phrasing(ph: Phrasing) -> str:
    if ph.op:
        shown = " and ".join(str(v) for v in ph.values)
        return f"{ph.dimension} {ph.op} {shown}".strip()
    if ph.model:
        return f"rows of {ph.model}"
    if ph.dimension:
        return f"about {ph.dimension}"
    if ph.ranking:
        return f"ranked by {ph.ranking} of {ph.metric}"
    return ph.metric or ""


def _negate(f: Filter) -> Filter:
    flipped = {
        "=": "!=",
        "!=": "=",
        "<": ">=",
        "<=": ">",
        ">": "<=",
        ">=": "<",
        "in": "not_in",
        "not_in": "in",
        "is_null": "not_null",
        "not_null": "is_null",
    }
    return replace(f, op=flipped.get(f.op, f.op))


def _covers_year(tr: TimeRange) -> bool:
    return bool(
        tr.start and tr.end and tr.start.month == 1 and tr.start.day == 1 and (tr.end - tr.start).days >= 365
    )


def _months_between(a: dt.date, b: dt.date) -> list[int]:
    out = []
    day = a
    while day < b:
        out.append(day.month)
        day = shift(day, "month", 1)
    return out


def _year_apart(a: TimeRange, b: TimeRange) -> bool:
    """True when `b` is the period `a` is, one year later (October 2025 and October 2026)."""
    if a.start is None or a.end is None or b.start is None or b.end is None or a.grain != b.grain:
        return False
    return shift(a.start, "year", 1) == b.start and shift(a.end, "year", 1) == b.end


def _shifted(tr: TimeRange, comparison: str) -> TimeRange:
    """The period a range is compared with: the same span a year earlier, or the span just before it."""
    if tr.start is None or tr.end is None:
        raise InternalError(f"an open-ended time range has no period to compare with: {tr}")
    if comparison == "same_period_last_year":
        start, end = shift(tr.start, "year", -1), shift(tr.end, "year", -1)
        year = str(tr.start.year)
        if tr.label.count(year) == 1 and tr.label.endswith(year) and tr.label[:1].isupper():
            # "March to May 2026" → "March to May 2025": the same words a year back
            return TimeRange(start, end, tr.label[: -len(year)] + str(start.year), tr.grain)
        return TimeRange(
            start,
            end,
            f"same period a year earlier ({start.isoformat()} to {(end - dt.timedelta(days=1)).isoformat()})",
            tr.grain,
        )
    months = (tr.end.year - tr.start.year) * 12 + tr.end.month - tr.start.month
    if tr.start.day == 1 and tr.end.day == 1 and months > 0:
        start, end = shift(tr.start, "month", -months), tr.start
    else:
        days = (tr.end - tr.start).days
        start, end = tr.start - dt.timedelta(days=days), tr.start
    return TimeRange(
        start,
        end,
        f"previous period ({start.isoformat()} to {(end - dt.timedelta(days=1)).isoformat()})",
        tr.grain,
    )


def _default_comparison_range(comparison: str, grain: str | None, today: dt.date) -> TimeRange:
    """A comparison needs a period: this year to date vs last year, else the last complete period."""
    if comparison == "same_period_last_year":
        start = period_start(today, "year")
        return TimeRange(start, today + dt.timedelta(days=1), f"year to date ({start.year})", "year")
    unit_name = grain if grain in ("week", "month", "quarter", "year") else "month"
    end = period_start(today, unit_name)
    start = shift(end, unit_name, -1)
    return TimeRange(
        start,
        end,
        f"last {unit_name} ({start.isoformat()} to {(end - dt.timedelta(days=1)).isoformat()})",
        unit_name,
    )


def _finer_dimension(
    ctx: PlanningContext, grain: str, default_time: set[str], metrics: Sequence[str]
) -> DimensionRef | None:
    """'by hour' on metrics counted on a date: a categorical dimension named like the grain ('departure hour'),
    else a time dimension of the same model stored finely enough ('order time' at hour)."""
    if grain not in TIME_GRAINS or not default_time:
        return None
    stored = [ctx.layer.dimension(t).dimension.time_granularity or "day" for t in default_time]
    if all(TIME_GRAINS.index(grain) >= TIME_GRAINS.index(s) for s in stored):
        return None
    for term in ctx.vocabulary.lookup(grain):
        if (
            term.kind == "dimension"
            and not ctx.layer.dimension(term.target).dimension.is_time
            and reachable(ctx, term.target, metrics)
        ):
            return DimensionRef(term.target)
    models = {ctx.layer.dimension(t).model.name for t in default_time}
    for qd in ctx.layer.dimensions():
        if (
            qd.dimension.is_time
            and qd.model.name in models
            and TIME_GRAINS.index(qd.dimension.time_granularity or "day") <= TIME_GRAINS.index(grain)
        ):
            return DimensionRef(qd.name, grain)
    return None


def entity_phrases(layer: SemanticLayer, entity: str) -> set[str]:
    """Normalised words naming an entity (for the interpretation and the follow-up reader)."""
    return entity_words(layer, entity) | {normalize(entity)}
