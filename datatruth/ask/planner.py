"""The deterministic planner: a plain-words question → a QueryPlan, with evidence for every choice, no network.

Stages (each takes and returns a frozen Draft): time phrases → ranking words (top/bottom N, most, worst) →
share/growth words → numeric conditions → metric, dimension and value names (longest match first, typos,
abbreviations and sound-alikes included) → arithmetic between metrics → checks (words it could not place) →
the plan. It never invents a metric: when none is named it raises PlanningError with the nearest names.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from datatruth.ask.timeparse import TimeMatch, parse_time, period_start, shift
from datatruth.ask.value_index import MAX_DISTINCT, ValueCandidate, ValueIndex, load_or_build
from datatruth.ask.vocabulary import STOP_WORDS, Vocabulary, Word, build_vocabulary, split_words, tokens
from datatruth.errors import PlanningError
from datatruth.semantic.joins import JoinGraph
from datatruth.semantic.model import METRIC_TIME, TIME_GRAINS, SemanticLayer
from datatruth.semantic.plan import AdhocMetric, DimensionRef, Evidence, Filter, OrderBy, QueryPlan, TimeRange

# Words that say nothing about what to compute; never reported as unplaced.
FILLER = frozenset("""
placed made sold generated earned happen happened look looks like doing perform performing performed see want
know need figure figures stat stats statistic statistics kpi metric report summary overview current currently
recent latest see show break broken down please thanks thank kindly overall whole entire altogether combined
rank ranked ranking sort sorted ordered list year month quarter week day number amount level levels
each every separately respectively individual both versus vs make get got had have has did do does been
were was is are be being like can could would should need needs needed right now just only also
instead rather same again too then ok okay thing things one ones
""".split())
_GROUP_CUES = {"by", "per", "each", "every", "across", "which", "what", "for each", "group", "split"}
_VALUE_CUES = {"in", "at", "from", "to", "for", "via", "only", "excluding", "except", "not", "without", "and",
               "or", "than", "of", "on", "with", "into"}
_NEGATIONS = {"excluding", "except", "not", "without", "exclude", "excl", "but"}
_FROM_CUES = {"from", "out", "departing", "leaving", "origin", "originating", "depart"}
_TO_CUES = {"to", "into", "arriving", "bound", "destination", "towards", "toward", "arrive", "landing"}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "fifty": 50,
                 "hundred": 100}
# "max"/"min" are left out: "max delay" names a number, it does not rank rows.
_HIGH = {"top", "highest", "most", "largest", "biggest", "greatest", "leading", "best", "busiest", "peak",
         "strongest"}
_LOW = {"bottom", "lowest", "least", "fewest", "smallest", "worst", "quietest", "slowest", "weakest"}
_POLAR = {"best", "worst"}
# Metrics where a lower number is better: "best airline by delay" means the smallest delay.
_LOWER_IS_BETTER = ("delay", "cancel", "cost", "return", "refund", "late", "churn", "loss", "divert", "complaint",
                    "error", "defect", "spend", "wait")
_COMPARATORS = [
    (("at", "least"), ">="), (("at", "most"), "<="), (("no", "more", "than"), "<="), (("no", "less", "than"), ">="),
    (("more", "than"), ">"), (("greater", "than"), ">"), (("longer", "than"), ">"), (("higher", "than"), ">"),
    (("bigger", "than"), ">"), (("larger", "than"), ">"), (("heavier", "than"), ">"), (("later", "than"), ">"),
    (("older", "than"), ">"), (("less", "than"), "<"), (("fewer", "than"), "<"), (("shorter", "than"), "<"),
    (("lower", "than"), "<"), (("smaller", "than"), "<"), (("cheaper", "than"), "<"), (("earlier", "than"), "<"),
    (("newer", "than"), "<"), (("over",), ">"), (("above",), ">"), (("exceeding",), ">"), (("under",), "<"),
    (("below",), "<"), ((">=",), ">="), (("<=",), "<="), ((">",), ">"), (("<",), "<"),
]
_ADJECTIVE_HINTS = {"longer": {"distance", "length", "long", "duration", "mile"},
                    "shorter": {"distance", "length", "long", "duration", "mile"},
                    "heavier": {"weight"}, "older": {"age", "year", "old"}, "newer": {"age", "year"},
                    "bigger": {"size", "seat"}, "larger": {"size", "seat"}, "cheaper": {"price", "cost"},
                    "later": {"delay", "time"}, "earlier": {"delay", "time"}}
_UNIT_HINTS = {"mile": {"distance", "mile"}, "mi": {"distance", "mile"}, "km": {"distance"},
               "minute": {"minute", "delay", "time", "duration"}, "min": {"minute", "delay", "time"},
               "hour": {"hour", "duration"}, "seat": {"seat"}, "%": {"pct", "percent", "discount", "rate"},
               "percent": {"pct", "percent"}, "pct": {"pct", "percent"}, "engine": {"engine"},
               "dollar": {"price", "amount", "cost"}, "$": {"price", "amount", "cost"}, "foot": {"alt", "altitude"},
               "feet": {"alt", "altitude"}, "year": {"year", "age"}}
_ARITHMETIC = {"plus": "+", "+": "+", "minus": "-", "-": "-", "less": "-", "divided by": "/", "/": "/",
               "over": "/", "per": "/", "times": "*", "*": "*", "x": "*", "multiplied by": "*"}
_ARITH_NAMES = {"+": "plus", "-": "minus", "/": "per", "*": "times"}
_NUMBER_RE = re.compile(r"^\$?(\d+(?:[.,]\d+)*)(k|m)?%?$")


@dataclass(frozen=True)
class Pick:
    """One reading of words [start, end): a metric, dimension, measure or value, with alternatives."""

    start: int
    end: int
    kind: str  # metric | dimension | measure | value
    targets: tuple[str, ...]  # names, best first (values: unused)
    phrase: str
    score: float
    method: str
    values: tuple[ValueCandidate, ...] = ()
    alt_dimensions: tuple[str, ...] = ()  # a metric word that can also name a dimension ("customers")


@dataclass(frozen=True)
class Draft:
    """The planner's reading so far; each stage returns a new Draft."""

    question: str
    words: tuple[Word, ...]
    used: tuple[bool, ...]
    time: TimeMatch = TimeMatch()
    limit: int | None = None
    direction: str | None = None  # high | low | best | worst
    rank_word: str | None = None
    share: bool = False
    comparison: str | None = None
    picks: tuple[Pick, ...] = ()
    numeric: tuple[Filter, ...] = ()
    adhoc: tuple[AdhocMetric, ...] = ()
    adhoc_inputs: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()

    def lower(self, i: int) -> str:
        """The lower-case word at i, or '' outside the question."""
        return self.words[i].lower if 0 <= i < len(self.words) else ""

    def mark(self, start: int, end: int) -> Draft:
        """The draft with words [start, end) used."""
        used = list(self.used)
        for k in range(start, end):
            used[k] = True
        return replace(self, used=tuple(used))

    def note(self, *items: Evidence) -> Draft:
        """The draft with more evidence."""
        return replace(self, evidence=self.evidence + items)


@dataclass(frozen=True)
class PlanningContext:
    """What planning a question needs besides its words."""

    layer: SemanticLayer
    vocabulary: Vocabulary
    values: ValueIndex
    today: dt.date
    graph: JoinGraph = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "graph", JoinGraph.of(self.layer))


# -- helpers ---------------------------------------------------------------------------------------------------

def _number(word: str) -> float | None:
    if word in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[word])
    m = _NUMBER_RE.match(word)
    if not m:
        return None
    text = m.group(1).replace(",", "")
    if text.count(".") > 1:
        return None
    value = float(text)
    return value * {"k": 1e3, "m": 1e6}.get(m.group(2) or "", 1)


def _clean_number(value: float) -> int | float:
    return int(value) if value == int(value) else value


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


def reachable(ctx: PlanningContext, dimension: str, metrics: Iterable[str]) -> bool:
    """True when every model of every metric reaches the dimension's model by many-to-one joins."""
    target = ctx.layer.dimension(dimension).model.name
    for metric in metrics:
        for model in metric_models(ctx.layer, metric):
            if model != target and ctx.graph.path(model, target) is None:
                return False
    return True


def _distance(ctx: PlanningContext, dimension: str, metrics: Sequence[str]) -> int:
    target = ctx.layer.dimension(dimension).model.name
    total = 0
    for metric in metrics:
        for model in metric_models(ctx.layer, metric):
            if model != target:
                path = ctx.graph.path(model, target)
                total += len(path.steps) if path else 99
    return total


# -- stage 1: time -----------------------------------------------------------------------------------------------

def read_time(d: Draft, ctx: PlanningContext) -> Draft:
    """Resolve time phrases against the workspace clock and mark their words."""
    match = parse_time(d.question, ctx.today)
    for a, b in match.spans:
        hit = [i for i, w in enumerate(d.words) if w.start < b and a < w.end]
        if hit:
            d = d.mark(hit[0], hit[-1] + 1)
    notes = []
    if match.time_range is not None:
        notes.append(Evidence(match.phrase_of("range"), "time", match.time_range.describe(), 1.0, "timeparse"))
    if match.grain:
        notes.append(Evidence(match.phrase_of("grain"), "time", f"{METRIC_TIME} by {match.grain}", 1.0, "timeparse"))
    if match.comparison:
        notes.append(Evidence(match.phrase_of("comparison"), "comparison", match.comparison, 1.0, "timeparse"))
    return replace(d, time=match, comparison=match.comparison).note(*notes)


# -- stage 2: ranking ------------------------------------------------------------------------------------------

def read_ranking(d: Draft, ctx: PlanningContext) -> Draft:
    """Top/bottom N, best/worst, most/least, and explicit sort words."""
    n = len(d.words)
    for i in range(n):
        if d.used[i]:
            continue
        word = d.lower(i)
        if word not in _HIGH | _LOW:
            continue
        direction = "best" if word == "best" else "worst" if word == "worst" else "high" if word in _HIGH else "low"
        start, end, limit = i, i + 1, None
        after = _number(d.lower(i + 1)) if i + 1 < n and not d.used[i + 1] else None
        before = _number(d.lower(i - 1)) if i > 0 and not d.used[i - 1] else None
        if after is not None and after >= 1 and after == int(after):
            limit, end = int(after), i + 2
        elif before is not None and before >= 1 and before == int(before):
            limit, start = int(before), i - 1
        if d.lower(start - 1) == "the":
            start -= 1
        d = d.mark(start, end)
        d = replace(d, limit=limit, direction=direction, rank_word=word)
        phrase = " ".join(w.raw for w in d.words[start:end])
        notes = [Evidence(phrase, "order", direction, 1.0, "keyword")]
        if limit is not None:
            notes.append(Evidence(phrase, "limit", str(limit), 1.0, "keyword"))
        return d.note(*notes)
    for i in range(n - 1):
        if d.used[i]:
            continue
        if d.lower(i) in ("ascending", "asc", "descending", "desc"):
            d = d.mark(i, i + 1)
            desc = d.lower(i).startswith("desc")
            return replace(d, direction="high" if desc else "low").note(
                Evidence(d.words[i].raw, "order", "high" if desc else "low", 1.0, "keyword"))
    return d


# -- stage 3: share and growth ---------------------------------------------------------------------------------

_SHARE_PHRASES = (("share", "of", "total"), ("%", "of", "total"), ("percent", "of", "total"),
                  ("percentage", "of", "total"), ("proportion", "of", "total"), ("fraction", "of", "total"),
                  ("share", "of"), ("percentage", "of"), ("proportion", "of"), ("share",), ("mix",),
                  ("contribution",), ("breakdown", "in", "percent"))
_GROWTH_WORDS = {"growth", "grow", "grew", "change", "changed", "increase", "increased", "decrease",
                 "decreased", "decline", "declined", "evolution"}


def read_share_and_growth(d: Draft, ctx: PlanningContext) -> Draft:
    """'share of total' / '% of total' and growth words ('growth', 'change' → previous period)."""
    lowers = [w.lower for w in d.words]
    for phrase in _SHARE_PHRASES:
        k = len(phrase)
        for i in range(len(lowers) - k + 1):
            if tuple(lowers[i:i + k]) == phrase and not any(d.used[i:i + k]) and not _starts_a_name(d, ctx, i):
                d = d.mark(i, i + k)
                return _growth(replace(d, share=True).note(
                    Evidence(" ".join(phrase), "comparison", "share_of_total", 1.0, "keyword")), ctx)
    return _growth(d, ctx)


def _starts_a_name(d: Draft, ctx: PlanningContext, i: int) -> bool:
    """True when word i is part of a multi-word vocabulary phrase ("share cancelled", "on-time percentage")."""
    norms = [w.norm for w in d.words]
    for a in range(max(0, i - 3), i + 1):
        for b in range(max(a + 2, i + 1), min(len(norms), a + 4) + 1):
            if ctx.vocabulary.lookup(" ".join(norms[a:b])):
                return True
    return False


def _growth(d: Draft, ctx: PlanningContext) -> Draft:
    for i, w in enumerate(d.words):
        if not d.used[i] and w.lower in _GROWTH_WORDS and w.norm not in ctx.vocabulary.words and \
                not ctx.values.is_value_word(w.norm):
            d = d.mark(i, i + 1)
            if d.comparison is None:
                d = replace(d, comparison="previous_period")
                return d.note(Evidence(w.raw, "comparison", "previous_period", 1.0, "keyword"))
            return d
    return d


# -- stage 4: numeric conditions -------------------------------------------------------------------------------

def read_numeric(d: Draft, ctx: PlanningContext) -> Draft:
    """'longer than 1000 miles', 'over 500' → a filter on a numeric dimension, or a note that it was ignored."""
    lowers = [w.lower for w in d.words]
    i = 0
    while i < len(lowers):
        found = None
        for words, op in _COMPARATORS:
            k = len(words)
            if tuple(lowers[i:i + k]) == words and not any(d.used[i:i + k]):
                found = (k, op)
                break
        if found is None:
            i += 1
            continue
        k, op = found
        j = i + k
        value = _number(lowers[j].lstrip("$")) if j < len(lowers) and not d.used[j] else None
        if value is None:
            i += 1
            continue
        end = j + 1
        unit = d.words[end].norm if end < len(d.words) and not d.used[end] else ""
        if lowers[j].endswith("%"):
            unit = "%"
        elif lowers[j].startswith("$"):
            unit = "$"
        adjective = _ADJECTIVE_HINTS.get(lowers[i], set())
        # "longer than 1000 miles" must name a length; the unit alone may not pick "visibility (miles)"
        hints = adjective or set(_UNIT_HINTS.get(unit, set()))
        unit_used = unit in _UNIT_HINTS and unit not in ("%", "$")
        start = i
        # words naming the dimension right before the comparator: "distance over 1000", "seats above 200"
        named = None
        head = i
        while head > 0 and lowers[head - 1] in ("is", "was", "are", "were", "be", "being", "been", "of", "at"):
            head -= 1  # "precipitation is above 0"
        for back in (2, 1):
            a = head - back
            if a >= 0 and not any(d.used[a:head]):
                phrase = " ".join(w.norm for w in d.words[a:head])
                dims = [t.target for t in ctx.vocabulary.lookup(phrase) if t.kind == "dimension"
                        and t.target in ctx.values.numeric]
                if dims:
                    named, start = dims[0], a
                    break
        dim = named or _numeric_dimension(ctx, hints)
        stop = end + (1 if unit_used else 0)
        phrase = " ".join(w.raw for w in d.words[start:stop])
        d = d.mark(start, stop)
        if dim is None:
            d = d.note(Evidence(phrase, "other", "ignored: no numeric dimension matches this condition", 0.0,
                                "ignored"))
        else:
            seen = ctx.values.ranges.get(dim)
            if unit == "%" and seen is not None and seen[1] <= 1:
                value = value / 100  # "10%" against a column holding fractions (0.10)
            number = _clean_number(round(value, 10))
            d = replace(d, numeric=d.numeric + (Filter(dim, op, (number,)),)).note(
                Evidence(phrase, "filter", f"{dim} {op} {number}", 0.9 if named is None else 1.0,
                         "numeric" if named is None else "exact"))
        i = stop
    return d


def _numeric_dimension(ctx: PlanningContext, hints: set[str]) -> str | None:
    if not hints:
        return None
    scored = []
    for name in ctx.values.numeric:
        qd = ctx.layer.dimension(name)
        # units in a label's parentheses ("Visibility (miles)") say what is measured, not what it is
        label = re.sub(r"\(.*?\)", " ", qd.dimension.label)
        bag = set(tokens(" ".join([qd.dimension.name, label, *qd.dimension.synonyms])))
        score = len(bag & hints)
        if score:
            scored.append((score, name))
    scored.sort(key=lambda s: -s[0])
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return scored[0][1]


# -- stage 5: names ----------------------------------------------------------------------------------------------

_KIND_RANK = {"metric": 0.0, "dimension": 1.0, "value": 2.0, "measure": 3.0}
_SOURCE_RANK = {"name": 0, "label": 1, "synonym": 2, "learned": 0, "entity": 3}


def _rank(d: Draft, start: int, kind: str, targets_both: bool) -> float:
    previous = d.lower(start - 1)
    two = f"{d.lower(start - 2)} {previous}"
    group_cue = previous in _GROUP_CUES or two in _GROUP_CUES or _number(previous) is not None \
        or previous in _HIGH | _LOW
    if kind == "dimension" and group_cue:
        return -1.0
    if kind == "metric" and targets_both and group_cue:
        return 2.5
    if kind == "value" and previous in _VALUE_CUES:
        return 0.5
    return _KIND_RANK[kind]


def read_names(d: Draft, ctx: PlanningContext) -> Draft:
    """Metric, dimension, measure and value names among the free words, longest and best match first."""
    free = [not u for u in d.used]
    norms = [w.norm for w in d.words]
    by_span: dict[tuple[int, int, str], list[Any]] = {}
    for m in ctx.vocabulary.matches(norms, free):
        if m.end - m.start == 1 and (norms[m.start] in FILLER or norms[m.start] in STOP_WORDS) and \
                d.lower(m.start - 1) not in _GROUP_CUES:
            continue  # "did we make" is not the brand synonym "make" unless asked "by make"
        by_span.setdefault((m.start, m.end, m.term.kind), []).append(m)
    cands: list[Pick] = []
    spans_kinds: dict[tuple[int, int], set[str]] = {}
    for (start, end, kind), ms in by_span.items():
        spans_kinds.setdefault((start, end), set()).add(kind)
        ms.sort(key=lambda m: (_SOURCE_RANK.get(m.term.source, 4), -m.score))
        targets = tuple(dict.fromkeys(m.term.target for m in ms))
        best = max(ms, key=lambda m: m.score)
        cands.append(Pick(start, end, kind, targets, " ".join(w.raw for w in d.words[start:end]), best.score,
                          best.method))
    for hit in ctx.values.matches(d.words, free, ctx.vocabulary.words):
        spans_kinds.setdefault((hit.start, hit.end), set()).add("value")
        cands.append(Pick(hit.start, hit.end, "value", (), hit.phrase, hit.score, hit.method, hit.candidates))
    # A metric word that also names a dimension ("customers") remembers the dimension.
    dims_at = {(p.start, p.end): p.targets for p in cands if p.kind == "dimension"}
    cands = [replace(p, alt_dimensions=dims_at.get((p.start, p.end), ())) if p.kind == "metric" else p
             for p in cands]

    def key(p: Pick) -> tuple[float, float, float]:
        both = {"metric", "dimension"} <= spans_kinds[(p.start, p.end)]
        return (-(p.end - p.start), -round(p.score, 2), _rank(d, p.start, p.kind, both))

    chosen: list[Pick] = []
    taken = [False] * len(d.words)
    for p in sorted(cands, key=key):
        if any(taken[p.start:p.end]):
            continue
        chosen.append(p)
        for k in range(p.start, p.end):
            taken[k] = True
    chosen.sort(key=lambda p: p.start)
    chosen = _prefer_dimension_when_ranked(d, chosen)
    chosen = _drop_subject_nouns(d, chosen)
    for p in chosen:
        d = d.mark(p.start, p.end)
    return replace(d, picks=tuple(chosen))


_LIST_WORDS = {"and", "or", "vs", "versus", "plus", "with", "minus", "per", "/", "+", "-", "*", "over", "to",
               "times", "divided"}


def _drop_subject_nouns(d: Draft, picks: list[Pick]) -> list[Pick]:
    """A metric word that only describes what another metric is computed over is not a second metric:
    'gross profit for Corporate customers', 'cancellation rate for flights to Chicago', and 'how many flights
    were cancelled' (flights is the subject of cancelled_flights)."""
    metrics = [p for p in picks if p.kind == "metric"]
    subjects: set[int] = set()
    for k, p in enumerate(picks):
        if p.kind != "metric" or len(metrics) - len(subjects) < 2:
            continue
        after_value = k > 0 and picks[k - 1].kind == "value" and picks[k - 1].end == p.start
        earlier = [q for q in metrics if q.end <= p.start and id(q) not in subjects]
        if (after_value and p.alt_dimensions) or (earlier and d.lower(p.start - 1) in ("for", "of", "on", "among")):
            subjects.add(id(p))
            continue
        own = set(tokens(p.targets[0]))
        for q in metrics:
            if q is p or id(q) in subjects:
                continue
            between = {d.lower(i) for i in range(min(p.end, q.end), max(p.start, q.start))}
            if own < set(tokens(q.targets[0])) and not between & _LIST_WORDS:
                subjects.add(id(p))
                break
    return [replace(p, kind="subject") if id(p) in subjects else p for p in picks]


def _prefer_dimension_when_ranked(d: Draft, picks: list[Pick]) -> list[Pick]:
    """'customers by revenue': when another metric is the sort key, a metric word that can name a dimension does."""
    metric_picks = [p for p in picks if p.kind == "metric"]
    if len(metric_picks) < 2:
        return picks
    by_metric = [p for p in metric_picks if d.lower(p.start - 1) in ("by", "on") or d.rank_word]
    if not by_metric:
        return picks
    out = []
    for p in picks:
        if p.kind == "metric" and p.alt_dimensions and p is not by_metric[-1] and \
                not (d.lower(p.start - 1) in ("by",) and p is by_metric[0]):
            out.append(replace(p, kind="dimension", targets=p.alt_dimensions, method=p.method))
        else:
            out.append(p)
    return out


# -- stage 6: arithmetic ----------------------------------------------------------------------------------------

def read_arithmetic(d: Draft, ctx: PlanningContext) -> Draft:
    """'revenue minus cost', 'sum of A and B', 'revenue per order' (when no metric has that name) → ad-hoc metrics."""
    picks = list(d.picks)
    adhoc: list[AdhocMetric] = list(d.adhoc)
    inputs: list[str] = list(d.adhoc_inputs)
    notes: list[Evidence] = []
    i = 0
    while i < len(picks) - 1:
        a, b = picks[i], picks[i + 1]
        if a.kind != "metric" or b.kind != "metric":
            i += 1
            continue
        between = " ".join(d.lower(k) for k in range(a.end, b.start))
        before = " ".join(d.lower(k) for k in range(max(0, a.start - 3), a.start))
        op = _ARITHMETIC.get(between)
        if between == "and" and re.search(r"\b(sum|total)\s+of(\s+the)?$|\bcombined$", before):
            op = "+"
        elif between == "and" and re.search(r"\bdifference\s+between(\s+the)?$", before):
            op = "-"
        elif between == "to" and re.search(r"\bratio\s+of(\s+the)?$", before):
            op = "/"
        if op is None:
            i += 1
            continue
        left, right = a.targets[0], b.targets[0]
        name = f"{left}_{_ARITH_NAMES[op]}_{right}"
        adhoc.append(AdhocMetric(name, f"{left} {op} {right}"))
        inputs += [left, right]
        span_start = a.start
        for k in range(max(0, a.start - 3), a.start):
            if d.lower(k) in ("sum", "total", "difference", "ratio", "of", "between", "the"):
                span_start = min(span_start, k)
                break
        d = d.mark(span_start, b.end)
        notes.append(Evidence(" ".join(w.raw for w in d.words[span_start:b.end]), "metric", f"{left} {op} {right}",
                              min(a.score, b.score), "arithmetic"))
        del picks[i:i + 2]
    return replace(d, picks=tuple(picks), adhoc=tuple(adhoc), adhoc_inputs=tuple(inputs)).note(*notes)


# -- stage 7: checks ----------------------------------------------------------------------------------------------

def check_words(d: Draft, ctx: PlanningContext) -> Draft:
    """Refuse a question without a metric, or with a grouping or value the model does not know."""
    return check_placement(d, ctx, require_metric=True)


def check_placement(d: Draft, ctx: PlanningContext, *, require_metric: bool) -> Draft:
    """Refuse unknown groupings and values; without `require_metric`, a question may name no metric (follow-ups)."""
    unplaced: list[int] = [i for i, w in enumerate(d.words) if not d.used[i] and w.norm not in STOP_WORDS
                           and w.lower not in STOP_WORDS and w.lower not in FILLER and w.norm not in FILLER
                           and _number(w.lower) is None]
    metrics = [p for p in d.picks if p.kind == "metric"]
    measures = [p for p in d.picks if p.kind == "measure"]
    for p in measures:
        if not any(_metric_of_measure(ctx.layer, t) for t in p.targets):
            unplaced += list(range(p.start, p.end))
    words = [d.words[i].raw for i in sorted(set(unplaced))]
    if require_metric and not metrics and not d.adhoc and not any(
            _metric_of_measure(ctx.layer, t) for p in measures for t in p.targets):
        probe = " ".join(words) or d.question
        suggestions = ctx.vocabulary.nearest(probe, ("metric",), 5) or list(ctx.layer.metric_names()[:5])
        if words:
            what = "unplaced words: " + ", ".join(f"'{w}'" for w in words)
        else:
            found = [f"'{p.phrase}' ({p.targets[0] if p.targets else p.values[0].dimension})" for p in d.picks]
            what = "it names " + ", ".join(found) + " but no metric" if found else "no names found"
        raise PlanningError(f"I could not find a metric in the question ({what})",
                            "name one of the metrics, e.g. " + ", ".join(suggestions[:3]),
                            suggestions=suggestions, unmatched=words)
    groups = _runs(d, unplaced)
    in_dimension = {k for p in d.picks if p.kind == "dimension" for k in range(p.start, p.end)}
    for run in groups:
        first = run[0]
        while first - 1 in in_dimension:  # "by region size": the words after a grouping still belong to it
            first -= 1
        previous = d.lower(first - 1)
        phrase = " ".join(d.words[i].raw for i in run)
        ranked = d.rank_word is not None and (previous in _HIGH | _LOW or _number(previous) is not None
                                              or previous in ("which", "what"))
        if ranked or previous in ("by", "per", "across", "each") or f"{d.lower(first - 2)} {previous}" in ("for each",
                                                                                              "group by"):
            suggestions = ctx.vocabulary.nearest(phrase, ("dimension",), 5)
            raise PlanningError(f"I do not know a dimension called '{phrase}'",
                                "group by one of the dimensions of the model" + (
                                    ", e.g. " + ", ".join(suggestions[:3]) if suggestions else ""),
                                suggestions=suggestions, unmatched=[d.words[i].raw for i in run])
        looks_like_value = previous in _VALUE_CUES - {"and", "or", "of", "than", "with"} or any(
            d.words[i].raw[:1].isupper() and i > 0 for i in run)
        if looks_like_value:
            suggestions = _nearest_values(ctx, phrase)
            raise PlanningError(f"I could not place '{phrase}': it is not a metric, dimension or known value",
                                "check the spelling, or ask without it" + (
                                    "; close values: " + ", ".join(suggestions[:3]) if suggestions else ""),
                                suggestions=suggestions, unmatched=[d.words[i].raw for i in run])
    if words:
        d = d.note(Evidence(" ".join(words), "other", "ignored: not a known name", 0.0, "ignored"))
    return d


def _runs(d: Draft, indices: Iterable[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i in sorted(set(indices)):
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _nearest_values(ctx: PlanningContext, phrase: str) -> list[str]:
    from rapidfuzz import fuzz, process

    pool = sorted({v for vals in ctx.values.values.values() for v in vals})
    return [m[0] for m in process.extract(phrase, pool, scorer=fuzz.WRatio, limit=5, score_cutoff=60)]


def _metric_of_measure(layer: SemanticLayer, measure: str) -> str | None:
    for metric in layer.metrics:
        if metric.type == "simple" and metric.measure == measure and not metric.filter:
            return metric.name
    return None


# -- stage 8: the plan --------------------------------------------------------------------------------------------

def assemble(d: Draft, ctx: PlanningContext, context_metrics: Sequence[str] = ()) -> QueryPlan:
    """Turn the reading into a QueryPlan: metrics, dimensions, filters, time, comparison, order, limit.

    `context_metrics` (a follow-up's previous metrics) count for join reachability and ordering when the
    words name no metric; the returned plan then has no metrics of its own."""
    notes = list(d.evidence)
    metrics: list[str] = []
    for p in d.picks:
        if p.kind == "metric":
            name = p.targets[0]
        elif p.kind == "measure":
            name = next((m for t in p.targets if (m := _metric_of_measure(ctx.layer, t))), "")
        else:
            continue
        if name and name not in metrics:
            metrics.append(name)
            notes.append(Evidence(p.phrase, "metric", name, p.score, p.method))
    if d.time.to_date and d.time.grain:
        metrics = _running_totals(ctx, metrics, d.time.to_date, notes)
    all_metrics = metrics + [m for m in d.adhoc_inputs if m not in metrics]
    if not all_metrics:
        all_metrics = list(context_metrics)
    dims: list[DimensionRef] = []
    filters: list[Filter] = list(d.numeric)
    grain = d.time.grain
    default_time = {default_time_dimension(ctx.layer, m) for m in all_metrics} - {None}
    value_picks: dict[str, list[tuple[Pick, list[ValueCandidate]]]] = {}
    describing = _describing_dimensions(d)
    for p in d.picks:
        if p.kind == "subject":
            notes.append(Evidence(p.phrase, "other", "describes the filtered subset", p.score, p.method))
        elif p.kind == "dimension" and p.start in describing:
            notes.append(Evidence(p.phrase, "other", f"names the column of a value ({describing[p.start]})",
                                  p.score, p.method))
        elif p.kind == "dimension":
            target, how = _choose_dimension(ctx, p, all_metrics)
            p = replace(p, method=how)
            qd = ctx.layer.dimension(target)
            if qd.dimension.is_time:
                if target in default_time:
                    grain = grain or (qd.dimension.time_granularity or "day")
                    notes.append(Evidence(p.phrase, "dimension", f"{METRIC_TIME} by {grain}", p.score, p.method))
                    continue
                ref = DimensionRef(target, grain or qd.dimension.time_granularity or "day")
                grain = None
            else:
                ref = DimensionRef(target)
            if ref not in dims:
                dims.append(ref)
                notes.append(Evidence(p.phrase, "dimension", target, p.score, p.method))
        elif p.kind == "value":
            named = [t for q in d.picks if q.kind == "dimension" and describing.get(q.start) == p.phrase
                     for t in q.targets]
            narrowed = [c for c in p.values if c.dimension in named]
            if narrowed:  # "the Sports category", "state of Texas": the column is named next to the value
                p = replace(p, values=tuple(narrowed))
            dim, chosen = _choose_value_dimension(ctx, d, p, all_metrics)
            value_picks.setdefault(dim, []).append((p, chosen))
    for dim, items in value_picks.items():
        values = tuple(dict.fromkeys(c.value for _, c_list in items for c in c_list))
        negated = any(d.lower(p.start - 1) in _NEGATIONS or d.lower(p.start - 2) in _NEGATIONS for p, _ in items)
        op = ("!=" if negated else "=") if len(values) == 1 else ("not_in" if negated else "in")
        filters.append(Filter(dim, op, values))
        for p, c_list in items:
            notes.append(Evidence(p.phrase, "filter", f"{dim} {op} {', '.join(c.value for c in c_list)}", p.score,
                                  p.method))
    if grain:
        finer = _finer_dimension(ctx, grain, default_time, all_metrics)
        if finer is not None:
            dims.append(finer)
            notes.append(Evidence(grain, "dimension", finer.column, 0.9, "grain_below_date"))
        else:
            dims.append(DimensionRef(METRIC_TIME, grain))
    time_range = d.time.time_range
    if d.comparison and time_range is None:
        time_range = _default_comparison_range(d.comparison, grain, ctx.today)
        notes.append(Evidence("", "time", time_range.describe(), 1.0, "default for comparison"))
    if (d.time.time_range is not None or grain or d.comparison) and all_metrics and not default_time:
        raise PlanningError(f"{', '.join(all_metrics)} cannot be placed in time: no time dimension",
                            "ask without the time words, or pick a metric counted on a date",
                            suggestions=[m for m in ctx.layer.metric_names() if default_time_dimension(ctx.layer, m)][:5])
    order, limit = _ordering(d, ctx, metrics or list(context_metrics), dims, notes)
    return QueryPlan(tuple(metrics), tuple(dims), tuple(filters), time_range, None,
                     d.comparison, d.share, tuple(order), limit, tuple(d.adhoc), tuple(notes))


def _running_totals(ctx: PlanningContext, metrics: list[str], unit: str, notes: list[Evidence]) -> list[str]:
    """'YTD revenue by month': with a grouping, a to-date phrase asks for the running total, when the model
    has that cumulative metric (same measure and filter, restarting each `unit`)."""
    out = []
    for name in metrics:
        metric = ctx.layer.metric(name)
        found = next((c.name for c in ctx.layer.metrics if c.type == "cumulative" and c.grain_to_date == unit
                      and metric.type == "simple" and c.measure == metric.measure and c.filter == metric.filter
                      and not c.window), None)
        if found:
            notes.append(Evidence(f"{unit} to date", "metric", found, 0.9, "running_total"))
        out.append(found or name)
    return out


def _describing_dimensions(d: Draft) -> dict[int, str]:
    """Dimension words right next to a value of theirs ("Sports category", "state of Texas") name the value's
    column instead of asking for a grouping: start of the dimension pick → the value's phrase."""
    out: dict[int, str] = {}
    picks = list(d.picks)
    for k, p in enumerate(picks):
        if p.kind != "dimension" or d.lower(p.start - 1) in _GROUP_CUES:
            continue
        for q in (picks[k - 1] if k > 0 else None, picks[k + 1] if k + 1 < len(picks) else None):
            if q is None or q.kind != "value":
                continue
            gap = range(q.end, p.start) if q.end <= p.start else range(p.end, q.start)
            if all(d.lower(i) in ("of", "the", "=", "is") for i in gap) and \
                    any(c.dimension in p.targets for c in q.values):
                out[p.start] = q.phrase
                break
    return out


def _finer_dimension(ctx: PlanningContext, grain: str, default_time: set[str],
                     metrics: Sequence[str]) -> DimensionRef | None:
    """'by hour' on metrics counted on a date: a categorical dimension named like the grain ('departure hour'),
    else a time dimension of the same model stored finely enough ('order time' at hour)."""
    if grain not in TIME_GRAINS or not default_time:
        return None
    stored = [ctx.layer.dimension(t).dimension.time_granularity or "day" for t in default_time]
    if all(TIME_GRAINS.index(grain) >= TIME_GRAINS.index(s) for s in stored):
        return None
    for term in ctx.vocabulary.lookup(grain):
        if term.kind == "dimension" and not ctx.layer.dimension(term.target).dimension.is_time and \
                reachable(ctx, term.target, metrics):
            return DimensionRef(term.target)
    models = {ctx.layer.dimension(t).model.name for t in default_time}
    for qd in ctx.layer.dimensions():
        if qd.dimension.is_time and qd.model.name in models and \
                TIME_GRAINS.index(qd.dimension.time_granularity or "day") <= TIME_GRAINS.index(grain):
            return DimensionRef(qd.name, grain)
    return None


def _default_comparison_range(comparison: str, grain: str | None, today: dt.date) -> TimeRange:
    """A comparison needs a period: this year to date vs last year, else the last complete period."""
    if comparison == "same_period_last_year":
        start = period_start(today, "year")
        return TimeRange(start, today + dt.timedelta(days=1), f"year to date ({start.year})", "year")
    unit = grain if grain in ("week", "month", "quarter", "year") else "month"
    end = period_start(today, unit)
    start = shift(end, unit, -1)
    return TimeRange(start, end, f"last {unit} ({start.isoformat()} to {(end - dt.timedelta(days=1)).isoformat()})",
                     unit)


def _choose_dimension(ctx: PlanningContext, p: Pick, metrics: Sequence[str]) -> tuple[str, str]:
    """The reachable target of a dimension pick and how it was found; a longer name holding the words
    ('channel' → 'marketing channel') when no exact target reaches the metrics."""
    ok = [t for t in p.targets if reachable(ctx, t, metrics)]
    if ok:
        return min(ok, key=lambda t: (_distance(ctx, t, metrics), p.targets.index(t))), p.method
    words = set(tokens(p.phrase))
    wider = {t.target for t in ctx.vocabulary.terms if t.kind == "dimension" and words < set(t.phrase.split())
             and reachable(ctx, t.target, metrics)}
    if len(wider) == 1:
        return wider.pop(), "partial"
    names = ", ".join(metrics)
    reach = [qd.name for qd in ctx.layer.dimensions() if reachable(ctx, qd.name, metrics)]
    raise PlanningError(f"'{p.phrase}' ({p.targets[0]}) cannot be combined with {names}: no join path links them",
                        "pick a dimension the metric can be broken down by", suggestions=reach[:8],
                        unmatched=[p.phrase])


def _choose_value_dimension(ctx: PlanningContext, d: Draft, p: Pick,
                            metrics: Sequence[str]) -> tuple[str, list[ValueCandidate]]:
    by_dim: dict[str, list[ValueCandidate]] = {}
    for c in p.values:
        by_dim.setdefault(c.dimension, []).append(c)
    ok = [dim for dim in by_dim if reachable(ctx, dim, metrics)]
    if not ok:
        shown = ", ".join(sorted({c.value for c in p.values}))
        raise PlanningError(f"'{p.phrase}' is a value of {', '.join(by_dim)} ({shown}), which "
                            f"{', '.join(metrics)} cannot be filtered by",
                            "ask for a metric of that table, or filter on a dimension the metric reaches",
                            suggestions=list(by_dim), unmatched=[p.phrase])
    before = {d.lower(k) for k in range(max(0, p.start - 3), p.start)}
    after = d.lower(p.end)

    def role(dim: str) -> int:
        name = dim.lower()
        is_from = "origin" in name or "from" in name or "departure" in name
        is_to = "dest" in name or "arrival" in name
        if d.lower(p.start - 1) in _FROM_CUES or (before & _FROM_CUES and not before & _TO_CUES):
            return 0 if is_from else 1
        if d.lower(p.start - 1) in _TO_CUES or before & _TO_CUES:
            return 0 if is_to else 1
        if after in ("to", "-", "→"):
            return 0 if is_from else 1
        return 0 if is_from else 1 if is_to else 0

    order = sorted(ok, key=lambda dim: (role(dim), -_exact_case(p, by_dim[dim]), _distance(ctx, dim, metrics),
                                        list(by_dim).index(dim)))
    return order[0], by_dim[order[0]]


def _exact_case(p: Pick, cands: Sequence[ValueCandidate]) -> int:
    return int(any(c.value == p.phrase for c in cands))


def _ordering(d: Draft, ctx: PlanningContext, metrics: Sequence[str], dims: Sequence[DimensionRef],
              notes: list[Evidence]) -> tuple[list[OrderBy], int | None]:
    if d.direction is None:
        return [], None
    target = _order_metric(d, metrics) or (metrics[0] if metrics else d.adhoc[0].name if d.adhoc else None)
    if target is None:
        return [], d.limit
    direction = d.direction
    if direction in ("best", "worst"):
        lower_better = any(w in target for w in _LOWER_IS_BETTER)
        direction = "high" if (direction == "best") != lower_better else "low"
    limit = d.limit
    if limit is None and dims:
        first_dim_pick = next((p for p in d.picks if p.kind == "dimension"), None)
        plural = first_dim_pick is not None and any(w.raw.lower() != w.norm for w in
                                                    d.words[first_dim_pick.start:first_dim_pick.end])
        limit = 10 if plural else 1
    notes.append(Evidence(d.rank_word or "", "order", f"{target} {'desc' if direction == 'high' else 'asc'}", 1.0,
                          "keyword"))
    return [OrderBy(target, direction == "high")], limit


def _order_metric(d: Draft, metrics: Sequence[str]) -> str | None:
    for p in d.picks:
        if p.kind == "metric" and d.lower(p.start - 1) in ("by", "on") and p.targets[0] in metrics:
            return p.targets[0]
    return None


# -- the pipeline -------------------------------------------------------------------------------------------------

Stage = Callable[[Draft, PlanningContext], Draft]
STAGES: tuple[tuple[str, Stage], ...] = (
    ("time", read_time),
    ("ranking", read_ranking),
    ("share_and_growth", read_share_and_growth),
    ("numeric", read_numeric),
    ("names", read_names),
    ("arithmetic", read_arithmetic),
    ("checks", check_words),
)


def new_draft(question: str) -> Draft:
    """An empty reading of a question."""
    words = tuple(split_words(question))
    return Draft(question, words, tuple(False for _ in words))


def read_question(question: str, ctx: PlanningContext, *, require_metric: bool = True) -> Draft:
    """Run every reading stage; follow-ups pass require_metric=False and merge before assembling."""
    d = new_draft(question)
    for name, stage in STAGES:
        if name == "checks" and not require_metric:
            d = check_placement(d, ctx, require_metric=False)
            continue
        d = stage(d, ctx)
    return d


_VOCABULARY_CACHE: dict[tuple[str, tuple[tuple[str, str, str], ...]], Vocabulary] = {}


def cached_vocabulary(layer: SemanticLayer, synonyms: Iterable[Any] = ()) -> Vocabulary:
    """The vocabulary of a layer (+ learned synonyms), built once per model version and synonym set."""
    learned = tuple(sorted((str(s.term), str(s.target_kind), str(s.target)) for s in synonyms))
    key = (layer.version_hash, learned)
    vocab = _VOCABULARY_CACHE.get(key)
    if vocab is None:
        if len(_VOCABULARY_CACHE) > 32:
            _VOCABULARY_CACHE.clear()
        vocab = build_vocabulary(layer, synonyms)
        _VOCABULARY_CACHE[key] = vocab
    return vocab


def plan_question(question: str, layer: SemanticLayer, *, today: dt.date, value_index: ValueIndex,
                  synonyms: Iterable[Any] = (), previous: QueryPlan | None = None) -> QueryPlan:
    """Plan one question; with `previous`, a follow-up ("now by channel") is merged into it."""
    if not question.strip():
        raise PlanningError("the question is empty", "ask e.g. 'revenue by month last year'")
    ctx = PlanningContext(layer, cached_vocabulary(layer, synonyms), value_index, today)
    if previous is not None:
        from datatruth.ask.followup import is_followup, merge_followup

        if is_followup(question, ctx):
            return merge_followup(previous, question, ctx)
    return assemble(read_question(question, ctx), ctx)


class Planner:
    """A workspace's planner: the layer, its vocabulary and value index built once, then `plan()` per question."""

    def __init__(self, layer: SemanticLayer, value_index: ValueIndex, today: dt.date,
                 synonyms: Iterable[Any] = ()) -> None:
        self.layer = layer
        self.value_index = value_index
        self.today = today
        self.synonyms = tuple(synonyms)
        self.context = PlanningContext(layer, cached_vocabulary(layer, self.synonyms), value_index, today)

    @property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary questions are matched against."""
        return self.context.vocabulary

    def plan(self, question: str, previous: QueryPlan | None = None) -> QueryPlan:
        """Plan a question (a follow-up of `previous` when it reads like one); PlanningError when it cannot."""
        return plan_question(question, self.layer, today=self.today, value_index=self.value_index,
                             synonyms=self.synonyms, previous=previous)


_PLANNERS: dict[tuple[str, str, str, tuple[tuple[str, str, str], ...], dt.date], Planner] = {}


def _warehouse_fetch(ws: Any) -> Callable[[str], list[tuple[Any, ...]]]:
    def fetch(sql: str) -> list[tuple[Any, ...]]:
        result = ws.warehouse.run(sql, row_cap=MAX_DISTINCT + 1)
        if result.frame.empty:
            return []
        # tolist() turns numpy scalars into Python ints/floats, which the index uses to spot numeric columns
        return [(v,) for v in result.frame.iloc[:, 0].tolist()]

    return fetch


def build_planner(ws: Any, store: Any = None, layer: SemanticLayer | None = None) -> Planner:
    """The cached planner of a workspace: its semantic layer, learned synonyms (from `store`) and value index
    (persisted under the workspace data dir, rebuilt when the model version changes)."""
    from datatruth.semantic.model import load_semantic_model

    if layer is None:
        layer = load_semantic_model(ws.config.semantic_models)
    learned: tuple[Any, ...] = ()
    if store is not None:
        from datatruth.store.feedback import synonyms as learned_synonyms

        learned = tuple(learned_synonyms(store, ws.name))
    today = ws.config.today()
    key = (ws.name, str(ws.data_dir), layer.version_hash,
           tuple(sorted((s.term, s.target_kind, s.target) for s in learned)), today)
    planner = _PLANNERS.get(key)
    if planner is None:
        path = ws.data_dir / "ask" / "value_index.json"
        index = load_or_build(path, layer, _warehouse_fetch(ws), dialect=ws.warehouse.dialect,
                              sensitive=ws.config.sensitive_columns)
        planner = Planner(layer, index, today, learned)
        if len(_PLANNERS) > 16:
            _PLANNERS.clear()
        _PLANNERS[key] = planner
    return planner
