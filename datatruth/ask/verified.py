"""Answering from verified questions: a new question matched to a checked one, with its time and value slots.

"revenue by region in 2024" matches the verified "revenue by region last year": both read the same metric and
grouping; the period is a slot, so the verified plan answers with the new period. A question is reduced to
*tokens* by the planner's own readers: each name it reads (metric, dimension, entity, phrasing…), ranking,
number, aggregate and time grain becomes one token, so "sales" and "revenue" are the same token when the model
says so. Simple time ranges and values are *slots*. Words no reader placed stay words.

A match needs the same tokens (apart from plain words) and, slot by slot, the same dimensions for values.
Plain words that differ are compared by meaning (the installed sentence model, when present) and spelling;
the weakest pair is the score, and below THRESHOLD the question is planned as usual. Words that change a
number (not, without, than, per…) must be the same. The resulting plan then goes through the same checks as
any other plan (consistency, compile, guard) and says in its interpretation that it came from a verified
question, by whom and when.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from datatruth.ask.reading import PlanningContext, ReadingState
from datatruth.errors import PlanningError, UserError
from datatruth.semantic.model import SemanticLayer
from datatruth.semantic.plan import Evidence, Filter, QueryPlan, TimeRange

_TO_DATE = re.compile(r"\bto date\b|\b[ymq]td\b|\bso far\b")
THRESHOLD = 0.8  # the weakest pair of differing plain words must be at least this close
WORD_SPELLING = 85  # rapidfuzz ratio at which two plain words are the same word misspelt
_SIGNIFICANT = frozenset(
    {
        "not",
        "no",
        "without",
        "excluding",
        "except",
        "never",
        "than",
        "more",
        "less",
        "fewer",
        "per",
        "each",
        "every",
        "vs",
        "versus",
        "share",
        "percent",
        "percentage",
        "average",
        "median",
        "distinct",
        "unique",
        "first",
        "last",
        "before",
        "after",
        "since",
        "until",
    }
)


@dataclass(frozen=True)
class Candidate:
    """A verified question that may answer: its text, plan, and who verified it when."""

    question: str
    plan: Mapping[str, Any]
    verified_by: str = ""
    verified_at: dt.date | None = None
    pending: bool = False  # the asker's own proposal, not accepted yet

    @property
    def note(self) -> str:
        """What the interpretation says about where the plan came from."""
        credit = ", ".join(
            p
            for p in (
                f"by {self.verified_by}" if self.verified_by else "",
                self.verified_at.isoformat() if self.verified_at else "",
            )
            if p
        )
        what = (
            "your own proposed verified question (not reviewed yet)"
            if self.pending
            else "a verified question"
        )
        return f"from {what}" + (f", {credit}" if credit else "") + f': "{self.question}"'


@dataclass(frozen=True)
class ValueSlot:
    """Words naming one or more values, with the dimensions that hold them."""

    phrase: str
    candidates: tuple[tuple[str, str], ...]  # (dimension, value)

    def dimensions(self) -> frozenset[str]:
        """The dimensions the words may be a value of."""
        return frozenset(d for d, _ in self.candidates)


@dataclass(frozen=True)
class Reading:
    """A question reduced for matching: tokens, plain words, and its time and value slots."""

    tokens: frozenset[str]
    words: tuple[str, ...]
    time: TimeRange | None
    time_phrase: str
    values: tuple[ValueSlot, ...]


@dataclass(frozen=True)
class VerifiedMatch:
    """A verified question that answers a new one, the plan with the new slots, and how close it was."""

    candidate: Candidate
    plan: QueryPlan
    score: float


def candidates_of(layer: SemanticLayer, extra: Iterable[Candidate] = ()) -> list[Candidate]:
    """The verified questions of a layer that have a plan (SQL ones never answer), plus `extra` ones."""
    out = [
        Candidate(q.question, q.plan, q.verified_by, q.verified_at)
        for q in layer.verified_questions
        if q.plan
    ]
    return out + list(extra)


def onboarding_questions(layer: SemanticLayer | None) -> list[str]:
    """The starter questions of a workspace: its verified questions marked `onboarding: true`."""
    if layer is None:
        return []
    return [q.question for q in layer.verified_questions if q.onboarding and q.plan]


def candidates_for(layer: SemanticLayer, store: Any, workspace: str, user: str | None) -> list[Candidate]:
    """The verified questions that may answer `user`: the model's, and the user's own open proposals."""
    extra: list[Candidate] = []
    if store is not None and user:
        from datatruth.store import proposals

        for p in proposals.pending(store, workspace, proposer=user, kind="verified_question"):
            plan = p.payload.get("plan")
            if p.source == "llm":
                continue  # an LLM's proposal applies to nobody before an admin accepts it
            if isinstance(plan, Mapping) and p.payload.get("question"):
                extra.append(
                    Candidate(str(p.payload["question"]), plan, user, p.created_at.date(), pending=True)
                )
    return candidates_of(layer, extra)


def read_for_matching(question: str, ctx: PlanningContext) -> Reading | None:
    """The tokens, plain words and slots of a question (None when its time cannot be read)."""
    from datatruth.ask.planner import read_question

    try:
        d = read_question(question, ctx)
    except PlanningError:
        return None
    return _reduce(d, ctx)


def _reduce(d: ReadingState, ctx: PlanningContext) -> Reading:  # noqa: C901 - one cover() per kind of placed word, read top to bottom
    covered = [False] * len(d.words)
    tokens: set[str] = set()

    def cover(start: int, end: int, token: str | None) -> None:
        for i in range(max(0, start), min(end, len(d.words))):
            covered[i] = True
        if token:
            tokens.add(token)

    time_range, time_phrase = None, ""
    slots = 0
    for hit in d.time.hits:
        words = [i for i, w in enumerate(d.words) if w.start < hit.end and hit.start < w.end]
        # "year to date" is a range that also asks for a running total: a meaning, never a slot to refill
        to_date = bool(_TO_DATE.search(hit.phrase.lower()))
        simple = hit.time_range is not None and not (
            hit.grain or hit.comparison or hit.months or hit.periods or to_date
        )
        if not words:
            continue
        if simple:
            time_range, time_phrase = hit.time_range, hit.phrase
            slots += 1
            cover(words[0], words[-1] + 1, None)
            continue
        if to_date:
            cover(words[0], words[-1] + 1, "time:to_date")
            continue
        parts = [
            f"grain:{hit.grain}" if hit.grain else "",
            f"comparison:{hit.comparison}" if hit.comparison else "",
            f"months:{','.join(map(str, hit.months))}" if hit.months else "",
            f"periods:{len(hit.periods)}" if hit.periods else "",
        ]
        cover(words[0], words[-1] + 1, "time:" + "|".join(p for p in parts if p))
        if hit.time_range is not None and not hit.periods:
            time_range, time_phrase = (
                hit.time_range,
                hit.phrase,
            )  # "last 3 months by week": a range with a grain
    values: list[ValueSlot] = []
    for p in d.picks:
        if p.kind == "value":
            values.append(ValueSlot(p.phrase, tuple(sorted({(v.dimension, v.value) for v in p.values}))))
            cover(p.start, p.end, None)
        else:
            cover(p.start, p.end, f"{p.kind}:{p.targets[0] if p.targets else p.phrase}")
    if d.ranking is not None:
        cover(d.ranking.start, d.ranking.end, f"rank:{d.ranking.direction}:{d.ranking.limit}")
    for n in d.numbers:
        cover(
            n.start,
            n.end,
            f"number:{n.op}:{','.join(f'{v:g}' for v in n.values)}:{n.unit.name if n.unit else ''}",
        )
    for a in d.aggs:
        cover(a.start, a.end, f"aggregate:{a.function}:{a.distinct}")
    for definition in d.definitions:
        cover(definition.start, definition.end, f"definition:{definition.name}:{definition.expr}")
    if slots > 1:
        tokens.add(f"time_slots:{slots}")  # two periods in one question are not one period to refill
    if d.share:
        tokens.add("share")
    if d.growth:
        tokens.add("growth")
    lex = ctx.lexicon
    plain: list[str] = []
    for i, w in enumerate(d.words):
        if covered[i]:
            continue
        if w.lower in _SIGNIFICANT or w.norm in _SIGNIFICANT:
            tokens.add(f"word:{w.norm}")
        elif not (
            w.lower in lex.function_words
            or w.norm in lex.function_words
            or w.lower in lex.light_verbs
            or w.norm in lex.light_verbs
        ):
            plain.append(w.norm)
    return Reading(frozenset(tokens), tuple(dict.fromkeys(plain)), time_range, time_phrase, tuple(values))


@functools.lru_cache(maxsize=1)
def _embedder() -> Any:
    from datatruth.vector.embedder import EmbeddingModelMissing, default_embedder

    try:
        return default_embedder()
    except EmbeddingModelMissing:
        return None  # spelling alone then decides; nothing is downloaded


@functools.lru_cache(maxsize=4096)
def word_similarity(a: str, b: str) -> float:
    """How close two plain words are: the same word misspelt, or (with the sentence model) the same meaning."""
    from rapidfuzz import fuzz

    if a == b:
        return 1.0
    spelling = fuzz.ratio(a, b) / 100
    if spelling * 100 >= WORD_SPELLING:
        return spelling
    embedder = _embedder()
    meaning = embedder.similarity(a, b) if embedder is not None else 0.0
    return max(spelling, float(meaning))


def words_score(asked: Sequence[str], verified: Sequence[str]) -> float:
    """The weakest best pairing between the plain words of two questions (1.0 when they are the same)."""
    if set(asked) == set(verified):
        return 1.0
    if not asked or not verified:
        return 0.0  # a word on one side only: nothing on the other can mean it
    scores = [max(word_similarity(a, b) for b in verified) for a in asked]
    scores += [max(word_similarity(b, a) for a in asked) for b in verified]
    return min(scores)


def _slot_plan(plan: QueryPlan, asked: Reading, verified: Reading) -> QueryPlan | None:
    """The verified plan with the asked question's period and values; None when the slots do not line up."""
    if len(asked.values) != len(verified.values):
        return None
    filters = list(plan.filters)
    used: set[int] = set()
    for slot in asked.values:
        dims = slot.dimensions()
        partner = next(
            (i for i, v in enumerate(verified.values) if i not in used and v.dimensions() & dims), None
        )
        if partner is None:
            return None
        used.add(partner)
        at = next(
            (
                i
                for i, f in enumerate(filters)
                if f.dimension in dims & verified.values[partner].dimensions() and f.op in ("=", "in")
            ),
            None,
        )
        if at is None:
            return None
        dim = filters[at].dimension
        new_values = tuple(dict.fromkeys(v for d, v in slot.candidates if d == dim))
        filters[at] = Filter(dim, "=" if len(new_values) == 1 else "in", new_values, filters[at].grain)
    time_range = plan.time_range
    if asked.time is not None:
        time_range = asked.time
    elif verified.time is not None:
        time_range = None  # the verified words named a period and the new ones name none: all time
    if time_range is not None and plan.periods:
        return None
    return replace(plan, filters=tuple(filters), time_range=time_range)


def match(
    question: str, ctx: PlanningContext, candidates: Sequence[Candidate], threshold: float = THRESHOLD
) -> VerifiedMatch | None:
    """The verified question that answers `question` with its slots filled, or None (then plan as usual)."""
    if not candidates:
        return None
    asked = read_for_matching(question, ctx)
    if asked is None or not any(
        t.split(":", 1)[0] in ("metric", "measure", "aggregate", "phrasing", "entity") for t in asked.tokens
    ):
        return None
    best: VerifiedMatch | None = None
    for cand in candidates:
        verified = _cached_reading(cand.question, ctx)
        if verified is None or verified.tokens != asked.tokens:
            continue
        score = words_score(asked.words, verified.words)
        if score < threshold or (best is not None and score <= best.score):
            continue
        try:
            plan = QueryPlan.from_dict(dict(cand.plan))
        except UserError:
            continue
        slotted = _slot_plan(plan, asked, verified)
        if slotted is None or not _passes_checks(slotted, ctx):
            continue
        evidence: tuple[Evidence, ...] = (
            Evidence(question, "other", f"verified question: {cand.question}", round(score, 3), "verified"),
        )
        if asked.time is not None:
            evidence += (Evidence(asked.time_phrase, "time", asked.time.describe(), 1.0, "timeparse"),)
        best = VerifiedMatch(cand, replace(slotted, evidence=evidence), score)
    return best


MAX_READINGS = 2048


def _cached_reading(question: str, ctx: PlanningContext) -> Reading | None:
    # Readings of verified questions are kept with the vocabulary they were read with (learned synonyms change
    # how they read), so they go when it goes, and no key can point at another vocabulary's readings.
    readings: dict[tuple[str, str, dt.date], Reading | None] = ctx.vocabulary.memo("verified readings", dict)
    key = (question, ctx.layer.version_hash, ctx.today)
    if key in readings:
        return readings[key]
    if len(readings) > MAX_READINGS:
        readings.clear()
    reading = read_for_matching(question, ctx)
    readings[key] = reading
    return reading


def _passes_checks(plan: QueryPlan, ctx: PlanningContext) -> bool:
    """The precision checks every plan passes, whoever planned it: consistency, then compile."""
    from datatruth.ask.consistency import check_plan
    from datatruth.ask.planner import compile_problems

    try:
        return not check_plan(plan, ctx.layer) and not compile_problems(plan, ctx)
    except PlanningError:
        return False
