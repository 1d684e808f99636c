"""The shared SQL-guard corpus: every `layer: guard` case and every `allow` case is decided as expected."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from datatruth.sql.guard import check_sql

pytestmark = pytest.mark.corpus

CORPUS_FILE = Path("sql_guard") / "guard_cases.jsonl"
ROW_CAP = 1000


def _corpus_root() -> Path:
    # Same lookup as the `corpora` fixture; needed at collection time to build the parameter list.
    env = os.environ.get("DATATRUTH_CORPORA")
    return Path(env) if env else Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"


def _cases() -> list:
    path = _corpus_root() / CORPUS_FILE
    if not path.is_file():
        # One placeholder: the test then asks the `corpora` fixture, which skips (or fails under CI).
        return [pytest.param(None, id="corpus-missing")]
    params = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        case = json.loads(line)
        if case["layer"] == "guard" or case["expect"] == "allow":
            params.append(
                pytest.param((number, case), id=f"L{number:03d}-{case['category']}-{case['dialect']}")
            )
    return params


@pytest.mark.parametrize("numbered", _cases())
def test_corpus_case_is_decided_as_expected(numbered: tuple[int, dict] | None, corpora: Path) -> None:
    assert (corpora / CORPUS_FILE).is_file(), "corpus file missing although the corpora folder exists"
    assert numbered is not None
    number, case = numbered
    verdict = check_sql(case["sql"], case["dialect"], row_cap=ROW_CAP)
    expected = case["expect"] == "allow"
    assert verdict.allowed is expected, (
        f"line {number} ({case['why']}): expected {case['expect']}, guard said {verdict.reason or verdict.sql}"
    )
    if expected:
        assert verdict.reason is None and verdict.sql
        # What the guard hands out must itself pass the guard unchanged (the cap is already applied).
        again = check_sql(verdict.sql, case["dialect"], row_cap=ROW_CAP)
        assert again.allowed and again.sql == verdict.sql
    else:
        assert verdict.sql is None and verdict.reason


def test_corpus_holds_reject_and_allow_cases(corpora: Path) -> None:
    lines = [
        json.loads(x) for x in (corpora / CORPUS_FILE).read_text(encoding="utf-8").splitlines() if x.strip()
    ]
    kinds = {case["expect"] for case in lines}
    assert kinds == {"allow", "reject"}
    assert {case["dialect"] for case in lines} == {"duckdb", "postgres", "mysql", "sqlite"}
