"""The planner's reading stages: each places some words of a question and records what it read.

    definitions → time → numbers → ranking → share and growth → names → aggregates → arithmetic

Each stage is `ReadingState, PlanningContext -> ReadingState`. None of them decides the plan: `assemble` does, once every
word has been read. A stage never drops a word silently: what it cannot read stays unplaced.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from rapidfuzz.distance import OSA, DamerauLevenshtein

from datatruth.ask.reading import (
    AggWord,
    DaysBetween,
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
    model_verbs,
    name_unit,
    number_of,
    ranked_by_at,
    said_on_average,
    sentence_ends_before,
)
from datatruth.ask.timeparse import parse_time, straddled_season
from datatruth.ask.vocabulary import (
    GRAIN_NOUNS,
    NEVER_CORRECTED,
    RECORD_NOUNS,
    STOP_WORDS,
    entity_words,
    normalize,
    singular,
)
from datatruth.errors import PlanningError
from datatruth.semantic.model import METRIC_TIME, ROWS_SUFFIX
from datatruth.semantic.plan import AdhocMetric, Evidence, FilteredInput
from datatruth.semantic.units import QUANTITY_NOUNS, Unit, unit, unit_of_word

_POST_COMPARATORS = {
    ("or", "more"): ">=",
    ("or", "greater"): ">=",
    ("or", "above"): ">=",
    ("or", "longer"): ">=",
    ("or", "higher"): ">=",
    ("and", "up"): ">=",
    ("and", "above"): ">=",
    ("and", "over"): ">=",
    ("or", "over"): ">=",
    ("plus",): ">=",
    ("or", "less"): "<=",
    ("or", "fewer"): "<=",
    ("or", "below"): "<=",
    ("or", "shorter"): "<=",
    ("or", "lower"): "<=",
    ("or", "under"): "<=",
    ("and", "under"): "<=",
    ("and", "below"): "<=",
}


# -- definitions --------------------------------------------------------------------------------------------

_DEFINING_VERBS = frozenset(
    {
        "computing",
        "calculating",
        "taking",
        "counting",
        "treating",
        "compute",
        "calculate",
        "define",
        "defining",
        "treat",
        "take",
        "consider",
        "considering",
    }
)
# "Say the paid ratio of a claim is …", "Suppose net is …": openers of a definition, like "let"
_DEFINITION_START = {"where", "with", "if", "assuming", "given", "let", "say", "suppose", *_DEFINING_VERBS}
_DEFINING = frozenset({"is", "means", "mean", "=", "defined", "equals", "being", "as"})
# words that introduce a definition right after a comma or a parenthesis ("…, defined as A minus B")
_APPOSITIVE = (
    ("defined", "as"),
    ("i.e",),
    ("ie",),
    ("i", "e"),
    ("that", "is"),
    ("meaning",),
    ("which", "is"),
    ("computed", "as"),
    ("calculated", "as"),
    ("namely",),
    ("aka",),
)


def read_definitions(d: ReadingState, ctx: PlanningContext) -> ReadingState:
    """A metric defined in the question: "…, where total loss means loss payments plus expense payments",
    "catch-up by airline, defined as average departure delay minus average arrival delay", or with
    parentheses "(gross sales - revenue) / gross sales". The defined words are read as that metric."""
    first = _definitions(d, ctx, ())
    # a second reading lets a definition use a name defined after it ("where loss ratio is total loss divided by
    # premium, and total loss is loss payments plus expense payments")
    definitions = _definitions(d, ctx, first) if first else first
    if len(definitions) < len(first):
        definitions = first
    for definition in definitions:
        shown = (
            f"{definition.ratio[0]} / {definition.ratio[1]} of each row"
            if definition.ratio
            else f"days from {definition.days[0]} to {definition.days[1]} of each row"
            if definition.days
            else definition.expr
        )
        d = d.mark(definition.start, definition.end).note(
            Evidence(
                d.text(definition.start, definition.end),
                "metric",
                f"{definition.name} = {shown}",
                1.0,
                "defined",
            )
        )
    return replace(d, definitions=definitions) if definitions else d


def _definitions(
    d: ReadingState, ctx: PlanningContext, known: tuple[Definition, ...]
) -> tuple[Definition, ...]:
    """The definitions of a question in order; each may use the names of those before it and of `known`."""
    n = len(d.words)
    lowers = [w.lower for w in d.words]
    definitions: list[Definition] = []
    i = 0
    while i < n:
        others = tuple(x for x in known if x.start != i and x.named[0] not in (i, i + 1))
        seen = replace(
            d,
            definitions=tuple(definitions)
            + tuple(x for x in others if x.name not in {y.name for y in definitions}),
        )
        found = (
            _named_definition(seen, ctx, lowers, i)
            or _appositive_definition(seen, ctx, lowers, i)
            or _opening_formula(seen, ctx, lowers, i)
        )
        if found is None:
            i += 1
            continue
        start, name_start, name_end, stop, (expr, inputs, filtered, ratio, days) = found
        # an unnamed formula ("Per claim: A divided by B") is called by its own words, not "defined 1"
        label = d.text(name_start, name_end) if name_end > name_start else _formula_words(d.text(start, stop))
        name = re.sub(r"[^a-z0-9]+", "_", normalize(label)).strip("_") or f"defined_{len(definitions) + 1}"
        definitions.append(
            Definition(
                name,
                label or name.replace("_", " "),
                expr,
                inputs,
                d.text(start, stop),
                start,
                stop,
                (name_start, name_end),
                filtered,
                ratio,
                days,
            )
        )
        i = stop
    return tuple(definitions)


def _clause_end(d: ReadingState, lowers: list[str], start: int) -> int:
    """Where a definition's expression ends: a comma, a semicolon, a closing parenthesis it did not open, the end
    of the question, or the next clause word."""
    opening = _text_before(d, start)
    depth = opening.count("(") - opening.count(")") if start < len(lowers) else 0
    stop = start
    n = len(lowers)
    while stop < n:
        gap = d.gap(stop) if stop > start else ""
        depth += gap.count("(") - gap.count(")")
        if stop > start and ("," in gap or ";" in gap or depth < 0 or sentence_ends_before(d, stop)):
            break
        if (
            lowers[stop] in _DEFINITION_START
            and stop > start
            and (lowers[stop] != "with" or any(w in _DEFINING for w in lowers[stop + 1 : stop + 7]))
        ):
            break  # "…, where X is …" starts the next definition; "flights with a negative delay" does not
        if stop > start and lowers[stop] == "by" and lowers[stop - 1] not in ("divided", "multiplied"):
            break  # "… as premium - loss payments by policy number": the grouping is not part of the formula
        if stop > start and lowers[stop] == "and" and _defines_next(lowers, stop + 1):
            break  # "where total loss is A plus B and loss ratio is …": the next definition
        if stop > start and lowers[stop] in ("-", "—") and lowers[stop + 1 : stop + 2] in _ASKED_AFTER_DASH:
            break  # "define X as A divided by B - what was it …": the question after the formula
        stop += 1
    return stop


_ASKED_AFTER_DASH = (["what"], ["whats"], ["how"], ["which"], ["who"], ["show"], ["give"], ["list"], ["tell"])


def _defines_next(lowers: list[str], i: int) -> bool:
    """True when a short name and a defining word start at i ("loss ratio is …"), with no 'and' or 'of' between:
    "the sum of A and B and C is …" defines C only after its second 'and'. After "define A as …", 'as' defines
    the next one too ("…, and reserve share as …")."""
    for k in range(i + 1, min(len(lowers), i + 5)):
        if lowers[k] in ("and", "of", "plus", "minus", "over", "times", "by"):
            return False
        if lowers[k] in ("is", "means", "=", "equals") or lowers[k] == "as" and _defined_with_as(lowers, i):
            return True
    return False


def _defined_with_as(lowers: list[str], i: int) -> bool:
    """True when an earlier definition of the question reads "define(d) … as" / "taking … as"."""
    opened = [k for k in range(i) if lowers[k] in ("define", "defining", "taking", "treating", "computing")]
    return any("as" in lowers[k + 1 : k + 7] for k in opened)


def _paren_end(d: ReadingState, i: int) -> int:
    """The word after the parenthesis opened before word i closes (the question's end when it never does)."""
    depth = 0
    for k in range(i, len(d.words)):
        gap = d.gap(k)
        depth += gap.count("(") - gap.count(")")
        if depth <= 0 and k > i:
            return k
    return len(d.words)


def _named_definition(d: ReadingState, ctx: PlanningContext, lowers: list[str], i: int) -> tuple | None:
    """ "where NAME means|is|=|is defined as EXPR"."""
    n = len(lowers)
    # "claim expense ratio = A / B, for each claim"; "… per policy? Loss ratio is A divided by B."
    opening = (i == 0 or sentence_ends_before(d, i)) and lowers[i] not in _DEFINITION_START
    # "where A is …, and B is …": a definition right after another one
    chained = lowers[i] == "and" and (bool(d.definitions) or "," in d.gap(i)) and _defines_next(lowers, i + 1)
    if not (lowers[i] in _DEFINITION_START or "," in d.gap(i) or "(" in d.gap(i) or opening or chained):
        return None
    first = i + 1 if lowers[i] in _DEFINITION_START or chained else i
    for k in range(first + 1, min(n, first + 9 if opening else first + 7)):
        word = ctx.lexicon.starts(lowers, k, ctx.lexicon.definition_words)
        if word is None and lowers[i] in _DEFINING_VERBS and lowers[k] == "as":
            word = ("as",)  # "computing loss ratio as A divided by B"
        if word is None and lowers[i] == "let" and lowers[k] == "be":
            word = ("be",)  # "let paid share be A divided by B"
        if (
            word is None
            and lowers[i] in _DEFINING_VERBS
            and lowers[k : k + 2] in (["to", "be"], ["to", "mean"])
        ):
            word = (lowers[k], lowers[k + 1])  # "taking average cost per claim to be A divided by B"
        if word is None and chained and lowers[k] == "as" and _defined_with_as(lowers, i):
            word = ("as",)  # "define total reserves as A plus B, and reserve share as C over D"
        if (
            word is not None
            and opening
            and (
                (word not in _OPENING_DEFINERS and not (i > 0 and word == ("is",)))
                or any(c in d.gap(j) for j in range(first + 1, k + 1) for c in ",(:")
            )
        ):
            # "revenue is …" opens a question, but a later sentence "Loss ratio is A divided by B." defines;
            # "X of Y, defined as …" is read as an apposition
            word = None
        if word is None:
            continue
        if any(w in ("what", "which", "how") for w in lowers[first:k]):
            return None
        end = k + len(word)
        stop = _clause_end(d, lowers, end)
        parsed = _defined_expr(d, ctx, end, stop)
        if parsed is None or not _one_period(d, end, stop):
            return None
        if not opening:
            return (i, first, k, stop, parsed)
        # the name runs to the first word that groups ("loss payment share by claim number = …"); the clause is
        # the defining word and the formula, so the grouping words stay for the other readers
        name_end = next((j for j in range(first, k) if lowers[j] in _NAME_STOPS), k)
        return (k, first, name_end, stop, parsed)
    return None


_SYMBOL_WORDS = {"+": "plus", "-": "minus", "/": "divided by", "*": "times"}


def _formula_words(text: str) -> str:
    """A formula's own words as its name, its symbols said ("A / B" is "A divided by B"), cut at a word."""
    words = [_SYMBOL_WORDS.get(w, w) for w in re.sub(r"[()]", " ", text).split()]
    out = ""
    for w in words:
        if len(out) + len(w) + 1 > 60:
            break
        out = f"{out} {w}" if out else w
    return out.strip(" ,.;:")


def _text_before(d: ReadingState, i: int) -> str:
    """The characters before word i: the gap after the word before it, or the question's opening characters."""
    return d.gap(i) if i > 0 else d.question[: d.words[0].start] if d.words else ""


def _opening_formula(d: ReadingState, ctx: PlanningContext, lowers: list[str], i: int) -> tuple | None:
    """ "(A + B) / (C + D) by month", "A / (B + C)": a formula with parentheses that opens a sentence, named by
    its own words."""
    if not (i == 0 or sentence_ends_before(d, i)):
        return None
    stop = _clause_end(d, lowers, i)
    while stop > i + 1 and d.used[stop - 1]:
        stop -= 1  # "… in 2025": the time the formula is taken over is the time stage's
    parens = "(" in _text_before(d, i) or any("(" in d.gap(k) for k in range(i + 1, stop))
    # "revenue in 2025 and A / (B + C)" lists two things; only a formula alone is read as one
    if not parens or "and" in lowers[i:stop] or not set(lowers[i:stop]) & _OPERATOR_WORDS:
        return None
    parsed = _defined_expr(d, ctx, i, stop)
    return None if parsed is None else (i, i, i, stop, parsed)


def _appositive_definition(d: ReadingState, ctx: PlanningContext, lowers: list[str], i: int) -> tuple | None:
    """ "NAME …, defined as EXPR" / "NAME, i.e. EXPR": the name is the words the question opens with."""
    # a spaced dash opens an apposition too ("the fireplace rate - the number of … divided by …"); a dash inside
    # a word ("paid-to-incurred") does not
    dash = i >= 2 and lowers[i - 1] in ("-", "–", "—")
    if i == 0 or not ("," in d.gap(i) or "(" in d.gap(i) or ":" in d.gap(i) or dash):
        return None
    head = i - 1 if dash else i  # where the words before the formula end
    # "net reserve (loss reserves minus loss payments)", "paid ratio: (A plus B) divided by C": the formula alone
    bare = ((),) if "(" in d.gap(i) or ":" in d.gap(i) or dash else ()
    for phrase in (*_APPOSITIVE, *bare):
        if tuple(lowers[i : i + len(phrase)]) == phrase:
            end = i + len(phrase)
            closes = not phrase and "(" in d.gap(i) and ":" not in d.gap(i)
            stop = _paren_end(d, i) if closes else _clause_end(d, lowers, end)
            closing = (
                next((k for k in range(end + 1, stop) if lowers[k] in ("-", "–", "—")), None)
                if dash
                else None
            )
            parsed = _defined_expr(d, ctx, end, closing) if closing is not None else None
            if parsed is not None and closing is not None:
                stop = closing + 1  # "the average selling price - revenue divided by units sold - for each …"
            else:
                parsed = _defined_expr(d, ctx, end, stop)
            if parsed is None or not _one_period(d, end, stop):
                return None
            if not phrase and not set(lowers[end:stop]) & _OPERATOR_WORDS:
                return None  # "Voltix vs Auralis: units sold and gross margin" lists two figures; 'and' adds nothing
            # the defined name: the words of the clause before the comma ("for each claim number, the paid share
            # of the claim, i.e. …"), up to a word that groups or places them ("catch-up by airline, defined as …");
            # "per" belongs to the name of a ratio ("average loss payment per claim, defined as A divided by B")
            start_name = max((k for k in range(1, head) if "," in d.gap(k)), default=0)
            # "total loss amount vs total expenses (A plus B)": the name is what stands after 'vs'
            start_name = max(
                [start_name, *(k + 1 for k in range(start_name, head) if lowers[k] in _VERSUS_WORDS)]
            )
            while start_name < head - 1 and lowers[start_name] in _NAME_OPENERS:
                start_name += 1
            # "per" belongs to the name of a ratio ("average loss payment per claim, defined as A divided by B"),
            # unless the name already says it is a ratio or 'per' names members ("… ratio per agent id: …")
            words = lowers[start_name:head]
            per_at = words.index("per") if "per" in words else -1
            grouping = (
                per_at >= 0
                and (
                    per_at == 0  # "per claim: A divided by B" names no figure before 'per'
                    or any(w in ("ratio", "rate", "share", "percentage", "percent") for w in words[:per_at])
                    or any(w in ("id", "number", "code", "identifier") for w in words[per_at:])
                )
            )
            stops = _NAME_STOPS if "/" not in parsed[0] or grouping else _NAME_STOPS - {"per"}
            # "of" joins a name ("paid share of the claim") unless what follows names a member ("of policy 3100…")
            if any(
                any(c.isdigit() for c in d.words[k].raw) or d.words[k].raw[:1].isupper()
                for k in range(start_name + 1, head)
            ):
                stops = stops | {"of", "to"}
            name_end = start_name
            while name_end < head and (
                lowers[name_end] not in stops or d.gap(name_end) == "-"
            ):  # "paid-to-reserved ratio": one hyphenated name
                name_end += 1
            if name_end == start_name:
                # "for each claim number give me the total reserves, meaning …": the clause opens with its
                # grouping, so the name is the words just before the comma
                start_name = head
                while start_name > 0 and lowers[start_name - 1] not in stops | _NAME_OPENERS | _ASKING:
                    start_name -= 1
                name_end = head
                if lowers[start_name - 1 : start_name] in (["per"], ["by"], ["each"], ["every"]):
                    start_name = name_end = (
                        head  # "per claim: A divided by B": the words group, they name nothing
                    )
            if set(lowers[start_name:name_end]) & {"let", "be", "is", "means", "equals", "=", "define"}:
                return (
                    None  # "let total incurred be total loss (…) plus …": a definition of its own, not a name
                )
            if set(lowers[start_name:head]) & {"plus", "+", "/", "*", "divided", "multiplied", "times"}:
                return None  # "(A + B) / (C + D)": arithmetic before the parenthesis, never a name
            return (head, start_name, name_end, stop, parsed)
    return None


# the words of arithmetic other than 'and': a formula written bare (after a colon, a dash or in parentheses)
# names one of them, else its 'and' joins a list of figures
_OPERATOR_WORDS = frozenset(
    {
        "plus",
        "+",
        "minus",
        "-",
        "less",
        "divided",
        "/",
        "over",
        "times",
        "*",
        "multiplied",
        "added",
        "share",
        "ratio",
    }
)
# words that define a name the question opens with ("loss ratio = …", "net means …")
_OPENING_DEFINERS = frozenset(
    {
        ("=",),
        ("means",),
        ("is", "defined", "as"),
        ("defined", "as"),
        ("equals",),
        ("is", "computed", "as"),
        ("is", "calculated", "as"),
    }
)
# words that open a question before the name of what it defines, and words that end that name
_NAME_OPENERS = frozenset(
    {
        "what",
        "whats",
        "is",
        "was",
        "the",
        "show",
        "list",
        "give",
        "me",
        "a",
        "an",
        "and",
        "i",
        "we",
        "would",
        "like",
        "want",
        "need",
        "to",
        "see",
        "can",
        "could",
        "you",
        "please",
        "us",
    }
)
_ASKING = frozenset({"give", "tell", "get", "compute", "calculate", "find", "need", "want", "number", "id"})
_NAME_STOPS = frozenset({"by", "per", "for", "in", "from", "during", "each", "across"})
_VERSUS_WORDS = frozenset({"vs", "versus", "against"})


def _defined_expr(
    d: ReadingState, ctx: PlanningContext, start: int, stop: int
) -> (
    tuple[str, tuple[str, ...], tuple[FilteredInput, ...], tuple[str, str] | None, tuple[str, str] | None]
    | None
):
    """What a definition's words compute: arithmetic over metric names, else one numeric column divided by
    another, row by row ("number of firefighters divided by miles to the nearest fire station"), else the days
    between two dates of a row ("claim close date minus claim open date", "the days from A to B")."""
    parsed = _arithmetic_of(d, ctx, start, stop)
    if parsed is not None:
        return (*parsed, None, None)
    ratio = _column_ratio(d, ctx, start, stop)
    if ratio is not None:
        return ("", (), (), ratio, None)
    days = _date_difference(d, ctx, start, stop)
    return ("", (), (), None, days) if days is not None else None


def _date_difference(d: ReadingState, ctx: PlanningContext, start: int, stop: int) -> tuple[str, str] | None:
    """(earlier, later) for "LATER minus EARLIER" or "(the number of) days from EARLIER to LATER" spanning the
    words [start, stop), or None."""
    lowers = [d.lower(k) for k in range(start, stop)]
    for op in (("minus",), ("-",)):
        cut = next((k for k in range(len(lowers)) if tuple(lowers[k : k + len(op)]) == op), None)
        if cut is not None:
            pair = _two_dates(d, ctx, (start + cut + len(op), stop), (start, start + cut))
            return pair if pair is not None else None
    k = start
    while k < stop and d.lower(k) in ("the", "number", "of", "whole", "calendar"):
        k += 1
    if k < stop and d.words[k].norm == "day":
        found = _date_pair_after(d, ctx, k + 1)
        if found is not None and found[1] == stop:
            return found[0]
    return None


_DIVIDED = (("divided", "by"), ("/",), ("over",))


def _column_ratio(d: ReadingState, ctx: PlanningContext, start: int, stop: int) -> tuple[str, str] | None:
    """Two numeric columns of one table joined by 'divided by' (each named, with at most its quantity's words
    around it), or None."""
    lowers = [d.lower(k) for k in range(start, stop)]
    norms = [d.words[k].norm for k in range(start, stop)]
    for op in _DIVIDED:
        cut = next((k for k in range(len(lowers)) if tuple(lowers[k : k + len(op)]) == op), None)
        if cut is None:
            continue
        left = _column_named(ctx, lowers[:cut], norms[:cut])
        right = _column_named(ctx, lowers[cut + len(op) :], norms[cut + len(op) :])
        if left and right and ctx.layer.dimension(left).model.name == ctx.layer.dimension(right).model.name:
            return left, right
    return None


def _column_named(ctx: PlanningContext, lowers: list[str], norms: list[str]) -> str | None:
    """The numeric column the words name to their end, after articles and words of its quantity ("miles to
    the nearest fire station" is the column nearest firestation miles, held in miles)."""
    for m in ctx.vocabulary.matches(norms, [True] * len(norms), ("dimension",)):
        if (
            m.end != len(norms)
            or m.score < 0.85
            or m.term.kind != "dimension"
            or not ctx.layer.has_dimension(m.term.target)
            or not is_numeric(ctx, m.term.target)
        ):
            continue
        held = unit(ctx.layer.dimension(m.term.target).dimension.unit or "")
        if _quantity_words(lowers[: m.start], held, ("the", "a", "an", "of", "to", "in", "its", "their")):
            return m.term.target
    return None


def _one_period(d: ReadingState, start: int, stop: int) -> bool:
    """True unless a definition names a period of its own that differs from another period of the question
    ("refunds paid in 2024 divided by 2025 revenue" is two periods, which one plan cannot hold)."""
    if stop <= start:
        return True
    a, b = d.words[start].start, d.words[stop - 1].end
    inside = [h for h in d.time.hits if a <= h.start < b]
    if not inside:
        return True
    ranges = {(h.time_range.start, h.time_range.end) if h.time_range else None for h in d.time.hits}
    return len(ranges) == 1 and None not in ranges and not any(h.months or h.periods for h in d.time.hits)


# "the sum of A and B", "the difference between A and B": two figures joined by 'and'
_PAIRED: dict[tuple[str, ...], str] = {
    ("sum", "of"): "+",
    ("difference", "between"): "-",
    ("total", "of"): "+",
    ("product", "of"): "*",
}
_OPERAND_VERBS = frozenset(
    {
        "paid",
        "out",
        "made",
        "placed",
        "sold",
        "earned",
        "booked",
        "recorded",
        "received",
        "spent",
        "issued",
        "generated",
        "collected",
        "reserved",
        "written",
        "charged",
        "billed",
        "held",
        "in",
        "during",
        "for",
    }
)


def _arithmetic_of(  # noqa: C901 - a small parser of arithmetic words whose states read together
    d: ReadingState,
    ctx: PlanningContext,
    start: int,
    stop: int,
) -> tuple[str, tuple[str, ...], tuple[FilteredInput, ...]] | None:
    """Metric names joined by arithmetic words (with parentheses), as an expression over metric names; a figure
    with its own condition ("flights that left more than 15 minutes late") is planned like a question of its
    own and becomes a filtered input. None when the words are not that."""
    lowers = [w.lower for w in d.words[:stop]]
    parts: list[str] = []
    inputs: list[str] = []
    filtered: list[FilteredInput] = []
    i = start
    depth = 0
    expect_operand = True
    pair: list[str] = []  # "the sum of A and B": the operator its 'and' stands for, until B is read
    counting = False  # the operand was introduced by "number of"
    restated = 0  # a restating parenthesis just skipped
    while i < stop:
        gap = d.gap(i) if i > start else ""
        if expect_operand:
            opened = gap.count("(") + (1 if i == start and "(" in _text_before(d, i) else 0)
            parts += ["("] * opened
            depth += opened
            earlier = _defined_at(d, i, stop)
            if earlier is not None:
                # "loss ratio is total loss divided by premium", with total loss defined in the same question
                i, definition = earlier
                parts += ["(", definition.expr, ")"]
                inputs += [n for n in definition.inputs if n not in inputs]
                expect_operand = False
                continue
            joined = _PAIRED.get(tuple(lowers[i : i + 2]))
            if joined and not pair and i + 2 < stop:
                parts.append("(")
                depth += 1
                pair = [joined, "open"]
                i += 2
                continue
            if (
                lowers[i] in ("the", "a", "of", "total", "its", "their", "all")
                or d.used[i]
                or _possessive_back_reference(d, ctx, i)
            ) and i + 1 < stop:
                if not (lowers[i] in ("total", "all") and _named_at(d, ctx, i, stop)):
                    i += 1  # articles, and time words ("2025 revenue") read by the time stage
                    continue  # "total claim amount" may be a name of its own
            if re.fullmatch(r"\d+(?:\.\d+)?", lowers[i]) and parts and parts[-1] in ("*", "/"):
                parts.append(lowers[i])  # "… * 100": a constant scales a figure
                i += 1
                expect_operand = False
                continue
            if (
                tuple(lowers[i : i + 2]) in (("number", "of"), ("count", "of"))
                and i + 2 < stop
                and _named_at(d, ctx, i, stop) is None  # "number of policies" may be a metric's own name
            ):
                counting = True  # "divided by the number of claims": a figure that counts
                i += 2
                continue
            found = _named_at(d, ctx, i, stop)
            spelled = _spelled_in_parenthesis(d, ctx, i, stop) if found is None else None
            if spelled is not None:
                # "total loss (loss payments plus loss reserves) plus claim expense": an operand the model does
                # not name, spelled out in the parenthesis after it
                i, expr, names = spelled
                parts += ["(", expr, ")"]
                inputs += [x for x in names if x not in inputs]
                expect_operand = False
                restated = 1  # its closing parenthesis is not one the formula opened
                continue
            ops = [p for p, _ in ctx.lexicon.arithmetic]
            if found is not None and (back := _back_reference(d, ctx, found[0], stop, found[1])):
                found = (found[0] + back, found[1])  # "total premium on the policy": the member asked about
            if found is None or (
                found[0] < stop
                and not any(c in d.gap(found[0]) for c in "()")
                and ctx.lexicon.starts(lowers, found[0], ops) is None
                and not (d.used[found[0]] or lowers[found[0]] in _OPERAND_VERBS)
            ):
                # "flights that left more than 15 minutes late divided by …": a figure with its own condition
                sub = _filtered_operand(d, ctx, i, stop, len(filtered) + 1)
                if sub is None:
                    return None
                i, name, one = sub
                parts.append(one.name if one is not None else name)
                inputs.append(name)
                if one is not None:
                    filtered.append(one)
                expect_operand = False
                continue
            i, metric = found
            if counting and not counts_things(ctx, metric):
                return None  # "the number of loss payments" is not their total amount
            counting = False
            parts.append(metric)
            inputs.append(metric)
            expect_operand = False
            continue
        if "(" in gap and ")" not in gap and (end := _paren_end(d, i)) <= stop and end > i:
            # "total loss amount (loss payments plus loss reserves) divided by …": the parenthesis restates it
            i = end
            restated = 1  # its closing parenthesis is not one the formula opened
            continue
        # "refunds paid out in 2025": a verb after a figure, and time words the time stage reads, add nothing
        if not gap.count(")") and (d.used[i] or lowers[i] in _OPERAND_VERBS):
            i += 1
            continue
        closed = gap.count(")") - restated
        restated = 0
        if closed:
            if closed > depth:
                return None
            parts += [")"] * closed
            depth -= closed
        if pair and pair[1] == "second":
            parts.append(")")  # "the sum of A and B": B read, the pair closes
            depth -= 1
            pair = []
        if pair and lowers[i] == "and":
            parts.append(pair[0])
            pair[1] = "second"
            i += 1
            expect_operand = True
            continue
        if parts and (back := _back_reference(d, ctx, i, stop, inputs[-1])):
            i += back  # "… divided by all the premium written on the policy"
            continue
        op = ctx.lexicon.starts(lowers, i, [p for p, _ in ctx.lexicon.arithmetic])
        if op is None:
            return None
        symbol = dict(ctx.lexicon.arithmetic)[op]
        if symbol in ("/", "*") and op not in (("/",), ("*",)) and _open_sum(parts):
            # spoken arithmetic reads left to right: "loss payments plus loss reserves divided by premium" is
            # (A + B) / C, never A + B / C; symbols typed as such keep their usual precedence
            parts = ["(", *parts, ")"]
        parts.append(symbol)
        i += len(op)
        expect_operand = True
    if pair and pair[1] == "second" and not expect_operand:
        parts.append(")")
        depth -= 1
        pair = []
    if pair:
        return None
    tail = d.gap(stop) if stop < len(d.words) else d.question[d.words[stop - 1].end :] if stop else ""
    closing = min(tail.count(")"), depth)
    parts += [")"] * closing
    depth -= closing
    if expect_operand or len(inputs) < 2 or depth != 0:
        return None
    return " ".join(_unwrapped(parts)), tuple(inputs), tuple(filtered)


_BACK_PREPOSITIONS = frozenset({"on", "for", "of", "in", "per", "across", "under"})
_BACK_DETERMINERS = frozenset(
    {"the", "that", "this", "its", "their"}
)  # never "each": "for each store" groups


def _back_reference(d: ReadingState, ctx: PlanningContext, i: int, stop: int, metric: str) -> int:
    """How many words at i point back at the thing the question is about ("… divided by total premium on the
    policy", "expense payments for that claim"): a preposition, a determiner and the name of an entity the
    question names elsewhere; else 0. The figure is computed for the member or group the question names, so the
    words add no condition."""
    if i + 3 > stop or d.words[i].lower not in _BACK_PREPOSITIONS:
        return 0
    if d.words[i + 1].lower not in _BACK_DETERMINERS or any(
        c in d.gap(k) for k in (i + 1, i + 2) for c in "(),"
    ):
        return 0
    noun = singular(d.words[i + 2].norm)
    named = any(noun in entity_words(ctx.layer, e) for e in ctx.layer.entities())
    # the thing pointed at is named elsewhere in the question (its grouping or its member)
    named_before = any(singular(w.norm) == noun for k, w in enumerate(d.words) if not i <= k < i + 3)
    if named and named_before and d.words[i + 2].possessive and i + 4 <= stop:
        # "loss payments on the policy's claims": the member's own things, the path to the figure's rows
        owned = singular(d.words[i + 3].norm)
        if "(" not in d.gap(i + 3) and any(owned in entity_words(ctx.layer, e) for e in ctx.layer.entities()):
            return 4
        return 0
    if named and named_before:
        return 3
    # "loss payments on its claims": the figure's own rows belong to those things, so the words name the path
    # from the member asked about to the figure, not a condition
    own = d.words[i + 1].lower in ("its", "their") and any(
        noun in entity_words(ctx.layer, e.name) for m in ctx.layer.models_for(metric) for e in m.entities
    )
    return 3 if own else 0


def _spelled_in_parenthesis(
    d: ReadingState, ctx: PlanningContext, i: int, stop: int
) -> tuple[int, str, tuple[str, ...]] | None:
    """(where it ends, the formula, its metrics) for a few words the model has no name for followed by a
    parenthesis holding arithmetic over names ("total loss (loss payments plus loss reserves)"), else None."""
    for k in range(i + 1, min(stop, i + 4)):
        if ")" in d.gap(k):
            return None
        if "(" not in d.gap(k):
            continue
        if any(
            ctx.lexicon.starts([w.lower for w in d.words], j, [p for p, _ in ctx.lexicon.arithmetic])
            for j in range(i, k)
        ):
            return None  # "A plus (B minus C)": an operator before the parenthesis is the formula's own
        close = _paren_end(d, k)
        if close > stop:
            return None
        inner = _arithmetic_of(d, ctx, k, close)
        if inner is None or inner[2]:
            return None
        return close, inner[0], inner[1]
    return None


def _open_sum(parts: list[str]) -> bool:
    """True when the expression so far adds or subtracts outside any parenthesis."""
    depth = 0
    for part in parts:
        depth += (part == "(") - (part == ")")
        if depth == 0 and part in ("+", "-"):
            return True
    return False


def _defined_at(d: ReadingState, i: int, stop: int) -> tuple[int, Definition] | None:
    """The longest name of another definition of the question starting at word i (where it ends, the
    definition), or None; only definitions that are arithmetic over metric names stand in for a name."""
    found: tuple[int, Definition] | None = None
    for definition in d.definitions:
        if definition.filtered or definition.ratio or definition.days or not definition.expr:
            continue
        size = len(definition.label.split())
        if i + size <= stop and normalize(d.text(i, i + size)) == normalize(definition.label):
            if found is None or i + size > found[0]:
                found = (i + size, definition)
    return found


def _possessive_back_reference(d: ReadingState, ctx: PlanningContext, i: int) -> bool:
    """True for "the policy's" in "… divided by the policy's total premium" when the question names that policy
    (or groups by policies) elsewhere: the figure is computed for it, so the word adds no condition."""
    if not d.words[i].possessive:
        return False
    noun = singular(d.words[i].norm)
    return any(noun in entity_words(ctx.layer, e) for e in ctx.layer.entities()) and any(
        singular(w.norm) == noun for k, w in enumerate(d.words) if k != i
    )


def _named_at(d: ReadingState, ctx: PlanningContext, i: int, stop: int) -> tuple[int, str] | None:
    """The longest metric name starting at word i (where it ends, the metric), or None."""
    for j in range(min(stop, i + 6), i, -1):
        if any(")" in d.gap(k) or "(" in d.gap(k) for k in range(i + 1, j)):
            continue  # a name never spans a parenthesis
        metric = _metric_named(ctx, " ".join(w.norm for w in d.words[i:j]))
        if metric:
            return j, metric
    return None


def _unwrapped(parts: list[str]) -> list[str]:
    """The expression without one pair of parentheses around all of it ("(A - B)" is "A - B")."""
    depth = 0
    for k, part in enumerate(parts):
        depth += (part == "(") - (part == ")")
        if depth == 0 and k < len(parts) - 1:
            return parts
    return parts[1:-1] if parts[:1] == ["("] else parts


# the operators that end a figure with its own condition ("over", "per", "and" may sit inside one)
_OPERAND_ENDS = (
    ("divided", "by"),
    ("minus",),
    ("plus",),
    ("times",),
    ("multiplied", "by"),
    ("/",),
    ("+",),
    ("*",),
)


def _filtered_operand(
    d: ReadingState, ctx: PlanningContext, start: int, stop: int, number: int
) -> tuple[int, str, FilteredInput | None] | None:
    """Words from `start` up to the next operator, read as a question of their own: one simple metric with
    filters and nothing else (the question's own period may be repeated). None otherwise."""
    from datatruth.ask.planner import plan_fragment

    lowers = [w.lower for w in d.words]
    end = start
    while (
        end < stop
        and not any(tuple(lowers[end : end + len(op)]) == op for op in _OPERAND_ENDS)
        and not (end > start and (")" in d.gap(end) or "(" in d.gap(end)))
    ):
        end += 1
    if end - start < 2:
        return None
    plan = plan_fragment(d.text(start, end), ctx)
    if (
        plan is None
        or len(plan.metrics) != 1
        or plan.adhoc_metrics
        or plan.aggregates
        or plan.dimensions
        or plan.conditions
        or plan.periods
        or plan.comparison
        or plan.share_of_total
    ):
        return None
    metric = ctx.layer.metric(plan.metrics[0])
    if metric.type != "simple" or metric.measure is None:
        return None
    if plan.time_range is not None and (
        d.time.time_range is None
        or (plan.time_range.start, plan.time_range.end) != (d.time.time_range.start, d.time.time_range.end)
    ):
        return None  # a period of its own: one plan has one period
    if not plan.filters:
        # "flights that departed": a verb the model reads as the rows themselves may still mean a subset (a
        # cancelled flight did not depart); a figure with words but no condition is not read
        return None
    return end, metric.name, FilteredInput(f"{metric.name}_where_{number}", metric.name, plan.filters)


def _metric_named(ctx: PlanningContext, phrase: str) -> str | None:
    """The metric (or the simple metric of a measure) a phrase names exactly or by a close spelling."""
    for term in ctx.vocabulary.lookup(phrase):
        if term.kind == "metric":
            return term.target
        if term.kind == "measure":
            simple = next(
                (
                    m.name
                    for m in ctx.layer.metrics
                    if m.type == "simple" and m.measure == term.target and not m.filter
                ),
                None,
            )
            if simple:
                return simple
    words = phrase.split()
    matches = ctx.vocabulary.matches(words, [True] * len(words), ("metric",))
    full = [m for m in matches if m.start == 0 and m.end == len(words) and m.score >= 0.85]
    targets = {m.term.target for m in full}
    if len(targets) == 1:
        return targets.pop()
    if not targets and (rows := _rows_named(ctx, words)) is not None:
        return rows
    nouns = dict(ctx.lexicon.noun_forms)
    if not targets and len(words) > 1 and words[-1] in nouns:
        # "loss paid" names loss payments, "expense reserved" the expense reserve
        return _metric_named(ctx, " ".join([*words[:-1], nouns[words[-1]]]))
    return None


def _rows_named(ctx: PlanningContext, words: list[str]) -> str | None:
    """ "number of premium records", "premium rows": the count of a table's rows the model names."""
    if words[:2] in (["number", "of"], ["count", "of"]):
        words = words[2:]
    if words and words[-1] in RECORD_NOUNS:
        words = words[:-1]
    else:
        return None
    found = {
        f"{t.target}{ROWS_SUFFIX}"
        for t in ctx.vocabulary.lookup(" ".join(words))
        if t.kind == "model" and ctx.layer.has_metric(f"{t.target}{ROWS_SUFFIX}")
    }
    return found.pop() if len(found) == 1 else None


# -- spelling -----------------------------------------------------------------------------------------------


def read_spelling(d: ReadingState, ctx: PlanningContext) -> ReadingState:
    """A misspelt word that changes a number ("medain", "highst", "avrage") read as that word, one edit away and
    named in the reading ("reading 'medain' as median"); names of the model are corrected by `read_names`."""
    lex = ctx.lexicon
    # a long light verb misspelt ("recieve") is read as itself too: it places a word and changes no number
    # and so is a long function word ("somethng"): it changes nothing but is no longer left over
    targets = sorted(
        lex.meaningful
        | {w for w in lex.light_verbs if len(w) >= 6 and w.isalpha()}
        | {w for w in lex.function_words if len(w) >= 7 and w.isalpha()}
    )
    words = list(d.words)
    notes = []
    for i, w in enumerate(d.words):
        low = w.lower
        if d.used[i] or len(low) < 3 or not low.isalpha() or low in lex.words or w.norm in lex.words:
            continue
        if low in targets or low in _GROWTH_WORDS:
            continue  # spelt right
        if low in ctx.vocabulary.words or w.norm in ctx.vocabulary.words or ctx.values.is_value_word(w.norm):
            continue
        named = ctx.vocabulary.correct(low)
        if low in NEVER_CORRECTED or (named is not None and named.becomes not in lex.words):
            continue  # a misspelt name of the model is read_names' to correct
        near = [
            t for t in targets if t[0] == low[0] and DamerauLevenshtein.distance(low, t, score_cutoff=1) <= 1
        ] or [
            # "chnage": two letters of a growth word swapped ("charged" is a word of its own, not "changed")
            t
            for t in _GROWTH_WORDS
            if len(t) >= 5 and sorted(t) == sorted(low) and OSA.distance(low, t, score_cutoff=1) <= 1
        ]
        if len(near) != 1:
            continue
        words[i] = replace(w, lower=near[0], norm=singular(near[0]))
        notes.append(Evidence(w.raw, "word", near[0], 0.8, "corrected"))
    return replace(d, words=tuple(words)).note(*notes) if notes else d


# -- time ---------------------------------------------------------------------------------------------------

_TIME_PREPOSITIONS = frozenset({"over", "across", "throughout", "within", "during"})


def read_time(d: ReadingState, ctx: PlanningContext) -> ReadingState:
    """Resolve time phrases against the workspace clock and mark their words; impossible dates are refused."""
    periods = tuple(
        (normalize(word), p.months) for p in ctx.lexicon.periods for word in (p.name, *p.synonyms)
    )
    text, back, fixed = _time_words_spelt(d, ctx)
    match = parse_time(text, ctx.today, periods)
    if back:
        match = replace(match, spans=tuple((back(a), back(b)) for a, b in match.spans))
    if match.errors:
        raise PlanningError(
            f"I cannot read the time in this question: {match.errors[0]}",
            "write a real date between 1900 and 2100, e.g. 2024-02-29, 'in March 2025' or 'last 30 days'",
            unmatched=[],
            interpretation="",
        )
    straddled = straddled_season(d.question, ctx.today, periods)
    if straddled is not None:
        said, year = straddled
        season = said.split()[-1]
        raise PlanningError(
            f"'{said}' can mean {season} {year - 1} (the one this year began in), {season} {year} (the one that "
            f"began this month) or the {season} months of {year - 1}",
            f"name the year the {season} ends in, e.g. '{season} {year}'",
            unmatched=[],
            interpretation="",
            choices=[
                re.sub(re.escape(said), text, d.question, count=1, flags=re.IGNORECASE)
                for text in (f"{season} {year}", f"{season} {year - 1}", f"the {season} months of {year - 1}")
            ],
        )
    for a, b in match.spans:
        hit = [i for i, w in enumerate(d.words) if w.start < b and a < w.end]
        if hit:
            d = d.mark(hit[0], hit[-1] + 1)
            # "calendar year 2019", "the year 2025": the word 'year' before a year names it
            k = hit[0] - 1
            if d.lower(k) == "year" and d.lower(hit[0]).isdigit() and not d.used[k]:
                d = d.mark(k, hit[0])
                hit = [k, *hit]
            # "over the last 7 days", "across 2024": the preposition belongs to the time phrase
            k = hit[0] - 1
            while k > 0 and d.lower(k) in ("the", "a", "this", "that") and not d.used[k]:
                k -= 1
            if k >= 0 and d.lower(k) in _TIME_PREPOSITIONS and not d.used[k]:
                d = d.mark(k, k + 1)
    if match.grain is None:
        # "premium by policy number and year": a grain word closing a list of groupings
        for k, w in enumerate(d.words):
            if (
                w.lower in GRAIN_NOUNS
                and not d.used[k]
                and d.lower(k - 1) in ("and", "&")
                and d.lower(k + 1) in ("", "in", "for", "during", "of")
                and any(d.lower(j) in ("by", "per") for j in range(max(0, k - 6), k - 1))
            ):
                match = replace(match, grain=w.lower)
                d = d.mark(k - 1, k + 1)
                break
    notes = []
    if match.time_range is not None:
        notes.append(
            Evidence(match.phrase_of("range"), "time", match.time_range.describe(), 1.0, "timeparse")
        )
    if match.grain:
        notes.append(
            Evidence(match.phrase_of("grain"), "time", f"{METRIC_TIME} by {match.grain}", 1.0, "timeparse")
        )
    if match.comparison:
        notes.append(
            Evidence(match.phrase_of("comparison"), "comparison", match.comparison, 1.0, "timeparse")
        )
    notes += fixed
    return replace(d, time=match, comparison=match.comparison).note(*notes)


# the words that join a time phrase or compare periods; one misspelt ("betwen March and May", "compre
# September 2026 with September 2025") is read as meant
_TIME_NOUNS = (
    *GRAIN_NOUNS,
    *(m.lower() for m in calendar.month_name[1:]),
    *("daily", "weekly", "monthly", "quarterly", "yearly", "annually"),
    *("thanksgiving", "christmas", "halloween", "juneteenth"),  # one-word names of days (timeparse)
)
_TIME_CONNECTORS = (
    "between",
    "through",
    "until",
    "since",
    "before",
    "after",
    "during",
    "compare",
    "compared",
    "comparing",
    "versus",
)


def _time_words_spelt(d: ReadingState, ctx: PlanningContext) -> tuple[str, Any, list[Evidence]]:
    """The question with a misspelt time connector corrected (one edit away, not a word of the lexicon or the
    model), a map from its character offsets back to the question's, and the notes naming each correction."""
    pieces: list[str] = []
    moved: list[tuple[int, int]] = []  # (end in the corrected text, shift to add back)
    notes: list[Evidence] = []
    last, shift = 0, 0
    for w in d.words:
        low = w.lower
        if len(low) < 4 or not low.isalpha() or low in ctx.lexicon.words or low in ctx.vocabulary.words:
            continue
        near = [t for t in _TIME_CONNECTORS if DamerauLevenshtein.distance(low, t, score_cutoff=1) <= 1]
        # "this yaer", "eahc month": two letters of a period's name (or of 'each') swapped (only a swap: "near"
        # is no misspelt "year")
        near += [
            t
            for t in (*_TIME_NOUNS, "each", "every")
            if sorted(t) == sorted(low) and OSA.distance(low, t, score_cutoff=1) <= 1
        ]
        # "third quater": a letter left out of (or doubled in) a longer period's name
        near += [
            t
            for t in _TIME_NOUNS
            if len(t) >= 6 and abs(len(t) - len(low)) == 1 and OSA.distance(low, t, score_cutoff=1) <= 1
        ]
        if len(near) != 1 or near[0] == low:
            continue
        pieces += [d.question[last : w.start], near[0]]
        last = w.end
        shift += (w.end - w.start) - len(near[0])
        moved.append((len("".join(pieces)), shift))
        notes.append(Evidence(w.raw, "word", near[0], 0.8, "corrected"))
    if not moved:
        return d.question, None, []
    text = "".join(pieces) + d.question[last:]

    def back(position: int) -> int:
        return position + next((s for end, s in reversed(moved) if end <= position), 0)

    return text, back, notes


# -- numbers ------------------------------------------------------------------------------------------------

_CLOCK_COMPARATORS = (
    (("at", "or", "after"), ">="),
    (("at", "or", "before"), "<="),
    (("no", "earlier", "than"), ">="),
    (("no", "later", "than"), "<="),
    (("later", "than"), ">"),
    (("earlier", "than"), "<"),
    (("after",), ">"),
    (("before",), "<"),
    (("until",), "<="),
    (("by",), "<="),
    (("at",), "="),
)


def _clock_at(d: ReadingState, i: int) -> tuple[float, int] | None:
    """A time of day starting at word i ("10 pm", "10:30 pm", "6am", "noon", "midnight", "22:00") as minutes
    after midnight, with the index after it; None when the words are not one."""
    n = len(d.words)
    word = d.lower(i) if i < n else ""
    if word in ("noon", "midday"):
        return 720.0, i + 1
    if word == "midnight":
        return 0.0, i + 1
    m = re.fullmatch(r"(\d{1,2})(am|pm)", word)
    hour_text, half = (m.group(1), m.group(2)) if m else (word, "")
    if not hour_text.isdigit() or not 0 <= int(hour_text) <= 24:
        return None
    hour, minute, end = int(hour_text), 0, i + 1
    if end < n and d.gap(end) == ":" and d.lower(end).isdigit() and len(d.lower(end)) == 2:
        minute, end = int(d.lower(end)), end + 1
        if minute > 59:
            return None
    if not half and end < n and d.lower(end) in ("am", "pm", "a.m.", "p.m."):
        half, end = d.lower(end)[0] + "m", end + 1
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif end == i + 1:
        return None  # a bare number is not a time of day
    if hour > 23 and not (hour == 24 and minute == 0):
        return None
    return float(hour * 60 + minute), end


def _read_clock(d: ReadingState) -> tuple[ReadingState, list[NumberSpan]]:
    """ "at or after 10 pm", "before 6:30 am", "between 6 am and 9 am": times of day compared, in minutes."""
    lowers = [w.lower for w in d.words]
    spans: list[NumberSpan] = []
    clock = unit_of_word("pm")
    i = 0
    while i < len(lowers):
        if d.used[i]:
            i += 1
            continue
        if lowers[i] == "between":
            a = _clock_at(d, i + 1)
            if a is not None and a[1] < len(lowers) and lowers[a[1]] in ("and", "to"):
                b = _clock_at(d, a[1] + 1)
                if b is not None and b[0] == 0 and a[0] > 0:
                    b = (1440.0, b[1])  # "between 11 pm and midnight": the end of the day (2400)
                if b is not None and not any(d.used[i : b[1]]):
                    spans.append(
                        NumberSpan(i, b[1], "between", (a[0], b[0]), clock, d.text(i, b[1]), i + 1, "between")
                    )
                    d = d.mark(i, b[1])
                    i = b[1]
                    continue
        for words, op in _CLOCK_COMPARATORS:
            if tuple(lowers[i : i + len(words)]) != words:
                continue
            found = _clock_at(d, i + len(words))
            if found is not None and not any(d.used[i : found[1]]):
                spans.append(
                    NumberSpan(
                        i,
                        found[1],
                        op,
                        (found[0],),
                        clock,
                        d.text(i, found[1]),
                        i + len(words),
                        " ".join(words),
                    )
                )
                d = d.mark(i, found[1])
                i = found[1] - 1
            break
        i += 1
    return d, spans


def read_numbers(d: ReadingState, ctx: PlanningContext) -> ReadingState:
    """Comparators with their numbers and units: "more than 3 hours", "at least 20%", "two or more hours"."""
    d, spans = _read_clock(d)
    lowers = [w.lower for w in d.words]
    n = len(lowers)
    d = _units_or_more(d, lowers, spans)
    i = 0
    while i < n:
        if d.used[i]:
            i += 1
            continue
        phrase = ctx.lexicon.starts(lowers, i, [p for p, _ in ctx.lexicon.comparators])
        if phrase is not None and not any(d.used[i : i + len(phrase)]):
            op = dict(ctx.lexicon.comparators)[phrase]
            j = i + len(phrase)
            if lowers[j : j + 1] == ["the"] or (
                lowers[j : j + 1] in (["a"], ["an"]) and j + 1 < n and number_of(lowers[j + 1]) is not None
            ):
                j += 1  # "at least a 10% discount"
            value = number_of(lowers[j]) if j < n and not d.used[j] else None
            if (
                value is None
                and j + 1 < n
                and lowers[j] in ("a", "an")
                and (said := unit_of_word(lowers[j + 1])) is not None
                and said.name not in ("count", "currency")
                and not d.used[j + 1]
            ):
                value = 1.0  # "more than an hour", "over a mile"
            if lowers[j : j + 3] in (["a", "quarter", "of"], ["three", "quarters", "of"]):
                value, j = (0.25 if lowers[j] == "a" else 0.75), j + 1  # "over a quarter of an hour"
            if value is not None:
                values = [value]
                end = j + 1
                if op == "between":
                    if (
                        end + 1 < n
                        and lowers[end] in ("and", "to", "-")
                        and number_of(lowers[end + 1]) is not None
                    ):
                        values.append(number_of(lowers[end + 1]) or 0.0)
                        end += 2
                    else:
                        i += 1
                        continue
                half = ["and", "a", "half"]
                if lowers[end : end + 3] == half and op != "between":
                    values[-1] += 0.5  # "one and a half hours"
                    end += 3
                unit, end = _unit_after(d, end, lowers[j])
                if unit is not None and lowers[end : end + 3] == half and op != "between":
                    values[-1] += 0.5  # "an hour and a half"
                    end += 3
                post = _post_comparator(lowers, end)
                spans.append(NumberSpan(i, end, op, tuple(values), unit, d.text(i, end), j, " ".join(phrase)))
                d = d.mark(i, end)
                i = end
                continue
        value = number_of(lowers[i])
        if value is not None and not d.used[i]:
            post = _post_comparator(lowers, i + 1)
            if post is not None:
                op, k = post
                unit, end = _unit_after(d, i + 1 + k, lowers[i])
                spans.append(
                    NumberSpan(
                        i, end, op, (value,), unit, d.text(i, end), i, " ".join(lowers[i + 1 : i + 1 + k])
                    )
                )
                d = d.mark(i, end)
                i = end
                continue
            unit, end = _unit_after(d, i + 1, lowers[i])
            # "at a 20% discount", "a discount of 20%": a percentage said as what something is, not a share of it
            rate = unit is not None and unit.name == "percent" and d.lower(i - 1) in ("a", "an", "of", "at")
            if unit is not None and (end > i + 1 or rate and d.lower(end) != "of") and unit.name != "count":
                # a number with a unit but no comparator ("flights 3 hours late"): equality, shown as such
                spans.append(NumberSpan(i, end, "=", (value,), unit, d.text(i, end), i))
                d = d.mark(i, end)
                i = end
                continue
        i += 1
    return replace(d, numbers=tuple(spans)) if spans else d


def _unit_after(d: ReadingState, end: int, number_word: str) -> tuple[Any, int]:
    """The unit of a number: written in the number ("20%", "$500") or as the next word ("3 hours")."""
    if number_word.endswith("%"):
        return unit_of_word("%"), end
    if number_word.startswith("$"):
        return unit_of_word("$"), end
    if number_word in ("half", "quarter", "quarters") and d.lower(end) == "of":
        end += 1  # "a quarter of an hour"
    if (
        end + 1 < len(d.words)
        and d.lower(end) in ("a", "an")
        and unit_of_word(d.lower(end + 1)) is not None
        and number_word in ("half", "quarter", "quarters")
    ):
        end += 1  # "half an hour"
    if end < len(d.words) and not d.used[end]:
        unit = unit_of_word(d.lower(end))
        # "3 m" or "5 s" alone are too short to be units unless written right after the number ("32°F" too)
        if unit is not None and (len(d.lower(end)) > 1 or d.gap(end).strip() in ("", "°")):
            # "more than 10 miles away": how far, said of the distance
            away = unit.kind == "distance" and d.lower(end + 1) == "away" and not d.used[end + 1]
            return unit, end + 2 if away else end + 1
        if d.lower(end) == "per" and d.lower(end + 1) == "cent":
            return unit_of_word("percent"), end + 2
    return None, end


def _units_or_more(d: ReadingState, lowers: list[str], spans: list[NumberSpan]) -> ReadingState:
    """Read every "an hour and a half or more" into `spans`; the reading with their words placed."""
    for k in range(len(lowers)):
        one = _one_unit_or_more(d, lowers, k)
        if one is not None:
            spans.append(one)  # "delayed by an hour and a half or more", "a mile or longer"
            d = d.mark(one.start, one.end)
    return d


def _in_total(d: ReadingState, lowers: list[str]) -> ReadingState:
    """ "how much premium in total took effect …": 'in total' sums the figure before it, so it aggregates
    nothing after it; its words are placed."""
    for k in range(1, len(lowers)):
        if lowers[k - 1 : k + 1] == ["in", "total"] and any(p.end < k for p in d.picks) and not d.used[k]:
            d = d.mark(k - 1, k + 1)
    return d


def _one_unit_or_more(d: ReadingState, lowers: list[str], i: int) -> NumberSpan | None:
    """ "an hour and a half or more", "a mile or less": one unit (and a half), then a comparator after it."""
    if lowers[i] not in ("a", "an") or i + 1 >= len(lowers) or any(d.used[i : i + 2]):
        return None
    said = unit_of_word(lowers[i + 1])
    if said is None or said.name in ("count", "currency"):
        return None
    unit, end = _unit_after(d, i + 1, "1")
    if unit is None:
        return None
    value = 1.0
    if lowers[end : end + 3] == ["and", "a", "half"]:
        value, end = 1.5, end + 3
    post = _post_comparator(lowers, end)
    if post is None:
        return None
    op, k = post
    return NumberSpan(i, end + k, op, (value,), unit, d.text(i, end + k), i, " ".join(lowers[end : end + k]))


def _post_comparator(lowers: list[str], at: int) -> tuple[str, int] | None:
    for words, op in sorted(_POST_COMPARATORS.items(), key=lambda kv: -len(kv[0])):
        if tuple(lowers[at : at + len(words)]) == words:
            return op, len(words)
    return None


# -- ranking ------------------------------------------------------------------------------------------------


_NATURAL_ORDERS = frozenset({"chronological", "date", "time", "year", "month", "calendar", "alphabetical"})


def read_natural_order(d: ReadingState, ctx: PlanningContext) -> ReadingState:
    """Place "in chronological order", "in year order", "alphabetically": the order rows come in anyway (by their
    periods and labels, earliest and A first), so the words ask for nothing more."""
    for i in range(len(d.words)):
        if d.lower(i) in ("chronologically", "alphabetically") and not d.used[i]:
            d = d.mark(i, i + 1).note(Evidence(d.text(i, i + 1), "order", "natural", 1.0, "keyword"))
        elif (
            d.lower(i) == "in"
            and d.lower(i + 1) in _NATURAL_ORDERS
            and d.lower(i + 2) == "order"
            and not d.used[i + 2]
        ):
            d = d.mark(i, i + 3).note(Evidence(d.text(i, i + 3), "order", "natural", 1.0, "keyword"))
        elif (
            d.lower(i) in ("one", "a")
            and d.lower(i + 1) == "line"
            and d.lower(i + 2) in ("per", "each", "for")
            and not d.used[i + 1]
        ):
            # "one line per year": a row of the answer, not an order line; 'per year' still says the rows
            d = d.mark(i, i + 2)
    return d


def _opposite_pair(d: ReadingState, lex: Any, i: int) -> bool:
    """True when word i and a ranking word of the other direction are joined by and/or ("lowest and highest"),
    or word i is one of a list of aggregate words ("min, max and median refund", "min / max")."""
    sides = (lex.high, lex.low)
    mine = next((k for k, side in enumerate(sides) if d.lower(i) in side), None)
    if mine is None:
        return False
    for j in (i + 2, i - 2, i + 3, i - 3):
        between = [d.lower(k) for k in range(min(i, j) + 1, max(i, j))]
        # "lowest and highest", "the smallest and the largest refund"
        if (
            0 <= j < len(d.words)
            and between[:1] in (["and"], ["or"], ["&"])
            and between[1:] in ([], ["the"])
            and d.lower(j) in sides[1 - mine]
        ):
            return True
    return _listed_aggregate(d, lex, i)


_LIST_JOINS = ("and", "or", "&", "/")


def _listed_aggregate(d: ReadingState, lex: Any, i: int) -> bool:
    """True when an aggregate word sits next to another in a list: "min, max and median", "min / max"."""
    words = {p[0] for p in _aggregate_words(lex)}
    if d.lower(i) not in words:
        return False
    ahead = i + 1 if "," in d.gap(i + 1) else i + 2 if d.lower(i + 1) in _LIST_JOINS else None
    behind = i - 1 if "," in d.gap(i) else i - 2 if d.lower(i - 1) in _LIST_JOINS else None
    return any(j is not None and 0 <= j < len(d.words) and d.lower(j) in words for j in (ahead, behind))


def _first_or_last_row(d: ReadingState, ctx: PlanningContext, i: int) -> int | None:
    """ "the first flight to Jackson Hole", "the very last claim", "the first 5 orders": 'first' / 'last' before
    things the model keeps rows of are the earliest / latest of them, not a period ("the last quarter"); the
    count of rows asked for (1 for a singular noun), or None."""
    if d.lower(i) not in ("first", "last") or d.used[i] or d.lower(i - 1) not in ("the", "very"):
        return None
    k, count = i + 1, number_of(d.lower(i + 1))
    if count is not None and count >= 1 and count == int(count) and not d.used[k]:
        k += 1
    if (
        k >= len(d.words)
        or d.used[k]
        or not any(t.kind == "entity" for t in ctx.vocabulary.lookup(d.norm(k)))
    ):
        return None
    singular = d.words[k].lower == d.words[k].norm
    if count is None:
        return 1 if singular else None
    return int(count) if not singular or count == 1 else None


def read_ranking(d: ReadingState, ctx: PlanningContext) -> ReadingState:  # noqa: C901 - one rule per shape of ranking phrase
    """Top/bottom N, best/worst, most/least, superlatives ("longest"), and explicit sort words. A question may
    rank twice in the same direction ("biggest-spending …? top 3 states …"): the two readings become one, the
    limit from whichever gives one; rankings that pull opposite ways are left unplaced, so the planner refuses."""
    found: list[Ranking] = []
    lex = ctx.lexicon
    n = len(d.words)
    for i in range(n):
        if d.used[i] or any(r.start <= i < r.end for r in found):
            continue
        word = d.norm(i)
        rows = _first_or_last_row(d, ctx, i)
        if rows is not None:
            earliest = d.lower(i) == "first"
            limit = rows if rows > 1 else None
            said = "earliest" if earliest else "latest"
            found.append(Ranking(i, i + 1 + (limit is not None), "low" if earliest else "high", said, limit))
            continue
        if word not in lex.high | lex.low and d.lower(i) not in lex.high | lex.low:
            continue
        if d.lower(i) in ("most", "least", "more", "less") and d.lower(i - 1) == "at":
            continue
        if _opposite_pair(d, lex, i):
            continue  # "the lowest and highest unit cost": two aggregates of a column, not a ranking
        direction = (
            "best"
            if word == "best"
            else "worst"
            if word == "worst"
            else "high"
            if (word in lex.high or d.lower(i) in lex.high)
            else "low"
        )
        start, end, limit = i, i + 1, None
        after = number_of(d.lower(i + 1)) if i + 1 < n and not d.used[i + 1] else None
        before = number_of(d.lower(i - 1)) if i > 0 and not d.used[i - 1] else None
        if after is not None and after >= 1 and after == int(after) and d.lower(i + 1) != "half":
            limit, end = int(after), i + 2
        elif before is not None and before >= 1 and before == int(before) and d.lower(i - 1) != "half":
            limit, start = int(before), i - 1
        if d.lower(i + 1) in ("common", "frequent", "frequently", "popular", "often", "used") and d.lower(
            i
        ) in ("most", "least"):
            end = max(end, i + 2)
        said = d.lower(i)
        pair = normalize(f"{said} {d.lower(i + 1)}") if i + 1 < n and not d.used[i + 1] else ""
        if pair and any(t.kind == "phrasing" for t in ctx.vocabulary.lookup(pair)):
            said, end = pair, max(end, i + 2)  # "best selling": the model's phrasing says what ranks
        found.append(Ranking(start, end, direction, said, limit))
    for i in range(n):
        if found or d.used[i]:
            break
        if d.lower(i) in ("ascending", "asc", "descending", "desc"):
            desc = d.lower(i).startswith("desc")
            found.append(Ranking(i, i + 1, "high" if desc else "low", d.lower(i)))
        elif d.lower(i) in ("sorted", "ordered", "ranked", "sort") and d.lower(i + 1) == "by":
            found.append(Ranking(i, i + 2, "high", d.lower(i)))
    verb = _sorting_verb(d, ranked=bool(found))
    if verb is not None and found:
        d = d.mark(verb, verb + 1)  # "Rank the coverage details by premium, highest first": the same order
    elif verb is not None:
        found.append(Ranking(verb, verb + 1, "high", d.lower(verb), sort_only=True))
    if not found:
        return d
    first = found[0]
    polarity = {"best": "high", "worst": "low"}
    agree = [
        r
        for r in found[1:]
        if polarity.get(r.direction, r.direction) == polarity.get(first.direction, first.direction)
    ]
    limits = {r.limit for r in [first, *agree] if r.limit is not None}
    if len(limits) > 1:
        agree = []
    end, word = first.end, first.word
    for r in sorted(agree, key=lambda r: r.start):
        if r.start <= end < r.end:
            # "most recent", "most expensive", "top 5 busiest" (the number shared): one ranking
            end, word = r.end, r.word
    ranking = replace(first, end=end, limit=next(iter(limits), None), word=word)
    # "biggest first", and "biggest refund first" with the ranked figure between: the order of every row
    first_word = next(
        (
            k
            for k in (end, end + 1, end + 2)
            if d.lower(k) in ("first", "1st")
            and not d.used[k]
            and all(
                not d.used[j] and d.words[j].raw.isalpha() and "," not in d.gap(j + 1) for j in range(end, k)
            )
        ),
        None,
    )
    if ranking.limit is None and first_word is not None:
        # "loss reserves by claim number, biggest first": an order for every row, not the top one
        ranking = replace(ranking, sort_only=True)
        d = d.mark(first_word, first_word + 1)
    for r in [first, *agree]:
        d = d.mark(r.start, r.end)
        if r is not first and d.lower(r.end) in ("first", "1st") and not d.used[r.end]:
            d = d.mark(r.end, r.end + 1)  # "top 3 premium records by amount, biggest first": the same order
    notes = [Evidence(d.text(first.start, first.end), "order", ranking.direction, 1.0, "keyword")]
    if ranking.limit is not None:
        notes.append(Evidence(str(ranking.limit), "limit", str(ranking.limit), 1.0, "keyword"))
    return replace(d, ranking=ranking).note(*notes)


def _sorting_verb(d: ReadingState, ranked: bool = False) -> int | None:
    """ "Rank the stores by revenue", "sort brands by units sold": a command that orders every row, largest
    first unless told otherwise; where its word is, or None. With a ranking word in the question ("Rank the
    five destinations with the most miles") no 'by' is needed: the ranking says by what."""
    i = 1 if d.lower(0) in ("please", "now") else 0
    if d.used[i] or d.lower(i) not in ("rank", "sort", "order") or i + 1 >= len(d.words):
        return None
    after = d.words[i + 1]
    determiner = after.lower in ("the", "our", "all", "my", "these", "those", "each")
    # "order lines by product", "order count by region" are names; a verb takes its rows after an article
    if not determiner and (d.lower(i) == "order" or after.lower == after.norm):
        return None
    if ranked and determiner or any(d.lower(k) == "by" for k in range(i + 2, len(d.words))):
        return i
    return None


# -- share and growth ---------------------------------------------------------------------------------------

_SHARE_PHRASES = (
    ("share", "of", "total"),
    ("%", "of", "total"),
    ("percent", "of", "total"),
    ("percentage", "of", "total"),
    ("proportion", "of", "total"),
    ("fraction", "of", "total"),
    ("share", "of"),
    ("percentage", "of"),
    ("percent", "of"),
    ("proportion", "of"),
    ("fraction", "of"),
    ("what", "share"),
    ("what", "%"),
    ("what", "percentage"),
    ("what", "percent"),
    ("what", "proportion"),
    ("what", "fraction"),
    ("share",),
    ("mix",),
    ("contribution",),
    ("breakdown", "in", "percent"),
    ("as", "shares"),  # "split the miles across the airports as shares"
    ("as", "percentages"),
    ("as", "proportions"),
    ("as", "fractions"),
    ("percentage",),
    ("proportion",),
)
_GROWTH_WORDS = {
    "growth",
    "grow",
    "grew",
    "grown",
    "growing",
    "change",
    "changed",
    "increase",
    "increased",
    "decrease",
    "decreased",
    "decline",
    "declined",
    "evolution",
    "rise",
    "rose",
    "fell",
    "drop",
    "dropped",
    "gain",
    "gained",
    "improve",
    "improved",
}
_FAST_WORDS = {
    "fastest",
    "most",
    "quickest",
    "biggest",
    "largest",
    "least",
    "slowest",
    "smallest",
    "best",
    "worst",
    "more",
    "less",
}


def read_share_and_growth(d: ReadingState, ctx: PlanningContext) -> ReadingState:
    """'share of total' / '% of total' and growth words ('growth', 'change' → previous period)."""
    lowers = [w.lower for w in d.words]
    # "A as a share of B" divides A by B (the arithmetic stage reads it); "as a share of (the) total" is a share
    ratio_words: set[int] = set()
    for k in (k for k, w in enumerate(lowers) if w == "as"):
        found = _AS_SHARE_OF.match(" ".join(lowers[k : k + 4])) or _AS_SHARE_OF.match(
            " ".join(lowers[k : k + 3])
        )
        if found:
            size = len(found.group(0).split())
            after = [w for w in lowers[k + size :][:2] if w != "the"]
            at = k + size + (lowers[k + size : k + size + 1] == ["the"])
            named = _named_at(d, ctx, at, len(lowers))
            if (
                lowers[at + 1 : at + 2] == ["total"]
                and lowers[at] in lowers[:k]
                and ctx.values.dimensions_with(lowers[at])
            ):
                continue  # "Beauty units … as a share of the Beauty total": the whole the value already names
            if lowers[at + 1 : at + 2] == ["total"] and _kind_of_value_before(d, ctx, at, k):
                d = d.mark(at, at + 1)  # "JFK's flights … as a share of the airport's total": JFK's total
                continue
            if after and (after[0] not in ("total", "all", "everything", "overall") or named is not None):
                ratio_words |= set(range(k, k + size))  # "… as a share of total claim amount": a name
    for phrase in _SHARE_PHRASES:
        k = len(phrase)
        for i in range(len(lowers) - k + 1):
            if (
                tuple(lowers[i : i + k]) == phrase
                and not any(d.used[i : i + k])
                and not _starts_a_name(d, ctx, i)
                and not _in_defined_name(d, i)
                and i not in ratio_words
            ):
                mark_from = i + 1 if phrase[0] == "what" else i
                d = d.mark(mark_from, i + k)
                return _growth(
                    replace(d, share=True).note(
                        Evidence(" ".join(phrase), "comparison", "share_of_total", 1.0, "keyword")
                    ),
                    ctx,
                )
    return _growth(d, ctx)


def _kind_of_value_before(d: ReadingState, ctx: PlanningContext, at: int, end: int) -> bool:
    """True when word `at` names the kind of a value said before word `end` ("airport" for JFK: a word of the
    name of a column that holds it)."""
    kind = d.norm(at)
    return any(
        kind in c.dimension.replace("__", "_").split("_")
        for j in range(end)
        for c in ctx.values.dimensions_with(d.lower(j))
    )


def _adds_up(ctx: PlanningContext, metric: str) -> bool:
    """True for one total or count (a sum of rows), whose ratio to another total means something."""
    return ctx.layer.metric(metric).type == "simple" and additive(ctx.layer, metric)


def _in_defined_name(d: ReadingState, i: int) -> bool:
    """True when word i is part of a name the question defines, where it is defined or used ("refund share,
    i.e. …" and "paid share by claim, where paid share is …" ask for no share of a total)."""
    if any(a <= i < b for a, b in (x.named for x in d.definitions)):
        return True
    lowers = [w.lower for w in d.words]
    norms = [w.norm for w in d.words]
    for x in d.definitions:
        for words, name in ((lowers, lowers[x.named[0] : x.named[1]]), (norms, d.unowned_name(x))):
            size = len(name)
            if size and any(words[s : s + size] == name for s in range(max(0, i - size + 1), i + 1)):
                return True
    return False


def _starts_a_name(d: ReadingState, ctx: PlanningContext, i: int) -> bool:
    """True when word i is part of a multi-word vocabulary phrase ("share cancelled", "on-time percentage")."""
    norms = [w.norm for w in d.words]
    for a in range(max(0, i - 3), i + 1):
        for b in range(max(a + 2, i + 1), min(len(norms), a + 4) + 1):
            if ctx.vocabulary.lookup(" ".join(norms[a:b])):
                return True
    return False


def _growth(d: ReadingState, ctx: PlanningContext) -> ReadingState:
    for i, w in enumerate(d.words):
        if (
            not d.used[i]
            and w.lower in _GROWTH_WORDS
            and w.norm not in ctx.vocabulary.words
            and not ctx.values.is_value_word(w.norm)
        ):
            d = d.mark(i, i + 1)
            grows = (
                d.ranking is not None
                and d.ranking.start in (i + 1, i - 1, i - 2)
                or d.lower(i + 1) in _FAST_WORDS
                or d.lower(i - 1) in _FAST_WORDS
            )
            if grows and d.lower(i + 1) in _FAST_WORDS and d.ranking is None:
                direction = (
                    "low" if d.lower(i + 1) in ("least", "slowest", "smallest", "worst", "less") else "high"
                )
                d = replace(d.mark(i + 1, i + 2), ranking=Ranking(i + 1, i + 2, direction, d.lower(i + 1)))
            if (
                d.lower(i) in ("fell", "drop", "dropped", "decline", "declined", "decrease", "decreased")
                and d.ranking is not None
                and d.ranking.direction == "high"
            ):
                d = replace(d, ranking=replace(d.ranking, direction="low"))
            if d.comparison is None:
                d = replace(d, comparison="previous_period", growth=grows)
                return d.note(Evidence(w.raw, "comparison", "previous_period", 1.0, "keyword"))
            return replace(d, growth=grows)
    return d


# -- names --------------------------------------------------------------------------------------------------

_KIND_RANK = {
    "metric": 0.0,
    "entity": 0.5,
    "dimension": 1.0,
    "concept": 1.0,
    "model": 1.5,
    "value": 2.0,
    "phrasing": 2.5,
    "measure": 3.0,
}
_SOURCE_RANK = {"name": 0, "label": 1, "synonym": 2, "learned": 0, "phrasing": 2, "entity": 3}


def _group_cue(d: ReadingState, ctx: PlanningContext, start: int) -> bool:
    lowers = [w.lower for w in d.words]
    for cue in ctx.lexicon.group_cues:
        k = len(cue)
        if start - k >= 0 and tuple(lowers[start - k : start]) == cue:
            return True
    return lowers[start - 1 : start] in (["which"], ["what"], ["each"], ["every"]) if start > 0 else False


def _rank(d: ReadingState, ctx: PlanningContext, start: int, kind: str, kinds_here: set[str]) -> float:
    previous = d.lower(start - 1)
    ranked = (
        d.ranking is not None
        and (d.ranking.end == start or number_of(previous) is not None and not d.used[start - 1])
        and d.ranking.word not in ("most", "least", "fewest", "more", "less")
    )  # "the most orders" counts orders
    grouped = _group_cue(d, ctx, start)
    # "which month had the highest marketing spend": 'highest' / 'lowest' grade an amount, so words that name both
    # a figure and a kind of thing name the figure there ("the top customers" still ranks customers)
    if (
        ranked
        and not grouped
        and d.ranking is not None
        and d.ranking.word in ("highest", "lowest")
        and {"metric", "entity"} <= kinds_here
    ):
        return _KIND_RANK[kind]
    if ranked_by_at(d, start) and "metric" in kinds_here:
        # "top 3 brands by refunds": what ranks them is the figure, not a column to split by
        return _KIND_RANK[kind]
    cue = grouped or ranked
    if kind in ("dimension", "entity", "concept") and cue:
        return -1.0 + (0.25 if kind == "dimension" and "entity" in kinds_here else 0.0)
    if kind == "metric" and cue and kinds_here & {"dimension", "entity", "concept"}:
        return 2.5
    if (
        kind == "value"
        and "entity" in kinds_here
        and d.lower(start).endswith("s")
        and not ctx.values.is_value_word(d.lower(start))
    ):
        return 0.6  # "stores in Florida": the plural names the stores, not the value 'Store' of a column
    if kind == "value" and previous in (
        "in",
        "at",
        "from",
        "to",
        "for",
        "via",
        "only",
        "excluding",
        "except",
        "not",
        "without",
        "and",
        "or",
        "of",
        "on",
        "with",
        "into",
        "vs",
        "versus",
    ):
        return 0.4
    return _KIND_RANK[kind]


_NAME_KINDS = frozenset({"metric", "measure", "dimension", "entity"})


def _aggregate_words(lex: Any) -> frozenset[tuple[str, ...]]:
    """The one-word aggregate phrases of the lexicon ("cheapest", "median")."""
    return frozenset(p for p, _ in lex.aggregates if len(p) == 1)


def read_names(d: ReadingState, ctx: PlanningContext) -> ReadingState:
    """Metric, dimension, entity, concept, phrasing, measure and value names among the free words, longest and
    best match first; each chosen pick remembers the other readings of its words."""
    free = [not u for u in d.used]
    norms = [w.norm for w in d.words]
    lex = ctx.lexicon
    by_span: dict[tuple[int, int, str], list[Any]] = {}
    aggregate_words = _aggregate_words(lex)
    for m in ctx.vocabulary.matches(norms, free):
        one_word = m.end - m.start == 1
        if any(c in d.gap(k) for k in range(m.start + 1, m.end) for c in ",;:"):
            continue  # "by return reason, for returns in 2025": a name never runs across a comma
        if (
            one_word
            and (norms[m.start] in STOP_WORDS or norms[m.start] in lex.function_words)
            and not _group_cue(d, ctx, m.start)
            and m.method in ("exact", "synonym", "learned")
        ):
            continue  # "did we make" is not the brand synonym "make" unless asked "by make"
        if m.method not in ("exact", "synonym", "learned") and any(
            norms[k] in lex.words or d.lower(k) in lex.words
            for k in range(m.start, m.end)
            if k < len(norms) and m.end - m.start == 1
        ):
            continue  # a word of the lexicon ("median", "most") is never a typo of a name
        if one_word and m.term.kind == "phrasing" and (norms[m.start],) in aggregate_words:
            continue  # "cheapest and most expensive price": the word is a minimum here; a ranking reads its phrasing
        if any(sentence_ends_before(d, k) for k in range(m.start + 1, m.end)):
            continue  # "… per policy? Loss ratio is …": a name never runs across the end of a sentence
        by_span.setdefault((m.start, m.end, m.term.kind), []).append(m)
    cands: list[Pick] = []
    kinds_at: dict[tuple[int, int], set[str]] = {}
    for (start, end, kind), ms in by_span.items():
        kinds_at.setdefault((start, end), set()).add(kind)
        ms.sort(key=lambda m: (_SOURCE_RANK.get(m.term.source, 4), -m.score))
        targets = tuple(dict.fromkeys(m.term.target for m in ms))
        best = max(ms, key=lambda m: m.score)
        # a table's name is the weakest reading of its words: a metric or column named alike wins
        score = best.score * 0.8 if kind == "model" else best.score
        cands.append(Pick(start, end, kind, targets, d.text(start, end), score, best.method))
    cands += _reordered(d, ctx, free, kinds_at)
    verbs = model_verbs(ctx.layer)
    for hit in ctx.values.matches(d.words, free, ctx.vocabulary.words, ctx.lexicon.words, verbs=verbs):
        kinds_at.setdefault((hit.start, hit.end), set()).add("value")
        cands.append(Pick(hit.start, hit.end, "value", (), hit.phrase, hit.score, hit.method, hit.candidates))
    cands = _verb_siblings(d, ctx, free, cands)
    # a name of several columns is not read as one that is empty in every row ("claim number" of fire claims)
    cands = [
        replace(p, targets=kept)
        if p.kind == "dimension" and (kept := tuple(t for t in p.targets if not ctx.values.is_empty(t)))
        else p
        for p in cands
    ]
    # "top 3 coverage details by premium": a column empty in every row is not what a word means when the same
    # words also name a figure of the model
    figures = {(p.start, p.end) for p in cands if p.kind == "metric"}
    cands = [
        p
        for p in cands
        if not (
            p.kind == "dimension"
            and (p.start, p.end) in figures
            and all(ctx.values.is_empty(t) for t in p.targets)
        )
    ]
    # "the policy numbers of policies that …" are their numbers: a count is said "number of", never "numbers of"
    cands = [
        p for p in cands if not (p.kind in ("metric", "measure") and d.words[p.start].lower == "numbers")
    ]
    # a name never reads across a parenthesis ("number of flights (tail number)" is not "flights tail number")
    cands = [p for p in cands if not any(c in d.gap(k) for k in range(p.start + 1, p.end) for c in "()")]
    # a partial reading ("stores opened" inside "store opened date") loses to exact readings of its words
    exact_words = {
        k
        for p in cands
        if p.method in ("exact", "synonym", "learned", "code") and p.score >= 1.0
        for k in range(p.start, p.end)
    }
    # "average orders per customer": an aggregate word in front of an exact plural name reads as the aggregate,
    # not as part of a longer name ("average order value"; "average order" still is)
    said = {p[0] for p, _ in ctx.lexicon.aggregates if len(p) == 1}
    exact_words |= {
        k
        for p in cands
        if p.method in ("exact", "synonym")
        and p.start >= 1
        and d.lower(p.start - 1) in said
        and d.words[p.end - 1].lower != d.words[p.end - 1].norm
        for k in (p.start - 1,)
    }
    cands = [
        p for p in cands if p.method != "partial" or not all(k in exact_words for k in range(p.start, p.end))
    ]
    # "flights with an arrival delay": a name that would cut the start off another exact name ("arrival delay")
    # loses to it; in English the later words head the phrase
    heads = [q for q in cands if q.kind in _NAME_KINDS and q.method in ("exact", "synonym", "learned")]
    cands = [
        p
        for p in cands
        if p.kind not in _NAME_KINDS or not any(p.start < q.start < p.end < q.end for q in heads)
    ]
    # "paid out in loss payments": a reading that ends inside a longer mention of the same figure loses to it
    cands = [
        p
        for p in cands
        if not any(
            q.kind == p.kind and set(q.targets) & set(p.targets) and p.start < q.start < p.end < q.end
            for q in cands
        )
    ]
    readings: dict[tuple[int, int], list[tuple[str, tuple[str, ...]]]] = {}
    for p in cands:
        readings.setdefault((p.start, p.end), []).append((p.kind, p.targets))

    def key(p: Pick) -> tuple[float, float, float]:
        return (
            -(p.end - p.start),
            -round(p.score, 2),
            _rank(d, ctx, p.start, p.kind, kinds_at[(p.start, p.end)]),
        )

    chosen: list[Pick] = []
    taken = [False] * len(d.words)
    for p in sorted(cands, key=key):
        if any(taken[p.start : p.end]):
            continue
        others = tuple((k, t) for k, t in readings[(p.start, p.end)] if k != p.kind)
        chosen.append(replace(p, alts=others))
        for k in range(p.start, p.end):
            taken[k] = True
    chosen.sort(key=lambda p: p.start)
    chosen += _coordinated(d, ctx, chosen, taken)
    chosen.sort(key=lambda p: p.start)
    chosen = _without_restated_units(d, ctx, chosen)
    for p in chosen:
        d = d.mark(p.start, p.end)
    return replace(d, picks=tuple(chosen))


def _without_restated_units(d: ReadingState, ctx: PlanningContext, picks: list[Pick]) -> list[Pick]:
    """ "median distance in miles", "temperature in degrees": a unit word after 'in' that the name before it is
    held in restates that name's unit; it is not a second name (the synonym "miles" of total distance)."""
    out: list[Pick] = []
    for p in picks:
        said = unit_of_word(d.lower(p.start)) if p.end - p.start == 1 else None
        # the name before, past values in between ("shortest flight distance out of EWR, in miles")
        named = [q for q in out if q.kind != "value"]
        before = named[-1] if named else None
        if (
            said is not None
            and before is not None
            and (before.end == p.start - 1 or all(q.kind == "value" for q in out if q.start >= before.end))
            and d.lower(p.start - 1) == "in"
            and before.targets
            and (held := unit(name_unit(ctx.layer, before.kind, before.targets[0]) or "")) is not None
            and held.name == said.name
        ):
            continue  # the words stay free: the unit stage places them
        out.append(p)
    return out


_NOT_ATTRIBUTES = frozenset(
    {
        "number",
        "count",
        "total",
        "amount",
        "sum",
        "average",
        "share",
        "percentage",
        "rate",
        "most",
        "least",
        "all",
        "none",
        "each",
        "any",
        "some",
        "half",
        "rest",
        "top",
        "bottom",
    }
)


def _reordered(
    d: ReadingState, ctx: PlanningContext, free: list[bool], kinds_at: dict[tuple[int, int], set[str]]
) -> list[Pick]:
    """ "the name of its catastrophe", "the code of the airline": an attribute 'of' its owner names the column
    the model calls "catastrophe name" / "airline code"."""
    out: list[Pick] = []
    norms = [w.norm for w in d.words]
    n = len(norms)
    for i in range(n - 3):
        # only an owner named with its/their/the, and never a count ("the number of the orders" counts them)
        if (
            not free[i]
            or norms[i + 1] != "of"
            or norms[i + 2] not in ("its", "their", "the", "each")
            or (norms[i] in _NOT_ATTRIBUTES and not _number_of_one(d, i))
            # "the agent id of the policy": 'id' ends the name before it, it is no attribute of its own
            or (i > 0 and free[i - 1] and norms[i - 1].isalpha() and norms[i - 1] not in STOP_WORDS)
        ):
            continue
        k = i + 3
        for j in range(min(n, k + 3), k, -1):
            if not all(free[i:j]):
                continue
            phrase = " ".join(norms[k:j] + [norms[i]])
            terms = [t for t in ctx.vocabulary.lookup(phrase) if t.kind == "dimension"]
            if len({t.target for t in terms}) == 1:
                kinds_at.setdefault((i, j), set()).add("dimension")
                out.append(Pick(i, j, "dimension", (terms[0].target,), d.text(i, j), 1.0, "exact"))
                break
    return out


def _verb_siblings(d: ReadingState, ctx: PlanningContext, free: list[bool], cands: list[Pick]) -> list[Pick]:
    """ "the flights that departed furthest ahead of schedule", "flights that left LaGuardia early": a phrasing
    whose verb stands apart from its other words, across a ranking word or a value, is the one read ("departed
    ahead of schedule", "left early"), not the shorter phrasing of the words alone (an early arrival)."""
    norms = [w.norm for w in d.words]
    gaps = [(p.start, p.end) for p in cands if p.kind == "value"]
    if d.ranking is not None:
        r = d.ranking
        gaps.append((r.start - (norms[r.start - 1 : r.start] == ["the"]), r.end))  # "left the furthest"
    out = list(cands)
    for g0, g1 in gaps:
        for j in range(min(len(norms), g1 + 4), g1, -1):
            alone = [c for c in out if c.kind == "phrasing" and (c.start, c.end) == (g1, j)]
            if not alone or not all(free[g1:j]):
                continue
            for i in range(max(0, g0 - 2), g0):
                if not all(free[i:g0]):
                    continue
                terms = ctx.vocabulary.lookup(" ".join(norms[i:g0] + norms[g1:j]))
                targets = tuple(dict.fromkeys(t.target for t in terms if t.kind == "phrasing"))
                if targets and set(targets) != set(alone[0].targets):
                    sibling = Pick(g1, j, "phrasing", targets, d.text(g1, j), alone[0].score, "verb")
                    out = [c for c in out if c not in alone] + [sibling]
                    break
    return out


def _number_of_one(d: ReadingState, i: int) -> bool:
    """ "the number of the policy it was filed under": 'number' of one thing (a singular noun after 'the', not
    followed by 'of') is its identifying number; "the number of the policies" counts them."""
    if d.lower(i) != "number" or d.lower(i + 2) not in ("the", "its", "each") or i + 3 >= len(d.words):
        return False
    owner = d.words[i + 3]
    return owner.lower == owner.norm and owner.lower.isalpha() and d.lower(i + 4) != "of"


def _coordinated(d: ReadingState, ctx: PlanningContext, chosen: list[Pick], taken: list[bool]) -> list[Pick]:
    """ "effective and expiration dates": a word joined by 'and'/'or'/',' to a longer name shares its last word
    ("effective date"); read it as that name when the vocabulary knows it."""
    out: list[Pick] = []
    for p in chosen:
        if p.end - p.start < 2 or p.kind not in ("dimension", "metric"):
            continue
        k = p.start - 1
        if d.lower(k) not in ("and", "or") and "," not in d.gap(p.start):
            continue
        i = k - 1 if d.lower(k) in ("and", "or") else p.start - 1
        if i < 0 or taken[i] or d.used[i]:
            continue
        words = [d.norm(i), *[w.norm for w in d.words[p.end - 1 : p.end]]]
        exact = [t.target for t in ctx.vocabulary.lookup(" ".join(words)) if t.kind == p.kind]
        wider = [t.target for t in ctx.vocabulary.containing(words, p.kind)]
        targets = tuple(dict.fromkeys(exact + wider))
        if targets:
            out.append(
                Pick(
                    i,
                    i + 1,
                    p.kind,
                    targets,
                    f"{d.words[i].raw} {d.words[p.end - 1].raw}",
                    1.0 if exact else 0.85,
                    "coordinated",
                )
            )
            taken[i] = True
    return out


# -- lengths of time between two dates ---------------------------------------------------------------------

_TOOK = frozenset({"took", "take", "takes", "taking", "lasted", "last", "lasts", "lasting", "spent", "spend"})
_FROM_TO = {"from": ("to", "until", "till"), "between": ("and",)}


def read_durations(d: ReadingState, ctx: PlanningContext) -> ReadingState:
    """ "claims that took more than 20 days from opening to closing", "orders with over 3 days between order
    date and ship date": a length of time followed by the two dates of the row it runs between."""
    numbers = list(d.numbers)
    for n, span in enumerate(numbers):
        if span.unit is None or span.unit.kind != "duration" or span.end >= len(d.words):
            continue
        closers = _FROM_TO.get(d.lower(span.end))
        if closers is None:
            continue
        cut = next((k for k in range(span.end + 1, len(d.words)) if d.lower(k) in closers), None)
        if cut is None:
            continue
        stop = cut + 1
        while stop < len(d.words) and not d.used[stop] and not _clause_break(d, stop):
            stop += 1
        pair = _two_dates(d, ctx, (span.end + 1, cut), (cut + 1, stop))
        if pair is None:
            continue
        numbers[n] = replace(span, between=pair)
        d = d.mark(span.end, stop)
        if span.start > 0 and d.lower(span.start - 1) in _TOOK:
            d = d.mark(span.start - 1, span.start)  # "took": the length of time is what it took
        d = d.note(
            Evidence(d.text(span.start, stop), "filter", f"days from {pair[0]} to {pair[1]}", 1.0, "duration")
        )
    return replace(d, numbers=tuple(numbers))


# nouns of a length of time: "the average number of days", "median time", "longest wait"
_DURATION_NOUNS = frozenset({"day", "time", "duration", "length", "wait", "turnaround", "lag", "interval"})
_DAY_FUNCTIONS = frozenset({"avg", "median", "min", "max", "sum"})


def read_days_between(d: ReadingState, ctx: PlanningContext) -> ReadingState:
    """ "the average number of days it takes to settle a claim (open date to close date)", "median days from
    order date to return date": an aggregate word, a noun of a length of time, and the two dates of each row
    it runs between (a few words of what happens between them may stand before the dates)."""
    lex = ctx.lexicon
    lowers = [w.lower for w in d.words]
    n = len(lowers)
    found: list[DaysBetween] = []
    for i in range(n):
        if d.used[i] or any(x.start <= i < x.end for x in found):
            continue
        phrase = lex.starts(lowers, i, [p for p, _ in lex.aggregates])
        if phrase is None:
            continue
        function = dict(lex.aggregates)[phrase]
        # "on average, how many days pass between …": the count of days is averaged over the rows
        averaged = said_on_average(d) if function == "count" and phrase == ("how", "many") else None
        if function not in _DAY_FUNCTIONS and averaged is None:
            continue
        j = i + len(phrase)
        while j < n and lowers[j] in ("the", "number", "of", "amount") and not d.used[j]:
            j += 1
        if j >= n or d.used[j] or d.words[j].norm not in _DURATION_NOUNS:
            continue
        j += 1
        if lowers[j - 1] == "length" and lowers[j : j + 2] == ["of", "time"]:
            j += 2
        pair = _date_pair_after(d, ctx, j)
        if pair is None:
            continue
        (since, until), stop = pair
        if averaged is not None:
            function = "avg"
            d = d.mark(averaged, averaged + 2)
        found.append(DaysBetween(i, stop, function, since, until, d.text(i, stop)))
        d = d.mark(i, stop).note(
            Evidence(
                d.text(i, stop), "metric", f"{function} of days from {since} to {until}", 1.0, "duration"
            )
        )
    return replace(d, days_between=tuple(found)) if found else d


def _date_pair_after(d: ReadingState, ctx: PlanningContext, start: int) -> tuple[tuple[str, str], int] | None:
    """Two dates of one row named within a few words after `start` ("from A to B", "between A and B", "(A to
    B)"), and where their words end; None unless exactly one pair is named."""
    n = len(d.words)
    for cut in range(start + 1, min(n, start + 12)):
        if d.lower(cut) not in ("to", "and", "until", "till", "through") or d.used[cut]:
            continue
        for s in range(max(start, cut - 5), cut):
            opened = s == start or d.lower(s - 1) in ("from", "between") or "(" in d.gap(s)
            if not opened or any(d.used[k] for k in range(start, s)) or s - start > 6:
                continue
            for e in range(min(n, cut + 6), cut + 1, -1):
                closed = e == n or ")" in d.gap(e) or _clause_break(d, e)
                if not closed or any(d.used[k] for k in range(cut + 1, e)):
                    continue
                pair = _two_dates(d, ctx, (s, cut), (cut + 1, e))
                if pair is not None and all(ctx.layer.dimension(x).dimension.is_time for x in pair):
                    return pair, e
    return None


def _clause_break(d: ReadingState, i: int) -> bool:
    """True where a new part of the question starts: punctuation before word i, or a grouping word."""
    return any(c in d.gap(i) for c in ",;?") or d.lower(i) in ("by", "per", "for", "in", "during", "where")


def _two_dates(
    d: ReadingState, ctx: PlanningContext, first: tuple[int, int], second: tuple[int, int]
) -> tuple[str, str] | None:
    """The time dimensions of one table that two runs of words name, or None unless exactly one pair does."""
    starts, ends = _dates_named(d, ctx, *first), _dates_named(d, ctx, *second)
    pairs = [(a, b) for a in starts for b in ends if a != b]
    # two dates of one table first; else of two tables (the compiler joins them, or says it cannot)
    same = [(a, b) for a, b in pairs if ctx.layer.dimension(a).model is ctx.layer.dimension(b).model]
    chosen = same or pairs
    return chosen[0] if len(chosen) == 1 else None


def _dates_named(d: ReadingState, ctx: PlanningContext, start: int, stop: int) -> list[str]:
    """The time dimensions a run of words names: by name ("claim open date"), or a verb's -ing form that is a
    word of the date's name ("opening" → claim open date, "shipping" → ship date)."""
    if stop <= start or stop - start > 5:
        return []
    norms = [d.words[k].norm for k in range(start, stop)]
    while norms and norms[0] in ("the", "a", "its", "their"):
        norms = norms[1:]
    passive = ("was", "were", "got", "is", "are", "be", "being", "getting", "gets")
    if len(norms) >= 2 and norms[-2] in passive and (norms[0] == "when" or len(norms) <= 3):
        # "when the claim was opened", "a claim being opened", "being closed": the verb names the date
        norms = norms[-1:]
    named = [
        m.term.target
        for m in ctx.vocabulary.matches(norms, [True] * len(norms), ("dimension",))
        if m.start == 0 and m.end == len(norms) and m.score >= 0.85
    ]
    found = [t for t in dict.fromkeys(named) if ctx.layer.dimension(t).dimension.is_time]
    if found or len(norms) != 1 or len(norms[0]) < 4:
        return found
    stems = {norms[0]}
    for ending in ("ing", "ed"):
        word = norms[0][: -len(ending)]
        if norms[0].endswith(ending) and len(word) >= 3:
            stems |= {word, word + "e"} | ({word[:-1]} if word[-1] == word[-2] else set())
    return [
        qd.name
        for qd in ctx.layer.dimensions()
        if qd.dimension.is_time and stems & set(qd.dimension.name.lower().split("_"))
    ]


# -- aggregates ---------------------------------------------------------------------------------------------


def read_aggregates(d: ReadingState, ctx: PlanningContext) -> ReadingState:
    """Aggregate words in front of a name: "average", "median", "how many distinct", "total", "number of"."""
    lex = ctx.lexicon
    lowers = [w.lower for w in d.words]
    found: list[AggWord] = []
    d = _in_total(d, lowers)
    i = 0
    n = len(lowers)
    while i < n:
        if d.used[i] and not (d.ranking and d.ranking.start <= i < d.ranking.end):
            i += 1
            continue
        phrase = lex.starts(lowers, i, [p for p, _ in lex.aggregates])
        if phrase is None or (d.ranking and d.ranking.start <= i < d.ranking.end) or _in_defined_name(d, i):
            i += 1
            continue
        function = dict(lex.aggregates)[phrase]
        end, distinct = _past_distinct(d, lex, i + len(phrase))
        function, end = _amount_in_units(lowers, function, end)
        period = _counted_period(d, ctx, end, function)
        if period is not None:
            found.append(AggWord(i, end + 1, "count_distinct", d.text(i, end + 1), True, period))
            d = replace(d, picks=tuple(p for p in d.picks if not p.start <= end < p.end)).mark(i, end + 1)
            i = end + 1
            continue
        target = next((p for p in d.picks if p.start >= end), None)
        paired = _paired_aggregate(d, ctx, end)  # "the lowest and highest unit cost": both of one column
        if target is not None and _restates_quantity(d, ctx, end, target):
            end = (
                target.start
            )  # "median distance in miles to the nearest fire station": the column's own words
        values = {k for p in d.picks if p.kind == "value" for k in range(p.start, p.end)}
        if target is not None and target.kind == "value":
            # "how many non-Consumer customers": values narrowing the counted name stand between
            target = next((p for p in d.picks if p.start >= end and p.kind != "value"), None)
        if target is None and function == "count" and _counted_before(d, ctx, i):
            d = d.mark(i, end)  # "flights over 2,000 miles out of Newark - how many were there?"
            i = end
            continue
        if target is None or not _reaches_target(d, lex, range(end, target.start), paired, values):
            i += 1
            continue
        if function in _DAY_FUNCTIONS and target.kind == "dimension" and holds_words(ctx, target.targets[0]):
            i += 1  # "the most expensive category": a maximum of names is no figure; 'most' ranks
            continue
        rows_of = _counted_records(d, ctx, target) if function == "count" and not distinct else None
        if rows_of is not None:
            # "how many loss payments": a total of amounts cannot be counted; its table's rows can
            d = replace(d, picks=tuple(rows_of if p is target else p for p in d.picks))
        elif (
            function in ("count", "sum")
            and target.kind == "metric"
            and not distinct
            and not (function == "count" and ctx.layer.metric(target.targets[0]).format == "currency")
        ):
            d = d.mark(i, end)  # "number of flights", "total revenue": the metric already counts or sums
            i = end
            continue
        if distinct and function in ("count", "sum"):
            function = "count_distinct"
        found.append(AggWord(i, end, function, d.text(i, end), distinct))
        d = d.mark(i, end)
        if d.ranking is not None and end <= d.ranking.start < paired:
            d = replace(d, ranking=None)  # "lowest and most expensive X": the ranking words are the pair's
        # "average temperature and wind speed": the aggregate word applies to both columns
        shared = _second_column(d, ctx, target) if function in _DAY_FUNCTIONS else None
        if shared is not None:
            found.append(AggWord(target.end, shared.start, function, d.text(i, end), distinct))
            d = d.mark(target.end, shared.start)
        i = end
    d, found = _distinct_alone(d, lex, found)
    return replace(d, aggs=tuple(sorted(found, key=lambda a: a.start))) if found else d


def _reaches_target(d: ReadingState, lex: Any, between: range, paired: int, values: set[int]) -> bool:
    """True when the words between an aggregate word and the name after it leave the name its target: only
    articles, function words, the paired aggregate and values stand there, and no 'by' or 'per' ("claim count
    by policy number": the name after 'by' groups, it is not what is counted)."""
    for k in between:
        if d.used[k]:
            continue
        if d.lower(k) in ("by", "per"):
            return False
        if d.lower(k) in ("of", "the", "a", "non", "not") or d.lower(k) in lex.function_words:
            continue
        if d.lower(k) == "every" and d.lower(k - 1) == "of":
            continue  # "the total of every claim amount": all of them
        if not (between.start <= k < paired or k in values):
            return False
    return True


def _amount_in_units(lowers: list[str], function: str, end: int) -> tuple[str, int]:
    """ "how many inches of rain": counting a unit of measure of something sums it (the unit and 'of' are
    read); any other count is left as it is, and so is time ("how many hours of delay" is refused elsewhere:
    hours are also periods that can be counted)."""
    said = unit_of_word(lowers[end]) if end < len(lowers) else None
    if (
        function != "count"
        or said is None
        or said.name in ("count", "currency")
        or said.kind == "duration"
        or lowers[end + 1 : end + 2] != ["of"]
    ):
        return function, end
    return "sum", end + 2


def _past_distinct(d: ReadingState, lex: Any, end: int) -> tuple[int, bool]:
    """Where the words after an aggregate word ("how many distinct of the") end, and whether one said distinct."""
    distinct = False
    while (
        end < len(d.words)
        and not d.used[end]
        and (d.norm(end) in lex.distinct_words or d.lower(end) in ("of", "the"))
    ):
        distinct = distinct or d.norm(end) in lex.distinct_words
        end += 1
    return end, distinct


_PERIOD_NOUNS = {"hours": "hour", "days": "day", "weeks": "week", "months": "month", "quarters": "quarter"}
# after the counted periods these words measure a span ("how many days to settle", "days between …"), not periods
_SPAN_WORDS = frozenset(
    {"to", "between", "from", "since", "until", "before", "after", "late", "early", "ago", "it"}
)


def _counted_period(d: ReadingState, ctx: PlanningContext, k: int, function: str) -> str | None:
    """ "on how many days did it rain", "for how many hours was visibility below 1 mile": a count word before a
    plural period noun counts the periods in which the rest holds. Not when the noun is part of a longer name
    ("days to settle") or a span follows ("how many days between …")."""
    if function not in ("count", "count_distinct") or k >= len(d.words) or d.lower(k) not in _PERIOD_NOUNS:
        return None
    if d.lower(k + 1) in _SPAN_WORDS:
        return None
    amount = d.pick_at(k + 2) if d.lower(k + 1) == "of" else None
    if amount is not None and name_unit(ctx.layer, amount.kind, amount.targets[0]) in (
        "minutes",
        "hours",
        "days",
    ):
        return None  # "how many hours of delay": an amount of time, in hours
    pick = d.pick_at(k)
    if pick is None and d.used[k]:
        return None  # read as time ("over the past days")
    if pick is not None and (pick.end > k + 1 or pick.start < k or pick.kind != "dimension"):
        return None  # "how many days to settle": a longer name
    if pick is not None and not _dated(ctx, pick.targets[0]):
        return None  # a column of amounts that happens to be called so
    return _PERIOD_NOUNS[d.lower(k)]


def _dated(ctx: PlanningContext, dimension: str) -> bool:
    """True when a column is a date or holds a part of one (an hour of the day, a day of the week)."""
    held = ctx.layer.dimension(dimension).dimension
    part = any(w in held.name.lower().split("_") for w in ("hour", "day", "weekday", "month", "quarter"))
    return held.is_time or (part and held.unit != "count")


def _distinct_alone(d: ReadingState, lex: Any, found: list[AggWord]) -> tuple[ReadingState, list[AggWord]]:
    """ "distinct" alone in front of a name: "distinct customers who bought …" (in a list it means distinct
    rows)."""
    listing = d.lower(0) in ("list", "show", "display", "give", "name")
    for i in range(len(d.words) if not listing else 0):
        if not d.used[i] and d.words[i].norm in lex.distinct_words:
            if d.lower(i - 1) in lex.high | lex.low:
                d = d.mark(
                    i, i + 1
                )  # "the largest individual refund": one row, not a count of different ones
                continue
            target = next((p for p in d.picks if p.start == i + 1), None)
            if target is not None:
                found.append(AggWord(i, i + 1, "count_distinct", d.words[i].raw, True))
                d = d.mark(i, i + 1)
    return d, found


def _counted_before(d: ReadingState, ctx: PlanningContext, i: int) -> bool:
    """True when a figure that counts things is named before word i ("flights …, how many?")."""
    return any(p.end <= i and p.kind == "metric" and counts_things(ctx, p.targets[0]) for p in d.picks)


def _second_column(d: ReadingState, ctx: PlanningContext, target: Pick) -> Pick | None:
    """The numeric column joined to an aggregated numeric column by 'and' or a comma, or None."""
    after = next((p for p in d.picks if p.start >= target.end), None)

    def numeric(p: Pick) -> bool:
        columns = p.targets if p.kind == "dimension" else p.alt("dimension") if p.kind == "metric" else ()
        return any(is_numeric(ctx, t) for t in columns)

    if after is None or not (numeric(target) and numeric(after)):
        return None
    between = [d.lower(k) for k in range(target.end, after.start)]
    joined = between in (["and"], ["&"]) or (not between and "," in d.gap(after.start))
    return after if joined and not any(d.used[k] for k in range(target.end, after.start)) else None


def _paired_aggregate(d: ReadingState, ctx: PlanningContext, end: int) -> int:
    """Where "and <aggregate word>" right after an aggregate word ends ("lowest and highest", "min and max"), so
    both apply to the name after them; `end` when there is none."""
    lowers = [w.lower for w in d.words]
    after = end
    while True:
        k = after
        if d.lower(k) in _LIST_JOINS and not d.used[k]:
            k += 1
        elif "," not in d.gap(k):
            return after  # "min, max and median": a comma, 'and', 'or' or '/' joins the list
        if d.lower(k) == "the" and not d.used[k]:
            k += 1  # "the smallest and the largest refund"
        phrase = ctx.lexicon.starts(lowers, k, [p for p, _ in ctx.lexicon.aggregates])
        if phrase is None or k >= len(d.words) or d.used[k]:
            return after
        after = k + len(phrase)
        if phrase in (("most",), ("least",)) and d.norm(after) in ctx.lexicon.high | ctx.lexicon.low:
            after += 1  # "the cheapest and most expensive list price": 'most expensive' is one word for max


def _restates_quantity(d: ReadingState, ctx: PlanningContext, start: int, target: Pick) -> bool:
    """True when the free words before a column name the quantity it holds: a noun of its unit's kind and
    perhaps its unit ("distance in miles to", "the time in minutes of") — nothing else."""
    if target.kind != "dimension" or target.start <= start:
        return False
    held = unit(ctx.layer.dimension(target.targets[0]).dimension.unit or "")
    if held is None:
        return False
    words = [d.lower(k) for k in range(start, target.start)]
    if any(d.used[k] for k in range(start, target.start)):
        return False
    # "distance in miles to …", or the column's own unit for its quantity ("average miles to the nearest …")
    if not any(w in QUANTITY_NOUNS.get(held.kind, ()) or _is_unit(w, held) for w in words):
        return False
    return _quantity_words(words, held, ("in", "to", "from", "of", "the", "a"))


def _is_unit(word: str, held: Unit) -> bool:
    found = unit_of_word(word)
    return found is not None and found.name == held.name


def _quantity_words(words: list[str], held: Unit | None, glue: tuple[str, ...]) -> bool:
    """True when every word is glue, a noun of the quantity a column holds or a unit of it ("distance", "in",
    "miles")."""
    nouns = QUANTITY_NOUNS.get(held.kind, frozenset()) if held else frozenset()
    return all(
        w in glue
        or w in nouns
        or (held is not None and (u := unit_of_word(w)) is not None and u.kind == held.kind)
        for w in words
    )


def _counted_records(d: ReadingState, ctx: PlanningContext, target: Pick) -> Pick | None:
    """The table read from a count word's metric when the metric adds up amounts ("how many loss payments",
    "number of premiums"): the metric's words also name a table whose rows can be counted."""
    if target.kind != "metric" or not target.alt("model"):
        return None
    metric = ctx.layer.metric(target.targets[0])
    if metric.type != "simple" or metric.measure is None:
        return None
    if ctx.layer.measure(metric.measure)[1].agg in ("count", "count_distinct"):
        return None  # "number of orders": the metric already counts
    model = target.alt("model")[0]
    if not ctx.layer.has_metric(f"{model}_rows"):
        return None
    return replace(target, kind="model", targets=(model,), alts=((target.kind, target.targets),))


# -- arithmetic between metrics -------------------------------------------------------------------------------

_AS_SHARE_OF = re.compile(
    r"^as (?:a |an )?(?:share|percentage|percent|proportion|fraction|%) of(?: the| all)?$"
)
_ARITH_NAMES = {"+": "plus", "-": "minus", "/": "per", "*": "times"}


def read_arithmetic(d: ReadingState, ctx: PlanningContext) -> ReadingState:
    """'revenue minus cost', 'sum of A and B', 'ratio of A to B' → ad-hoc metrics over two metric names."""
    picks = list(d.picks)
    adhoc: list[AdhocMetric] = list(d.adhoc)
    inputs: list[str] = list(d.adhoc_inputs)
    notes: list[Evidence] = []
    ops = {
        "plus": "+",
        "+": "+",
        "minus": "-",
        "-": "-",
        "less": "-",
        "divided by": "/",
        "/": "/",
        "over": "/",
        "times": "*",
        "*": "*",
        "multiplied by": "*",
    }
    i = 0
    while i < len(picks) - 1:
        a, b = picks[i], picks[i + 1]
        if a.kind != "metric" or b.kind != "metric" or _in_defined_name(d, a.start):
            i += 1
            continue
        between = " ".join(d.lower(k) for k in range(a.end, b.start))
        before = " ".join(d.lower(k) for k in range(max(0, a.start - 3), a.start))
        op = ops.get(between)
        if any(c in d.gap(k) for k in range(a.end, b.start + 1) for c in "()"):
            op = None  # "A / (B + C)": a parenthesis no formula reader took is never read two names at a time
        if (
            op == "-"
            and between == "-"
            and a.alt("entity")
            and (q := d.pick_at(a.start - 1))
            and q.kind == "value"
        ):
            op = None  # "Consumer vs Corporate customers - avg order value": a heading and its figure
        percent = bool(_AS_SHARE_OF.match(between))
        if percent and a.targets[0] == b.targets[0]:
            i += 1  # "online revenue as a share of revenue": a part over its whole, read as a share
            continue
        if percent:
            op = "/"  # "expense payments as a share of loss payments": one figure over the other, in percent
        if between == "and" and re.search(r"\b(sum|total)\s+of(\s+the)?$|\bcombined$", before):
            op = "+"
        elif between == "and" and re.search(r"\bdifference\s+between(\s+the)?$", before):
            op = "-"
        elif between == "to" and re.search(r"\bratio\s+of(\s+the)?$", before):
            op = "/"
        elif (
            between == "per"
            and not b.alt("entity")
            and not b.alt("dimension")
            and _adds_up(ctx, a.targets[0])
            and _adds_up(ctx, b.targets[0])
        ):
            op = "/"  # "revenue per unit sold", "marketing spend per new customer": one total over another
        if op is None:
            i += 1
            continue
        left, right = a.targets[0], b.targets[0]
        name = f"{left}_as_share_of_{right}" if percent else f"{left}_{_ARITH_NAMES[op]}_{right}"
        adhoc.append(AdhocMetric(name, f"{left} {op} {right}", (), "percent" if percent else ""))
        inputs += [left, right]
        span_start = a.start
        for k in range(max(0, a.start - 3), a.start):
            if d.lower(k) in ("sum", "total", "difference", "ratio", "of", "between", "the"):
                span_start = min(span_start, k)
                break
        d = d.mark(span_start, b.end)
        notes.append(
            Evidence(
                d.text(span_start, b.end),
                "metric",
                f"{left} {op} {right}",
                min(a.score, b.score),
                "arithmetic",
            )
        )
        del picks[i : i + 2]
    return replace(d, picks=tuple(picks), adhoc=tuple(adhoc), adhoc_inputs=tuple(inputs)).note(*notes)


def unplaced(d: ReadingState, ctx: PlanningContext) -> list[int]:
    """Indices of words no stage placed and that are not function words, light verbs or list words."""
    lex = ctx.lexicon
    out = []
    restating = _shared_heads(d, ctx)
    for i, w in enumerate(d.words):
        if d.used[i]:
            continue
        if singular(w.lower) in restating:
            continue  # "the biggest payments, counting loss payments plus expense payments": the sum spelled out
        if i == 0 and w.lower in ("where", "when"):
            out.append(i)  # "where do …", "when did …" ask for a place or a time: something must answer it
            continue
        if _mistyped_function_word(w.lower):
            continue  # "whcih", "waht": a question word typed with one slip
        if w.lower == "-" and _dash_separates(d, i):
            continue  # "united vs delta - average arrival delay": a dash between parts of the question
        if w.lower == "but" and d.lower(i + 1) in _BUT_BEFORE and i > 0:
            continue  # "covered more than 1,000 miles but were in the air for under 2 hours": one more condition
        if (
            w.lower in ("out", "off", "up", "aside")
            and d.lower(i - 1) in lex.light_verbs | lex.function_words | _SUMMING_VERBS
            and not (w.lower == "off" and d.lower(i - 1) in ("took", "take", "takes", "taking"))
        ):  # (but "took off" is a verb of its own: a flight that took off departed)
            continue  # "paid out", "took off", "pull up", "set aside": the particle of a verb that adds nothing
        if (
            w.lower in _SUMMING_VERBS
            and d.lower(i + 1) == "up"
            and (d.aggs or any(p.kind == "metric" for p in d.picks))
        ):
            continue  # "loss payments summed up by catastrophe", "what do they add up to": the figure's own sum
        if w.lower in _COMMAND_VERBS and d.lower(i - 1) in _THIRD_PERSON and not d.gap(i).strip():
            out.append(i)  # "what they list for", "what it shows": a verb with its own subject, not a command
            continue
        if w.lower in ("/", "+") and _between_figures(d, i):
            out.append(i)  # "(A + B on the claims) / (premium)": arithmetic no reader took, never a list
            continue
        if (
            w.lower in lex.function_words
            or w.norm in lex.function_words
            or w.lower in lex.light_verbs
            or w.norm in lex.light_verbs
            or w.lower in lex.list_words
            or w.lower in lex.relation_verbs
        ):
            continue
        out.append(i)
    return out


def _shared_heads(d: ReadingState, ctx: PlanningContext) -> set[str]:
    """The word every figure of an arithmetic spelled out in the question shares ("payment" of loss payments plus
    expense payments; "loss" of loss payments plus loss reserves), and the last word of a defined name: said
    alone, it names that figure."""
    # "… expense-to-loss ratio: A divided by B. Show claim number and the ratio": the defined name's head noun
    shared: set[str] = {singular(x.label.split()[-1].lower()) for x in d.definitions if x.label.split()}
    exprs = [x.expr for x in d.definitions] + [a.expr for a in d.adhoc]
    if any("/" in e for e in exprs):
        shared |= _RATIO_NOUNS  # "Per claim: A divided by B. Show claim number and the ratio."
    for expr in exprs:
        names = set(re.findall(r"[a-z_][a-z0-9_]*", expr))
        if len(names) < 2:
            continue
        words = []
        for name in names:
            said = name.split("_")
            if ctx.layer.has_metric(name):
                said += normalize(ctx.layer.metric(name).title).split()
            words.append({singular(w) for w in said if w and w not in STOP_WORDS})
        shared |= set.intersection(*words)
    return shared


# the words after a 'but' that adds one more condition to the things described ("… but were …")
_BUT_BEFORE = frozenset(
    {"were", "was", "is", "are", "had", "has", "have", "did", "got", "with", "still", "also"}
)
_RATIO_NOUNS = frozenset({"ratio", "rate", "share", "fraction", "proportion", "quotient"})
_SUMMING_VERBS = frozenset(
    {"summed", "sum", "sums", "add", "adds", "added", "tally", "tallied", "totted", "tot"}
)
# the words that ask for the answer ("show", "list") and the subjects that make them a verb of the data instead
_COMMAND_VERBS = frozenset({"list", "show", "display", "report"})
_THIRD_PERSON = frozenset({"they", "it", "he", "she"})


def _between_figures(d: ReadingState, i: int) -> bool:
    """True when a '/' or '+' sits between two figures (metrics or measures, a few words away) or next to a
    parenthesis: an operator of arithmetic, not a list of columns ("code + name")."""
    if ")" in d.gap(i) or "(" in d.gap(i + 1):
        return True

    def figure(k: int) -> bool:
        p = d.pick_at(k)
        return p is not None and p.kind in ("metric", "measure")

    return any(figure(k) for k in range(i - 3, i)) and any(figure(k) for k in range(i + 1, i + 4))


# question words typed often enough to be mistyped; a word one slip away from one of them is that word
_TYPED_OFTEN = frozenset(
    {
        "which",
        "what",
        "where",
        "when",
        "many",
        "much",
        "show",
        "list",
        "please",
        "there",
        "their",
        "from",
        "with",
        "have",
        "does",
        "were",
        "that",
        "this",
        "these",
        "those",
        "about",
        "give",
        "tell",
    }
)


def _mistyped_function_word(word: str) -> bool:
    """True for a word one edit (or one swap of neighbours) away from a common question word."""
    if word in ("teh", "hte", "adn", "nad"):
        return True  # "the" and "and" with two letters swapped: too short for the distance rule below
    return len(word) >= 4 and word.isalpha() and any(OSA.distance(word, w) == 1 for w in _TYPED_OFTEN)


def _dash_separates(d: ReadingState, i: int) -> bool:
    """True for a spaced dash after values or time ("united vs delta - …", "June 2025 - revenue"), where it
    cannot mean minus: no figure stands before it."""
    before = next((p for p in d.picks if p.end == i), None)
    figures = [p for p in d.picks if p.start < i and p.kind in ("metric", "measure")]
    after_time = i > 0 and d.used[i - 1] and d.pick_at(i - 1) is None  # "after 2019-03-01 - give …"
    return (
        i == 0
        or (before is not None and before.kind == "value")
        or not figures
        or after_time
        or d.lower(i + 1)
        in ("give", "show", "list", "display", "with", "including", "how", "what", "which", "who", "whats")
    )


def runs(indices: Iterable[int]) -> list[list[int]]:
    """Consecutive runs of word indices."""
    out: list[list[int]] = []
    for i in sorted(set(indices)):
        if out and out[-1][-1] == i - 1:
            out[-1].append(i)
        else:
            out.append([i])
    return out
