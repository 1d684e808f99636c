"""Load an evaluation set, run it through the CLI's code path, and compare each answer with its gold SQL.

Each answer is one of three outcomes: correct, refused (an error with suggestions — the product said it
could not answer) or wrong (rows that do not match the gold, or a number for a question that must be refused,
`expect: refuse`). A wrong answer is far worse than a refusal: the user trusts the number.

Frames are compared by values, not by column names: every gold column must match one answer column
(the answer may carry extra columns, e.g. the previous period next to a comparison), the row counts must
be equal, and rows must match as a multiset — or in order when the case says `ordered: true`.
Numbers match within a relative tolerance of 1e-6; dates match as ISO dates, and a year ("2025") as 2025 or
the date of its first day; a named period matches under any of its names ("fall" = "autumn").
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from datatruth.ask.answer import frame_rows
from datatruth.cli.ask import ask_one

EVAL_DIR = Path(__file__).resolve().parent
REPO = EVAL_DIR.parent.parent
BANKS = ("bank_retail", "bank_flights", "bank_acme")
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
    expect: str = "answer"  # or "refuse": the product must not answer with a number
    # why the answer disagrees with the gold rows on a convention, not on the data (still counted as wrong)
    disputed: str = ""


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
    outcome: str = ""  # correct | refused | wrong
    payload: dict[str, Any] | None = None


def load_set(name: str) -> EvalSet:
    """Read tests/eval/<name>.yaml."""
    raw = yaml.safe_load((EVAL_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    cases = tuple(
        EvalCase(
            str(c["id"]),
            str(c["question"]),
            str(c.get("sql") or ""),
            bool(c.get("ordered", False)),
            c.get("follows"),
            tuple(c.get("classes") or ()),
            str(c.get("expect", "answer")),
            str(c.get("disputed") or ""),
        )
        for c in raw["cases"]
    )
    return EvalSet(raw["set"], raw["workspace"], cases)


def normalise(value: Any) -> Any:
    """A JSON cell in comparable form: numbers as float, midnight timestamps as dates."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if (
        isinstance(value, str)
        and len(value) >= 19
        and value[4] == "-"
        and value[10] in "T "
        and value[11:19] == "00:00:00"
    ):
        return value[:10]
    if isinstance(value, str) and len(value) == 4 and value.isdigit():
        return float(value)  # a yearly period shown as its year ("2025")
    if isinstance(value, str) and value.lower() in _PERIOD_NAMES:
        return _PERIOD_NAMES[value.lower()]  # a season said either way ("fall" / "autumn") names one period
    if isinstance(value, str) and value.lower() in _DAY_NUMBERS:
        return _DAY_NUMBERS[value.lower()]  # a day of the week by its name or its ISO number (Monday = 1)
    return value


def _period_names() -> dict[str, str]:
    """Every name of a named period of the packaged lexicon → its first name."""
    from datatruth.ask.lexicon import default_lexicon

    return {w.lower(): p.name for p in default_lexicon().periods for w in (p.name, *p.synonyms)}


_PERIOD_NAMES = _period_names()
_DAY_NUMBERS = {name.lower(): float(i + 1) for i, name in enumerate(calendar.day_name)}


def same(a: Any, b: Any) -> bool:
    """Equal cells (numbers within tolerance; a year equals the date of its first day)."""
    for year, day in ((a, b), (b, a)):
        if isinstance(year, float) and isinstance(day, str) and year.is_integer():
            return day == f"{int(year):04d}-01-01"
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
        asked = ask_one(
            ws, store, user, case.question, previous=previous, session_id=f"eval-{evalset.name}", as_json=True
        )
        if not asked.ok:
            ok = case.expect == "refuse"
            results.append(
                CaseResult(
                    case,
                    ok,
                    f"error: {asked.payload['error']}",
                    "",
                    "correct" if ok else "refused",
                    asked.payload,
                )
            )
            continue
        plans[case.id] = asked.plan
        if case.expect == "refuse":
            results.append(
                CaseResult(
                    case,
                    False,
                    "answered a question that must be refused",
                    asked.payload["sql"],
                    "wrong",
                    asked.payload,
                )
            )
            continue
        reason = compare(gold_rows(ws, case.sql), asked.payload["rows"], case.ordered)
        results.append(
            CaseResult(
                case,
                not reason,
                reason,
                asked.payload["sql"],
                "wrong" if reason else "correct",
                asked.payload,
            )
        )
    return results


def counts(results: list[CaseResult]) -> dict[str, int]:
    """How many answers were correct, refused and wrong."""
    return {kind: sum(r.outcome == kind for r in results) for kind in ("correct", "refused", "wrong")}


def summary(name: str, results: list[CaseResult]) -> str:
    """One line: set, correct / refused / wrong and accuracy."""
    n = counts(results)
    total = max(len(results), 1)
    return (
        f"EVAL {name}: {n['correct']}/{len(results)} correct = {n['correct'] / total:.1%}, "
        f"{n['refused']} refused, {n['wrong']} wrong = {n['wrong'] / total:.1%}"
    )


def isolated_env(tmp: Path, workspace: str, corpora: Path | None = None) -> dict[str, str]:
    """Environment for running a set in `tmp`: its own store and data dir, the demo warehouse copied in (or,
    for acme, imported from the corpus), so evaluation never touches a user's history or rate limit."""
    env = {
        "DATATRUTH_DATA_DIR": str(tmp / "data"),
        "DATATRUTH_STORE_URL": f"sqlite:///{tmp / 'metadata.sqlite'}",
        "DATATRUTH_LOCAL_USER": "local",
    }
    if workspace == "acme":
        env["DATATRUTH_WORKSPACES_DIR"] = str(tmp / "workspaces")
        return env
    built = REPO / ".datatruth" / workspace
    target = tmp / "data" / workspace
    if (built / "warehouse.duckdb").exists() and (built / "warehouse.build.json").exists():
        # a read-only copy of the demo warehouse keeps the run fast; without it the loader builds one
        target.mkdir(parents=True, exist_ok=True)
        for name in ("warehouse.duckdb", "warehouse.build.json"):
            shutil.copy2(built / name, target / name)
    return env


def import_acme(corpora: Path) -> None:
    """Create the acme workspace from the ACME corpus (dbt models + CSV seeds) in the current environment."""
    from datatruth.semantic.dbt_import import create_from_dbt
    from datatruth.settings import load_settings

    src = corpora / "acme_insurance"
    create_from_dbt(
        "acme", src / "semantic_models", src / "data", src / "ref_map.yaml", settings=load_settings()
    )


def answer(evalset: EvalSet) -> list[CaseResult]:
    """Every case of a set answered in its workspace as the current environment places it (see
    `isolated_env`); the workspace must already be there."""
    from datatruth.cli.ask import open_context

    ws, store, user = open_context(evalset.workspace)
    try:
        return run_set(ws, store, user, evalset)
    finally:
        ws.close()


def evaluate(name: str, corpora: Path | None = None) -> list[CaseResult]:
    """Run set `name` in the current environment (see `isolated_env`) and return every case's result."""
    evalset = load_set(name)
    if evalset.workspace == "acme":
        assert corpora is not None, "the acme sets need the corpora folder"
        import_acme(corpora)
    return answer(evalset)


def prepare_acme(corpora: Path) -> None:
    """Import the ACME workspace in the current environment and write its planner snapshots (one question
    does), so that copies of it (`copy_acme`) answer without importing the corpus again."""
    import_acme(corpora)
    from datatruth.cli.ask import open_context

    ws, store, user = open_context("acme")
    try:
        ask_one(ws, store, user, "claims", as_json=True)
    finally:
        ws.close()


def copy_acme(base: Path, tmp: Path) -> None:
    """A copy of the workspace `prepare_acme` made under `base`, in `tmp`, without its answer cache (every set
    answers from the warehouse); the store is not copied, so each set has its own."""
    shutil.copytree(base / "workspaces", tmp / "workspaces")
    shutil.copytree(base / "data", tmp / "data", ignore=shutil.ignore_patterns("cache"))


def claim(claims: Path, name: str) -> bool:
    """Take set `name` for this process: True for the first process to ask, False for every later one."""
    try:
        os.close(os.open(claims / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def run_many(names: list[str], corpora: Path, out: Path, claims: Path | None = None) -> None:
    """Run sets one after another, each in a temporary copy of its workspace, and append a JSON line per set to
    `out` as it finishes: the test suite's second process answers its share of the sets this way. With
    `claims`, a set another process has claimed there is left to it."""
    import json

    saved = dict(os.environ)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        acme_base: Path | None = None
        for n, name in enumerate(names):
            if claims is not None and not claim(claims, name):
                continue
            tmp = root / f"set{n}"
            evalset = load_set(name)
            workspace = evalset.workspace
            if workspace == "acme" and acme_base is None:
                acme_base = root / "acme-base"
                os.environ.update(isolated_env(acme_base, "acme"))
                prepare_acme(corpora)
            if workspace == "acme" and acme_base is not None:
                copy_acme(acme_base, tmp)
            os.environ.clear()
            os.environ.update(saved)
            os.environ.update(isolated_env(tmp, workspace))
            results = answer(evalset)
            shown = ("error", "interpretation", "choices")
            line = {
                "name": name,
                "results": [
                    {
                        "id": r.case.id,
                        "ok": r.ok,
                        "reason": r.reason,
                        "outcome": r.outcome,
                        "payload": {k: r.payload[k] for k in shown if k in r.payload} if r.payload else None,
                    }
                    for r in results
                ],
            }
            with out.open("a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")


def read_many(out: Path, only: str | None = None) -> dict[str, list[CaseResult]]:
    """The sets `run_many` has finished so far (or only set `only`), by name, as results of their cases."""
    import json

    found: dict[str, list[CaseResult]] = {}
    if not out.exists():
        return found
    for text in out.read_text(encoding="utf-8").splitlines():
        if not text.endswith("}") or (only is not None and f'"name": "{only}"' not in text):
            continue  # a line still being written, or another set's
        line = json.loads(text)
        cases = {c.id: c for c in load_set(line["name"]).cases}
        found[line["name"]] = [
            CaseResult(cases[r["id"]], r["ok"], r["reason"], "", r["outcome"], r["payload"])
            for r in line["results"]
        ]
    return found


def main(argv: list[str]) -> int:
    """`python -m eval.evalset NAME [--verbose]` from tests/: run one set in a temporary folder and print it;
    `python -m eval.evalset --many OUT [--claims DIR] NAME…`: run sets one after another, a JSON line per set in
    OUT, leaving out those another process claimed in DIR."""
    corpora = Path(os.environ.get("DATATRUTH_CORPORA", REPO.parent / "shared" / "corpora"))
    if argv[0] == "--many":
        names, claims = argv[2:], None
        if names[:1] == ["--claims"]:
            claims, names = Path(names[1]), names[2:]
        run_many(names, corpora, Path(argv[1]), claims)
        return 0
    name = argv[0]
    verbose = "--verbose" in argv
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(isolated_env(Path(tmp), load_set(name).workspace, corpora))
        results = evaluate(name, corpora)
    for r in results:
        if verbose and r.outcome != "correct":
            detail = r.reason if r.outcome == "wrong" else (r.payload or {}).get("error", "")
            print(f"  {r.outcome.upper():8} {r.case.id} {r.case.question!r}: {str(detail)[:240]}")
    print(summary(name, results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
