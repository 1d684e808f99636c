"""Onboarding questions of the shipped workspaces: each is answered from its verified plan, and its numbers equal
SQL written by hand against the demo warehouse (not compiled from the model)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from isolation import isolate

from datatruth import resources
from datatruth.ask import pipeline
from datatruth.ask.verified import onboarding_questions

HAND_SQL = {
    "What was revenue by customer region last quarter?": """
        SELECT c.region, SUM(l.net_amount) FROM order_lines l JOIN orders o USING (order_id)
        JOIN customers c ON c.customer_id = o.customer_id
        WHERE o.order_date >= DATE '2026-07-01' AND o.order_date < DATE '2026-10-01' GROUP BY 1 ORDER BY 1""",
    "How many orders were placed online in 2025?": """
        SELECT COUNT(DISTINCT order_id) FROM orders
        WHERE channel = 'Online' AND order_date >= DATE '2025-01-01' AND order_date < DATE '2026-01-01'""",
    "Revenue by month last year": """
        SELECT DATE_TRUNC('month', o.order_date), SUM(l.net_amount) FROM order_lines l JOIN orders o USING (order_id)
        WHERE o.order_date >= DATE '2025-01-01' AND o.order_date < DATE '2026-01-01' GROUP BY 1 ORDER BY 1""",
    "Top 5 products by revenue this year": """
        SELECT p.product_id, p.product_name, SUM(l.net_amount) AS r FROM order_lines l JOIN orders o USING (order_id)
        JOIN products p ON p.product_id = l.product_id
        WHERE o.order_date >= DATE '2026-01-01' AND o.order_date < DATE '2026-11-01' GROUP BY 1, 2
        ORDER BY r DESC LIMIT 5""",
    "Average order value by channel last quarter": """
        SELECT o.channel, SUM(l.net_amount) / COUNT(DISTINCT o.order_id) FROM order_lines l
        JOIN orders o USING (order_id)
        WHERE o.order_date >= DATE '2026-07-01' AND o.order_date < DATE '2026-10-01' GROUP BY 1 ORDER BY 1""",
    "Which airlines had the highest cancellation rate?": """
        SELECT a.carrier, a.name, AVG(CASE WHEN f.dep_time IS NULL THEN 1.0 ELSE 0.0 END) AS r FROM flights f
        JOIN airlines a ON a.carrier = f.carrier GROUP BY 1, 2 ORDER BY r DESC LIMIT 10""",
    "Average departure delay by month": """
        SELECT DATE_TRUNC('month', flight_date), AVG(dep_delay) FROM flights GROUP BY 1 ORDER BY 1""",
    "Average departure delay by airline": """
        SELECT a.carrier, a.name, AVG(f.dep_delay) FROM flights f JOIN airlines a ON a.carrier = f.carrier
        GROUP BY 1, 2 ORDER BY 1""",
    "Cancellation rate by month": """
        SELECT DATE_TRUNC('month', flight_date), AVG(CASE WHEN dep_time IS NULL THEN 1.0 ELSE 0.0 END)
        FROM flights GROUP BY 1 ORDER BY 1""",
    "Flights from JFK by month": """
        SELECT DATE_TRUNC('month', flight_date), COUNT(*) FROM flights WHERE origin = 'JFK' GROUP BY 1 ORDER BY 1""",
}


@pytest.mark.parametrize("name", ["retail", "flights"])
def test_onboarding_questions_are_answered_from_their_verified_plans_correctly(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from datatruth.cli.ask import open_context

    isolate(monkeypatch, tmp_path, name)
    ws, store, _user = open_context(name)
    try:
        layer = pipeline.workspace_resources(ws, store).layer
        starters = onboarding_questions(layer)
        assert len(starters) == 5 and set(starters) <= set(HAND_SQL)
        for question in starters:
            answer = pipeline.ask(ws, question, user="ana", store=store)
            assert answer.plan_source == "verified", question
            assert "from a verified question, by datatruth, 2026-10-31" in answer.interpretation
            expected = ws.warehouse.run(HAND_SQL[question], row_cap=1000).frame
            got = answer.frame
            if question.startswith("Which airlines"):
                # the same rates; airlines that tie are free to come in either order
                assert sorted(got.iloc[:, -1].astype(float).round(9)) == sorted(
                    expected.iloc[:, -1].astype(float).round(9)
                ), question
                continue
            if len(got) > 1 and not question.startswith("Top"):
                got = got.sort_values(list(got.columns[:-1])).reset_index(drop=True)
            assert len(got) == len(expected), question
            for mine, theirs in zip(
                got.itertuples(index=False), expected.itertuples(index=False), strict=True
            ):
                assert float(mine[-1]) == pytest.approx(float(theirs[-1]), rel=1e-9), question
                for a, b in zip(mine[:-1], theirs[:-1], strict=True):
                    assert (
                        str(pd.Timestamp(a).date()) == str(pd.Timestamp(b).date())
                        if hasattr(b, "year")
                        else str(a) == str(b)
                    ), question
    finally:
        resources.invalidate(ws.name)
        ws.close()
