"""Rendering helpers: one place for errors, empty states, tables with downloads."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from datatruth.errors import UserError


def show_error(err: UserError) -> None:
    """Render a UserError with its hint (never a traceback)."""
    st.error(err.message)
    if err.hint:
        st.caption(f"💡 {err.hint}")
    for issue in getattr(err, "issues", [])[:50]:
        st.markdown(f"- `{issue}`")


def empty_state(title: str, next_step: str) -> None:
    """Say what this area will show and what to do next."""
    st.info(f"**{title}**\n\n{next_step}")


def excel_bytes(frame: pd.DataFrame, sheet: str = "data") -> bytes:
    """The frame as an .xlsx file in memory."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet[:31])
    return buffer.getvalue()


def download_buttons(frame: pd.DataFrame, name: str, key: str) -> None:
    """CSV and Excel download buttons for a table."""
    left, right = st.columns(2)
    left.download_button("⬇ CSV", frame.to_csv(index=False).encode(), f"{name}.csv", "text/csv", key=f"{key}-csv")
    right.download_button("⬇ Excel", excel_bytes(frame), f"{name}.xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"{key}-xlsx")


def table(frame: pd.DataFrame, name: str, key: str, max_rows: int = 1000) -> None:
    """A dataframe with downloads; large frames show the first rows and say so."""
    st.dataframe(frame.head(max_rows), use_container_width=True, hide_index=True)
    if len(frame) > max_rows:
        st.caption(f"Showing the first {max_rows:,} of {len(frame):,} rows; the downloads hold all of them.")
    download_buttons(frame, name, key)
