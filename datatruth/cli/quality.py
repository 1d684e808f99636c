"""`datatruth quality`: run a workspace's data-quality checks, profile a table, show schema history."""

from __future__ import annotations

import argparse
import sys

from datatruth.cli.common import print_json, progress_to_stderr, settings, workspace_name

EPILOG = """\
Examples:
  datatruth quality run -w retail                 # every check; exit 1 when a critical check fails
  datatruth quality run -w retail --table orders --json
  datatruth quality profile -w flights --table planes --json
  datatruth quality validate -w retail            # check checks.yaml without running anything

Exit codes: 0 all critical checks passed, 1 a critical check failed, 2 a usage or config error.
Cron: `datatruth quality run -w retail --json > run.json || alert-the-team`
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `quality` command group."""
    p = sub.add_parser(
        "quality",
        help="data-quality checks, profiles and scores",
        description="Run the declarative checks of workspaces/<ws>/checks.yaml in the warehouse, "
        "store every metric, score six dimensions and open incidents for failures.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    qsub = p.add_subparsers(dest="quality_command", metavar="ACTION")
    qsub.required = True
    run = qsub.add_parser(
        "run",
        help="run the checks (progress on stderr)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--workspace", "-w", type=workspace_name, required=True, help="workspace name, e.g. retail"
    )
    run.add_argument("--table", "-t", default=None, help="only profile and check this table")
    run.add_argument("--json", action="store_true", help="print the run as one JSON document on stdout")
    run.set_defaults(func=_run)
    prof = qsub.add_parser("profile", help="profile one table in the warehouse (no checks, nothing stored)")
    prof.add_argument("--workspace", "-w", type=workspace_name, required=True)
    prof.add_argument("--table", "-t", required=True)
    prof.add_argument("--json", action="store_true")
    prof.set_defaults(func=_profile)
    val = qsub.add_parser(
        "validate", help="validate checks.yaml against the warehouse and report every issue"
    )
    val.add_argument("--workspace", "-w", type=workspace_name, required=True)
    val.set_defaults(func=_validate)


def _run(args: argparse.Namespace) -> int:
    from datatruth.quality.present import run_to_dict
    from datatruth.quality.runner import run_checks
    from datatruth.store import open_store
    from datatruth.workspace.registry import load_workspace

    s = settings()
    ws = load_workspace(args.workspace, s)
    run = run_checks(ws, open_store(settings=s), table=args.table, progress=progress_to_stderr)
    if args.json:
        print_json(run_to_dict(run))
    else:
        for o in run.outcomes:
            mark = {"pass": "ok  ", "fail": "FAIL", "error": "ERR "}[o.status]
            print(f"{mark} [{o.severity:8}] {o.check_name}: {o.message}")
        score = "n/a" if run.scores.score is None else f"{run.scores.score:.1f}"
        dims = ", ".join(f"{d.dimension} {d.score:.1f}" for d in run.scores.dimensions if d.score is not None)
        print(
            f"score {score} ({dims}); {len(run.failed)} of {len(run.outcomes)} checks failed; run {run.run_id}"
        )
    if run.critical_failed:
        print("a critical check failed", file=sys.stderr)
        return 1
    return 0


def _profile(args: argparse.Namespace) -> int:
    from datatruth.quality.present import profile_to_dict
    from datatruth.quality.profile import profile_table
    from datatruth.quality.runner import workspace_now
    from datatruth.quality.source import open_source
    from datatruth.workspace.registry import load_workspace

    ws = load_workspace(args.workspace, settings())
    source = open_source(ws)
    try:
        prof = profile_table(source, args.table, now=workspace_now(ws))
    finally:
        source.close()
    if args.json:
        print_json(profile_to_dict(prof))
        return 0
    print(
        f"{prof.table}: {prof.row_count:,} rows, {prof.duplicate_rows} duplicate rows, time column "
        f"{prof.time_column} (newest {prof.newest}), {prof.queries} queries in {prof.seconds:.2f} s"
    )
    for c in prof.columns:
        flag = "  LOW QUALITY" if c.low_quality else ""
        print(
            f"  {c.name:24} {c.type:16} nulls {c.null_share:6.1%} distinct {c.distinct:>10,} "
            f"min {c.min!s:>12.12} max {c.max!s:>12.12}{flag}"
        )
    return 0


def _validate(args: argparse.Namespace) -> int:
    from datatruth.quality.runner import load_suite
    from datatruth.quality.source import open_source
    from datatruth.workspace.registry import load_workspace

    ws = load_workspace(args.workspace, settings())
    source = open_source(ws)
    try:
        suite = load_suite(ws, source, source.table_names())
    finally:
        source.close()
    print(f"{suite.path}: {len(suite.checks)} checks are valid")
    return 0
