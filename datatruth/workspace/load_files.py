"""Bring your own files: load CSV, Excel, Parquet or JSON into a workspace's DuckDB, reporting every bad row.

Loading is a list of named stages per file (check → read → type → write → report). Types are inferred
and returned so a person can confirm or correct them (`dry_run=True` first, then `confirm_types=`);
rows that cannot be read are never silently dropped: each one comes back with its line number.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
import sqlalchemy as sa

from datatruth.errors import NotFound, UserError
from datatruth.settings import Settings, load_settings

if TYPE_CHECKING:
    from datatruth.store.engine import Store
    from datatruth.workspace.registry import Workspace

Progress = Callable[[float, str], None]
FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "excel", ".xls": "excel", ".parquet": "parquet",
           ".pq": "parquet", ".json": "json", ".jsonl": "json", ".ndjson": "json"}
_NAME_CLEAN = re.compile(r"[^a-z0-9_]+")
# Files at least this big report progress while DuckDB reads them (polled from its query progress).
PROGRESS_MIN_BYTES = 5_000_000
_POLL_S = 0.2


@dataclass(frozen=True)
class ColumnType:
    """One column of a loaded (or about to be loaded) table with its DuckDB type."""

    name: str
    type: str
    source_name: str = ""


@dataclass(frozen=True)
class RejectedRow:
    """A row that could not be loaded, with its line in the file and why."""

    file: str
    line: int | None
    column: str | None
    error: str
    text: str = ""

    def __str__(self) -> str:
        where = f"{Path(self.file).name}:{self.line}" if self.line else Path(self.file).name
        col = f" [{self.column}]" if self.column else ""
        return f"{where}{col}: {self.error}" + (f" — {self.text[:120]}" if self.text else "")


@dataclass(frozen=True)
class LoadedTable:
    """The outcome for one file: its table, row count, column types and rejected rows."""

    table: str
    source: str
    format: str
    rows: int
    columns: tuple[ColumnType, ...]
    rejected: tuple[RejectedRow, ...] = ()

    def types(self) -> dict[str, str]:
        """Column name → DuckDB type (the shape `confirm_types` takes for this table)."""
        return {c.name: c.type for c in self.columns}


@dataclass(frozen=True)
class LoadReport:
    """What `load_files` did (or, for a dry run, would do)."""

    workspace: str
    database: str
    tables: tuple[LoadedTable, ...]
    dry_run: bool = False

    @property
    def rejected_count(self) -> int:
        """Rows that were not loaded, over all files."""
        return sum(len(t.rejected) for t in self.tables)

    def table(self, name: str) -> LoadedTable:
        """The result for one table (NotFound otherwise)."""
        for t in self.tables:
            if t.table == name:
                return t
        raise NotFound(f"no table '{name}' in this load", f"tables: {', '.join(t.table for t in self.tables)}")


@dataclass(frozen=True)
class _Source:
    """A file ready to load: where it is, its format and the table it becomes."""

    path: Path
    format: str
    table: str


def table_name_for(path: Path) -> str:
    """The table a file becomes: its stem, lower-cased, with anything but a-z0-9_ turned into '_'."""
    name = _NAME_CLEAN.sub("_", path.stem.lower()).strip("_") or "data"
    return name if name[0].isalpha() else f"t_{name}"


def column_name_for(name: str) -> str:
    """A column's loaded name: lower-cased, with anything but a-z0-9_ turned into '_'."""
    clean = _NAME_CLEAN.sub("_", str(name).strip().lower()).strip("_") or "column"
    return clean if clean[0].isalpha() or clean[0] == "_" else f"c_{clean}"


def duckdb_path_of(url: str) -> Path:
    """The file behind a `duckdb:///…` URL (UserError for any other warehouse)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "duckdb" or not parsed.database or parsed.database == ":memory:":
        raise UserError(f"this workspace's warehouse is not a DuckDB file ({parsed.get_backend_name()})",
                        "files can only be loaded into a workspace whose warehouse is an embedded DuckDB file")
    return Path(parsed.database)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# -- stages ------------------------------------------------------------------------------------------------

def _check(files: Iterable[str | Path], settings: Settings) -> list[_Source]:
    """Stage 1: every file exists, has a known format and is within the size limit; names don't collide."""
    sources: list[_Source] = []
    problems: list[str] = []
    for entry in files:
        path = Path(entry)
        if not path.is_file():
            problems.append(f"{path}: file not found")
            continue
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            problems.append(f"{path}: unknown format '{path.suffix}' (use .csv, .xlsx, .parquet or .json)")
            continue
        size_mb = path.stat().st_size / 1_000_000
        if size_mb > settings.upload_max_mb:
            problems.append(f"{path}: {size_mb:.1f} MB is over the {settings.upload_max_mb} MB limit")
            continue
        sources.append(_Source(path, fmt, table_name_for(path)))
    seen: dict[str, Path] = {}
    for src in sources:
        if src.table in seen:
            problems.append(f"{src.path} and {seen[src.table]} would both become table '{src.table}'")
        seen[src.table] = src.path
    if problems:
        raise UserError("some files cannot be loaded: " + "; ".join(problems),
                        "raise DATATRUTH_UPLOAD_MAX_MB for bigger files; rename files whose tables collide")
    if not sources:
        raise UserError("no files to load", "name at least one .csv, .xlsx, .parquet or .json file")
    return sources


def _read_relation(con: duckdb.DuckDBPyConnection, src: _Source, index: int,
                   types: Mapping[str, str]) -> tuple[str, list[RejectedRow]]:
    """Stage 2: a SQL relation reading the file (CSV/Parquet natively; Excel/JSON through a pandas pass)."""
    if src.format == "csv":
        options = ["store_rejects=true", f"rejects_table='dt_rejects_{index}'", f"rejects_scan='dt_scan_{index}'"]
        if types:
            pairs = ", ".join(f"{_sql_text(k)}: {_sql_text(v)}" for k, v in types.items())
            options.append(f"types={{{pairs}}}")
        return f"read_csv({_sql_text(str(src.path))}, {', '.join(options)})", []
    if src.format == "parquet":
        return f"read_parquet({_sql_text(str(src.path))})", []
    if src.format == "excel":
        frame = pd.read_excel(src.path, sheet_name=0)
        rejected: list[RejectedRow] = []
    else:
        frame, rejected = _read_json(src.path)
    # Mixed-type object columns would make DuckDB guess; text keeps every value as written.
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v))
                                        else (v if isinstance(v, str) else json.dumps(v, default=str)
                                              if isinstance(v, dict | list) else str(v)))
    view = f"dt_frame_{index}"
    con.register(view, frame)
    return view, rejected


def _read_json(path: Path) -> tuple[pd.DataFrame, list[RejectedRow]]:
    """A JSON array or JSON-lines file as a frame; unreadable lines are reported, not dropped silently."""
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as err:
            raise UserError(f"{path.name} is not valid JSON (line {err.lineno}: {err.msg})",
                            "fix the file, or save it as JSON lines so that one bad record does not stop the load") from None
        rows = [r for r in records if isinstance(r, dict)]
        rejected = [RejectedRow(str(path), None, None, f"record {i + 1} is not an object", json.dumps(r)[:200])
                    for i, r in enumerate(records) if not isinstance(r, dict)]
        return pd.DataFrame(rows), rejected
    rows = []
    rejected = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            rejected.append(RejectedRow(str(path), number, None, f"invalid JSON: {err.msg}", line))
            continue
        if not isinstance(value, dict):
            rejected.append(RejectedRow(str(path), number, None, "line is not a JSON object", line))
            continue
        rows.append(value)
    return pd.DataFrame(rows), rejected


def _typed_select(con: duckdb.DuckDBPyConnection, relation: str, confirmed: Mapping[str, str],
                  cast: bool) -> tuple[str, list[ColumnType]]:
    """Stage 3: a SELECT renaming columns to clean lower-case names (casting to confirmed types if asked)."""
    described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    used: set[str] = set()
    parts: list[str] = []
    columns: list[ColumnType] = []
    for row in described:
        source, kind = str(row[0]), str(row[1])
        name = column_name_for(source)
        base, n = name, 1
        while name in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        wanted = confirmed.get(name)
        expr = _quote(source)
        if wanted and cast and wanted.upper() != kind.upper():
            expr = f"CAST({expr} AS {wanted})"
            kind = wanted.upper()
        parts.append(f"{expr} AS {_quote(name)}")
        columns.append(ColumnType(name, kind, source))
    return f"SELECT {', '.join(parts)} FROM {relation}", columns


def _csv_rejects(con: duckdb.DuckDBPyConnection, src: _Source, index: int) -> list[RejectedRow]:
    """Stage 5 (CSV): the rows DuckDB could not read, one per line (all of that line's errors together)."""
    rows = con.execute(f"SELECT line, column_name, error_type, error_message, csv_line FROM dt_rejects_{index} "
                       "ORDER BY line, column_idx").fetchall()
    by_line: dict[int | None, list[tuple]] = {}
    for r in rows:
        by_line.setdefault(int(r[0]) if r[0] is not None else None, []).append(r)
    out = []
    for line, errors in by_line.items():
        columns = ", ".join(dict.fromkeys(str(e[1]) for e in errors if e[1]))
        message = "; ".join(dict.fromkeys(f"{e[2]}: {e[3]}" for e in errors))
        out.append(RejectedRow(str(src.path), line, columns or None, message, errors[0][4] or ""))
    return out


def _execute_with_progress(con: duckdb.DuckDBPyConnection, sql: str, tick: Callable[[float], None] | None) -> None:
    """Run one statement; for a big file, report DuckDB's own progress while it runs."""
    if tick is None:
        con.execute(sql).fetchall()
        return
    con.execute("SET enable_progress_bar = true").fetchall()
    con.execute("SET enable_progress_bar_print = false").fetchall()  # no bar on stdout
    outcome: dict[str, BaseException] = {}

    def work() -> None:
        try:
            con.execute(sql).fetchall()
        except duckdb.Error as err:  # re-raised in the caller's thread below
            outcome["error"] = err

    worker = threading.Thread(target=work, name="datatruth-load", daemon=True)
    worker.start()
    last = -1.0
    while worker.is_alive():
        worker.join(_POLL_S)
        done = con.query_progress()
        if done >= 0 and done - last >= 1:
            last = done
            tick(min(done, 100.0) / 100)
    if "error" in outcome:
        raise outcome["error"]


def _load_one(con: duckdb.DuckDBPyConnection, src: _Source, index: int, confirmed: Mapping[str, str],
              dry_run: bool, tick: Callable[[float], None] | None = None) -> LoadedTable:
    """Run the stages for one file on `con` (an in-memory connection for a dry run)."""
    csv_types: dict[str, str] = {}
    if src.format == "csv" and confirmed:
        # read_csv takes types by the file's own header names; map the clean names back.
        header = con.execute(f"DESCRIBE SELECT * FROM read_csv({_sql_text(str(src.path))}, "
                             "ignore_errors=true)").fetchall()
        back = {column_name_for(str(r[0])): str(r[0]) for r in header}
        csv_types = {back[k]: v for k, v in confirmed.items() if k in back}
    try:
        relation, rejected = _read_relation(con, src, index, csv_types)
        select, columns = _typed_select(con, relation, confirmed, cast=src.format != "csv")
        unknown = sorted(set(confirmed) - {c.name for c in columns})
        if unknown:
            raise UserError(f"{src.path.name} has no column {', '.join(unknown)}",
                            f"its columns are {', '.join(c.name for c in columns)}")
        target = f"dt_dry_{index}" if dry_run else _quote(src.table)
        kind = "TEMP TABLE" if dry_run else "TABLE"
        big = src.path.stat().st_size >= PROGRESS_MIN_BYTES
        _execute_with_progress(con, f"CREATE OR REPLACE {kind} {target} AS {select}", tick if big else None)
        count = con.execute(f"SELECT COUNT(*) FROM {target}").fetchall()[0][0]
        actual = con.execute(f"DESCRIBE {target}").fetchall()
    except (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.BinderException,
            duckdb.ParserException, duckdb.CatalogException) as err:
        raise UserError(f"{src.path.name} could not be loaded: {str(err).splitlines()[0]}",
                        "check the file's format, or confirm different column types") from None
    finally:
        if src.format in ("excel", "json"):
            con.unregister(f"dt_frame_{index}")
    if src.format == "csv":
        rejected = rejected + _csv_rejects(con, src, index)
    by_name = {c.name: c.source_name for c in columns}
    typed = tuple(ColumnType(str(r[0]), str(r[1]), by_name.get(str(r[0]), str(r[0]))) for r in actual)
    return LoadedTable(src.table, str(src.path), src.format, int(count), typed, tuple(rejected))


def load_files(ws_name: str, files: Iterable[str | Path], settings: Settings | None = None,
               progress: Progress | None = None, confirm_types: Mapping[str, Mapping[str, str]] | None = None,
               dry_run: bool = False) -> LoadReport:
    """Load files into the workspace's DuckDB (one table per file); `dry_run` only infers types and bad rows."""
    from datatruth.workspace.registry import load_config

    settings = settings or load_settings()
    config = load_config(ws_name, settings)
    database = duckdb_path_of(config.warehouse_url)
    sources = _check(files, settings)
    confirm_types = confirm_types or {}
    report = progress or (lambda _f, _m: None)
    database.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:" if dry_run else str(database))
    tables: list[LoadedTable] = []
    share = 1 / len(sources)
    try:
        for i, src in enumerate(sources):
            report(i / len(sources), f"reading {src.path.name} ({src.format}) into table {src.table}")
            loaded = _load_one(con, src, i, confirm_types.get(src.table, {}), dry_run,
                               lambda done, i=i, src=src: report((i + done) * share, f"reading {src.path.name}: "
                                                                 f"{done:.0%}"))
            tables.append(loaded)
            report((i + 1) / len(sources), f"{src.table}: {loaded.rows:,} rows, {len(loaded.rejected)} rejected")
    finally:
        con.close()
    return LoadReport(ws_name, str(database), tuple(tables), dry_run)


def load_directory_csvs(ws_name: str, data_dir: Path, settings: Settings | None = None,
                        progress: Progress | None = None) -> LoadReport:
    """Load every `*.csv` of a folder (one table per file, lower-cased name)."""
    files = sorted(p for p in Path(data_dir).iterdir() if p.suffix.lower() == ".csv" and p.is_file()) \
        if Path(data_dir).is_dir() else []
    if not files:
        raise UserError(f"no CSV files in {data_dir}", "point --load-csv at the folder holding the seed CSV files")
    return load_files(ws_name, files, settings, progress=progress)


def _without_folder(text: str, folder: Path) -> str:
    """`text` naming uploaded files by their names only, never by the server folder they were saved in."""
    return text.replace(f"{folder}{os.sep}", "").replace(str(folder), "the upload")


def load_uploads(ws: Workspace, uploads: Sequence[tuple[str, bytes]], *, user: str, store: Store,
                 progress: Progress | None = None, confirm_types: Mapping[str, Mapping[str, str]] | None = None,
                 dry_run: bool = False) -> LoadReport:
    """Load files uploaded through the app (analysts and admins; audited), releasing the read-only connection first."""
    import shutil
    import tempfile

    from datatruth import access
    from datatruth.store import audit

    access.require(store, ws.name, user, "upload")
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=ws.data_dir))
    try:
        paths = []
        for name, data in uploads:
            path = folder / Path(name).name  # never trust a client-side path
            path.write_bytes(data)
            paths.append(path)
        if not dry_run:
            # One process may hold a DuckDB file with one configuration only: the app's read-only warehouse
            # connection must be released before this read-write load; it reopens on the next question.
            from datatruth.ask.pipeline import forget_workspace

            ws.close()
            forget_workspace(ws)
        result = load_files(ws.name, paths, ws.settings, progress=progress, confirm_types=confirm_types,
                            dry_run=dry_run)
    except UserError as err:
        # The person uploaded "sales.csv"; the server's scratch folder means nothing to them (and leaks a path).
        err.message, err.hint = _without_folder(err.message, folder), _without_folder(err.hint, folder)
        err.args = (err.message,)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = replace(result, database=Path(result.database).name, tables=tuple(
        replace(t, source=Path(t.source).name, rejected=tuple(replace(r, file=Path(r.file).name) for r in t.rejected))
        for t in result.tables))
    if not dry_run:
        audit.record(store, ws.name, user, "data.load", ", ".join(t.table for t in result.tables),
                     {"rows": sum(t.rows for t in result.tables), "rejected": result.rejected_count})
    return result
