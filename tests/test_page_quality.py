"""The Quality page never reads healthy while a critical check fails (issue 19, finding 9)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from datatruth.quality import overview as qo
from datatruth.quality.outcome import CheckOutcome
from datatruth.quality.spec import DIMENSIONS
from datatruth.store import checks as check_store
from datatruth.ui.trend import trend_figure

REPO = Path(__file__).resolve().parent.parent
PAGE = str(REPO / "pages" / "quality.py")
DIMS = {d: 99.5 for d in DIMENSIONS}


def _outcome(name: str, status: str, severity: str, dimension: str) -> CheckOutcome:
    return CheckOutcome(
        name,
        "not_null",
        "stores",
        "city",
        status,
        severity,
        None,
        0.0 if status == "pass" else 3.0,
        "0",
        f"{name}: {status}",
        detail={"dimension": dimension},
    )


@pytest.fixture
def store(retail_store):
    """The retail store with one check run: two failures, one of them critical."""
    store = retail_store
    at = dt.datetime(2026, 10, 30, 2, 32, 55, 212500)
    outcomes = [
        _outcome("stores_city_known", "pass", "warning", "completeness"),
        _outcome("stores_region_valid", "pass", "critical", "validity"),
        _outcome("stores_name_unique", "fail", "warning", "uniqueness"),
        _outcome("stores_city_not_null", "fail", "critical", "completeness"),
    ]
    check_store.save_outcomes(store, "retail", "run-1", outcomes, at, at)
    check_store.save_scores(
        store,
        "retail",
        "run-1",
        {"": {"score": 99.6, "dimensions": DIMS}, "stores": {"score": 99.6, "dimensions": DIMS}},
        at,
    )
    return store


def test_gauges_cap_and_redden_on_a_failing_critical_check(store) -> None:
    ov = qo.overview(store, "retail")
    gauges = {g.title: g for g in ov.gauges(DIMENSIONS)}
    assert gauges["Workspace"].measured == 99.6 and gauges["Workspace"].shown == qo.CRITICAL_CAP
    assert gauges["Workspace"].colour == "red" and gauges["Completeness"].colour == "red"
    assert gauges["Completeness"].critical_failed == 1 and gauges["Uniqueness"].critical_failed == 0
    assert gauges["Uniqueness"].colour == "green"  # a failing warning check does not redden the dimension
    assert [o.check_name for o in ov.outcomes] == [
        "stores_city_not_null",
        "stores_name_unique",
        "stores_region_valid",
        "stores_city_known",
    ]


def test_page_shows_the_failure_first_and_whole_titles(store) -> None:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Data quality"
    assert any("1 critical check(s) fail" in e.value and "stores_city_not_null" in e.value for e in at.error)
    titles = [m.value.split("**")[1] for m in at.markdown if m.value.startswith("**")][:7]
    assert titles == [
        "Workspace",
        "Freshness",
        "Completeness",
        "Accuracy",
        "Consistency",
        "Validity",
        "Uniqueness",
    ]
    assert any("critical failing" in m.value for m in at.markdown if m.value.startswith("**Completeness"))
    assert any(f"capped at {qo.CRITICAL_CAP:.0f}" in c.value for c in at.caption)
    checks = next(d.value for d in at.dataframe if "check" in d.value.columns)
    assert checks["check"].tolist()[:2] == ["stores_city_not_null", "stores_name_unique"]
    assert list(checks["status"])[:2] == ["fail", "fail"] and checks["severity"].iloc[0] == "critical"


def test_one_run_trend_has_readable_ticks() -> None:
    one = trend_figure(
        [(dt.datetime(2026, 10, 30, 2, 32, 55, 212500), 99.6)], "Workspace score", "score", (0, 100)
    )
    assert one.layout.xaxis.type == "category" and list(one.data[0].x) == ["2026-10-30 02:32"]
    two = trend_figure(
        [(dt.datetime(2026, 10, 30, 2, 32, 55), 99.6), (dt.datetime(2026, 10, 30, 2, 32, 58), 98.0)],
        "Workspace score",
        "score",
    )
    assert len(set(two.data[0].x)) == 2  # two runs in one minute stay two points


def test_the_gauges_are_one_figure_in_page_order(store) -> None:
    from datatruth.ui.trend import GAUGE_COLOURS, gauges_figure

    gauges = qo.overview(store, "retail").gauges(DIMENSIONS)
    fig = gauges_figure(gauges)
    assert [t.value for t in fig.data] == [g.shown for g in gauges]
    assert [t.gauge.bar.color for t in fig.data] == [GAUGE_COLOURS[g.colour] for g in gauges]
    assert fig.data[0].number.font.color == GAUGE_COLOURS["red"]  # the workspace: a critical check fails
    domains = [tuple(t.domain.x) for t in fig.data]
    assert all(a[1] < b[0] for a, b in zip(domains, domains[1:], strict=False)), domains


def test_a_drill_down_is_profiled_once_and_a_failure_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from datatruth import resources
    from datatruth.errors import UserError

    calls: list[str] = []

    def detail(_ws: object, _store: object, table: str) -> str:
        calls.append(table)
        if len(calls) == 2:
            raise UserError("the warehouse is not reachable")
        return f"detail of {table}"

    monkeypatch.setattr(qo, "table_detail", detail)
    resources.clear()
    ws = SimpleNamespace(name="retail", config="c", settings="s")
    first = qo.table_detail_soon(ws, None, "stores", "run-1")  # type: ignore[arg-type]
    assert first.result() == "detail of stores"
    assert qo.table_detail_soon(ws, None, "stores", "run-1") is first  # type: ignore[arg-type]
    failing = qo.table_detail_soon(ws, None, "stores", "run-2")  # type: ignore[arg-type]
    with pytest.raises(UserError):
        failing.result()
    assert qo.table_detail_soon(ws, None, "stores", "run-2").result() == "detail of stores"  # type: ignore[arg-type]
    assert calls == ["stores", "stores", "stores"]
    resources.clear()
