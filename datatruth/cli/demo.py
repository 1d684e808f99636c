"""`datatruth demo build`: build the shipped demo warehouses."""

from __future__ import annotations

import argparse
import sys

from datatruth.cli.common import print_json, progress_to_stderr, settings, workspace_name
from datatruth.errors import UserError
from datatruth.workspace.registry import Workspace, list_workspaces, load_config


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `demo` command group."""
    p = sub.add_parser(
        "demo",
        help="build the demo warehouses (retail, flights)",
        description="Build the DuckDB warehouses of the demo workspaces. Missing or stale ones are "
        "rebuilt; the same seed and clock always give the same data.",
        epilog="Examples:\n  datatruth demo build\n  datatruth demo build --workspace flights --force",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dsub = p.add_subparsers(dest="demo_command", metavar="ACTION")
    dsub.required = True
    build = dsub.add_parser("build", help="build demo warehouses that are missing or stale")
    build.add_argument(
        "--workspace",
        "-w",
        type=workspace_name,
        action="append",
        default=None,
        help="only this workspace (repeatable; default: every demo workspace)",
    )
    build.add_argument("--force", action="store_true", help="rebuild even when up to date")
    build.add_argument("--seed", type=int, default=None, help="random seed for the retail generator")
    build.add_argument("--json", action="store_true", help="print one JSON object per workspace")
    build.set_defaults(func=_build)


def _build(args: argparse.Namespace) -> int:
    from datatruth.demo.build import build_summary, ensure_demo

    s = settings()
    if args.workspace:
        names = args.workspace
    else:
        summaries = list_workspaces(s)
        names = [w.name for w in summaries if w.demo]
        broken = [f"{w.name}: {w.problem}" for w in summaries if not w.valid]
        # An unrelated broken workspace must not stop the demos from building; say so and go on.
        for problem in broken:
            print(f"warning: skipping invalid workspace {problem}", file=sys.stderr)
        if not names:
            hint = (
                "fix the files named above"
                if broken
                else f"expected workspaces/retail and workspaces/flights under {s.workspaces_dir}"
            )
            raise UserError("no valid demo workspaces found", hint)
    for name in names:
        config = load_config(name, s)
        if not config.demo:
            raise UserError(
                f"workspace '{name}' is not a demo workspace", "its workspace.yaml has no 'demo:' key"
            )
        result = ensure_demo(
            Workspace(config, s), force=args.force, seed=args.seed, progress=progress_to_stderr
        )
        if args.json:
            print_json(build_summary(result))
        else:
            state = f"built in {result.seconds:.1f} s" if result.built else "up to date"
            rows = ", ".join(f"{t}={n:,}" for t, n in result.tables.items())
            print(f"{name}: {state} ({rows})")
    return 0
