"""Sensitive columns by role: who sees the raw values of a workspace's `sensitive_columns`, and the masked frame.

One rule for every face that shows rows (answers, the SQL tab, LLM-written SQL, dashboards, exports): unless
the workspace sets `allow_raw_samples: true`, only roles with `see_sensitive` (admins) see raw values;
everyone else sees them masked. Example rows kept with quality checks and incidents are masked when they are
stored, for every role, because they outlive the request and are sent to webhooks.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from datatruth import access, resources
from datatruth.ask.rows import Rows, as_frame
from datatruth.errors import NotFound

if TYPE_CHECKING:
    import pandas as pd

    from datatruth.store.engine import Store
    from datatruth.workspace.registry import Workspace


def sees_sensitive(ws: Workspace, store: Store, user: str) -> bool:
    """True when `user` may see raw values of the workspace's sensitive columns."""
    if not ws.config.sensitive_columns or ws.config.allow_raw_samples:
        return True
    return access.can(store, ws.name, user, "see_sensitive")


def _columns(ws: Workspace, table: str) -> dict[str, str]:
    return dict(ws.warehouse.columns(table))


def _schema(ws: Workspace, tables: frozenset[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    stamp = resources.workspace_stamp(ws)
    for table in sorted(tables):
        try:
            out[table] = resources.get(
                "table-columns", ws.name, functools.partial(_columns, ws, table), slot=(stamp, table.lower())
            )
        except NotFound:
            continue  # not a warehouse table (a table function): nothing to expand
    return out


def masked_for(
    ws: Workspace, store: Store, user: str, sql: str, frame: pd.DataFrame | Rows
) -> tuple[pd.DataFrame | Rows, bool]:
    """`frame` as `user` may see it (result columns derived from sensitive columns masked unless their role
    may), and whether any column was masked."""
    if frame.empty or sees_sensitive(ws, store, user):
        return frame, False
    # Column lineage (sqlglot's optimizer) and the masked DataFrame are only needed here.
    from datatruth.sql.sensitive import columns_to_mask, mask_frame, referenced_tables

    frame = as_frame(frame)
    dialect = ws.warehouse.dialect
    schema = _schema(ws, referenced_tables(sql, dialect))
    hidden = columns_to_mask(sql, dialect, ws.config.sensitive_columns, frame.columns, schema)
    return mask_frame(frame, hidden), bool(hidden)
