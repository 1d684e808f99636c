"""Invariants are explicit errors, not `assert` statements (which `python -O` strips)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from datatruth.errors import InternalError, UserError, present

PACKAGE = Path(__file__).resolve().parent.parent / "datatruth"
NARROWS = "# narrows the type only"


def test_present_passes_a_value_through_and_names_what_is_missing() -> None:
    assert present(0, "a count") == 0  # falsy values are present
    with pytest.raises(InternalError, match="the semantic layer is missing"):
        present(None, "the semantic layer")


def test_an_internal_error_is_a_bug_not_a_user_error() -> None:
    assert not issubclass(InternalError, UserError)


def test_the_package_keeps_asserts_only_to_narrow_types() -> None:
    """An assert may stay only where the lines around it already prove it, and says so on its line."""
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.Assert) and NARROWS not in lines[node.lineno - 1]:
                unexplained.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert unexplained == []


def test_an_alert_on_a_series_without_dates_reads_no_rows_instead_of_failing() -> None:
    import pandas as pd

    from datatruth.ask.answer import Answer, AnswerColumn
    from datatruth.dashboards import alerts

    frame = pd.DataFrame({"month": pd.to_datetime([None, None]), "orders": [3, 4]})
    answer = Answer(
        "orders by month",
        None,
        "",
        frame,
        (AnswerColumn("month", "time"), AnswerColumn("orders", "metric")),
        2,
        False,
        0.0,
        "",
    )
    check = alerts.evaluate(alerts.AlertRule("orders", "<", 10), answer)
    assert check.value is None and not check.breached and check.where == "no rows"
