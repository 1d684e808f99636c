"""The Answer of a question (frozen) and its JSON form, the stable contract of `datatruth ask --json`."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from datatruth.ask.rows import Rows
from datatruth.semantic.labels import humanize
from datatruth.semantic.plan import QueryPlan

if TYPE_CHECKING:
    import pandas as pd

ROLES = ("dimension", "time", "metric")
FORMATS = ("currency", "percent", "number")


@dataclass(frozen=True)
class AnswerColumn:
    """One output column: its name, what it is (dimension, time or metric), its number format and label.

    `additive` says whether the values of disjoint rows add up to a meaningful total (sum and count
    metrics); None when unknown (raw SQL), where only percents are treated as not additive.
    """

    name: str
    role: str = "dimension"
    format: str | None = None
    label: str = ""
    additive: bool | None = None
    names: str = (
        ""  # on an entity key column: the column that names its members (customer id → customer name)
    )

    @property
    def title(self) -> str:
        """The label shown to people (the name as words when no label is set)."""
        return self.label or humanize(self.name)


@dataclass(frozen=True)
class Insight:
    """One observation about a result, computed from its rows."""

    kind: str  # change | trend | outlier | share
    text: str
    column: str = ""


@dataclass(frozen=True)
class Answer:
    """Everything a face shows for one question: numbers, SQL, plan, chart, words and provenance."""

    question: str
    plan: QueryPlan | None
    sql: str
    frame: (
        pd.DataFrame | Rows
    )  # Rows only from the CLI's JSON path (datatruth.ask.lean), which shows no table
    columns: tuple[AnswerColumn, ...]
    row_count: int
    cached: bool
    elapsed_ms: float
    explanation: str
    insights: tuple[Insight, ...] = ()
    chart: dict[str, Any] | None = None
    model_version: str = ""
    from_semantic_layer: bool = True
    history_id: int | None = None
    truncated: bool = False
    plan_source: str = "deterministic"
    interpretation: str = ""  # the question as understood, in words with labels (shown above the numbers)

    def to_json(self) -> dict[str, Any]:
        """The CLI contract: question, sql, plan, columns, rows, row_count, cached, elapsed_ms, explanation."""
        return {
            "question": self.question,
            "interpretation": self.interpretation,
            "sql": self.sql,
            "plan": self.plan.to_dict() if self.plan else None,
            "columns": [c.name for c in self.columns],
            "rows": _years_as_years(frame_rows(self.frame), self.columns),
            "row_count": self.row_count,
            "cached": self.cached,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "explanation": self.explanation,
            "insights": [i.text for i in self.insights],
            "model_version": self.model_version,
            "truncated": self.truncated,
        }


def json_value(value: Any) -> Any:
    """One cell as JSON: numbers stay numbers (Decimal → int/float), dates → ISO text, NaN → null."""
    # A cell can only be a pandas object once pandas is loaded; the JSON path of the CLI never loads it.
    pd = sys.modules.get("pandas")
    if value is None or (pd is not None and value is pd.NaT):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        exponent = (
            value.as_tuple().exponent
        )  # an int for finite values ('n'/'N'/'F' only for NaN and infinity)
        integral = value == value.to_integral_value() and isinstance(exponent, int) and exponent >= 0
        return int(value) if integral else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    if pd is not None and isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # pd.Timedelta is one too
        return pd.Timedelta(value).total_seconds() if pd is not None else value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _years_as_years(rows: list[list[Any]], columns: tuple[AnswerColumn, ...]) -> list[list[Any]]:
    """Rows with each period of a yearly time column as its year ("2025"), the way people write a year."""
    # A yearly period is stored as its first day; "2025-01-01" reads as one day, not as the year.
    yearly = [i for i, c in enumerate(columns) if c.role == "time" and c.name.endswith("__year")]
    if not yearly:
        return rows
    for row in rows:
        for i in yearly:
            if i < len(row) and isinstance(row[i], str) and len(row[i]) >= 10 and row[i][4] == "-":
                row[i] = row[i][:4]
    return rows


def frame_rows(frame: pd.DataFrame | Rows) -> list[list[Any]]:
    """Rows of a frame as lists in column order, each cell converted with `json_value`."""
    records = frame.records() if isinstance(frame, Rows) else frame.itertuples(index=False, name=None)
    return [[json_value(v) for v in row] for row in records]
