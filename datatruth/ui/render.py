"""Rendering helpers: one place for errors, empty states, tables with downloads."""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd
import streamlit as st

from datatruth.ask.answer import AnswerColumn
from datatruth.ask.present import XLSX_MIME, csv_bytes, present
from datatruth.ask.present import excel_bytes as answer_excel_bytes
from datatruth.errors import UserError


def show_error(err: UserError) -> None:
    """Render a UserError with its hint (never a traceback)."""
    st.error(err.message)
    if err.hint:
        st.caption(f":material/lightbulb: {err.hint}")
    for issue in getattr(err, "issues", [])[:50]:
        st.markdown(f"- `{issue}`")


def empty_state(title: str, next_step: str) -> None:
    """Say what this area will show and what to do next."""
    st.info(f"**{title}**\n\n{next_step}", icon=":material/info:")


def excel_bytes(frame: pd.DataFrame, sheet: str = "data", columns: tuple[AnswerColumn, ...] = ()) -> bytes:
    """The frame as an .xlsx file in memory (numbers as numeric cells, in their metric's format when known)."""
    return answer_excel_bytes(frame, columns, sheet)


def download_buttons(
    frame: pd.DataFrame, name: str, key: str, columns: tuple[AnswerColumn, ...] = ()
) -> None:
    """CSV and Excel download buttons for a table; `name` is the file name without extension."""
    left, right = st.columns(2)
    left.download_button(
        "CSV",
        csv_bytes(frame, columns),
        f"{name}.csv",
        "text/csv",
        key=f"{key}-csv",
        icon=":material/download:",
    )
    # The workbook is built when the button is clicked: openpyxl costs ~0.1 s per answer drawn otherwise.
    right.download_button(
        "Excel",
        functools.partial(excel_bytes, frame, name[:31], columns),
        f"{name}.xlsx",
        XLSX_MIME,
        key=f"{key}-xlsx",
        icon=":material/download:",
    )


def column_config(styles: dict) -> dict:
    """Streamlit number columns in each metric's format (money, percent, whole or decimal numbers)."""
    return {
        label: st.column_config.NumberColumn(label, format=style.streamlit) for label, style in styles.items()
    }


def table(
    frame: pd.DataFrame, name: str, key: str, max_rows: int = 1000, columns: tuple[AnswerColumn, ...] = ()
) -> None:
    """A dataframe with downloads; with `columns`, labelled headers and formatted numbers. Large frames show
    the first rows and say so."""
    shown = present(frame.head(max_rows), columns)
    st.dataframe(shown.frame, width="stretch", hide_index=True, column_config=column_config(shown.styles))
    if len(frame) > max_rows:
        st.caption(f"Showing the first {max_rows:,} of {len(frame):,} rows; the downloads hold all of them.")
    download_buttons(frame, name, key, columns)


def lazy_expander(label: str, key: str, expanded: bool = False) -> Any | None:
    """An expander whose content is drawn only while it is open: the container to draw in, or None when closed.

    Streamlit sends and the browser lays out a closed expander's content on every run; a page with a table or
    a form in each of several closed expanders paid for all of them on every visit. Opening one reruns the page.
    """
    box = st.expander(label, expanded=expanded, key=key, on_change="rerun")
    return box if box.open else None
