"""A result's rows without pandas: the cells a DataFrame would hold, for answers that never need one.

`datatruth ask --json` prints rows, an explanation and insights; none of them needs a DataFrame, and importing
pandas costs more than the rest of a cold run. `Rows` holds the columns as lists whose cells are exactly what
`pd.DataFrame.from_records(...)[column].tolist()` would give (whole numbers next to a NULL become floats and
the NULL a NaN, as in a float64 column). Only columns whose cells pandas keeps as they are (text, numbers,
booleans, decimals, dates, NULL) are held this way: `rows_of` returns None for anything pandas would convert
(timestamps, intervals, lists...), and the caller builds the DataFrame as before. Explanations, insights and
JSON cells read either kind through `cell` and `is_missing`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# Python types pandas keeps unchanged in a column (ints and floats are numbers, see _column).
_KEPT = (str, decimal.Decimal, bool)
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class Rows:
    """Columns of a result as lists, with the cells a DataFrame built from the same records would hold."""

    columns: tuple[str, ...]
    data: tuple[list[Any], ...]

    def __len__(self) -> int:
        return len(self.data[0]) if self.data else 0

    @property
    def empty(self) -> bool:
        """True when there are no rows (or no columns), as DataFrame.empty."""
        return len(self) == 0 or not self.columns

    def column(self, name: str) -> list[Any]:
        """The cells of one column."""
        return self.data[self.columns.index(name)]

    def records(self) -> Iterator[tuple[Any, ...]]:
        """The rows as tuples, in column order."""
        return zip(*self.data, strict=True) if self.data else iter(())

    def replaced(self, name: str, values: list[Any]) -> Rows:
        """A copy with the cells of column `name` replaced."""
        i = self.columns.index(name)
        return Rows(self.columns, self.data[:i] + (values,) + self.data[i + 1 :])

    def without(self, names: set[str]) -> Rows:
        """A copy without the columns `names`."""
        kept = [i for i, c in enumerate(self.columns) if c not in names]
        return Rows(tuple(self.columns[i] for i in kept), tuple(self.data[i] for i in kept))

    def frame(self) -> pd.DataFrame:
        """The DataFrame of the same cells (for a face or a step that needs one)."""
        import pandas as pd

        return pd.DataFrame.from_records(list(self.records()), columns=list(self.columns))


def _column(values: list[Any]) -> list[Any] | None:
    """The cells pandas would hold for one column of driver values, or None when it would convert them."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return values
    if kinds <= {int, float}:
        ints = [v for v in values if type(v) is int]
        if any(not _INT64[0] <= v <= _INT64[1] for v in ints):
            return None  # uint64 or object in pandas
        if float in kinds or len(ints) < len(values):
            # float64: whole numbers become floats and NULLs NaN
            return [math.nan if v is None else float(v) for v in values]
        return values
    if len(kinds) == 1 and (kinds <= {dt.date} or next(iter(kinds)) in _KEPT):
        return values  # object column (bool without NULL is a bool column, same cells)
    return None


def rows_of(columns: Sequence[str], records: Sequence[tuple[Any, ...]]) -> Rows | None:
    """The records as Rows, or None when pandas would convert some cells (timestamps, intervals, lists...)."""
    if len(set(columns)) != len(columns):
        return None  # duplicate names: only a DataFrame keeps both
    data = tuple(list(col) for col in zip(*records, strict=True)) if records else tuple([] for _ in columns)
    kept = []
    for values in data:
        cells = _column(values)
        if cells is None:
            return None
        kept.append(cells)
    return Rows(tuple(str(c) for c in columns), tuple(kept))


def rows_of_arrow(table: pa.Table, columns: Sequence[str]) -> Rows | None:
    """The cells `table.to_pandas()` would give, for the Arrow types that convert to plain Python values."""
    import pyarrow as pa
    import pyarrow.types as pat

    data = []
    for col in table.columns:
        kind = col.type
        if pat.is_floating(kind) or (pat.is_integer(kind) and col.null_count):
            data.append([math.nan if v is None else float(v) for v in col.to_pylist()])
        elif (
            pat.is_integer(kind)
            or pat.is_boolean(kind)
            or pat.is_string(kind)
            or pat.is_large_string(kind)
            or pat.is_decimal(kind)
            or pat.is_date32(kind)
            or kind == pa.null()
        ):
            data.append(col.to_pylist())
        else:
            return None
    return Rows(tuple(columns), tuple(data))


def cell(frame: Any, column: str, pos: int) -> Any:
    """One cell of a DataFrame (`.iat`) or of Rows."""
    return cells_at(frame, column)(pos)


def cells_at(frame: Any, column: str) -> Callable[[int], Any]:
    """A function from a row position to the cell of `column` there (for loops over the rows of a column)."""
    if isinstance(frame, Rows):
        return frame.column(column).__getitem__
    return frame[column].iat.__getitem__


def is_missing(value: Any) -> bool:
    """pd.isna for one cell; without pandas loaded a cell can only be missing as None or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    pd = sys.modules.get("pandas")
    return pd is not None and bool(pd.isna(value))


def is_nat(value: Any) -> bool:
    """True for pandas' NaT (which only exists once pandas is loaded)."""
    pd = sys.modules.get("pandas")
    return pd is not None and value is pd.NaT


def as_frame(frame: Any) -> pd.DataFrame:
    """A DataFrame of `frame` (Rows or already a DataFrame)."""
    return frame.frame() if isinstance(frame, Rows) else frame
