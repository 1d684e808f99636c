"""An answer's rows for people: labelled headers, periods at their grain, numbers in their metric's format,
and downloads (CSV, Excel with numeric cells and number formats) under names that say what they hold.

The frame of an Answer keeps the compiler's column names and raw values (the CLI's JSON and notebooks'
DataFrames use them); everything a person reads or downloads from the app goes through here.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from datatruth.ask.answer import AnswerColumn
from datatruth.ask.explain import format_label, format_value, grain_of
from datatruth.ask.formats import NumberStyle, number_style

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_EXCEL_DATE_FORMATS = {
    "year": "yyyy",
    "month": "yyyy-mm",
    "week": "yyyy-mm-dd",
    "day": "yyyy-mm-dd",
    "hour": "yyyy-mm-dd hh:mm",
}
_MAX_NAME = 80


@dataclass(frozen=True)
class Presented:
    """A frame ready to show: labelled columns and the number style of each metric column (by label)."""

    frame: pd.DataFrame
    styles: dict[str, NumberStyle]


def _info(frame: pd.DataFrame, columns: tuple[AnswerColumn, ...]) -> list[AnswerColumn]:
    """Column infos in frame order; a column the infos do not describe is a dimension under its own name."""
    known = {c.name: c for c in columns}
    return [known.get(str(name), AnswerColumn(str(name), label=str(name))) for name in frame.columns]


def _labels(infos: list[AnswerColumn]) -> list[str]:
    """Unique headers: the labels, with the column name added where two labels coincide."""
    titles = [c.title for c in infos]
    return [f"{t} ({c.name})" if titles.count(t) > 1 else t for t, c in zip(titles, infos, strict=True)]


def _numeric(series: pd.Series) -> pd.Series:
    """A metric column as numbers (Decimal and object columns included; whole numbers stay integers); text
    that is not a number stays text."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series
    converted = pd.to_numeric(
        series.map(lambda v: float(v) if isinstance(v, decimal.Decimal) else v), errors="coerce"
    )
    if converted.notna().sum() < series.notna().sum():
        return series
    whole = converted.dropna()
    if len(whole) and bool((whole == whole.round()).all()) and whole.abs().max() < 2**53:
        return converted.astype("Int64")
    return converted


def _reads_as_period(info: AnswerColumn) -> bool:
    return info.role == "time" or grain_of(info) == "day_of_week"


def present(frame: pd.DataFrame, columns: tuple[AnswerColumn, ...]) -> Presented:
    """The frame with labels as headers, periods as people write them ('2026-07', 'Monday') and numeric metrics."""
    infos = _info(frame, columns)
    labels = _labels(infos)
    out = {}
    styles: dict[str, NumberStyle] = {}
    for info, label, name in zip(infos, labels, frame.columns, strict=True):
        series = frame[name]
        if info.role == "metric":
            series = _numeric(series)
            styles[label] = number_style(info.format, series.tolist())
            if info.format == "percent" and pd.api.types.is_numeric_dtype(series):
                series = series.astype("float64") * 100  # shown as 27.00%: the table's format has no scaling
        elif _reads_as_period(info):
            series = pd.Series(
                [format_label(v, info) for v in series.tolist()], index=series.index, dtype="object"
            )
        out[label] = series
    return Presented(pd.DataFrame(out, index=frame.index), styles)


def as_text(frame: pd.DataFrame, columns: tuple[AnswerColumn, ...]) -> pd.DataFrame:
    """Every cell as people read it (labels, periods, '$1,234.50', '16.35%', '17,283'): for HTML and reports."""
    infos = _info(frame, columns)
    out = {}
    for info, label, name in zip(infos, _labels(infos), frame.columns, strict=True):
        values = frame[name].tolist()
        if info.role == "metric":
            out[label] = [format_value(v, info.format) for v in values]
        else:
            out[label] = [format_label(v, info) for v in values]
    return pd.DataFrame(out, index=frame.index)


def csv_bytes(frame: pd.DataFrame, columns: tuple[AnswerColumn, ...]) -> bytes:
    """CSV with labelled headers and plain numbers (no separators or symbols, so any tool reads them)."""
    infos = _info(frame, columns)
    data = frame.copy()
    data.columns = _labels(infos)
    for info, label in zip(infos, data.columns, strict=True):
        if info.role == "metric":
            data[label] = _numeric(data[label])
        elif grain_of(info) == "day_of_week":
            data[label] = [format_label(v, info) for v in data[label].tolist()]
    return data.to_csv(index=False).encode("utf-8")


def _cell(value: object) -> object:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().replace(tzinfo=None)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


def excel_bytes(
    frame: pd.DataFrame, columns: tuple[AnswerColumn, ...], sheet: str = "data", title: str = ""
) -> bytes:
    """An .xlsx workbook: labelled headers, numbers as numeric cells with their format, periods as dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    infos = _info(frame, columns)
    labels = _labels(infos)
    book = Workbook()
    ws = book.active
    ws.title = re.sub(r"[\[\]:*?/\\]", " ", sheet)[:31] or "data"
    if title:
        book.properties.title = title[:200]
    ws.append(labels)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    formats: list[str | None] = []
    for info, name in zip(infos, frame.columns, strict=True):
        if info.role == "metric":
            formats.append(number_style(info.format, _numeric(frame[name]).tolist()).excel)
        else:
            formats.append(
                _EXCEL_DATE_FORMATS.get(grain_of(info) or "", None) if info.role == "time" else None
            )
    for row in frame.itertuples(index=False, name=None):
        values: list[object] = []
        for info, value in zip(infos, row, strict=True):
            grain = grain_of(info)
            if grain in ("quarter", "day_of_week") and value is not None:
                values.append(format_label(value, info))  # Excel has no quarter or weekday number format
            elif info.role == "metric" and isinstance(value, str):
                number = pd.to_numeric(value, errors="coerce")
                values.append(None if pd.isna(number) else float(number))
            else:
                values.append(_cell(value))
        ws.append(values)
    for index, (label, fmt) in enumerate(zip(labels, formats, strict=True), start=1):
        letter = get_column_letter(index)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = fmt
        sample = ws.iter_rows(
            min_row=2, max_row=min(ws.max_row, 200), min_col=index, max_col=index, values_only=True
        )
        widest = max([len(label)] + [len(str(v)) for (v,) in sample if v is not None])
        ws.column_dimensions[letter].width = min(60, max(10, widest + 3))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def file_stem(*texts: str) -> str:
    """A file name (without extension) from the first non-empty text: 'Revenue by month, last quarter' →
    'revenue-by-month-last-quarter'."""
    for text in texts:
        cleaned = re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")
        if cleaned:
            return cleaned[:_MAX_NAME].rstrip("-")
    return "datatruth-export"
