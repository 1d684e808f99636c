"""Load an evaluation set, run it through the CLI's code path, and compare each answer with its gold SQL.

Frames are compared by values, not by column names: every gold column must match one answer column
(the answer may carry extra columns, e.g. the previous period next to a comparison), the row counts must
be equal, and rows must match as a multiset — or in order when the case says `ordered: true`.
Numbers match within a relative tolerance of 1e-6; dates match as ISO dates.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from datatruth.ask.answer import frame_rows
from datatruth.cli.ask import ask_one

EVAL_DIR = Path(__file__).resolve().parent
REL_TOL = 1e-6
ABS_TOL = 1e-6


@dataclass(frozen=True)
class EvalCase:
    """One question with its gold SQL."""

    id: str
    question: str
    sql: str
    ordered: bool = False
    follows: str | None = None
    classes: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvalSet:
    """A named list of cases for one workspace."""

    name: str
    workspace: str
    cases: tuple[EvalCase, ...]


@dataclass(frozen=True)
class CaseResult:
    """How one case went."""

    case: EvalCase
    ok: bool
    reason: str = ""
    sql: str = ""


def load_set(name: str) -> EvalSet:
    """Read tests/eval/<name>.yaml."""
    raw = yaml.safe_load((EVAL_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    cases = tuple(EvalCase(str(c["id"]), str(c["question"]), str(c["sql"]), bool(c.get("ordered", False)),
                           c.get("follows"), tuple(c.get("classes") or ())) for c in raw["cases"])
    return EvalSet(raw["set"], raw["workspace"], cases)


def normalise(value: Any) -> Any:
    """A JSON cell in comparable form: numbers as float, midnight timestamps as dates."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T " and \
            value[11:19] == "00:00:00":
        return value[:10]
    return value


def same(a: Any, b: Any) -> bool:
    """Equal cells (numbers within tolerance)."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return a == b


def _sort_key(v: Any) -> tuple:
    if v is None:
        return (0, 0.0, "")
    if isinstance(v, float):
        return (1, v, "")
    return (2, 0.0, str(v))


def _column(rows: list[list[Any]], j: int) -> list[Any]:
    return [r[j] for r in rows]


def _columns_match(a: list[Any], b: list[Any], ordered: bool) -> bool:
    if not ordered:
        a, b = sorted(a, key=_sort_key), sorted(b, key=_sort_key)
    return all(same(x, y) for x, y in zip(a, b, strict=True))


def compare(gold: list[list[Any]], got: list[list[Any]], ordered: bool) -> str:
    """'' when `got` answers like `gold`, else the reason it does not."""
    gold = [[normalise(v) for v in r] for r in gold]
    got = [[normalise(v) for v in r] for r in got]
    if len(gold) != len(got):
        return f"{len(got)} rows, expected {len(gold)}"
    if not gold:
        return ""
    width = len(got[0])
    candidates = []
    for j in range(len(gold[0])):
        col = _column(gold, j)
        found = [i for i in range(width) if _columns_match(col, _column(got, i), ordered)]
        if not found:
            return f"no answer column holds the values of gold column {j + 1} (e.g. {col[:3]})"
        candidates.append(found)
    for choice in _assignments(candidates, set()):
        picked = [[r[i] for i in choice] for r in got]
        if _rows_match(gold, picked, ordered):
            return ""
    return "columns hold the right values but the rows pair them differently"


def _assignments(candidates: list[list[int]], used: set[int]) -> Any:
    if not candidates:
        yield []
        return
    for i in candidates[0]:
        if i not in used:
            for rest in _assignments(candidates[1:], used | {i}):
                yield [i, *rest]


def _rows_match(gold: list[list[Any]], got: list[list[Any]], ordered: bool) -> bool:
    def equal(a: list[Any], b: list[Any]) -> bool:
        return all(same(x, y) for x, y in zip(a, b, strict=True))

    if ordered:
        return all(equal(a, b) for a, b in zip(gold, got, strict=True))
    remaining = list(got)
    for row in gold:
        hit = next((k for k, other in enumerate(remaining) if equal(row, other)), None)
        if hit is None:
            return False
        remaining.pop(hit)
    return True


def gold_rows(ws: Any, sql: str) -> list[list[Any]]:
    """Run a gold query on the workspace's warehouse and return JSON rows."""
    result = ws.warehouse.run(sql, row_cap=100_000, timeout_s=60)
    return frame_rows(result.frame)


def run_set(ws: Any, store: Any, user: str, evalset: EvalSet) -> list[CaseResult]:
    """Ask every question exactly as `datatruth ask --json` does and score it against its gold SQL."""
    plans: dict[str, Any] = {}
    results = []
    for case in evalset.cases:
        previous = plans.get(case.follows) if case.follows else None
        asked = ask_one(ws, store, user, case.question, previous=previous, session_id=f"eval-{evalset.name}")
        if not asked.ok:
            results.append(CaseResult(case, False, f"error: {asked.payload['error']}"))
            continue
        plans[case.id] = asked.plan
        reason = compare(gold_rows(ws, case.sql), asked.payload["rows"], case.ordered)
        results.append(CaseResult(case, not reason, reason, asked.payload["sql"]))
    return results


def summary(name: str, results: list[CaseResult]) -> str:
    """One line: set, correct/total and accuracy."""
    ok = sum(r.ok for r in results)
    return f"EVAL {name}: {ok}/{len(results)} correct = {ok / max(len(results), 1):.1%}"
