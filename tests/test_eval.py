"""Evaluation: every question set through the CLI's code path, scored against hand-written gold SQL (≥ 95%)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval.evalset import (
    answer,
    compare,
    copy_acme,
    isolated_env,
    load_set,
    prepare_acme,
    summary,
)
from eval.helper import SecondProcess

REPO = Path(__file__).resolve().parent.parent
THRESHOLD = 0.95
# the imported ACME model has no synonyms or phrasings: its own set keeps questions the rules rightly refuse
# ("buildings" names nothing in it), so it is held to correct answers 9 times in 10 and, like all sets, no wrong
THRESHOLDS = {"acme": 0.9}


def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp: Path, workspace: str) -> None:
    for key, value in isolated_env(tmp, workspace).items():
        monkeypatch.setenv(key, value)


@pytest.fixture(scope="session")
def acme_base(tmp_path_factory: pytest.TempPathFactory, corpora: Path) -> Path:
    """The ACME workspace imported once, its planner built: each set runs in a copy of it with a store of its
    own (importing the corpus for every set was most of an ACME set's time)."""
    base = tmp_path_factory.mktemp("acme-base")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in isolated_env(base, "acme").items():
            mp.setenv(key, value)
        prepare_acme(corpora)
    return base


def _acme_env(monkeypatch: pytest.MonkeyPatch, tmp: Path, base: Path) -> None:
    copy_acme(base, tmp)
    _isolated_env(monkeypatch, tmp, "acme")


def _run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> list:
    """Every case of a question set answered in an isolated copy of its workspace (of the ACME import)."""
    evalset = load_set(name)
    if evalset.workspace == "acme":
        _acme_env(monkeypatch, tmp_path, request.getfixturevalue("acme_base"))
    else:
        _isolated_env(monkeypatch, tmp_path, evalset.workspace)
    return answer(evalset)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["retail", "flights", pytest.param("acme", marks=pytest.mark.corpus)])
def test_eval_set_accuracy(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    results = _run(name, tmp_path, monkeypatch, request)
    line = summary(name, results)
    failing = [f"{r.case.id} {r.case.question!r}: {r.reason}" for r in results if not r.ok]
    with capsys.disabled():  # the summary line is shown on every run, not only on failure
        print(f"\n{line}")
        for item in failing:
            print("  FAIL", item)
    accuracy = sum(r.ok for r in results) / len(results)
    assert accuracy >= THRESHOLDS.get(name, THRESHOLD), line + "\n" + "\n".join(failing)
    assert not [r for r in results if r.outcome == "wrong"], line + "\n" + "\n".join(failing)


@pytest.mark.parametrize("name", ["retail", "flights"])
def test_eval_sets_are_big_and_cover_every_phrase_class(name: str) -> None:
    evalset = load_set(name)
    assert len(evalset.cases) >= 60
    ids = [c.id for c in evalset.cases]
    assert len(set(ids)) == len(ids)
    classes = {k for c in evalset.cases for k in c.classes}
    needed = {
        "typo",
        "abbreviation",
        "synonym",
        "value_name",
        "value_code",
        "grain_month",
        "grain_day",
        "grain_week",
        "grain_quarter",
        "grain_day_of_week",
        "top_n",
        "bottom_n",
        "several_metrics",
        "comparison_previous",
        "share_of_total",
        "follow_up",
        "time_last_quarter",
        "time_last_month",
        "time_last_n_days",
        "time_between",
        "time_since",
        "time_ytd",
        "time_this_month",
    }
    assert needed <= classes, needed - classes
    for case in evalset.cases:
        assert case.follows is None or case.follows in ids[: ids.index(case.id)]


@pytest.mark.parametrize(
    "gold, got, ordered, ok",
    [
        ([[1, 2.0]], [[1.0, 2]], False, True),
        ([["a", 1.0], ["b", 2.0]], [["b", 2.0], ["a", 1.0]], False, True),
        ([["a", 1.0], ["b", 2.0]], [["b", 2.0], ["a", 1.0]], True, False),
        ([["a", 1.0], ["b", 2.0]], [["a", 2.0], ["b", 1.0]], False, False),
        ([["a", 1.0]], [["a", 1.0], ["b", 2.0]], False, False),
        ([[0.1234567]], [[0.12345670001]], False, True),
        ([[0.1234567]], [[0.1235]], False, False),
        ([["2025-01-01", 5]], [[5, "2025-01-01T00:00:00", 9.5]], False, True),
        ([[None, 3]], [[None, 3]], False, True),
    ],
)
def test_compare(gold: list, got: list, ordered: bool, ok: bool) -> None:
    assert (compare(gold, got, ordered) == "") is ok


# the banks, then the probe sets independent writers wrote during the later rework (thirty-four rounds; each round
# was run once before the planner was changed for it, and those first numbers are in the README)
_ROUNDS = ("", *(str(n) for n in range(2, 35)))
BANKS = [
    "bank_retail",
    "bank_flights",
    pytest.param("bank_acme", marks=pytest.mark.corpus),
    *(f"probe{n}_{ws}" for n in _ROUNDS for ws in ("retail", "flights")),
    *(pytest.param(f"probe{n}_acme", marks=pytest.mark.corpus) for n in _ROUNDS),
]
MAX_WRONG = 0.02  # a wrong number is the worst answer: at most 2% of a bank


@pytest.mark.slow
@pytest.mark.parametrize("name", BANKS)
def test_question_bank_is_rarely_wrong_and_refuses_well(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    eval_helper: SecondProcess | None,
) -> None:
    """Banks written before the planner rework by people who did not write it: correct / refused / wrong are
    printed; the test fails when more than 2% are wrong, or when a refusal does not say what was understood and
    offer at least one question that can be answered."""
    if load_set(name).workspace == "acme":
        request.getfixturevalue("corpora")  # a missing corpus fails under CI and skips elsewhere
    if eval_helper is not None and not eval_helper.claim(name):
        try:
            results = eval_helper.results(name)
        except RuntimeError as err:
            pytest.fail(str(err))
    else:
        results = _run(name, tmp_path, monkeypatch, request)
    line = summary(name, results)
    wrong = [
        f"{r.case.id} {r.case.question!r}: {r.reason}"
        for r in results
        if r.outcome == "wrong" and not r.case.disputed
    ]
    # a gold row set that disagrees on a convention is named in its set with the reason, and still counted as
    # wrong in every summary and in the README; only the gate leaves it out
    disputed = [
        f"{r.case.id}: {r.case.disputed}" for r in results if r.outcome == "wrong" and r.case.disputed
    ]
    with capsys.disabled():
        print(f"\n{line}")
        for item in wrong:
            print("  WRONG", item)
        for item in disputed:
            print("  WRONG (disputed)", item)
    assert len(wrong) <= MAX_WRONG * len(results), line + "\n" + "\n".join(wrong)
    bare = [
        r.case.id
        for r in results
        if r.payload
        and "error" in r.payload
        and not (r.payload.get("interpretation") and r.payload.get("choices"))
    ]
    assert bare == [], f"refusals without an interpretation or a choice: {bare}"
