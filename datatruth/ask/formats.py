"""One number style per metric format, spelled for each renderer: plotly (d3), Streamlit tables, Excel.

A metric's `format` (currency, percent, number) decides how its values read everywhere; the plain-words
text uses `datatruth.ask.explain.format_value`, which follows the same rules (2 decimals for money and
percents, thousands separators, whole counts without decimals).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class NumberStyle:
    """How one column's numbers are written by each renderer."""

    d3: str  # plotly hover and indicator value format
    tick: str  # plotly axis tick format
    prefix: str  # plotly prefix (d3 has no currency symbol without a locale)
    streamlit: str  # st.column_config.NumberColumn(format=...)
    excel: str  # openpyxl cell.number_format


CURRENCY = NumberStyle(",.2f", ",.0f", "$", "dollar", '"$"#,##0.00')
# Streamlit's "percent" preset drops trailing zeros (27% next to 5.06%): tables get the value times 100
# (see datatruth.ask.present) and a fixed two decimals.
PERCENT = NumberStyle(".2%", ".1%", "", "%.2f%%", "0.00%")
WHOLE = NumberStyle(",.0f", ",.0f", "", "%,d", "#,##0")
DECIMAL = NumberStyle(",.2f", ",.2~f", "", "%,.2f", "#,##0.00")


def _is_whole(values: Iterable[Any]) -> bool:
    seen = False
    for value in values:
        if value is None or isinstance(value, bool | np.bool_ | str):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False
        if math.isnan(number) or math.isinf(number):
            continue
        seen = True
        if not number.is_integer():
            return False
    return seen


def number_style(fmt: str | None, values: Iterable[Any] = ()) -> NumberStyle:
    """The style of a metric format; plain numbers without decimals when every value is whole."""
    if fmt == "currency":
        return CURRENCY
    if fmt == "percent":
        return PERCENT
    return WHOLE if _is_whole(values) else DECIMAL
