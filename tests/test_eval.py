"""Evaluation: every question set through the CLI's code path, scored against hand-written gold SQL (≥ 95%)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from eval.evalset import compare, load_set, run_set, summary

REPO = Path(__file__).resolve().parent.parent
THRESHOLD = 0.95


def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp: Path, workspace: str) -> None:
    # Reuse the demo warehouse already built in the repo (read-only copy) so the test stays fast; without it
    # the workspace loader builds one in the temporary data dir.
    built = REPO / ".datatruth" / workspace
    if (built / "warehouse.duckdb").exists() and (built / "warehouse.build.json").exists():
        (tmp / workspace).mkdir(parents=True, exist_ok=True)
        for name in ("warehouse.duckdb", "warehouse.build.json"):
            shutil.copy2(built / name, tmp / workspace / name)
        # The planner's value index is rebuilt when missing or stale; a fresh copy saves seconds per test.
        if (built / "ask" / "value_index.json").exists():
            (tmp / workspace / "ask").mkdir(exist_ok=True)
            shutil.copy2(built / "ask" / "value_index.json", tmp / workspace / "ask" / "value_index.json")
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp))
    monkeypatch.setenv("DATATRUTH_STORE_URL", f"sqlite:///{tmp / 'metadata.sqlite'}")
    monkeypatch.setenv("DATATRUTH_LOCAL_USER", "local")


def _acme_env(monkeypatch: pytest.MonkeyPatch, tmp: Path, corpora: Path) -> None:
    from datatruth.semantic.dbt_import import create_from_dbt
    from datatruth.settings import load_settings

    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp / "data"))
    monkeypatch.setenv("DATATRUTH_WORKSPACES_DIR", str(tmp / "workspaces"))
    monkeypatch.setenv("DATATRUTH_STORE_URL", f"sqlite:///{tmp / 'metadata.sqlite'}")
    monkeypatch.setenv("DATATRUTH_LOCAL_USER", "local")
    src = corpora / "acme_insurance"
    create_from_dbt("acme", src / "semantic_models", src / "data", src / "ref_map.yaml", settings=load_settings())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["retail", "flights", pytest.param("acme", marks=pytest.mark.corpus)])
def test_eval_set_accuracy(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> None:
    from datatruth.cli.ask import open_context

    evalset = load_set(name)
    if name == "acme":
        _acme_env(monkeypatch, tmp_path, request.getfixturevalue("corpora"))
    else:
        _isolated_env(monkeypatch, tmp_path, evalset.workspace)
    ws, store, user = open_context(evalset.workspace)
    try:
        results = run_set(ws, store, user, evalset)
    finally:
        ws.close()
    line = summary(name, results)
    failing = [f"{r.case.id} {r.case.question!r}: {r.reason}" for r in results if not r.ok]
    with capsys.disabled():  # the summary line is shown on every run, not only on failure
        print(f"\n{line}")
        for item in failing:
            print("  FAIL", item)
    accuracy = sum(r.ok for r in results) / len(results)
    assert accuracy >= THRESHOLD, line + "\n" + "\n".join(failing)


@pytest.mark.parametrize("name", ["retail", "flights"])
def test_eval_sets_are_big_and_cover_every_phrase_class(name: str) -> None:
    evalset = load_set(name)
    assert len(evalset.cases) >= 60
    ids = [c.id for c in evalset.cases]
    assert len(set(ids)) == len(ids)
    classes = {k for c in evalset.cases for k in c.classes}
    needed = {"typo", "abbreviation", "synonym", "value_name", "value_code", "grain_month", "grain_day",
              "grain_week", "grain_quarter", "grain_day_of_week", "top_n", "bottom_n", "several_metrics",
              "comparison_previous", "share_of_total", "follow_up", "time_last_quarter", "time_last_month",
              "time_last_n_days", "time_between", "time_since", "time_ytd", "time_this_month"}
    assert needed <= classes, needed - classes
    for case in evalset.cases:
        assert case.follows is None or case.follows in ids[: ids.index(case.id)]


@pytest.mark.parametrize("gold, got, ordered, ok", [
    ([[1, 2.0]], [[1.0, 2]], False, True),
    ([["a", 1.0], ["b", 2.0]], [["b", 2.0], ["a", 1.0]], False, True),
    ([["a", 1.0], ["b", 2.0]], [["b", 2.0], ["a", 1.0]], True, False),
    ([["a", 1.0], ["b", 2.0]], [["a", 2.0], ["b", 1.0]], False, False),
    ([["a", 1.0]], [["a", 1.0], ["b", 2.0]], False, False),
    ([[0.1234567]], [[0.12345670001]], False, True),
    ([[0.1234567]], [[0.1235]], False, False),
    ([["2025-01-01", 5]], [[5, "2025-01-01T00:00:00", 9.5]], False, True),
    ([[None, 3]], [[None, 3]], False, True),
])
def test_compare(gold: list, got: list, ordered: bool, ok: bool) -> None:
    assert (compare(gold, got, ordered) == "") is ok
