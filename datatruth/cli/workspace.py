"""`datatruth workspace ...`: list, show, create (from a URL, a dbt project or a draft) and load files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from datatruth.cli.common import print_json, progress_to_stderr, settings, workspace_name
from datatruth.errors import UserError
from datatruth.workspace.registry import create_workspace, list_workspaces, load_config

EPILOG = """\
Examples:
  datatruth workspace list --json
  datatruth workspace show retail
  datatruth workspace create sales --warehouse 'postgresql+psycopg://analyst:${PGPASSWORD}@db/sales'
  datatruth workspace create sales --warehouse 'postgresql+psycopg://analyst:${PGPASSWORD}@db/sales' --draft-model
  datatruth workspace create acme --from-dbt dbt/models --load-csv dbt/seeds --ref-map ref_map.yaml
  datatruth workspace load mydata sales.csv targets.xlsx --dry-run
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `workspace` command group."""
    p = sub.add_parser(
        "workspace",
        help="list, show and create workspaces (tenants)",
        description="Workspaces are tenants: each has its own warehouse, semantic model, limits and members.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    wsub = p.add_subparsers(dest="workspace_command", metavar="ACTION")
    wsub.required = True

    lst = wsub.add_parser("list", help="list every workspace")
    lst.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    lst.set_defaults(func=_list)

    show = wsub.add_parser("show", help="show one workspace's settings (secrets masked)")
    show.add_argument("name", type=workspace_name)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=_show)

    create = wsub.add_parser(
        "create",
        help="create a workspace from a warehouse URL",
        description="Write workspaces/NAME/workspace.yaml. Put secrets in the environment and "
        "refer to them as ${VAR} in the URL.",
    )
    create.add_argument("name", type=workspace_name)
    create.add_argument(
        "--warehouse",
        default="",
        metavar="URL",
        help="SQLAlchemy URL of the warehouse (default: an embedded DuckDB file in the data dir)",
    )
    create.add_argument("--title", default="", help="human-readable title")
    create.add_argument("--replace", action="store_true", help="overwrite an existing workspace.yaml")
    create.add_argument(
        "--from-dbt",
        default=None,
        metavar="DIR",
        help="import the dbt MetricFlow semantic models under DIR (needs --load-csv)",
    )
    create.add_argument(
        "--load-csv",
        default=None,
        metavar="DATA_DIR",
        help="with --from-dbt: load every DATA_DIR/<File>.csv as table <file> into a new DuckDB",
    )
    create.add_argument(
        "--ref-map",
        default=None,
        metavar="FILE",
        help="with --from-dbt: YAML mapping dbt ref() names to table names where they differ",
    )
    create.add_argument(
        "--draft-model",
        action="store_true",
        help="draft a semantic model from the warehouse's tables, keys and types, write it next "
        "to workspace.yaml and validate it",
    )
    create.set_defaults(func=_create)

    load = wsub.add_parser(
        "load",
        help="load CSV, Excel, Parquet or JSON files into a workspace's DuckDB",
        description="Each file becomes a table named after it (lower-cased). Types are "
        "inferred; rows that cannot be read are listed with their line numbers, "
        "never dropped silently. Use --dry-run to see the types first and --type "
        "to correct them. A load is all or nothing: an existing table is replaced only "
        "with --replace, a table that would come out empty is refused without "
        "--allow-empty, and when anything is refused no table changes. Every sheet of "
        "a workbook becomes a table. Exit code: 0 loaded, 1 loaded but some rows were "
        "rejected (listed), 2 nothing loaded.",
        epilog="Examples:\n  datatruth workspace load mydata sales.csv --dry-run\n"
        "  datatruth workspace load mydata sales.csv --type sales.zip=VARCHAR\n"
        "  datatruth workspace load mydata sales.csv --replace",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    load.add_argument("name", type=workspace_name)
    load.add_argument("files", nargs="+", metavar="FILE")
    load.add_argument(
        "--dry-run", action="store_true", help="only infer types and find bad rows; load nothing"
    )
    load.add_argument(
        "--type",
        action="append",
        default=[],
        metavar="TABLE.COLUMN=TYPE",
        help="confirm or correct a column type, e.g. sales.zip=VARCHAR (repeatable)",
    )
    load.add_argument("--replace", action="store_true", help="replace tables that already exist")
    load.add_argument("--allow-empty", action="store_true", help="allow a table to be loaded with no rows")
    load.add_argument("--json", action="store_true", help="print a JSON report")
    load.set_defaults(func=_load)


def _list(args: argparse.Namespace) -> int:
    rows = list_workspaces(settings())
    if args.json:
        print_json(
            [
                {
                    "name": r.name,
                    "title": r.title,
                    "warehouse": r.warehouse,
                    "demo": r.demo,
                    "valid": r.valid,
                    "problem": r.problem,
                }
                for r in rows
            ]
        )
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
    from datatruth.logs import scrub

    cfg = load_config(args.name, settings())
    info = {
        "name": cfg.name,
        "title": cfg.title,
        "description": cfg.description.strip(),
        "warehouse": str(scrub(cfg.warehouse_url)),
        "demo": cfg.demo,
        "semantic_models": [str(p) for p in cfg.semantic_models],
        "checks": str(cfg.checks_file) if cfg.checks_file else None,
        "llm": {
            "provider": cfg.llm.provider,
            "model": cfg.llm.model,
            "base_url": scrub(cfg.llm.base_url),
            "api_key_env": cfg.llm.api_key_env,
        },
        "limits": {
            "row_cap": cfg.limits.row_cap,
            "timeout_s": cfg.limits.timeout_s,
            "questions_per_user_per_hour": cfg.limits.questions_per_user_per_hour,
            "cache_ttl_s": cfg.limits.cache_ttl_s,
        },
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
    if args.from_dbt:
        return _create_from_dbt(args)
    if args.load_csv or args.ref_map:
        raise UserError("--load-csv and --ref-map go with --from-dbt", "add --from-dbt DIR, or drop them")
    path = create_workspace(
        args.name, warehouse_url=args.warehouse, title=args.title, settings=settings(), replace=args.replace
    )
    print(f"created {path}")
    if args.draft_model:
        return _draft(args, path)
    return 0


def _create_from_dbt(args: argparse.Namespace) -> int:
    from datatruth.semantic.dbt import build_from_dbt, import_report

    if not args.load_csv:
        raise UserError("--from-dbt needs --load-csv DATA_DIR", "name the folder holding the seed CSV files")
    if args.warehouse or args.draft_model:
        raise UserError(
            "--from-dbt builds its own DuckDB warehouse and model", "drop --warehouse and --draft-model"
        )
    built = build_from_dbt(
        args.name,
        Path(args.from_dbt),
        Path(args.load_csv),
        args.ref_map,
        args.replace,
        settings(),
        progress=progress_to_stderr,
    )
    print(f"created {built.path}")
    for line in import_report(built.result):
        print(line)
    print(
        f"loaded {len(built.load.tables)} table(s) into {built.load.database}; "
        f"{built.load.rejected_count} row(s) rejected"
    )
    for table in built.load.tables:
        for row in table.rejected:
            print(f"  rejected {row}")
    for change in built.type_changes:
        print(f"typed: {change}")
    return _validate_report(args.name)


def _draft(args: argparse.Namespace, path: Path) -> int:
    from datatruth.semantic.draft import draft_model

    cfg = load_config(args.name, settings())
    draft = draft_model(cfg.warehouse_url)
    folder = path.parent / "semantic_models"
    folder.mkdir(exist_ok=True)
    target = folder / "draft.yaml"
    target.write_text(draft.text, encoding="utf-8")
    create_workspace(
        args.name,
        warehouse_url=args.warehouse,
        title=args.title,
        settings=settings(),
        replace=True,
        semantic_models=["semantic_models"],
    )
    print(f"drafted {target} from {len(draft.tables)} table(s); review it before use")
    for note in draft.notes:
        print(f"note: {note}")
    return _validate_report(args.name)


def _validate_report(name: str) -> int:
    from datatruth.semantic.validate import validate_workspace
    from datatruth.workspace.registry import load_workspace

    ws = load_workspace(name, settings())
    try:
        issues = validate_workspace(ws)
    finally:
        ws.close()
    if issues:
        print(f"the model has {len(issues)} issue(s):")
        for issue in issues:
            print(f"  {issue}")
        return 1
    print("the model is valid")
    return 0


def _parse_types(items: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for item in items:
        target, _, kind = item.partition("=")
        table, _, column = target.partition(".")
        if not (table and column and kind):
            raise UserError(f"--type {item!r} must read TABLE.COLUMN=TYPE", "e.g. --type sales.zip=VARCHAR")
        out.setdefault(table.lower(), {})[column.lower()] = kind
    return out


def _load(args: argparse.Namespace) -> int:
    from datatruth.workspace.load_files import load_files

    report = load_files(
        args.name,
        args.files,
        settings(),
        progress=progress_to_stderr,
        confirm_types=_parse_types(args.type),
        dry_run=args.dry_run,
        replace=args.replace,
        allow_empty=args.allow_empty,
    )
    # Rejected rows are a partial load: scripts must be able to tell (exit 1), the list says which rows.
    status = 1 if report.rejected_count and not report.dry_run else 0
    if args.json:
        print_json(
            {
                "workspace": report.workspace,
                "database": report.database,
                "dry_run": report.dry_run,
                "notes": list(report.notes),
                "tables": [
                    {
                        "table": t.table,
                        "source": t.source,
                        "sheet": t.sheet,
                        "rows": t.rows,
                        "replaces": t.replaces,
                        "encoding": t.encoding,
                        "types": t.types(),
                        "rejected": [
                            {"line": r.line, "column": r.column, "error": r.error, "text": r.text}
                            for r in t.rejected
                        ],
                    }
                    for t in report.tables
                ],
            }
        )
        return status
    verb = "would load" if report.dry_run else "loaded"
    for t in report.tables:
        sheet = f" [sheet {t.sheet}]" if t.sheet else ""
        action = (
            (" (would replace the existing table)" if report.dry_run else " (replaced the existing table)")
            if t.replaces
            else ""
        )
        print(
            f"{verb} {t.source}{sheet} → table {t.table}: {t.rows:,} rows, {len(t.rejected)} rejected{action}"
        )
        for col in t.columns:
            print(f"    {col.name:<30} {col.type}")
        for row in t.rejected:
            print(f"  rejected {row}")
    for note in report.notes:
        print(f"note: {note}")
    if report.dry_run:
        print(
            "nothing was loaded; correct types with --type TABLE.COLUMN=TYPE and run again without --dry-run"
        )
    elif status:
        print(f"{report.rejected_count} row(s) were rejected and not loaded (listed above)", file=sys.stderr)
    return status
