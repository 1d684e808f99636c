"""The per-workspace result cache, keyed by (compiled SQL, semantic model version, warehouse identity).

Storage choice: one Parquet file per entry, named by the SHA-256 of its key, under
`<workspace data dir>/cache/<model version tag>/`. A DuckDB database file allows only one writing
process at a time, and the app runs several sessions and processes (Streamlit replicas, CLI runs,
notebooks) against the same cache; with one file per entry a writer never blocks a reader: entries are
written to a temporary file and moved into place with an atomic rename, readers see either nothing or a
whole entry, and a reader that loses a race with a delete simply misses. Entry metadata (key parts,
creation time, truncation) lives in the Parquet file's own schema metadata, so an entry is one file.
Parquet keeps column types exactly (DECIMAL, DATE, TIMESTAMP) and any DuckDB can query the folder
(`SELECT * FROM 'cache/*/*.parquet'`) when someone wants to inspect it.

Two writers, one reader: `put` writes a DataFrame with pyarrow; `put_records` (the CLI's JSON path, which
never loads pandas or pyarrow) has DuckDB write the rows it returned, with their DuckDB column types in the
metadata, and `get` casts them back, so a hit holds exactly the values of a fresh run.

Invalidation: the model version is part of the key *and* of the folder, so a new version never sees old
entries, and `purge_other_versions` (called by the pipeline whenever it loads a new model state) deletes
the folders of old versions in one step. Entries older than
the TTL are misses and are deleted when met. The key also holds the warehouse's data version
(`datatruth.warehouse.dataversion`): a `workspace load` gives the workspace a new one and clears the cache,
and for a DuckDB file any change of the file changes it too. An entry that cannot be read (truncated,
empty, random bytes) is a miss and is removed, so the next run writes a good one.

Hits and misses are two counters in a fixed-size `counters` file, updated under an exclusive lock
(flock), which gives a hit rate across processes without a file that grows with every lookup.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import struct
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from datatruth.ask.rows import Rows, rows_of, rows_of_arrow

if TYPE_CHECKING:
    import pandas as pd

_META_KEY = b"datatruth.cache"
_HIT, _MISS = 0, 1
_COUNTERS = struct.Struct("<QQ")  # hits, misses
MAX_ENTRIES_PER_VERSION = 5000
# DuckDB column types whose values `put_records` stores and reads back unchanged. Parquet has no 128-bit
# integer (DuckDB would write a DOUBLE), so those are stored as DECIMAL(38,0) and cast back.
_STORABLE = re.compile(
    r"BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|HUGEINT|"
    r"FLOAT|DOUBLE|DECIMAL\(\d{1,2},\d{1,2}\)|VARCHAR|DATE"
)
_STORED_AS = {"HUGEINT": "DECIMAL(38,0)"}


@dataclass(frozen=True)
class CacheKey:
    """What identifies a cached result."""

    sql: str
    model_version: str
    identity: str

    @property
    def digest(self) -> str:
        """The file name of the entry (hash of all three parts)."""
        raw = json.dumps([self.sql, self.model_version, self.identity]).encode()
        return hashlib.sha256(raw).hexdigest()

    @property
    def version_tag(self) -> str:
        """The folder of this model version."""
        return "v-" + hashlib.sha256(self.model_version.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CachedResult:
    """A cache hit."""

    frame: pd.DataFrame | Rows  # Rows only when asked for with get(..., rows=True)
    truncated: bool
    created_at: float
    age_s: float


@dataclass(frozen=True)
class CacheStats:
    """What the Admin page shows about a cache."""

    entries: int
    bytes: int
    versions: int
    hits: int
    misses: int

    @property
    def hit_rate(self) -> float:
        """Hits over lookups since the last clear (0 when there were none)."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


def _ignore_missing(_func: Callable[..., Any], _path: str, exc_info: tuple) -> None:
    # Another process may delete the same stale entries at the same moment; anything else is a real error.
    if not issubclass(exc_info[0], FileNotFoundError):
        raise exc_info[1]


class ResultCache:
    """Results of guarded SQL, shared safely by every process that uses the same workspace data dir."""

    def __init__(self, directory: Path, ttl_s: int) -> None:
        self.directory = Path(directory)
        self.ttl_s = ttl_s

    @property
    def enabled(self) -> bool:
        """False when the workspace sets cache_ttl_s to 0."""
        return self.ttl_s > 0

    def _path(self, key: CacheKey) -> Path:
        return self.directory / key.version_tag / f"{key.digest}.parquet"

    def _event(self, kind: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / "counters", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by close; other processes wait a few microseconds
            counts = list(_read_counters(fd))
            counts[kind] += 1
            os.pwrite(fd, _COUNTERS.pack(*counts), 0)
        finally:
            os.close(fd)

    def _counters(self) -> tuple[int, int]:
        try:
            fd = os.open(self.directory / "counters", os.O_RDONLY)
        except FileNotFoundError:
            return 0, 0
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            return _read_counters(fd)
        finally:
            os.close(fd)

    def get(self, key: CacheKey, now: float | None = None, *, rows: bool = False) -> CachedResult | None:
        """The cached result for `key` if present, readable and younger than the TTL, else None (a miss).

        With `rows`, the result comes as Rows (no pandas) when its column types allow (see datatruth.ask.rows).
        """
        if not self.enabled:
            return None
        now = time.time() if now is None else now
        path = self._path(key)
        table = None
        try:
            if rows:
                meta = _duckdb_meta(path)  # no pyarrow (nor the pandas it loads) to read a typed entry
                if "types" not in meta:
                    meta, table = _arrow_entry(path)
            else:
                meta, table = _arrow_entry(path)
            created = float(meta.get("created_at", 0.0))
            columns = list(meta.get("columns") or (table.column_names if table is not None else ()))
            width = len(meta["types"]) if "types" in meta else table.num_columns if table is not None else -1
        except FileNotFoundError:
            self._event(_MISS)
            return None
        except _unreadable():
            # Truncated, empty or overwritten: a miss, and the entry goes so the next run stores a good one.
            self._remove(path)
            self._event(_MISS)
            return None
        # The digest could in theory collide; the stored key parts make a hit exact.
        same = [meta.get("sql"), meta.get("model_version"), meta.get("identity")] == [
            key.sql,
            key.model_version,
            key.identity,
        ]
        if not same or now - created > self.ttl_s or len(columns) != width:
            self._remove(path)
            self._event(_MISS)
            return None
        found: pd.DataFrame | Rows | None = None
        if "types" in meta:
            try:
                records = _typed_records(path, meta["types"])
            except _unreadable():
                self._remove(path)
                self._event(_MISS)
                return None
            # the warehouse's own values again: Rows, or the DataFrame Warehouse.run would have built
            found = rows_of(columns, records) if rows else None
            if found is None:
                import pandas as pd

                found = pd.DataFrame.from_records(records, columns=columns)
        elif table is not None:
            found = rows_of_arrow(table, columns) if rows else None
            if found is None:
                pandas_frame = table.to_pandas(use_threads=False)
                pandas_frame.columns = columns
                found = pandas_frame
        self._event(_HIT)
        assert found is not None  # narrows the type only: each branch above sets it or returns
        return CachedResult(found, bool(meta.get("truncated")), created, now - created)

    def put_records(
        self,
        key: CacheKey,
        columns: Sequence[str],
        types: Sequence[str],
        records: Sequence[tuple[Any, ...]],
        truncated: bool = False,
        now: float | None = None,
    ) -> bool:
        """Store rows as DuckDB returned them, with its column types; False when a type is not storable.

        Written by DuckDB itself (no pyarrow, no pandas), and read back as the same Python values, from which
        `get` builds what a fresh run builds (Rows, or the DataFrame of Warehouse.run).
        """
        if (
            not self.enabled
            or not columns
            or len(set(columns)) != len(columns)
            or len(types) != len(columns)
            or not all(_STORABLE.fullmatch(t) for t in types)
        ):
            return False
        now = time.time() if now is None else now
        meta = {
            "sql": key.sql,
            "model_version": key.model_version,
            "identity": key.identity,
            "created_at": now,
            "truncated": truncated,
            "columns": [str(c) for c in columns],
            "types": list(types),
        }
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        values = [list(column) for column in zip(*records, strict=True)] if records else [[] for _ in columns]
        select = ", ".join(f"unnest(${i + 1}::{_STORED_AS.get(t, t)}[]) AS c{i}" for i, t in enumerate(types))
        try:
            with _scratch() as con:
                con.execute(
                    f"COPY (SELECT {select}) TO {_literal(str(tmp))} (FORMAT parquet, KV_METADATA "
                    f"{{{_literal(_META_KEY.decode())}: {_literal(json.dumps(meta))}}})",
                    values,
                )
        except duckdb.Error:
            tmp.unlink(missing_ok=True)
            return False  # e.g. a 128-bit integer beyond DECIMAL(38,0): such a result is simply not cached
        os.replace(tmp, path)
        self._trim(path.parent)
        return True

    def put(
        self, key: CacheKey, frame: pd.DataFrame, truncated: bool = False, now: float | None = None
    ) -> bool:
        """Store a result; False when it cannot be stored as Parquet (e.g. duplicate column names)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.enabled or frame.columns.duplicated().any():
            return False
        now = time.time() if now is None else now
        plain = frame.copy()
        plain.columns = [str(c) for c in plain.columns]
        try:
            table = pa.Table.from_pandas(plain, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return False  # a column mixing types; such a result is simply not cached
        meta = {
            "sql": key.sql,
            "model_version": key.model_version,
            "identity": key.identity,
            "created_at": now,
            "truncated": truncated,
            "columns": [str(c) for c in frame.columns],
        }
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), _META_KEY: json.dumps(meta).encode()}
        )
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, path)
        self._trim(path.parent)
        return True

    def _remove(self, path: Path) -> None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass  # another process removed it first

    def _trim(self, folder: Path) -> None:
        # Counting a folder costs a directory scan; do it on a small share of writes only.
        if uuid.uuid4().int % 50:
            return
        entries = list(folder.glob("*.parquet"))
        if len(entries) <= MAX_ENTRIES_PER_VERSION:
            return
        entries.sort(key=lambda p: p.stat().st_mtime if p.exists() else 0)
        for path in entries[: len(entries) - MAX_ENTRIES_PER_VERSION]:
            self._remove(path)

    def purge_other_versions(self, keep_versions: Iterable[str]) -> int:
        """Delete the entries of every model version not in `keep_versions`; return how many folders went."""
        keep = {CacheKey("", version, "").version_tag for version in keep_versions}
        removed = 0
        if not self.directory.is_dir():
            return 0
        for folder in self.directory.iterdir():
            if folder.is_dir() and folder.name.startswith("v-") and folder.name not in keep:
                shutil.rmtree(folder, onerror=_ignore_missing)
                removed += 1
        return removed

    def purge_expired(self, now: float | None = None) -> int:
        """Delete entries older than the TTL (by file time); return how many."""
        now = time.time() if now is None else now
        removed = 0
        for path in self.directory.glob("v-*/*.parquet"):
            try:
                old = now - path.stat().st_mtime > self.ttl_s
            except FileNotFoundError:
                continue
            if old:
                self._remove(path)
                removed += 1
        return removed

    def stats(self) -> CacheStats:
        """Entries, bytes, model versions held, and hits/misses since the last clear."""
        entries = size = 0
        for path in self.directory.glob("v-*/*.parquet"):
            try:
                size += path.stat().st_size
            except FileNotFoundError:
                continue
            entries += 1
        versions = len(list(self.directory.glob("v-*"))) if self.directory.is_dir() else 0
        (self.directory / "events").unlink(missing_ok=True)  # the unbounded log of earlier versions
        hits, misses = self._counters()
        return CacheStats(entries, size, versions, hits, misses)

    def clear(self) -> int:
        """Delete every entry and the hit counters; return how many entries were removed."""
        removed = self.stats().entries
        if self.directory.is_dir():
            shutil.rmtree(self.directory, onerror=_ignore_missing)
        return removed


def _unreadable() -> tuple[type[BaseException], ...]:
    """What reading a truncated, empty or overwritten entry raises (pyarrow's errors once it is loaded)."""
    errors: tuple[type[BaseException], ...] = (duckdb.Error, OSError, ValueError, TypeError, AttributeError)
    pa = sys.modules.get("pyarrow")
    return (*errors, pa.ArrowException) if pa is not None else errors


def _literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


_SCRATCH: list[duckdb.DuckDBPyConnection] = []
_SCRATCH_LOCK = threading.Lock()


def _scratch() -> duckdb.DuckDBPyConnection:
    """A cursor of the process's private in-memory DuckDB that reads and writes cache files (never the
    warehouse's hardened connection); the database is made once, since creating one takes ~20 ms."""
    with _SCRATCH_LOCK:
        if not _SCRATCH:
            _SCRATCH.append(duckdb.connect(":memory:", config={"threads": 1}))
        return _SCRATCH[0].cursor()


def _arrow_entry(path: Path) -> tuple[dict[str, Any], Any]:
    """An entry's metadata and its Arrow table, read with pyarrow."""
    import pyarrow.parquet as pq

    # ParquetFile skips the dataset layer of read_table (a tenth of the time for small entries), and a
    # thread pool only adds scheduling jitter on a busy machine.
    with pq.ParquetFile(path) as parquet:
        table = parquet.read(use_threads=False)
    return json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}")), table


def _duckdb_meta(path: Path) -> dict[str, Any]:
    """An entry's metadata, read with DuckDB."""
    if not path.exists():
        raise FileNotFoundError(path)
    with _scratch() as con:
        found = con.execute(
            f"SELECT decode(value) FROM parquet_kv_metadata({_literal(str(path))}) WHERE decode(key) = ?",
            [_META_KEY.decode()],
        ).fetchall()
    return json.loads(found[0][0]) if found else {}


def _typed_records(path: Path, types: list[str]) -> list[tuple[Any, ...]]:
    """The rows of an entry written by `put_records`, cast back to their DuckDB types."""
    if not all(isinstance(t, str) and _STORABLE.fullmatch(t) for t in types):
        raise ValueError("an entry names a column type the cache never writes")
    select = ", ".join(f"CAST(c{i} AS {t})" for i, t in enumerate(types))
    with _scratch() as con:
        return con.execute(f"SELECT {select} FROM read_parquet({_literal(str(path))})").fetchall()


def _read_counters(fd: int) -> tuple[int, int]:
    raw = os.pread(fd, _COUNTERS.size, 0)
    return _COUNTERS.unpack(raw) if len(raw) == _COUNTERS.size else (0, 0)


def cache_for(data_dir: Path, ttl_s: int) -> ResultCache:
    """The cache of a workspace whose runtime folder is `data_dir`."""
    return ResultCache(Path(data_dir) / "cache", ttl_s)


def workspace_cache(ws: Any) -> ResultCache:
    """The result cache of a loaded workspace (for the Admin page: `.stats()`, `.clear()`)."""
    return cache_for(ws.data_dir, ws.config.limits.cache_ttl_s)
