"""`datatruth workspace ...`: list, show and create workspaces."""

from __future__ import annotations

import argparse

from datatruth.cli.common import print_json, settings
from datatruth.workspace.registry import create_workspace, list_workspaces, load_config

EPILOG = """\
Examples:
  datatruth workspace list --json
  datatruth workspace show retail
  datatruth workspace create sales --warehouse 'postgresql+psycopg://analyst:${PGPASSWORD}@db/sales'
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `workspace` command group."""
    p = sub.add_parser("workspace", help="list, show and create workspaces (tenants)",
                       description="Workspaces are tenants: each has its own warehouse, semantic model, limits and members.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    wsub = p.add_subparsers(dest="workspace_command", metavar="ACTION")
    wsub.required = True

    lst = wsub.add_parser("list", help="list every workspace")
    lst.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    lst.set_defaults(func=_list)

    show = wsub.add_parser("show", help="show one workspace's settings (secrets masked)")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=_show)

    create = wsub.add_parser("create", help="create a workspace from a warehouse URL",
                             description="Write workspaces/NAME/workspace.yaml. Put secrets in the environment and "
                                         "refer to them as ${VAR} in the URL.")
    create.add_argument("name")
    create.add_argument("--warehouse", default="", metavar="URL",
                        help="SQLAlchemy URL of the warehouse (default: an embedded DuckDB file in the data dir)")
    create.add_argument("--title", default="", help="human-readable title")
    create.add_argument("--replace", action="store_true", help="overwrite an existing workspace.yaml")
    create.set_defaults(func=_create)


def _list(args: argparse.Namespace) -> int:
    rows = list_workspaces(settings())
    if args.json:
        print_json([{"name": r.name, "title": r.title, "warehouse": r.warehouse, "demo": r.demo, "valid": r.valid,
                     "problem": r.problem} for r in rows])
        return 0
    if not rows:
        print("No workspaces yet. Create one with `datatruth workspace create NAME --warehouse URL`.")
        return 0
    width = max(len(r.name) for r in rows)
    for r in rows:
        status = "" if r.valid else f"  INVALID: {r.problem}"
        print(f"{r.name:<{width}}  {r.title}  [{r.warehouse}]{status}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from datatruth.workspace.registry import _safe_url

    cfg = load_config(args.name, settings())
    info = {
        "name": cfg.name, "title": cfg.title, "description": cfg.description.strip(),
        "warehouse": _safe_url(cfg.warehouse_url), "demo": cfg.demo,
        "semantic_models": [str(p) for p in cfg.semantic_models],
        "checks": str(cfg.checks_file) if cfg.checks_file else None,
        "llm": {"provider": cfg.llm.provider, "model": cfg.llm.model, "base_url": cfg.llm.base_url,
                "api_key_env": cfg.llm.api_key_env},
        "limits": {"row_cap": cfg.limits.row_cap, "timeout_s": cfg.limits.timeout_s,
                   "questions_per_user_per_hour": cfg.limits.questions_per_user_per_hour,
                   "cache_ttl_s": cfg.limits.cache_ttl_s},
        "clock": cfg.clock.isoformat() if cfg.clock else "today",
        "members": [{"user": m.user, "role": m.role, "incident_role": m.incident_role} for m in cfg.members],
    }
    if args.json:
        print_json(info)
        return 0
    for key, value in info.items():
        print(f"{key:>16}: {value}")
    return 0


def _create(args: argparse.Namespace) -> int:
    path = create_workspace(args.name, warehouse_url=args.warehouse, title=args.title, settings=settings(),
                            replace=args.replace)
    print(f"created {path}")
    return 0
