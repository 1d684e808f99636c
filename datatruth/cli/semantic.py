"""`datatruth semantic ...`: validate, import from dbt, show history and diffs, compile a metric to SQL."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from datatruth.cli.common import print_json, settings, workspace_name
from datatruth.errors import UserError

if TYPE_CHECKING:
    from datatruth.workspace.registry import Workspace

EPILOG = """\
Examples:
  datatruth semantic validate -w retail
  datatruth semantic validate -w retail --json
  datatruth semantic import-dbt ../dbt/models --out review/ --ref-map ref_map.yaml
  datatruth semantic history -w retail
  datatruth semantic diff -w retail 1 2
  datatruth semantic compile -w retail --metric revenue --by metric_time:month --by customer__region
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `semantic` command group."""
    p = sub.add_parser(
        "semantic",
        help="validate, import, version and compile the semantic model",
        description="The semantic model says what the business numbers are and how tables join. "
        "These commands check it, import it from dbt MetricFlow, show its versions "
        "and show the SQL a metric compiles to.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ssub = p.add_subparsers(dest="semantic_command", metavar="ACTION")
    ssub.required = True

    val = ssub.add_parser(
        "validate",
        help="list every issue of a workspace's model (exit 1 when any)",
        description="Load the model files and check them against the warehouse. Every issue is "
        "listed with file:line; the exit code is 1 when there is any.",
    )
    _workspace_arg(val)
    val.add_argument("--json", action="store_true", help="print a JSON array of issues")
    val.set_defaults(func=_validate)

    imp = ssub.add_parser(
        "import-dbt",
        help="convert dbt MetricFlow YAML into DataTruth model files",
        description="Read every YAML file under DIR that declares semantic_models or metrics and "
        "write the converted files to --out for review. Notes list whatever could "
        "not be carried over.",
        epilog="Example:\n  datatruth semantic import-dbt models/ --out imported/ --ref-map ref_map.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("dir", metavar="DIR", help="folder with the dbt semantic model YAML")
    imp.add_argument(
        "--out",
        default="dbt_import",
        metavar="DIR",
        help="where to write the converted files (default: ./dbt_import)",
    )
    imp.add_argument(
        "--ref-map",
        default=None,
        metavar="FILE",
        help="YAML mapping of dbt ref() names to table names, where they differ",
    )
    imp.add_argument(
        "--dialect",
        default="snowflake",
        help="SQL dialect the dbt expressions are written in (default: snowflake)",
    )
    imp.add_argument("--json", action="store_true", help="print a JSON summary")
    imp.set_defaults(func=_import_dbt)

    hist = ssub.add_parser("history", help="list the saved versions of a workspace's model")
    _workspace_arg(hist)
    hist.add_argument("--json", action="store_true", help="print JSON")
    hist.set_defaults(func=_history)

    dif = ssub.add_parser(
        "diff",
        help="show what changed between two versions",
        epilog="Example:\n  datatruth semantic diff -w retail 3 4",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _workspace_arg(dif)
    dif.add_argument("v1", type=int, help="older version number")
    dif.add_argument("v2", type=int, help="newer version number")
    dif.set_defaults(func=_diff)

    comp = ssub.add_parser(
        "compile",
        help="print the SQL a metric compiles to",
        description="Compile one metric (optionally by dimensions) to SQL without running it.",
        epilog="Examples:\n  datatruth semantic compile -w retail --metric revenue\n"
        "  datatruth semantic compile -w retail --metric revenue --by metric_time:month "
        "--dialect postgres",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _workspace_arg(comp)
    comp.add_argument("--metric", required=True, action="append", help="metric name (repeatable)")
    comp.add_argument(
        "--by",
        action="append",
        default=[],
        metavar="DIM[:grain]",
        help="group by a qualified dimension or metric_time, with a grain for time (repeatable)",
    )
    comp.add_argument("--dialect", default=None, help="duckdb, postgres or mysql (default: the warehouse's)")
    comp.set_defaults(func=_compile)


def _workspace_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-w",
        "--workspace",
        type=workspace_name,
        default=None,
        metavar="NAME",
        help="workspace name (default: DATATRUTH_DEFAULT_WORKSPACE)",
    )


def _workspace(args: argparse.Namespace) -> Workspace:
    from datatruth.workspace.registry import load_workspace

    return load_workspace(args.workspace, settings())


def _validate(args: argparse.Namespace) -> int:
    from datatruth.semantic.validate import validate_workspace

    ws = _workspace(args)
    issues = validate_workspace(ws)
    if args.json:
        print_json([{"file": i.file, "line": i.line, "message": i.message, "hint": i.hint} for i in issues])
    elif issues:
        print(f"{len(issues)} issue(s) in the semantic model of '{ws.name}':")
        for issue in issues:
            print(f"  {issue}")
    else:
        print(f"the semantic model of '{ws.name}' is valid")
    return 1 if issues else 0


def _import_dbt(args: argparse.Namespace) -> int:
    from datatruth.semantic.dbt import import_dbt, import_report, write_import

    result = import_dbt(Path(args.dir), args.ref_map, dialect=args.dialect)
    written = write_import(result, Path(args.out))
    if args.json:
        print_json(
            {
                "files": [str(p) for p in written],
                "metrics": list(result.metric_names()),
                "tables": list(result.tables),
                "notes": [str(n) for n in result.notes],
            }
        )
        return 0
    for line in import_report(result):
        print(line)
    print(f"wrote {len(written)} file(s) to {args.out}")
    return 0


def _history(args: argparse.Namespace) -> int:
    from datatruth.semantic.versions import history
    from datatruth.store import open_store

    ws = _workspace(args)
    versions = history(open_store(settings=ws.settings), ws)
    if args.json:
        print_json(
            [
                {
                    "version": v.version,
                    "author": v.author,
                    "message": v.message,
                    "files": sorted(v.files),
                    "checksum": v.checksum,
                    "created_at": v.created_at,
                }
                for v in versions
            ]
        )
        return 0
    for v in versions:
        print(
            f"v{v.version:<4} {v.created_at:%Y-%m-%d %H:%M}  {v.author:<12} {v.message}  ({len(v.files)} files)"
        )
    return 0


def _diff(args: argparse.Namespace) -> int:
    from datatruth.semantic.versions import diff
    from datatruth.store import open_store

    ws = _workspace(args)
    text = diff(open_store(settings=ws.settings), ws, args.v1, args.v2)
    print(text if text else f"versions {args.v1} and {args.v2} are identical", end="" if text else "\n")
    return 0


def parse_by(text: str) -> tuple[str, str | None]:
    """Split `DIM[:grain]` into the dimension and its grain."""
    name, _, grain = text.partition(":")
    if not name:
        raise UserError(
            f"'--by {text}' names no dimension", "write e.g. --by customer__region or --by metric_time:month"
        )
    return name, grain or None


def _compile(args: argparse.Namespace) -> int:
    from datatruth.semantic.compiler import compile_plan
    from datatruth.semantic.model import load_semantic_model
    from datatruth.semantic.plan import DimensionRef, QueryPlan

    ws = _workspace(args)
    layer = load_semantic_model(ws.config.semantic_models)
    dims = tuple(DimensionRef(*parse_by(b)) for b in args.by)
    for metric in args.metric:
        layer.metric(metric)  # NotFound with the nearest names
    dialect = args.dialect or ws.warehouse.dialect
    compiled = compile_plan(QueryPlan(metrics=tuple(args.metric), dimensions=dims), layer, dialect)
    print(compiled.sql)
    return 0
