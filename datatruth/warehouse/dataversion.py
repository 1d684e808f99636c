"""The data version of a workspace's warehouse, part of every result-cache key so that changed data is never
served from the cache.

Two parts: a token that every `workspace load` replaces (`bump`), and, for an embedded DuckDB file, the
file's own change stamp (size and modification time of the file and its write-ahead log), which also catches
writes made by other tools. Server warehouses (PostgreSQL, MySQL, …) change behind our back without a stamp
we could read cheaply: there the cache's time-to-live (`limits.cache_ttl_s`) bounds staleness, and
`--refresh` (or the Admin page's "clear cache") forces fresh numbers.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa

TOKEN_FILE = "data_version"


def bump(data_dir: Path) -> str:
    """Give the workspace a new data version (after its data changed); return it."""
    token = uuid.uuid4().hex
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{TOKEN_FILE}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(token, encoding="utf-8")
    os.replace(tmp, data_dir / TOKEN_FILE)  # readers see the old token or the new one, never half of one
    return token


def _file_stamp(path: Path) -> str:
    try:
        info = path.stat()
    except FileNotFoundError:
        return "-"
    return f"{info.st_size}:{info.st_mtime_ns}"


def stamp(data_dir: Path, warehouse_url: str) -> str:
    """The current data version: the load token, plus the DuckDB file's change stamp when the warehouse is one."""
    try:
        token = (data_dir / TOKEN_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = "0"
    parts = [token]
    try:
        url = sa.engine.make_url(warehouse_url)
    except sa.exc.ArgumentError:
        return token
    if url.get_backend_name() == "duckdb" and url.database and url.database != ":memory:":
        database = Path(url.database)
        parts += [_file_stamp(database), _file_stamp(database.with_name(database.name + ".wal"))]
    return "|".join(parts)
