"""The planner's reading of a question so far (a frozen ReadingState): its words, which are placed, and what was
read.

Each reading stage takes a ReadingState and returns a new one with more words placed. A word is placed when a stage
reads it as part of something (a name, a value, a time phrase, a number with its unit, a comparator, a
ranking, an aggregate, a list or a function word); words left unplaced at the end make the planner refuse.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any

from datatruth.ask.lexicon import Lexicon
from datatruth.ask.timeparse import TimeMatch
from datatruth.ask.value_index import ValueCandidate, ValueIndex
from datatruth.ask.vocabulary import Vocabulary, Word
from datatruth.semantic.joins import JoinGraph
from datatruth.semantic.model import SemanticLayer
from datatruth.semantic.plan import Evidence, FilteredInput
from datatruth.semantic.units import Unit

_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "thousand": 1000,
    "half": 0.5,
    "dozen": 12,
}


def number_of(word: str) -> float | None:
    """The number a word writes ("1,000", "$5k", "20%", "two", "2.5"), or None."""
    text = word.lower().strip()
    if text in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[text])
    if text.startswith("-") and text[1:2].isdigit():  # "-10": a number below zero
        found = number_of(text[1:])
        return -found if found is not None else None
    text = text.lstrip("$").rstrip("%")
    scale = 1.0
    if text[-1:] in ("k", "m", "b") and text[:-1].replace(",", "").replace(".", "", 1).isdigit():
        scale = {"k": 1e3, "m": 1e6, "b": 1e9}[text[-1]]
        text = text[:-1]
    text = text.replace(",", "")
    if not text or text.count(".") > 1 or not text.replace(".", "", 1).isdigit():
        return None
    return float(text) * scale


@dataclass(frozen=True)
class Pick:
    """One reading of words [start, end): a metric, dimension, entity, concept, measure, value or phrasing."""

    start: int
    end: int
    kind: str  # metric | dimension | entity | concept | measure | value | phrasing | subject
    targets: tuple[str, ...]  # names, best first (values: unused; phrasings: their index as text)
    phrase: str
    score: float
    method: str
    values: tuple[ValueCandidate, ...] = ()
    alts: tuple[tuple[str, tuple[str, ...]], ...] = ()  # other readings of the same words: (kind, targets)

    def alt(self, kind: str) -> tuple[str, ...]:
        """The targets of this span read as another kind, or ()."""
        return next((t for k, t in self.alts if k == kind), ())


@dataclass(frozen=True)
class NumberSpan:
    """A number with its comparator and unit: "more than 3 hours", "at least 20%", "between 100 and 200"."""

    start: int  # first word (the comparator when there is one)
    end: int
    op: str  # = != < <= > >= between
    values: tuple[float, ...]
    unit: Unit | None
    phrase: str
    number_at: int  # the first number word
    comparator: str = ""  # the comparator's words ("" when none was written)
    # a length of time between two dates of the row (qualified names): "more than 20 days from opening to
    # closing" is (claim_open_date, claim_close_date)
    between: tuple[str, str] | None = None


@dataclass(frozen=True)
class AggWord:
    """An aggregate word: "average", "median", "how many distinct", "longest" (max), "total"."""

    start: int
    end: int
    function: str  # avg | median | min | max | sum | count | count_distinct
    phrase: str
    distinct: bool = False
    period: str | None = None  # "how many hours …": the periods of this grain are counted, not a column


@dataclass(frozen=True)
class Definition:
    """A metric defined in the question: "total loss, where total loss means loss payments plus expense
    payments". `name` is the defined words (normalised), `expr` the arithmetic over metric names."""

    name: str
    label: str
    expr: str
    inputs: tuple[str, ...]
    phrase: str
    start: int = 0  # the words of the definition clause
    end: int = 0
    named: tuple[int, int] = (
        0,
        0,
    )  # the words of the defined name ("refund share"), read as that metric only
    filtered: tuple[FilteredInput, ...] = ()  # figures of the expression counted over some rows
    # or a row's ratio of two numeric columns (qualified names), when the defined thing is per row
    ratio: tuple[str, str] | None = None
    # or the whole days between two dates of a row (earlier, later): "claim close date minus claim open date"
    days: tuple[str, str] | None = None


@dataclass(frozen=True)
class DaysBetween:
    """An aggregate of the days between two dates of each row: "the average number of days from claim open date
    to claim close date", "median days between order date and return date"."""

    start: int  # the words of the whole phrase
    end: int
    function: str  # avg | median | min | max | sum
    since: str  # the earlier date (qualified dimension)
    until: str  # the later date
    phrase: str


@dataclass(frozen=True)
class Ranking:
    """Top/bottom N, most/least, best/worst, or an explicit sort: direction and optional limit."""

    start: int
    end: int
    direction: str  # high | low | best | worst
    word: str
    limit: int | None = None
    sort_only: bool = False  # "biggest first": every row, in that order


@dataclass(frozen=True)
class PlanningContext:
    """What planning a question needs besides its words."""

    layer: SemanticLayer
    vocabulary: Vocabulary
    values: ValueIndex
    today: dt.date
    lexicon: Lexicon
    graph: JoinGraph = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "graph", JoinGraph.of(self.layer))


@dataclass(frozen=True)
class ReadingState:
    """The planner's reading so far; each stage returns a new ReadingState."""

    question: str
    words: tuple[Word, ...]
    used: tuple[bool, ...]
    time: TimeMatch = TimeMatch()
    ranking: Ranking | None = None
    share: bool = False
    comparison: str | None = None
    picks: tuple[Pick, ...] = ()
    numbers: tuple[NumberSpan, ...] = ()
    aggs: tuple[AggWord, ...] = ()
    days_between: tuple[DaysBetween, ...] = ()
    definitions: tuple[Definition, ...] = ()
    adhoc: tuple[Any, ...] = ()  # AdhocMetric from arithmetic between metric names
    adhoc_inputs: tuple[str, ...] = ()
    growth: bool = False  # "grew fastest": rank by change against the previous period
    evidence: tuple[Evidence, ...] = ()

    def lower(self, i: int) -> str:
        """The lower-case word at i, or '' outside the question."""
        return self.words[i].lower if 0 <= i < len(self.words) else ""

    def norm(self, i: int) -> str:
        """The normalised (singular) word at i, or '' outside the question."""
        return self.words[i].norm if 0 <= i < len(self.words) else ""

    def gap(self, i: int) -> str:
        """The characters between word i-1 and word i (punctuation such as ',', '(' or ')')."""
        if i <= 0 or i > len(self.words):
            return ""
        end = self.words[i].start if i < len(self.words) else len(self.question)
        return self.question[self.words[i - 1].end : end]

    def unowned_name(self, definition: Definition) -> list[str]:
        """A defined name's words without its owner ("a claim's outstanding reserve", "the expense share of a
        claim" are used as "the outstanding reserve", "the expense share"), or [] when it names none."""
        words = self.words[definition.named[0] : definition.named[1]]
        k = 0
        while k < len(words) - 1 and words[k].lower in ("a", "an", "the", "each", "every"):
            k += 1
        if k < len(words) - 1 and words[k].possessive:
            return [w.norm for w in words[k + 1 :]]
        if (
            len(words) >= 4
            and words[-3].lower == "of"
            and words[-2].lower in ("a", "an", "the", "each", "every")
        ):
            return [w.norm for w in words[:-3] if w.lower not in ("a", "an", "the")]
        return []

    def mark(self, start: int, end: int) -> ReadingState:
        """The reading with words [start, end) used."""
        used = list(self.used)
        for k in range(max(0, start), min(end, len(used))):
            used[k] = True
        return replace(self, used=tuple(used))

    def note(self, *items: Evidence) -> ReadingState:
        """The reading with more evidence."""
        return replace(self, evidence=self.evidence + items)

    def text(self, start: int, end: int) -> str:
        """The words [start, end) as written."""
        return " ".join(w.raw for w in self.words[max(0, start) : end])

    def replaced(self, start: int, end: int, text: str) -> str:
        """The question with words [start, end) written as `text` (the rest as typed)."""
        if start >= end or start < 0 or end > len(self.words):
            return self.question
        left, right = self.question[: self.words[start].start], self.question[self.words[end - 1].end :]
        return " ".join((left.rstrip() + " " + text + " " + right.lstrip()).split())

    def pick_at(self, i: int) -> Pick | None:
        """The pick covering word i, or None."""
        return next((p for p in self.picks if p.start <= i < p.end), None)


_DATE_DIFF = re.compile(
    r"\bdate_?diff\s*\(\s*(?:'(day|hour|minute|second)'|[^()]*,\s*(day|hour|minute|second)\s*\))"
)


def metric_unit(layer: SemanticLayer, metric: str) -> str | None:
    """The unit of a simple metric's values: its column's declared unit, or the unit of a date difference
    (`DATEDIFF(close, open, DAY)` counts days)."""
    m = layer.metric(metric)
    if m.type != "simple" or not m.measure:
        return None
    model, measure = layer.measure(m.measure)
    if measure.agg not in ("sum", "avg", "min", "max", "median", "percentile"):
        return None
    expr = measure.expr.strip().lower()
    column = next((d for d in model.dimensions if d.expr.strip().lower() == expr and d.unit), None)
    if column is not None:
        return column.unit
    found = _DATE_DIFF.search(expr)
    return f"{found.group(1) or found.group(2)}s" if found else None


def name_unit(layer: SemanticLayer, kind: str, target: str) -> str | None:
    """The unit a picked name's values are held in (a column's declared unit, a metric's column's), or None."""
    if kind == "dimension" and layer.has_dimension(target):
        return layer.dimension(target).dimension.unit
    if kind == "metric" and layer.has_metric(target):
        return metric_unit(layer, target)
    return None


def model_verbs(layer: SemanticLayer) -> frozenset[str]:
    """The words of the model's phrasings that say where a relation is recorded ("fly", "flown", "returned")."""
    return frozenset(
        w
        for ph in layer.phrasings
        if ph.model
        for text in ph.words
        for w in text.lower().split()
        if w not in _PARTICLES  # "got in", "took off": the verb, never the particle
    )


_PARTICLES = frozenset(
    {"in", "off", "up", "out", "on", "back", "down", "over", "away", "to", "by", "at", "for"}
)


def is_numeric(ctx: PlanningContext, dimension: str) -> bool:
    """True when a dimension holds numbers (declared with a unit, or numbers seen in the warehouse)."""
    qd = ctx.layer.dimension(dimension)
    return bool(qd.dimension.unit) or ctx.values.numeric.get(dimension, "bool") != "bool"


def holds_words(ctx: PlanningContext, dimension: str) -> bool:
    """True for a column of words (not numbers, not dates): its maximum or average means nothing."""
    return ctx.layer.dimension(dimension).dimension.type != "time" and not is_numeric(ctx, dimension)


def additive(layer: SemanticLayer, metric: str) -> bool:
    """True for a total or a count (or sums and differences of them): its values of disjoint rows add up."""
    m = layer.metric(metric)
    if m.type != "simple":
        return (
            m.type == "derived"
            and all(additive(layer, x) for x in m.input_metrics())
            and all(op not in (m.expr or "") for op in "/*")
        )
    if m.measure is None:
        return False
    return layer.measure(m.measure)[1].agg in ("sum", "count", "count_distinct")


def said_on_average(d: ReadingState) -> int | None:
    """Where a free "on average" is said (both words not yet placed), or None."""
    return next(
        (
            k
            for k in range(len(d.words) - 1)
            if d.lower(k) == "on" and d.lower(k + 1) == "average" and not d.used[k] and not d.used[k + 1]
        ),
        None,
    )


def ranked_by_at(d: ReadingState, start: int) -> bool:
    """ "top 3 brands by refunds": 'by' right before word `start`, after a ranking that cuts (a number, or
    'top' / 'bottom'); what follows names what ranks."""
    r = d.ranking
    return (
        r is not None
        and d.lower(start - 1) == "by"
        and r.end < start
        and (r.limit is not None or r.word in ("top", "bottom"))
    )


def sentence_ends_before(d: ReadingState, i: int) -> bool:
    """True when a sentence ends right before word i ("… total claim amount. What is …")."""
    if i <= 0 or i >= len(d.words):
        return False
    before = d.question[d.words[i - 1].start : d.words[i].start].rstrip()
    return before.endswith((".", "?", "!")) and not re.search(
        r"\b(?:i\.e|e\.g|vs|inc|co|st|no)\.$", before.lower()
    )


def counts_things(ctx: PlanningContext, metric: str) -> bool:
    """True for a metric that counts rows or members: its measure counts, or sums 1 per row (the dbt import's
    "number of policies")."""
    found = ctx.layer.metric(metric)
    if found.type != "simple" or found.measure is None:
        return False
    measure = ctx.layer.measure(found.measure)[1]
    return (
        measure.agg in ("count", "count_distinct")
        or measure.agg == "sum"
        and (measure.expr or "").strip() == "1"
    )
