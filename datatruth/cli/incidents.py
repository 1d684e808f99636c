"""`datatruth incidents ...`: list, show, acknowledge, resolve, assign and comment on incidents."""

from __future__ import annotations

import argparse
import os

from datatruth.cli.common import print_json, settings, workspace_name
from datatruth.incidents import service
from datatruth.store import incidents as repo
from datatruth.store import open_store
from datatruth.store.users import seed_from_config
from datatruth.workspace.registry import load_config

EPILOG = """\
Examples:
  datatruth incidents list -w retail --status open
  datatruth incidents show 3 -w retail
  datatruth incidents ack 3 -w retail --comment "re-running the loader"
  datatruth incidents assign 3 ana -w retail
  datatruth incidents resolve 3 -w retail --comment "backfilled"
  datatruth incidents outcome 4 false_positive -w retail
The acting user comes from --user, else $DATATRUTH_USER, else the local user.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `incidents` command group."""
    p = sub.add_parser(
        "incidents",
        help="the incident board from the command line",
        description="Failed checks, schema breaks, slow queries and alerts as owned incidents.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    isub = p.add_subparsers(dest="incidents_command", metavar="ACTION")
    isub.required = True

    def common(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument(
            "-w",
            "--workspace",
            type=workspace_name,
            default=None,
            help="workspace (default: the default workspace)",
        )
        cmd.add_argument(
            "--user", default=None, help="acting user (default: $DATATRUTH_USER or the local user)"
        )

    lst = isub.add_parser("list", help="list incidents")
    common(lst)
    lst.add_argument("--status", default=None, choices=(*repo.STATUSES, "active"), help="only this status")
    lst.add_argument("--severity", default=None, choices=service.SEVERITY_ORDER)
    lst.add_argument("--json", action="store_true", help="JSON array")
    lst.set_defaults(func=_list)

    show = isub.add_parser("show", help="one incident with its timeline")
    common(show)
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show)

    ack = isub.add_parser("ack", help="acknowledge (a comment is required)")
    common(ack)
    ack.add_argument("id", type=int)
    ack.add_argument("--comment", required=True, help="what you are doing about it")
    ack.set_defaults(func=_ack)

    res = isub.add_parser("resolve", help="resolve by hand")
    common(res)
    res.add_argument("id", type=int)
    res.add_argument("--comment", default="")
    res.set_defaults(func=_resolve)

    asg = isub.add_parser("assign", help="give the incident an owner")
    common(asg)
    asg.add_argument("id", type=int)
    asg.add_argument("owner")
    asg.set_defaults(func=_assign)

    com = isub.add_parser("comment", help="add a comment")
    common(com)
    com.add_argument("id", type=int)
    com.add_argument("text")
    com.set_defaults(func=_comment)

    out = isub.add_parser("outcome", help="close as expected, false_positive or wont_fix")
    common(out)
    out.add_argument("id", type=int)
    out.add_argument("outcome", choices=service.OUTCOMES)
    out.add_argument("--comment", default="")
    out.set_defaults(func=_outcome)


def _ctx(args: argparse.Namespace):
    s = settings()
    name = args.workspace or s.default_workspace
    config = load_config(name, s)
    store = open_store(settings=s)
    seed_from_config(store, name, config.members)
    user = args.user or os.environ.get("DATATRUTH_USER") or s.local_user
    return store, name, user


def _as_dict(i: repo.Incident) -> dict:
    return {
        "id": i.id,
        "title": i.title,
        "severity": i.severity,
        "status": i.status,
        "table": i.table_name,
        "owner": i.owner,
        "occurrences": i.occurrences,
        "source": i.source,
        "opened_at": i.opened_at,
        "acknowledged_at": i.acknowledged_at,
        "resolved_at": i.resolved_at,
        "updated_at": i.updated_at,
    }


def _list(args: argparse.Namespace) -> int:
    store, name, _ = _ctx(args)
    items = repo.search(store, name, status=args.status, severity=args.severity)
    if args.json:
        print_json([_as_dict(i) for i in items])
        return 0
    if not items:
        print("No incidents match. Run `datatruth quality run -w WORKSPACE` to check the data.")
        return 0
    for i in items:
        print(f"#{i.id:<4} {i.status:<13} {i.severity:<8} x{i.occurrences:<3} {i.owner or '-':<10} {i.title}")
    return 0


def _show(args: argparse.Namespace) -> int:
    store, name, _ = _ctx(args)
    inc = repo.get(store, name, args.id)
    timeline = repo.events(store, name, args.id)
    if args.json:
        print_json(
            {
                **_as_dict(inc),
                "detail": inc.detail,
                "timeline": [
                    {"at": e.at, "kind": e.kind, "user": e.username, "comment": e.comment, "detail": e.detail}
                    for e in timeline
                ],
            }
        )
        return 0
    for key, value in _as_dict(inc).items():
        print(f"{key:>16}: {value}")
    print("timeline:")
    for e in timeline:
        print(f"  {e.at:%Y-%m-%d %H:%M:%S}  {e.kind:<16} {e.username or '':<10} {e.comment or ''}")
    return 0


def _ack(args: argparse.Namespace) -> int:
    store, name, user = _ctx(args)
    inc = service.acknowledge(store, name, args.id, user, args.comment)
    print(f"#{inc.id} acknowledged by {user}")
    return 0


def _resolve(args: argparse.Namespace) -> int:
    store, name, user = _ctx(args)
    inc = service.resolve(store, name, args.id, user, args.comment)
    print(f"#{inc.id} resolved by {user}")
    return 0


def _assign(args: argparse.Namespace) -> int:
    store, name, user = _ctx(args)
    inc = service.assign(store, name, args.id, args.owner, user)
    print(f"#{inc.id} assigned to {inc.owner}")
    return 0


def _comment(args: argparse.Namespace) -> int:
    store, name, user = _ctx(args)
    service.add_comment(store, name, args.id, user, args.text)
    print(f"comment added to #{args.id}")
    return 0


def _outcome(args: argparse.Namespace) -> int:
    store, name, user = _ctx(args)
    inc = service.set_outcome(store, name, args.id, args.outcome, user, args.comment)
    print(f"#{inc.id} closed as {inc.status}")
    return 0
