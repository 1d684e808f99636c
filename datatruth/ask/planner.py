"""The deterministic planner: a plain-words question → a QueryPlan, with evidence for every choice, no network.

Precision before coverage. Reading stages (datatruth/ask/readers.py) place the words of the question: inline
definitions, time phrases, numbers with comparators and units, rankings, shares and growth, names of the model
(metrics, dimensions, entities, concepts, phrasings) and values, aggregates, arithmetic. Assembly
(datatruth/ask/assemble.py) decides what each piece does and builds the plan. Then the checks: every word must be
placed (or be a function word of the lexicon), and the plan must hold together. When a check fails the planner
refuses with what it understood so far, the words it could not place, and up to three questions it can answer.
It never invents a metric and never writes SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from datatruth import resources
from datatruth.ask import named_conditions
from datatruth.ask.assemble import Assembled, assemble, default_time_dimension, metric_models, reachable
from datatruth.ask.interpret import interpret
from datatruth.ask.lexicon import default_lexicon
from datatruth.ask.readers import (
    read_aggregates,
    read_arithmetic,
    read_days_between,
    read_definitions,
    read_durations,
    read_names,
    read_natural_order,
    read_numbers,
    read_ranking,
    read_share_and_growth,
    read_spelling,
    read_time,
    runs,
    unplaced,
)
from datatruth.ask.reading import PlanningContext, ReadingState
from datatruth.ask.value_index import MAX_DISTINCT, ValueIndex, load_or_build
from datatruth.ask.vocabulary import Vocabulary, build_vocabulary, plural, split_words
from datatruth.errors import PlanningError, UserError
from datatruth.semantic.model import SemanticLayer
from datatruth.semantic.plan import Evidence, QueryPlan

__all__ = [
    "MAX_QUESTION_CHARS",
    "RulePlanner",
    "PlanningContext",
    "build_planner",
    "default_time_dimension",
    "low_confidence",
    "metric_models",
    "plan_question",
    "reachable",
    "read_question",
]

MAX_QUESTION_CHARS = 500  # a question, not an essay: longer text is refused before any reading
MAX_CHOICES = 3
_MAX_CHOICE_CHARS = 120
# a quote closing a value followed by OR/AND, or a number compared with a number: SQL written into a question
_TAUTOLOGY = re.compile(r"'\s*(?:or|and)\s|\b(\d+)'?\s*=\s*'?(\d+)\b", re.IGNORECASE)
NAMED = "named in the question"  # the method of a condition the question names before using it
_LOW_METHODS = ("partial", "phonetic", "meaning", "fuzzy", "corrected")

Stage = Callable[[ReadingState, PlanningContext], ReadingState]
STAGES: tuple[tuple[str, Stage], ...] = (
    ("time", read_time),  # first: time words inside a definition ("refunds paid in 2025") are the question's
    ("natural_order", read_natural_order),  # before spelling: "in year order" is not "in year older"
    ("spelling", read_spelling),
    ("definitions", read_definitions),
    ("numbers", read_numbers),
    ("durations", read_durations),
    (
        "days_between",
        read_days_between,
    ),  # "the average number of days from open date to close date"  # before names: the dates a length of time runs between are not groupings
    ("ranking", read_ranking),
    ("share_and_growth", read_share_and_growth),
    ("names", read_names),
    ("aggregates", read_aggregates),
    ("arithmetic", read_arithmetic),
)


# "…; drop table orders" is a second SQL statement; "…; only stores in Texas" is a clause of the question
_STATEMENT_AFTER_SEMICOLON = re.compile(
    r";\s*(?:select|drop|delete|insert|update|alter|create|truncate|grant|revoke|exec|execute|union|with|"
    r"attach|copy|pragma|set|call|merge|replace|load|install)\b|;\s*$",
    re.IGNORECASE,
)


def check_length(question: str) -> None:
    """Refuse questions over the length cap before reading them (planning time then stays bounded), and text
    that is SQL rather than a question (';' ends a statement, '--' and '/*' start comments)."""
    if len(question) > MAX_QUESTION_CHARS:
        raise PlanningError(
            f"the question is {len(question):,} characters long; questions are limited to "
            f"{MAX_QUESTION_CHARS} characters",
            "ask one thing at a time, e.g. 'revenue by region last quarter'",
        )
    for mark in (";", "--", "/*", "*/"):
        if (mark in question and mark != ";") or (
            mark == ";" and _STATEMENT_AFTER_SEMICOLON.search(question)
        ):
            raise PlanningError(
                f"'{mark}' is not part of a question: it separates or comments SQL statements",
                "ask one question in words; to run your own SQL use the SQL page or %%dt_sql",
            )
    if _TAUTOLOGY.search(question):
        raise PlanningError(
            "the question ends a quoted value and adds a SQL condition (like \"' OR '1'='1\"); "
            "that is SQL, not a question",
            "ask in words; quotes go around a value only",
        )


def new_reading(question: str) -> ReadingState:
    """An empty reading of a question."""
    words = tuple(split_words(question))
    return ReadingState(question, words, tuple(False for _ in words))


# "fire claims with 10 firefighters - how many?": a count asked after the things it counts
_TRAILING_COUNT = re.compile(
    r"^(?P<body>.*?\w)\s*[-–—:,]\s*how\s+many(?:\s+(?:are|were|is|was)\s+there)?(?:\s+in\s+total)?\s*\??\s*$",
    re.IGNORECASE,
)


def count_first(question: str) -> str:
    """A count asked after what it counts, said the usual way round ("X - how many?" is "how many X?")."""
    m = _TRAILING_COUNT.match(question)
    if m is None or re.match(r"\s*(?:how\s+many|count|number)\b", m.group("body"), re.IGNORECASE):
        return question
    return f"how many {m.group('body')}?"


def read_question(question: str, ctx: PlanningContext) -> ReadingState:
    """Run every reading stage over the question."""
    check_length(question)
    text, named = named_conditions.expand(count_first(question))
    d = new_reading(text)
    if named is not None:
        said = f"{named.noun} {named.condition}"
        d = d.note(Evidence(named.name, "filter", said, 1.0, NAMED))
    for _name, stage in STAGES:
        d = stage(d, ctx)
    return d


def low_confidence(plan: QueryPlan) -> tuple[Any, ...]:
    """The evidence of a plan read with low confidence (typos, partial names, meanings from the vector index)."""
    return tuple(
        e
        for e in plan.evidence
        if e.kind in ("metric", "dimension", "filter", "word")
        and (e.score < 0.85 or e.method in _LOW_METHODS)
    )


def finish(
    d: ReadingState,
    ctx: PlanningContext,
    context_metrics: Sequence[str] = (),
    *,
    with_choices: bool = True,
    followup: bool = False,
) -> QueryPlan:
    """Assemble the reading into a plan and check it: every word placed, the plan consistent."""
    from datatruth.ask.consistency import check_plan

    built = assemble(d, ctx, context_metrics)
    left = unplaced(built.reading, ctx)
    problems = list(built.problems)
    plan = built.plan
    if not problems and (plan.outputs or plan.dimensions):
        problems += check_plan(plan, ctx.layer)
    if not problems and not left and not followup and (plan.outputs or plan.dimensions):
        problems += compile_problems(plan, ctx)  # a follow-up's plan is checked once merged
    nothing = not (plan.metrics or plan.adhoc_metrics or plan.aggregates or plan.dimensions)
    if not left and not problems and nothing and not followup:
        problems.append("I could not find anything to compute or list in the question")
    if not left and not problems:
        return plan
    raise _refusal(d, ctx, built, left, problems, with_choices)


def plan_fragment(text: str, ctx: PlanningContext) -> QueryPlan | None:
    """A part of a question read as a question of its own ("flights that left more than 15 minutes late"),
    or None when it does not read fully (no choices are built for it)."""
    try:
        return finish(read_question(text, ctx), ctx, with_choices=False)
    except PlanningError:
        return None


def _refusal(
    d: ReadingState,
    ctx: PlanningContext,
    built: Assembled,
    left: list[int],
    problems: list[str],
    with_choices: bool,
) -> PlanningError:
    words = [d.words[i].raw for i in left]
    phrases = [" ".join(d.words[i].raw for i in run) for run in runs(left)]
    understood = _understood(built, ctx)
    if phrases:
        shown = ", ".join(f"'{p}'" for p in phrases)
        message = f"I could not place {shown} in the question"
        if understood:
            message += f"; I understood: {understood}"
    else:
        message = problems[0]
        if understood:
            message += f" (I understood: {understood})"
    suggestions = []
    for p in phrases:
        suggestions += [
            s for s in ctx.vocabulary.nearest(p, ("metric", "dimension"), 3) if s not in suggestions
        ]
        suggestions += [v for v in _nearest_values(ctx, p) if v not in suggestions]
    choices = _choices(d, ctx, left, built.rewrites, understood) if with_choices else []
    hint_parts = []
    if len(problems) > (0 if phrases else 1):
        hint_parts += problems[0 if phrases else 1 :]
    if choices:
        hint_parts.append("you could ask: " + " | ".join(f"'{c}'" for c in choices))
    elif suggestions:
        hint_parts.append("close names: " + ", ".join(suggestions[:5]))
    else:
        hint_parts.append("rephrase with the names of the model's metrics and dimensions")
    return PlanningError(message, "; ".join(hint_parts), suggestions[:8], words, understood, choices)


def _understood(built: Assembled, ctx: PlanningContext) -> str:
    plan = built.plan
    if not (plan.outputs or plan.dimensions or plan.filters or plan.time_range):
        return ""
    if not (plan.outputs or plan.dimensions):
        from datatruth.ask.interpret import filter_words, range_words

        parts = [filter_words(ctx.layer, f) for f in plan.filters]
        if plan.time_range is not None:
            parts.append(range_words(plan.time_range))
        return "; ".join(parts)
    try:
        return interpret(plan, ctx.layer)
    except (KeyError, ValueError, AttributeError):
        return plan.describe()


def _nearest_values(ctx: PlanningContext, phrase: str) -> list[str]:
    from rapidfuzz import fuzz, process

    # a value far shorter than the phrase ("A") matches any phrase it is part of: never a name to offer
    pool = sorted({v for vals in ctx.values.values.values() for v in vals if 2 * len(v) >= len(phrase)})
    return [m[0] for m in process.extract(phrase, pool, scorer=fuzz.WRatio, limit=3, score_cutoff=80)]


_GROUP_WORDS = frozenset({"by", "per", "each", "across", "every"})
_VALUE_WORDS = frozenset(
    {
        "in",
        "for",
        "from",
        "to",
        "at",
        "on",
        "of",
        "with",
        "without",
        "excluding",
        "except",
        "via",
        "into",
        "about",
        "named",
        "called",
    }
)


def _choices(
    d: ReadingState, ctx: PlanningContext, left: list[int], rewrites: Sequence[str] = (), understood: str = ""
) -> list[str]:
    """Up to three questions the planner can answer, close to the one asked: the rewrites assembly proposed,
    each unplaced phrase replaced by the nearest name of the kind its place asks for (a dimension after 'by',
    a value after 'in'/'for', else a metric or a grouping), the question without it, and the nearest metrics.
    Each one is planned before it is offered."""
    candidates: list[str] = list(rewrites)
    if not understood:
        # nothing of the question was understood: the model's own first numbers are the closest thing to offer
        candidates += [_name_words(ctx, m) for m in ctx.layer.metric_names()[:3]]
    for run in runs(left):
        first, last = run[0], run[-1] + 1
        phrase = " ".join(d.words[i].raw for i in run)
        before = d.lower(first - 1)
        if before in _GROUP_WORDS:
            names = [
                _name_words(ctx, t, bare=True) for t in ctx.vocabulary.nearest(phrase, ("dimension",), 3)
            ]
            candidates += [d.replaced(first, last, n) for n in names]
            candidates.append(d.replaced(first - 1, last, ""))
        elif before in _VALUE_WORDS:
            candidates += [d.replaced(first, last, v) for v in _nearest_values(ctx, phrase)]
            candidates.append(d.replaced(first - 1, last, ""))
        else:
            while first < last - 1 and (
                d.lower(first) in ctx.lexicon.function_words or d.lower(first) == "many"
            ):
                first += 1  # "how many pilots": the unknown noun is what to replace
            names = [_name_words(ctx, t) for t in ctx.vocabulary.nearest(phrase, ("metric",), 3)] or [
                _name_words(ctx, m) for m in ctx.layer.metric_names()[:3]
            ]  # nothing near: the first metrics
            names += [_entity_words(ctx, t) for t in ctx.vocabulary.nearest(phrase, ("entity",), 2)]
            # a misspelt name ("Amercan flights") is closer to a value than to any metric
            names = _nearest_values(ctx, " ".join(d.words[i].raw for i in range(first, last))) + names
            candidates += [d.replaced(first, last, n) for n in names]
            candidates.append(d.replaced(first, last, ""))
    if left:
        dropped = set(left) | {
            run[0] - 1 for run in runs(left) if d.lower(run[0] - 1) in _GROUP_WORDS | _VALUE_WORDS
        }
        # "how many" stays whole when the word after it goes ("how many Amrcan flights" → "how many flights")
        dropped -= {i for i in left if d.lower(i) in ("many", "much") and d.lower(i - 1) == "how"}
        candidates.append(" ".join(w.raw for i, w in enumerate(d.words) if i not in dropped))
    candidates += [_name_words(ctx, m) for m in ctx.layer.metric_names()[:3]]
    out: list[str] = []
    for text in candidates:
        text = _tidy(text)
        if not text or text in out or text == d.question:
            continue
        if not _answerable(text, ctx):
            continue
        out.append(text)
        if len(out) >= MAX_CHOICES:
            break
    return out


def compile_problems(plan: QueryPlan, ctx: PlanningContext) -> list[str]:
    """A plan the compiler refuses is a refusal of the planner (with the reading so far and choices), never an
    error after planning. Compiled once per plan: the compiler caches by plan."""
    from datatruth.semantic.compiler import compile_plan

    try:
        compile_plan(plan, ctx.layer, "duckdb")
    except PlanningError:
        raise
    except UserError as err:
        return [err.message]
    return []


def _answerable(text: str, ctx: PlanningContext) -> bool:
    """True when a candidate choice plans and its plan compiles: only answerable questions are offered."""
    from datatruth.semantic.compiler import compile_plan

    try:
        compile_plan(finish(read_question(text, ctx), ctx, with_choices=False), ctx.layer, "duckdb")
    except UserError:  # PlanningError is one: the candidate is not offered
        return False
    return True


def _entity_words(ctx: PlanningContext, entity: str) -> str:
    model = ctx.layer.entity_model(entity)
    owner = model.primary_entity if model is not None else None
    title = owner.title if owner is not None and owner.name == entity else entity.replace("_", " ")
    return plural(title.lower())


def _tidy(text: str) -> str:
    """A candidate question without the words left dangling at its end ("revenue on" → "revenue")."""
    words = text.split()
    while words and words[-1].lower().strip(",") in _GROUP_WORDS | _VALUE_WORDS | {
        "where",
        "when",
        "and",
        "or",
        "the",
        "a",
        "than",
    }:
        words.pop()
    # a name put in place of an unknown word next to the same noun ("how many flights flights") says it once
    words = [w for k, w in enumerate(words) if k == 0 or w.lower() != words[k - 1].lower()]
    return " ".join(words).rstrip(",")


def _name_words(ctx: PlanningContext, target: str, *, bare: bool = False) -> str:
    layer = ctx.layer
    if layer.has_metric(target):
        m = layer.metric(target)
        return (m.label or m.name.replace("_", " ")).lower()
    if layer.has_dimension(target):
        dim = layer.dimension(target).dimension
        label = (dim.label or dim.name.replace("_", " ")).lower()
        return label if bare else "by " + label
    return target.replace("_", " ")


def cached_vocabulary(layer: SemanticLayer, synonyms: Iterable[Any] = ()) -> Vocabulary:
    """The vocabulary of a layer (+ learned synonyms), built once per model version and synonym set."""
    learned = tuple(sorted((str(s.term), str(s.target_kind), str(s.target)) for s in synonyms))
    # Keyed by the model's content, not by a workspace: workspaces with the same model share it.
    return resources.get(
        "vocabulary",
        resources.SHARED,
        lambda: build_vocabulary(layer, synonyms),
        slot=(layer.version_hash, learned),
    )


def context_for(
    layer: SemanticLayer, value_index: ValueIndex, today: dt.date, synonyms: Iterable[Any] = ()
) -> PlanningContext:
    """The planning context of a layer: its vocabulary, value index, clock and lexicon (with its periods)."""
    return PlanningContext(
        layer, cached_vocabulary(layer, synonyms), value_index, today, default_lexicon().with_model(layer)
    )


def plan_question(
    question: str,
    layer: SemanticLayer,
    *,
    today: dt.date,
    value_index: ValueIndex,
    synonyms: Iterable[Any] = (),
    previous: QueryPlan | None = None,
) -> QueryPlan:
    """Plan one question; with `previous`, a question that reads as a follow-up ("now by channel") is merged."""
    return plan_in_context(question, context_for(layer, value_index, today, synonyms), previous)


def plan_in_context(question: str, ctx: PlanningContext, previous: QueryPlan | None = None) -> QueryPlan:
    """Plan one question with a ready planning context (a planner's own, which may come from a snapshot)."""
    try:
        if not question.strip():
            raise PlanningError("the question is empty", "ask e.g. 'revenue by month last year'")
        check_length(question)
        if previous is not None:
            from datatruth.ask.followup import is_followup, merge_followup

            if is_followup(question, ctx):
                return merge_followup(previous, question, ctx)
        return finish(read_question(question, ctx), ctx)
    except PlanningError as err:
        raise _completed(err, question, ctx) from None


NOTHING_YET = "nothing yet: no metric, list or filter was recognised"


def _completed(err: PlanningError, question: str, ctx: PlanningContext) -> PlanningError:
    """Every refusal says what was understood (or that nothing was) and offers at least one question that can
    be answered: for refusals raised before assembly (length, SQL marks, impossible dates, empty text), the
    question cut at the problem, without its numbers, or the model's first metrics."""
    offered = [] if err.interpretation else err.choices  # a reader's rewrites are planned here, like the rest
    if not err.interpretation:
        err.interpretation = NOTHING_YET
    if err.choices and not offered:
        return err
    head = re.split(r";|--|/\*|\*/|[.?!\n]", question[:MAX_QUESTION_CHARS], maxsplit=1)[0]
    undated = " ".join(w for w in question[:MAX_QUESTION_CHARS].split() if not any(ch.isdigit() for ch in w))
    candidates = [*offered, head, undated] + [_name_words(ctx, m) for m in ctx.layer.metric_names()[:3]]
    out: list[str] = []
    for text in candidates:
        text = _tidy(text)
        if not text or text == question or text in out or len(text) > _MAX_CHOICE_CHARS:
            continue  # a choice is a short question to click, never a paragraph
        if not _answerable(text, ctx):
            continue
        out.append(text)
        if len(out) >= MAX_CHOICES:
            break
    err.choices = out
    if out and "you could ask" not in err.hint:
        err.hint = (
            (err.hint + "; " if err.hint else "") + "you could ask: " + " | ".join(f"'{c}'" for c in out)
        )
    return err


@dataclass(frozen=True)
class Planned:
    """A plan with its interpretation in words."""

    plan: QueryPlan
    interpretation: str


class RulePlanner:
    """A workspace's planner: the layer, its vocabulary and value index built once, then `plan()` per question."""

    def __init__(
        self, layer: SemanticLayer, value_index: ValueIndex, today: dt.date, synonyms: Iterable[Any] = ()
    ) -> None:
        self.layer = layer
        self.value_index = value_index
        self.today = today
        self.synonyms = tuple(synonyms)
        self.context = context_for(layer, value_index, today, self.synonyms)

    @property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary questions are matched against."""
        return self.context.vocabulary

    def complete(self, err: PlanningError, question: str) -> PlanningError:
        """A refusal raised outside the planner made like its own: an interpretation and choices that plan."""
        return _completed(err, question, self.context)

    def plan(self, question: str, previous: QueryPlan | None = None) -> QueryPlan:
        """Plan a question (a follow-up of `previous` when it reads like one); PlanningError when it cannot."""
        return plan_in_context(question, self.context, previous)


def _warehouse_fetch(ws: Any) -> Callable[[str], list[tuple[Any, ...]]]:
    def fetch(sql: str) -> list[tuple[Any, ...]]:
        result = ws.warehouse.run(sql, row_cap=MAX_DISTINCT + 1)
        if result.frame.empty:
            return []
        # tolist() turns numpy scalars into Python ints/floats, which the index uses to spot numeric columns
        return [(v,) for v in result.frame.iloc[:, 0].tolist()]

    return fetch


def build_planner(
    ws: Any, store: Any = None, layer: SemanticLayer | None = None, user: str | None = None
) -> RulePlanner:
    """The cached planner of a workspace: its semantic layer, learned synonyms (from `store`: the accepted ones and
    `user`'s own open proposals) and value index (persisted under the workspace data dir, rebuilt when the model
    version changes)."""
    from datatruth.semantic.model import load_semantic_model

    if layer is None:
        layer = load_semantic_model(ws.config.semantic_models)
    learned: tuple[Any, ...] = ()
    if store is not None:
        from datatruth.store.feedback import synonyms_for

        learned = tuple(synonyms_for(store, ws.name, user))
    today = ws.config.today()
    learned_key = tuple(sorted((s.term, s.target_kind, s.target) for s in learned))

    def build() -> RulePlanner:
        from datatruth.ask import snapshot

        path = ws.data_dir / "ask" / "value_index.json"
        found = snapshot.load(snapshot.planner_path(ws), snapshot.planner_key(ws, layer, learned_key, path))
        if found is None:
            index = load_or_build(
                path,
                layer,
                _warehouse_fetch(ws),
                dialect=ws.warehouse.dialect,
                sensitive=ws.config.sensitive_columns,
            )
            found = RulePlanner(layer, index, today, learned)
            # keyed after the build: the value index file it is keyed by may have just been written
            snapshot.save(
                snapshot.planner_path(ws), snapshot.planner_key(ws, layer, learned_key, path), found
            )
        return found

    # One planner per data dir and synonym set (users' own proposals differ), rebuilt for a new model or day.
    return resources.get(
        "planner", ws.name, build, slot=(str(ws.data_dir), learned_key), version=(layer.version_hash, today)
    )


def interpretation_of(plan: QueryPlan, layer: SemanticLayer, source: str = "rules") -> str:
    """The interpretation of a plan, naming its low-confidence readings and what it followed up on."""
    followed = next(
        (e.target.removeprefix("follow-up of: ") for e in plan.evidence if e.method == "followup"), ""
    )
    # a condition the question named ("call a big order one worth more than $1,000") is said with the rest
    named = tuple(e for e in plan.evidence if e.method == NAMED)
    low = named + low_confidence(plan)
    return interpret(replace(plan), layer, source=source, followed=followed, low=low)
