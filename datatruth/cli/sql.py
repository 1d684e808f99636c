"""`datatruth sql`: run one guarded, audited SELECT against a workspace's warehouse (analysts and admins)."""

from __future__ import annotations

import argparse
import sys

from datatruth.cli.common import print_json, workspace_name
from datatruth.errors import UserError

EPILOG = """\
Examples:
  datatruth sql -w retail "SELECT region, COUNT(*) FROM customers GROUP BY region"
  datatruth sql -w flights --json "SELECT carrier, AVG(dep_delay) FROM flights GROUP BY 1"
  echo "SELECT 1" | datatruth sql -w retail -

The SQL goes through the same guard as every generated query: exactly one read-only SELECT over the
workspace's exposed tables, no file/network/admin functions, and the workspace row cap.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `sql` command."""
    p = sub.add_parser(
        "sql",
        help="run one guarded SELECT against a workspace's warehouse",
        description="Run your own SQL through the guard, the result cache and the audit log.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("sql", help="the statement in quotes, or '-' to read it from stdin")
    p.add_argument(
        "-w",
        "--workspace",
        type=workspace_name,
        default=None,
        help="workspace name (default: DATATRUTH_DEFAULT_WORKSPACE)",
    )
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--refresh", action="store_true", help="ignore the result cache")
    p.set_defaults(func=_handle)


def _handle(args: argparse.Namespace) -> int:
    from datatruth.ask.pipeline import run_sql
    from datatruth.cli.ask import open_context, print_answer_table

    text = sys.stdin.read() if args.sql == "-" else args.sql
    if not text.strip():
        raise UserError("no SQL given", "pass a SELECT statement in quotes")
    ws, store, user = open_context(args.workspace)
    answer = run_sql(ws, text, user=user, store=store, refresh=args.refresh)
    payload = answer.to_json()
    if args.json:
        print_json(payload)
        return 0
    print_answer_table(answer)
    source = "cache" if answer.cached else "warehouse"
    print(f"\n{answer.row_count} row(s) from the {source} in {answer.elapsed_ms:.0f} ms")
    return 0
