"""The shipped semantic models validate cleanly against their built demo warehouses, and every metric runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from datatruth.semantic.compiler import compile_plan
from datatruth.semantic.model import SemanticLayer
from datatruth.semantic.plan import QueryPlan
from datatruth.semantic.validate import activate, validate_workspace
from datatruth.settings import load_settings
from datatruth.workspace.registry import Workspace, load_workspace

REPO = Path(__file__).resolve().parent.parent
# a recent, data-rich window of each demo (retail's clock is 2026-10-31, flights cover 2013)
WINDOWS = {"retail": ("2026-01-01", "2026-07-01"), "flights": ("2013-03-01", "2013-07-01")}


@pytest.fixture(scope="session")
def demo_workspaces(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Workspace]]:
    """Both demo workspaces, with warehouses built into a temporary data dir."""
    data = tmp_path_factory.mktemp("semantic_demo_data")
    settings = load_settings(
        {"DATATRUTH_DATA_DIR": str(data), "DATATRUTH_WORKSPACES_DIR": str(REPO / "workspaces")}
    )
    spaces = {name: load_workspace(name, settings) for name in ("retail", "flights")}
    yield spaces
    for ws in spaces.values():
        ws.close()


@pytest.fixture(scope="session")
def layers(demo_workspaces: dict[str, Workspace]) -> dict[str, SemanticLayer]:
    return {name: activate(ws) for name, ws in demo_workspaces.items()}


class _Runner:
    """Runs SQL through the workspace's own hardened warehouse connection."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def execute(self, sql: str) -> _Runner:
        self.rows = [
            tuple(r) for r in self.ws.warehouse.run(sql, row_cap=100_000).frame.itertuples(index=False)
        ]
        return self

    def fetchall(self) -> list[tuple]:
        return self.rows

    def close(self) -> None:
        """Nothing to do: the session fixture closes the workspace."""


@pytest.mark.parametrize("name", ["retail", "flights"])
def test_shipped_model_has_no_issues(name: str, demo_workspaces: dict[str, Workspace]) -> None:
    issues = validate_workspace(demo_workspaces[name])
    assert issues == [], "\n".join(str(i) for i in issues)


@pytest.mark.parametrize("name", ["retail", "flights"])
def test_shipped_model_is_documented(name: str, layers: dict[str, SemanticLayer]) -> None:
    layer = layers[name]
    for metric in layer.metrics:
        assert metric.description and metric.label, (
            f"{name}: metric {metric.name} needs a label and description"
        )
    for qd in layer.dimensions():
        if not qd.dimension.is_time and qd.dimension.label and not qd.dimension.implicit:  # declared ones
            # a column of numbers is documented by its unit or description; names and codes by samples or synonyms
            documented = qd.dimension.sample_values or qd.dimension.synonyms or qd.dimension.unit
            assert documented, f"{name}: {qd.name} needs samples, synonyms or a unit"


@pytest.mark.parametrize("name", ["retail", "flights"])
def test_every_metric_runs_alone_and_by_month(
    name: str, demo_workspaces: dict[str, Workspace], layers: dict[str, SemanticLayer]
) -> None:
    layer = layers[name]
    start, end = WINDOWS[name]
    con = _Runner(demo_workspaces[name])
    try:
        for metric in layer.metric_names():
            for dims in ([], ["metric_time:month"]):
                plan = QueryPlan.from_dict(
                    {"metrics": [metric], "dimensions": dims, "time_range": {"start": start, "end": end}}
                )
                compiled = compile_plan(plan, layer, "duckdb")
                rows = con.execute(compiled.sql).fetchall()
                assert rows, f"{name}.{metric} {dims}: no rows"
                values = [r[-1] for r in rows]
                assert any(v is not None for v in values), f"{name}.{metric} {dims}: all NULL"
                if dims:
                    assert len(rows) == 4 if name == "flights" else len(rows) == 6, (metric, rows)
    finally:
        con.close()


@pytest.mark.parametrize("name", ["retail", "flights"])
def test_verified_question_plans_compile_and_run(
    name: str, demo_workspaces: dict[str, Workspace], layers: dict[str, SemanticLayer]
) -> None:
    layer = layers[name]
    con = _Runner(demo_workspaces[name])
    try:
        for q in layer.verified_questions:
            sql = compile_plan(QueryPlan.from_dict(dict(q.plan)), layer, "duckdb").sql if q.plan else q.sql
            assert con.execute(sql).fetchall(), q.question
    finally:
        con.close()


def test_retail_numbers_match_hand_written_sql(
    demo_workspaces: dict[str, Workspace], layers: dict[str, SemanticLayer]
) -> None:
    """Spot checks of the retail definitions against SQL written by hand from the brief."""
    layer = layers["retail"]
    con = _Runner(demo_workspaces["retail"])
    rng = "o.order_date >= DATE '2026-01-01' AND o.order_date < DATE '2026-04-01'"
    hand = {
        "revenue": f"SELECT SUM(l.net_amount) FROM order_lines l JOIN orders o USING (order_id) WHERE {rng}",
        "orders": f"SELECT COUNT(DISTINCT order_id) FROM orders o WHERE {rng}",
        "average_order_value": f"SELECT SUM(l.net_amount) / COUNT(DISTINCT o.order_id) FROM order_lines l "
        f"JOIN orders o USING (order_id) WHERE {rng}",
        "gross_margin": f"SELECT SUM(l.net_amount - l.quantity * l.unit_cost) FROM order_lines l "
        f"JOIN orders o USING (order_id) WHERE {rng}",
        "returning_customer_rate": f"""
            SELECT COUNT(DISTINCT CASE WHEN f.first_order < DATE '2026-01-01' THEN o.customer_id END) * 1.0
                   / COUNT(DISTINCT o.customer_id)
            FROM orders o JOIN (SELECT customer_id, MIN(order_date) AS first_order FROM orders GROUP BY 1) f
              USING (customer_id) WHERE {rng}""",
        "new_customers": "SELECT COUNT(*) FROM customers WHERE signup_date >= DATE '2026-01-01' "
        "AND signup_date < DATE '2026-04-01'",
        "roas": f"""SELECT (SELECT SUM(l.net_amount) FROM order_lines l JOIN orders o USING (order_id) WHERE {rng})
                   / (SELECT SUM(spend) FROM marketing_spend WHERE month >= DATE '2026-01-01'
                      AND month < DATE '2026-04-01')""",
    }
    try:
        for metric, sql in hand.items():
            plan = QueryPlan.from_dict(
                {"metrics": [metric], "time_range": {"start": "2026-01-01", "end": "2026-04-01"}}
            )
            got = con.execute(compile_plan(plan, layer, "duckdb").sql).fetchall()[0][0]
            want = con.execute(sql).fetchall()[0][0]
            assert float(got) == pytest.approx(float(want), rel=1e-9), metric
    finally:
        con.close()


def test_flights_numbers_match_hand_written_sql(
    demo_workspaces: dict[str, Workspace], layers: dict[str, SemanticLayer]
) -> None:
    layer = layers["flights"]
    con = _Runner(demo_workspaces["flights"])
    hand = {
        "cancellation_rate": "SELECT AVG(CASE WHEN dep_time IS NULL THEN 1.0 ELSE 0 END) FROM flights",
        "on_time_rate": "SELECT AVG(CASE WHEN arr_delay <= 15 THEN 1.0 ELSE 0 END) FROM flights "
        "WHERE arr_delay IS NOT NULL",
        "average_departure_delay": "SELECT AVG(dep_delay) FROM flights",
        "flights": "SELECT COUNT(*) FROM flights",
    }
    try:
        for metric, sql in hand.items():
            got = con.execute(
                compile_plan(QueryPlan.from_dict({"metrics": [metric]}), layer, "duckdb").sql
            ).fetchall()[0][0]
            assert float(got) == pytest.approx(float(con.execute(sql).fetchall()[0][0]), rel=1e-9), metric
        # weather is joined on the composite (origin, time_hour) key without losing or duplicating flights
        plan = QueryPlan.from_dict({"metrics": ["flights"], "dimensions": ["origin_weather__precip"]})
        rows = con.execute(compile_plan(plan, layer, "duckdb").sql).fetchall()
        assert sum(r[1] for r in rows) == con.execute("SELECT COUNT(*) FROM flights").fetchall()[0][0]
    finally:
        con.close()
