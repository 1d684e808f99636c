"""`datatruth audit`: read or export a workspace's audit log."""

from __future__ import annotations

import argparse
import csv
import sys

from datatruth.cli.common import print_json, settings, workspace_name
from datatruth.store import audit, open_store


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `audit` command."""
    p = sub.add_parser(
        "audit",
        help="show or export the audit log of a workspace",
        description="Logins, questions (text and SQL, never result rows), model edits, incident "
        "actions, exports and admin changes.",
        epilog="Examples:\n  datatruth audit -w retail --action semantic\n"
        "  datatruth audit -w retail --csv > audit.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "-w", "--workspace", required=True, type=_scope, help="workspace name (use _global for sign-ins)"
    )
    p.add_argument("--user", default=None, help="only this user's actions")
    p.add_argument("--action", default=None, help="only actions starting with this prefix, e.g. incident")
    p.add_argument("--limit", type=int, default=200)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON array")
    fmt.add_argument("--csv", action="store_true", help="CSV on stdout")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    rows = audit.entries(
        open_store(settings=settings()),
        args.workspace,
        username=args.user,
        action=args.action,
        limit=args.limit,
    )
    records = [
        {
            "at": r.at.isoformat(timespec="seconds"),
            "user": r.username,
            "action": r.action,
            "target": r.target,
            "detail": r.detail,
        }
        for r in rows
    ]
    if args.json:
        print_json(records)
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=["at", "user", "action", "target", "detail"])
        writer.writeheader()
        writer.writerows(records)
    elif not records:
        print("No audit entries match.")
    else:
        for r in records:
            print(f"{r['at']}  {r['user']:<12} {r['action']:<24} {r['target']}")
    return 0


def _scope(value: str) -> str:
    # Sign-ins are audited under the pseudo-workspace _global; anything else must be a workspace name.
    return value if value == "_global" else workspace_name(value)
