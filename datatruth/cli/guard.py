"""`datatruth guard`: check SQL with the read-only guard, one statement or a JSON-lines batch."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from datatruth.cli.common import print_json, workspace_name
from datatruth.errors import UserError
from datatruth.sql.denylist import DIALECTS
from datatruth.sql.guard import check_sql

EXIT_ALLOWED = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2

EPILOG = """\
Examples:
  datatruth guard --dialect duckdb "SELECT region, SUM(amount) FROM orders GROUP BY 1"
  datatruth guard --dialect postgres --json "SELECT pg_read_file('/etc/passwd')"
  datatruth guard --workspace retail "SELECT * FROM customers"      # also checks the tables
  datatruth guard --dialect mysql --row-cap 100 "SELECT * FROM orders"  # show the capped SQL
  datatruth guard --dialect duckdb --batch cases.jsonl > verdicts.jsonl
  echo '{"sql": "SELECT 1", "dialect": "sqlite"}' | datatruth guard --dialect duckdb --batch -

What is checked: exactly one read-only query (SELECT, WITH or VALUES); no DML/DDL anywhere (also not
inside a CTE); no file, network, sleep, lock, settings or dynamic-SQL functions; no executable comments
or optimizer hints; no text whose meaning depends on server settings. Without --workspace only
statements and functions are checked (and references to other schemas refused); with --workspace every
table must be one the workspace exposes.

Batch mode reads one JSON object per line, {"sql": "...", "dialect": "..."} ("dialect" is optional and
overrides --dialect), and writes one {"allowed": true|false, "reason": ...} per line, in order, flushed
after each line. Blank lines are skipped.

Exit codes: 0 allowed (or batch done), 1 rejected (single statement), 2 usage error or a bad batch line.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `guard` command."""
    p = sub.add_parser(
        "guard",
        help="check SQL with the read-only SQL guard",
        description="Decide whether SQL may run: one read-only query over allowed tables.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("sql", nargs="?", default=None, help="the SQL in quotes, or '-' to read it from stdin")
    p.add_argument(
        "--dialect",
        choices=DIALECTS,
        default=None,
        help="SQL dialect of the warehouse (default with --workspace: the workspace's warehouse)",
    )
    p.add_argument(
        "-w",
        "--workspace",
        type=workspace_name,
        default=None,
        help="only allow the tables this workspace exposes (also sets the dialect and row cap)",
    )
    p.add_argument(
        "--row-cap", type=int, default=None, help="apply LIMIT N to the outermost query in the shown SQL"
    )
    p.add_argument("--json", action="store_true", help="print the verdict as one JSON object")
    p.add_argument(
        "--batch",
        metavar="FILE",
        default=None,
        help="check a JSON-lines file ('-' for stdin) and print one verdict per line",
    )
    p.set_defaults(func=_handle)


def _workspace_scope(name: str) -> tuple[frozenset[str], str, int]:
    """Allowed tables, dialect and row cap of a workspace."""
    from sqlalchemy.engine import make_url

    from datatruth.warehouse.engine import DIALECT_OF_DRIVER
    from datatruth.workspace.registry import load_workspace

    ws = load_workspace(name)
    try:
        tables = ws.exposed_tables()
        dialect = DIALECT_OF_DRIVER.get(make_url(ws.config.warehouse_url).get_backend_name(), "")
        return tables, dialect, ws.config.limits.row_cap
    finally:
        ws.close()


def _handle(args: argparse.Namespace) -> int:
    # sqlglot logs a warning for every statement it falls back on; the verdict already says why.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    if (args.sql is None) == (args.batch is None):
        raise UserError("give either one SQL statement or --batch FILE", "see `datatruth guard --help`")
    if args.row_cap is not None and args.row_cap < 1:
        raise UserError(f"--row-cap must be 1 or more, got {args.row_cap}", "pass a positive number")
    allowed_tables: frozenset[str] | None = None
    dialect, row_cap = args.dialect, args.row_cap
    if args.workspace:
        allowed_tables, ws_dialect, ws_cap = _workspace_scope(args.workspace)
        dialect = dialect or ws_dialect
        row_cap = row_cap if row_cap is not None else ws_cap
    if dialect not in DIALECTS:
        raise UserError("--dialect is required without --workspace", f"use one of: {', '.join(DIALECTS)}")
    if args.batch is not None:
        return _batch(args.batch, dialect, allowed_tables, row_cap)
    text = sys.stdin.read() if args.sql == "-" else args.sql
    verdict = check_sql(text, dialect, allowed_tables, row_cap)
    if args.json:
        print_json(
            {
                "allowed": verdict.allowed,
                "reason": verdict.reason,
                "sql": verdict.sql,
                "tables": list(verdict.tables),
                "dialect": dialect,
            }
        )
    elif verdict.allowed:
        print("allowed")
        print(verdict.sql)
    else:
        print(f"rejected: {verdict.reason}")
    return EXIT_ALLOWED if verdict.allowed else EXIT_REJECTED


def _lines(path: str) -> Iterable[str]:
    if path == "-":
        yield from sys.stdin
        return
    file = Path(path)
    if not file.is_file():
        raise UserError(f"batch file {path} does not exist", "pass a JSON-lines file or '-' for stdin")
    with file.open(encoding="utf-8") as handle:
        yield from handle


def _batch_line(
    line: str, number: int, dialect: str, allowed_tables: frozenset[str] | None, row_cap: int | None
) -> tuple[dict, bool]:
    """The verdict for one batch line, and whether the line itself was well-formed."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as err:
        return {"allowed": False, "reason": f"line {number}: not JSON ({err.msg})"}, False
    if not isinstance(item, dict) or not isinstance(item.get("sql"), str):
        return {"allowed": False, "reason": f'line {number}: expected an object with a string "sql"'}, False
    line_dialect = item.get("dialect") or dialect
    if line_dialect not in DIALECTS:
        return {"allowed": False, "reason": f"line {number}: unknown dialect {line_dialect!r}"}, False
    verdict = check_sql(item["sql"], line_dialect, allowed_tables, row_cap)
    return {"allowed": verdict.allowed, "reason": verdict.reason}, True


def _batch(
    path: str,
    dialect: str,
    allowed_tables: frozenset[str] | None,
    row_cap: int | None,
    out: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    all_valid = True
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        verdict, valid = _batch_line(line, number, dialect, allowed_tables, row_cap)
        all_valid = all_valid and valid
        out.write(json.dumps(verdict) + "\n")
        out.flush()
    if not all_valid:
        print("error: some batch lines were not valid; their verdicts say which", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_ALLOWED
