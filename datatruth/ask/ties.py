"""Ties at a ranking's cut: the row just past "top N" that ranks equal to the last row shown.

"top 5 customers by orders" with two customers at 34 orders in 5th place shows one of them; which one is a
tie-break the question never asked for. The answer says so instead of letting the list look complete.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from datatruth.ask.answer import AnswerColumn
from datatruth.semantic.plan import QueryPlan


def tie_note(
    plan: QueryPlan | None,
    shown: Any,
    columns: tuple[AnswerColumn, ...],
    run_wider: Any,
) -> str:
    """A sentence naming a tie at the cut of a "top N" answer, or "" when there is none.

    `run_wider(plan)` returns the frame of the plan with one more row allowed; it runs only when the answer
    filled its N rows, so other answers cost nothing."""
    if plan is None or not plan.limit or not plan.order or plan.limit_per or len(shown) != plan.limit:
        return ""
    key = plan.order[0].key
    if key not in list(shown.columns):
        return ""
    wider = run_wider(replace(plan, limit=plan.limit + 1))
    if wider is None or len(wider) <= plan.limit or key not in list(wider.columns):
        return ""
    last, past = _cell(shown, key, plan.limit - 1), _cell(wider, key, plan.limit)
    if last is None or past is None or last != past:
        return ""
    label = next((c.title for c in columns if c.name == key), key.replace("_", " "))
    place = _ordinal(plan.limit)
    return (
        f"{place} place is a tie: at least one more row has the same {label.lower()} ({_shown(last, columns, key)}) "
        "and is not listed"
    )


def _cell(frame: Any, key: str, i: int) -> Any:
    """Row i of column `key`, of a DataFrame or of Rows."""
    return frame.column(key)[i] if hasattr(frame, "column") else frame[key].iloc[i]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _shown(value: Any, columns: tuple[AnswerColumn, ...], key: str) -> str:
    fmt = next((c.format for c in columns if c.name == key), None)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if fmt == "currency":
        return f"${number:,.2f}"
    if fmt == "percent":
        return f"{number:.2%}"
    return f"{number:,.0f}" if number == int(number) else f"{number:,.2f}"
