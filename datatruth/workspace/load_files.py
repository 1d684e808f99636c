"""Bring your own files: load CSV, Excel, Parquet or JSON into a workspace's DuckDB, reporting every bad row.

Loading is a list of named stages per file (check → read → type → stage → report), then one swap for all
files. Types are inferred and returned so a person can confirm or correct them (`dry_run=True` first, then
`confirm_types=`); rows that cannot be read are never silently dropped: each one comes back with its line
number.

A load never destroys data: every file is first built into a staging table; only when all of them are built,
and none came out empty (unless `allow_empty`), do they replace their tables, together, in one transaction.
A table that already exists is replaced only with `replace=True`. Every sheet of a workbook becomes a table.
Text files are read in the encoding they were saved in (UTF-8, UTF-16/32 with or without a byte-order mark,
or what charset-normalizer recognises); symbolic links and anything but regular files are refused. A load
gives the workspace a new data version and clears its result cache, so no answer is served from old data.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import os
import re
import shutil
import stat
import tempfile
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb
import pandas as pd
import sqlalchemy as sa

from datatruth.errors import NotFound, UserError
from datatruth.settings import Settings, load_settings
from datatruth.workspace.registry import STAGING_PREFIX

if TYPE_CHECKING:
    from datatruth.store.engine import Store
    from datatruth.workspace.registry import Workspace

Progress = Callable[[float, str], None]
_T = TypeVar("_T")
FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "excel",
    ".xls": "excel",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
_NAME_CLEAN = re.compile(r"[^a-z0-9_]+")
_STAGE_PREFIX = STAGING_PREFIX  # staging tables; leftovers of a killed load are dropped by the next load
_SNIFF_BYTES = 65_536
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
    replaces: bool = False  # a table of this name existed (and was, or in a dry run would be, replaced)
    sheet: str | None = None  # the workbook sheet this table came from
    encoding: str = ""  # the text encoding the file was read in (CSV, JSON)

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
    notes: tuple[str, ...] = ()

    @property
    def rejected_count(self) -> int:
        """Rows that were not loaded, over all files."""
        return sum(len(t.rejected) for t in self.tables)

    def table(self, name: str) -> LoadedTable:
        """The result for one table (NotFound otherwise)."""
        for t in self.tables:
            if t.table == name:
                return t
        raise NotFound(
            f"no table '{name}' in this load", f"tables: {', '.join(t.table for t in self.tables)}"
        )


class _NoColumns(Exception):
    """A sheet or JSON file with nothing in it: there is no table to build."""

    def __init__(self, rejected: list[RejectedRow] | None = None) -> None:
        super().__init__("no columns")
        self.rejected = rejected or []


class LoadRefused(UserError):
    """Nothing was loaded (every table was left as it was); `issues` says why, one line each."""

    def __init__(self, message: str, hint: str, issues: list[str]) -> None:
        super().__init__(message, hint)
        self.issues = issues


@dataclass(frozen=True)
class _Source:
    """A file (or one sheet of a workbook) ready to load: where it is, its format and the table it becomes."""

    path: Path
    format: str
    table: str
    sheet: str | None = None
    skip_if_empty: bool = False  # an empty sheet of a workbook with several sheets is skipped, not loaded
    encoding: str = ""


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
        raise UserError(
            f"this workspace's warehouse is not a DuckDB file ({parsed.get_backend_name()})",
            "files can only be loaded into a workspace whose warehouse is an embedded DuckDB file",
        )
    return Path(parsed.database)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# -- stages ------------------------------------------------------------------------------------------------


def _check(files: Iterable[str | Path], settings: Settings) -> list[_Source]:
    """Stage 1: every file is a regular file (no link) of a known format within the size limit; names don't collide."""
    sources: list[_Source] = []
    problems: list[str] = []
    for entry in files:
        path = Path(entry)
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            problems.append(f"{path}: file not found")
            continue
        except OSError as err:
            problems.append(f"{path}: cannot be read ({err.strerror})")
            continue
        if stat.S_ISLNK(info.st_mode):
            problems.append(f"{path}: is a symbolic link; links are not followed, name the file itself")
            continue
        if not stat.S_ISREG(info.st_mode):
            problems.append(f"{path}: is not a regular file")
            continue
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            problems.append(f"{path}: unknown format '{path.suffix}' (use .csv, .xlsx, .parquet or .json)")
            continue
        size_mb = info.st_size / 1_000_000
        if size_mb > settings.upload_max_mb:
            problems.append(f"{path}: {size_mb:.1f} MB is over the {settings.upload_max_mb} MB limit")
            continue
        try:
            if fmt == "excel":
                sources += _sheet_sources(path)
            elif fmt in ("csv", "json"):
                sources.append(_Source(path, fmt, table_name_for(path), encoding=detect_encoding(path)))
            else:
                sources.append(_Source(path, fmt, table_name_for(path)))
        except UserError as err:
            problems.append(f"{path}: {err.message}")
    seen: dict[str, Path] = {}
    for src in sources:
        if src.table in seen:
            problems.append(f"{src.path} and {seen[src.table]} would both become table '{src.table}'")
        seen[src.table] = src.path
    if problems:
        raise UserError(
            "some files cannot be loaded: " + "; ".join(problems),
            "fix or leave out the files named (DATATRUTH_UPLOAD_MAX_MB raises the size limit; rename "
            "files whose tables would collide); nothing was loaded",
        )
    if not sources:
        raise UserError("no files to load", "name at least one .csv, .xlsx, .parquet or .json file")
    return sources


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(path: Path) -> str:
    """The text encoding of a file: from its byte-order mark, else UTF-8 when it decodes, else a guess."""
    with open(path, "rb") as handle:
        sample = handle.read(_SNIFF_BYTES)
    for bom, name in _BOMS:  # UTF-32 first: its little-endian mark begins with UTF-16's
        if sample.startswith(bom):
            return name
    if b"\x00" in sample:
        # UTF-16 without a mark: ASCII text has a zero byte in every other position.
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if max(even, odd) > len(sample) // 4:
            return "utf-16-le" if odd > even else "utf-16-be"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as err:
        if err.start >= len(sample) - 3 and len(sample) == _SNIFF_BYTES:
            return "utf-8"  # the sample cut a character in two
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise UserError("is not text in any encoding we recognise", "save it as UTF-8 (CSV UTF-8 in Excel)")
    return best.encoding


def _sheet_sources(path: Path) -> list[_Source]:
    """One source per sheet of a workbook (a workbook with one sheet keeps the file's table name)."""
    names = _excel_call(path, lambda: pd.ExcelFile(path).sheet_names)
    if not names:
        raise UserError("has no sheets", "save a workbook with at least one sheet")
    base = table_name_for(path)
    if len(names) == 1:
        return [_Source(path, "excel", base, sheet=names[0])]
    return [
        _Source(path, "excel", f"{base}_{column_name_for(name)}", sheet=name, skip_if_empty=True)
        for name in names
    ]


def _excel_call(path: Path, read: Callable[[], _T]) -> _T:
    """Run a workbook read; an unreadable workbook becomes a UserError instead of a library traceback."""
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return read()
    except ImportError:
        raise UserError(
            f"{path.name}: reading {path.suffix} workbooks needs a package that is not installed",
            "save the workbook as .xlsx",
        ) from None
    except (zipfile.BadZipFile, InvalidFileException, ValueError, KeyError, OSError, EOFError) as err:
        raise UserError(
            f"is not a readable Excel workbook ({type(err).__name__}: {str(err)[:120]})",
            "open it in Excel or LibreOffice and save it again as .xlsx",
        ) from None


def _read_relation(
    con: duckdb.DuckDBPyConnection, src: _Source, index: int, types: Mapping[str, str], text_path: Path
) -> tuple[str, list[RejectedRow]]:
    """Stage 2: a SQL relation reading the file (CSV/Parquet natively; Excel/JSON through a pandas pass)."""
    if src.format == "csv":
        options = [
            "store_rejects=true",
            f"rejects_table='dt_rejects_{index}'",
            f"rejects_scan='dt_scan_{index}'",
        ]
        if types:
            pairs = ", ".join(f"{_sql_text(k)}: {_sql_text(v)}" for k, v in types.items())
            options.append(f"types={{{pairs}}}")
        return f"read_csv({_sql_text(str(text_path))}, {', '.join(options)})", []
    if src.format == "parquet":
        return f"read_parquet({_sql_text(str(src.path))})", []
    if src.format == "excel":
        frame = _excel_call(src.path, lambda: pd.read_excel(src.path, sheet_name=src.sheet))
        if not len(frame.columns):
            raise _NoColumns()
        rejected: list[RejectedRow] = []
    else:
        frame, rejected = _read_json(src.path, src.encoding)
        if not len(frame.columns):
            raise _NoColumns(rejected)
    # Mixed-type object columns would make DuckDB guess; text keeps every value as written.
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].map(
                lambda v: (
                    None
                    if v is None or (isinstance(v, float) and pd.isna(v))
                    else (
                        v
                        if isinstance(v, str)
                        else json.dumps(v, default=str)
                        if isinstance(v, dict | list)
                        else str(v)
                    )
                )
            )
    view = f"dt_frame_{index}"
    con.register(view, frame)
    return view, rejected


def _read_json(path: Path, encoding: str = "utf-8") -> tuple[pd.DataFrame, list[RejectedRow]]:
    """A JSON array or JSON-lines file as a frame; unreadable lines are reported, not dropped silently."""
    try:
        text = path.read_text(encoding=encoding or "utf-8")
    except UnicodeDecodeError as err:
        raise UserError(
            f"{path.name} is not valid {encoding} text (byte {err.start})", "save the file as UTF-8"
        ) from None
    stripped = text.lstrip().lstrip("\ufeff")
    if stripped.startswith("["):
        try:
            records = json.loads(stripped)
        except json.JSONDecodeError as err:
            raise UserError(
                f"{path.name} is not valid JSON (line {err.lineno}: {err.msg})",
                "fix the file, or save it as JSON lines so that one bad record does not stop the load",
            ) from None
        except RecursionError:
            raise UserError(
                f"{path.name} nests arrays or objects too deeply to be a table",
                "a record's values may nest a few levels at most; flatten the file",
            ) from None
        rows = [r for r in records if isinstance(r, dict)]
        rejected = [
            RejectedRow(str(path), None, None, f"record {i + 1} is not an object", json.dumps(r)[:200])
            for i, r in enumerate(records)
            if not isinstance(r, dict)
        ]
        return pd.DataFrame(rows), rejected
    rows = []
    rejected = []
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            rejected.append(RejectedRow(str(path), number, None, f"invalid JSON: {err.msg}", line[:200]))
            continue
        except RecursionError:
            rejected.append(RejectedRow(str(path), number, None, "nested too deeply", line[:200]))
            continue
        if not isinstance(value, dict):
            rejected.append(RejectedRow(str(path), number, None, "line is not a JSON object", line))
            continue
        rows.append(value)
    return pd.DataFrame(rows), rejected


def _typed_select(
    con: duckdb.DuckDBPyConnection, relation: str, confirmed: Mapping[str, str], cast: bool
) -> tuple[str, list[ColumnType]]:
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
    rows = con.execute(
        f"SELECT line, column_name, error_type, error_message, csv_line FROM dt_rejects_{index} "
        "ORDER BY line, column_idx"
    ).fetchall()
    by_line: dict[int | None, list[tuple]] = {}
    for r in rows:
        by_line.setdefault(int(r[0]) if r[0] is not None else None, []).append(r)
    out = []
    for line, errors in by_line.items():
        columns = ", ".join(dict.fromkeys(str(e[1]) for e in errors if e[1]))
        message = "; ".join(dict.fromkeys(f"{e[2]}: {e[3]}" for e in errors))
        out.append(RejectedRow(str(src.path), line, columns or None, message, errors[0][4] or ""))
    return out


def _execute_with_progress(
    con: duckdb.DuckDBPyConnection, sql: str, tick: Callable[[float], None] | None
) -> None:
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


def _load_one(
    con: duckdb.DuckDBPyConnection,
    src: _Source,
    index: int,
    confirmed: Mapping[str, str],
    target: str,
    temp: bool,
    text_path: Path,
    tick: Callable[[float], None] | None = None,
) -> LoadedTable:
    """Stages 2-5 for one file: read, type and write it into `target` (a staging or temporary table)."""
    csv_types: dict[str, str] = {}
    if src.format == "csv" and confirmed:
        # read_csv takes types by the file's own header names; map the clean names back.
        header = con.execute(
            f"DESCRIBE SELECT * FROM read_csv({_sql_text(str(text_path))}, ignore_errors=true)"
        ).fetchall()
        back = {column_name_for(str(r[0])): str(r[0]) for r in header}
        csv_types = {back[k]: v for k, v in confirmed.items() if k in back}
    try:
        try:
            relation, rejected = _read_relation(con, src, index, csv_types, text_path)
        except _NoColumns as empty:
            return LoadedTable(
                src.table,
                str(src.path),
                src.format,
                0,
                (),
                tuple(empty.rejected),
                sheet=src.sheet,
                encoding=src.encoding,
            )
        select, columns = _typed_select(con, relation, confirmed, cast=src.format != "csv")
        unknown = sorted(set(confirmed) - {c.name for c in columns})
        if unknown:
            raise UserError(
                f"{src.path.name} has no column {', '.join(unknown)}",
                f"its columns are {', '.join(c.name for c in columns)}",
            )
        kind = "TEMP TABLE" if temp else "TABLE"
        big = src.path.stat().st_size >= PROGRESS_MIN_BYTES
        _execute_with_progress(
            con, f"CREATE OR REPLACE {kind} {_quote(target)} AS {select}", tick if big else None
        )
        count = con.execute(f"SELECT COUNT(*) FROM {_quote(target)}").fetchall()[0][0]
        actual = con.execute(f"DESCRIBE {_quote(target)}").fetchall()
    except (
        duckdb.ConversionException,
        duckdb.InvalidInputException,
        duckdb.BinderException,
        duckdb.ParserException,
        duckdb.CatalogException,
    ) as err:
        raise UserError(
            f"{src.path.name} could not be loaded: {str(err).splitlines()[0]}",
            "check the file's format, or confirm different column types",
        ) from None
    except RecursionError:
        raise UserError(
            f"{src.path.name} nests values too deeply to be a table",
            "a record's values may nest a few levels at most; flatten the file",
        ) from None
    finally:
        if src.format in ("excel", "json"):
            con.unregister(f"dt_frame_{index}")
    if src.format == "csv":
        rejected = rejected + _csv_rejects(con, src, index)
    by_name = {c.name: c.source_name for c in columns}
    typed = tuple(ColumnType(str(r[0]), str(r[1]), by_name.get(str(r[0]), str(r[0]))) for r in actual)
    return LoadedTable(
        src.table,
        str(src.path),
        src.format,
        int(count),
        typed,
        tuple(rejected),
        sheet=src.sheet,
        encoding=src.encoding,
    )


def normalise_type(text: str) -> str:
    """A column type as DuckDB SQL, parsed by sqlglot (UserError for anything that is not a type)."""
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        parsed = exp.DataType.build(text, dialect="duckdb")
    except (SqlglotError, ValueError):
        parsed = None
    if (
        not isinstance(parsed, exp.DataType)
        or not isinstance(parsed.this, exp.DataType.Type)
        or parsed.this == exp.DataType.Type.USERDEFINED
    ):
        raise UserError(
            f"'{text}' is not a column type",
            "use a DuckDB type such as VARCHAR, BIGINT, DOUBLE, DECIMAL(10,2), DATE or TIMESTAMP",
        )
    return parsed.sql("duckdb")


def _checked_types(
    confirm_types: Mapping[str, Mapping[str, str]], sources: Sequence[_Source]
) -> dict[str, dict[str, str]]:
    """Confirmed types name tables of this load and real types; anything else is refused, not ignored."""
    tables = {s.table for s in sources}
    problems = [
        f"--type names table '{t}', which this load does not create" for t in confirm_types if t not in tables
    ]
    out: dict[str, dict[str, str]] = {}
    probe = duckdb.connect(":memory:")
    try:
        for table, columns in confirm_types.items():
            for column, kind in columns.items():
                try:
                    sql = normalise_type(kind)
                    probe.execute(f"SELECT CAST(NULL AS {sql})").fetchall()
                except UserError as err:
                    problems.append(f"{table}.{column}: {err.message}")
                    continue
                except duckdb.Error:
                    problems.append(f"{table}.{column}: DuckDB has no type '{kind}'")
                    continue
                out.setdefault(table, {})[column] = sql
    finally:
        probe.close()
    if problems:
        raise UserError(
            "some --type corrections cannot be used: " + "; ".join(problems),
            f"tables in this load: {', '.join(sorted(tables))}; types are DuckDB's (VARCHAR, BIGINT, "
            "DOUBLE, DECIMAL(10,2), DATE, TIMESTAMP, …)",
        )
    return out


def _existing_tables(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return {str(r[0]).lower(): str(r[1]) for r in rows}


def _tables_for_preview(database: Path, notes: list[str]) -> dict[str, str]:
    """For a dry run: the tables the warehouse has now, so the preview can say which ones would be replaced."""
    if not database.exists():
        return {}
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error:
        # This process may already hold the file with another configuration (the app's warehouse).
        notes.append("could not look at the warehouse's current tables; a load may need replace")
        return {}
    try:
        return _existing_tables(con)
    finally:
        con.close()


def _transcoded(src: _Source, folder: Path) -> Path:
    """The path DuckDB reads: the file itself, or a UTF-8 copy when it was saved in another encoding."""
    if src.format != "csv" or src.encoding.replace("_", "-").lower() in ("utf-8", "utf-8-sig", "ascii"):
        return src.path
    target = folder / f"{uuid.uuid4().hex}.csv"
    try:
        with (
            open(src.path, encoding=src.encoding, newline="") as reader,
            open(target, "w", encoding="utf-8", newline="") as writer,
        ):
            shutil.copyfileobj(reader, writer, 1 << 20)
    except UnicodeDecodeError as err:
        raise UserError(
            f"{src.path.name} is not valid {src.encoding} text (byte {err.start} of a block)",
            "save the file as UTF-8 (CSV UTF-8 in Excel)",
        ) from None
    return target


def load_files(  # noqa: C901 - the load's stages in order, in one transaction
    ws_name: str,
    files: Iterable[str | Path],
    settings: Settings | None = None,
    progress: Progress | None = None,
    confirm_types: Mapping[str, Mapping[str, str]] | None = None,
    dry_run: bool = False,
    replace: bool = False,
    allow_empty: bool = False,
    known_tables: Iterable[str] | None = None,
) -> LoadReport:
    """Load files into the workspace's DuckDB (one table per file or sheet), all or nothing.

    `replace` lets a file replace a table of the same name; `allow_empty` lets a table come out with no rows;
    `dry_run` only infers types and finds bad rows (`known_tables`: the warehouse's tables, when the caller
    already holds it open). LoadRefused (nothing changed) when a rule is broken.
    """
    from datatruth.workspace.registry import load_config

    settings = settings or load_settings()
    config = load_config(ws_name, settings)
    database = duckdb_path_of(config.warehouse_url)
    sources = _check(files, settings)
    confirmed = _checked_types(confirm_types or {}, sources)
    report = progress or (lambda _f, _m: None)
    database.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".load-", dir=database.parent))
    try:
        con = duckdb.connect(":memory:" if dry_run else str(database))
    except duckdb.IOException as err:
        shutil.rmtree(scratch, ignore_errors=True)
        raise UserError(
            f"the warehouse file is busy: {str(err).splitlines()[0][:200]}",
            "another process is writing to it; wait for it to finish and load again",
        ) from None
    run = uuid.uuid4().hex[:8]
    staged: dict[str, str] = {}  # table → its staging table, until swapped in
    tables: list[LoadedTable] = []
    notes: list[str] = []
    swapped = False
    try:
        if not dry_run:
            existing = _existing_tables(con)
        elif known_tables is not None:
            existing = {t.lower(): "BASE TABLE" for t in known_tables}
        else:
            existing = _tables_for_preview(database, notes)
        if not dry_run:
            _drop_leftover_stages(con, existing)
        clashes = [s.table for s in sources if s.table in existing]
        if clashes and not replace and not dry_run:
            raise LoadRefused(
                f"table(s) {', '.join(clashes)} already exist in this workspace; nothing was loaded",
                "pass --replace to replace them (in the app: tick 'Replace existing tables'), or "
                "rename the files",
                [f"{t}: exists" for t in clashes],
            )
        views = [t for t in clashes if existing[t] != "BASE TABLE"]
        if views:
            raise LoadRefused(
                f"{', '.join(views)} are views, not tables; nothing was loaded",
                "rename the files so that their tables get other names",
                [],
            )
        share = 1 / len(sources)
        for i, src in enumerate(sources):
            report(
                i / len(sources),
                f"reading {src.path.name}{_sheet_label(src)} ({src.format}) into table {src.table}",
            )
            target = f"dt_dry_{i}" if dry_run else f"{_STAGE_PREFIX}{run}_{i}"
            if not dry_run:
                staged[src.table] = target
            loaded = _load_one(
                con,
                src,
                i,
                confirmed.get(src.table, {}),
                target,
                dry_run,
                _transcoded(src, scratch),
                # the defaults bind this iteration's i and src, which the checker cannot type
                lambda done, i=i, src=src: report(
                    (i + done) * share,  # type: ignore[misc]
                    f"reading {src.path.name}: {done:.0%}",
                ),
            )
            if loaded.rows == 0 and src.skip_if_empty:
                notes.append(f"sheet '{src.sheet}' of {src.path.name} is empty and was skipped")
                _drop(con, staged.pop(src.table, None))
                report((i + 1) / len(sources), f"{src.table}: empty sheet skipped")
                continue
            if not loaded.columns:
                raise LoadRefused(
                    f"{src.path.name}{_sheet_label(src)} holds no data (no columns); nothing was loaded",
                    "check that you picked the right file",
                    [str(r) for r in loaded.rejected[:20]],
                )
            tables.append(replace_flag(loaded, src.table in existing))
            report(
                (i + 1) / len(sources), f"{src.table}: {loaded.rows:,} rows, {len(loaded.rejected)} rejected"
            )
        empty = [t for t in tables if t.rows == 0]
        if empty and not allow_empty:
            issue = [
                f"{t.table} ← {Path(t.source).name}{_sheet_label_of(t)}: 0 rows, {len(t.rejected)} rejected"
                + (f" (first: {t.rejected[0]})" if t.rejected else "")
                for t in empty
            ]
            if not dry_run:
                raise LoadRefused(
                    f"{len(empty)} table(s) would have no rows; nothing was loaded and every table "
                    "was left as it was",
                    "fix the rejected rows (see --dry-run), correct the types with --type, or pass "
                    "--allow-empty to load an empty table",
                    issue,
                )
            notes += [f"{line} — would be refused without --allow-empty" for line in issue]
        if not dry_run:
            _swap(con, staged)
            swapped = True
    finally:
        if not swapped:
            for stage in staged.values():
                _drop(con, stage)
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    if not dry_run:
        _data_changed(settings, ws_name, config.limits.cache_ttl_s)
    return LoadReport(ws_name, str(database), tuple(tables), dry_run, tuple(notes))


def replace_flag(loaded: LoadedTable, exists: bool) -> LoadedTable:
    """The same outcome, marked as replacing an existing table."""
    from dataclasses import replace as with_fields

    return with_fields(loaded, replaces=exists)


def _sheet_label(src: _Source) -> str:
    return f" [sheet {src.sheet}]" if src.sheet is not None and src.skip_if_empty else ""


def _sheet_label_of(table: LoadedTable) -> str:
    return f" [sheet {table.sheet}]" if table.sheet is not None else ""


def _drop(con: duckdb.DuckDBPyConnection, table: str | None) -> None:
    if table is not None:
        con.execute(f"DROP TABLE IF EXISTS {_quote(table)}")


def _drop_leftover_stages(con: duckdb.DuckDBPyConnection, existing: dict[str, str]) -> None:
    # A load killed half-way leaves its staging tables behind; only one process can write the file, so any
    # staging table seen here belongs to no running load.
    for name in [n for n in existing if n.startswith(_STAGE_PREFIX)]:
        _drop(con, name)
        del existing[name]


def _swap(con: duckdb.DuckDBPyConnection, staged: Mapping[str, str]) -> None:
    """Put every staging table in place of its table in one transaction: all of them, or none."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table, stage in staged.items():
            con.execute(f"DROP TABLE IF EXISTS {_quote(table)}")
            con.execute(f"ALTER TABLE {_quote(stage)} RENAME TO {_quote(table)}")
        con.execute("COMMIT")
    except duckdb.Error:
        con.execute("ROLLBACK")
        raise


def _data_changed(settings: Settings, ws_name: str, ttl_s: int) -> None:
    """A load changed the warehouse: new data version (old cache keys can never match) and an empty cache."""
    from datatruth.ask.cache import cache_for
    from datatruth.warehouse import dataversion

    data_dir = settings.workspace_data_dir(ws_name)
    dataversion.bump(data_dir)
    cache_for(data_dir, ttl_s).clear()


def load_directory_csvs(
    ws_name: str, data_dir: Path, settings: Settings | None = None, progress: Progress | None = None
) -> LoadReport:
    """Load every `*.csv` of a folder (one table per file, lower-cased name)."""
    files = (
        sorted(p for p in Path(data_dir).iterdir() if p.suffix.lower() == ".csv" and p.is_file())
        if Path(data_dir).is_dir()
        else []
    )
    if not files:
        raise UserError(
            f"no CSV files in {data_dir}", "point --load-csv at the folder holding the seed CSV files"
        )
    # Seeds build a new warehouse (a re-import starts from an empty file): a header-only seed is a real,
    # empty table there, not a table about to lose its rows.
    return load_files(ws_name, files, settings, progress=progress, allow_empty=True)


def _without_folder(text: str, folder: Path) -> str:
    """`text` naming uploaded files by their names only, never by the server folder they were saved in."""
    return text.replace(f"{folder}{os.sep}", "").replace(str(folder), "the upload")


def load_uploads(
    ws: Workspace,
    uploads: Sequence[tuple[str, bytes]],
    *,
    user: str,
    store: Store,
    progress: Progress | None = None,
    confirm_types: Mapping[str, Mapping[str, str]] | None = None,
    dry_run: bool = False,
    replace: bool = False,
    allow_empty: bool = False,
) -> LoadReport:
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
            from datatruth import resources

            ws.close()
            resources.invalidate(ws.name)
        known = ws.exposed_tables() if dry_run else None
        result = load_files(
            ws.name,
            paths,
            ws.settings,
            progress=progress,
            confirm_types=confirm_types,
            dry_run=dry_run,
            replace=replace,
            allow_empty=allow_empty,
            known_tables=known,
        )
    except UserError as err:
        # The person uploaded "sales.csv"; the server's scratch folder means nothing to them (and leaks a path).
        err.message, err.hint = _without_folder(err.message, folder), _without_folder(err.hint, folder)
        err.args = (err.message,)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # (`replace` here is the caller's "replace existing tables" flag, hence dataclasses.replace in full.)
    result = dataclasses.replace(
        result,
        database=Path(result.database).name,
        tables=tuple(
            dataclasses.replace(
                t,
                source=Path(t.source).name,
                rejected=tuple(dataclasses.replace(r, file=Path(r.file).name) for r in t.rejected),
            )
            for t in result.tables
        ),
    )
    if not dry_run:
        audit.record(
            store,
            ws.name,
            user,
            "data.load",
            ", ".join(t.table for t in result.tables),
            {"rows": sum(t.rows for t in result.tables), "rejected": result.rejected_count},
        )
    return result
