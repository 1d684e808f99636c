"""`datatruth dashboards ...`: list, show, pin, export and refresh dashboards (refresh is cron-friendly)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from datatruth.cli.common import print_json, settings, workspace_name
from datatruth.errors import UserError

EXIT_ALERT = 1
EXIT_BROKEN = 2  # a workspace could not be refreshed (the others were)

EPILOG = """\
Examples:
  datatruth dashboards list -w retail
  datatruth dashboards pin -w retail "Weekly sales" "revenue by month"
  datatruth dashboards pin -w flights Operations "on time rate by carrier" --alert "on_time_rate < 75%"
  datatruth dashboards show -w retail "Weekly sales"
  datatruth dashboards export -w retail "Weekly sales" -o sales.html
  datatruth dashboards export -w retail "Weekly sales" --format csv -o exports/
  datatruth dashboards refresh                 # every workspace; for cron
  datatruth dashboards refresh -w flights --json

A dashboard is named by its name or its id. Tiles store the plan of a question, not its rows: every
show, export or refresh re-runs the plan through the compiler, the SQL guard and the result cache.

`refresh` re-runs every tile bypassing the cache and checks tile alerts. A breached alert opens (or
updates) an incident and calls the workspace webhook; a recovered one resolves it.
Exit codes of refresh: 0 all quiet, 1 an alert fired or an alert tile could not be evaluated, 2 an error
(with every workspace: a workspace whose settings are broken is skipped and named on stderr, the others
are still refreshed, and the exit code is 2).
The acting user comes from --user, else $DATATRUTH_USER, else the local user.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `dashboards` command group."""
    p = sub.add_parser(
        "dashboards",
        help="pinned answers: list, show, pin, export, refresh and alert",
        description="Dashboards of pinned answers that re-run governed, with alerts.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dsub = p.add_subparsers(dest="dashboards_command", metavar="ACTION")
    dsub.required = True

    def common(cmd: argparse.ArgumentParser, default_ws: bool = True) -> None:
        cmd.add_argument(
            "-w",
            "--workspace",
            type=workspace_name,
            default=None,
            help="workspace (default: the default workspace"
            + ("" if default_ws else "; refresh: every workspace")
            + ")",
        )
        cmd.add_argument(
            "--user", default=None, help="acting user (default: $DATATRUTH_USER or the local user)"
        )

    def sub_parser(name: str, help_text: str, example: str) -> argparse.ArgumentParser:
        return dsub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=f"Example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    lst = sub_parser(
        "list", "list the dashboards of a workspace", "datatruth dashboards list -w retail --json"
    )
    common(lst)
    lst.add_argument("--json", action="store_true", help="JSON array")
    lst.set_defaults(func=_list)

    show = sub_parser(
        "show", "run a dashboard's tiles and print them", 'datatruth dashboards show -w retail "Weekly sales"'
    )
    common(show)
    show.add_argument("dashboard", help="dashboard name or id")
    show.add_argument("--refresh", action="store_true", help="bypass the result cache")
    show.add_argument("--json", action="store_true", help="one JSON object with each tile's answer")
    show.set_defaults(func=_show)

    pin = sub_parser(
        "pin",
        "plan a question and pin it to a dashboard (created when missing)",
        'datatruth dashboards pin -w retail "Weekly sales" "revenue by month" --title Revenue',
    )
    common(pin)
    pin.add_argument("dashboard", help="dashboard name (created if missing) or id")
    pin.add_argument("question", help="the question to plan and pin")
    pin.add_argument("--title", default="", help="tile title (default: the question)")
    pin.add_argument(
        "--kind", default="auto", choices=("auto", "kpi", "chart", "table"), help="how the tile draws"
    )
    pin.add_argument(
        "--alert",
        default=None,
        metavar="RULE",
        help='alert rule such as "on_time_rate < 75%%" (a %% divides by 100)',
    )
    pin.add_argument(
        "--severity",
        default="warning",
        choices=("info", "warning", "critical"),
        help="severity of the alert's incident",
    )
    pin.set_defaults(func=_pin)

    export = sub_parser(
        "export",
        "export a dashboard to standalone HTML, or its tiles' data to CSV/Excel",
        'datatruth dashboards export -w retail "Weekly sales" -o sales.html',
    )
    common(export)
    export.add_argument("dashboard", help="dashboard name or id")
    export.add_argument(
        "--format", default="html", choices=("html", "csv", "xlsx"), help="html (default), csv, xlsx"
    )
    export.add_argument("--tile", type=int, default=None, help="only this tile id (csv/xlsx)")
    export.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file (html, or csv/xlsx with --tile) or folder (csv/xlsx for every tile)",
    )
    export.set_defaults(func=_export)

    refresh = sub_parser(
        "refresh",
        "re-run every tile (no cache) and check alerts; exit 1 when an alert fires",
        "datatruth dashboards refresh -w flights   # e.g. from cron: */30 * * * *",
    )
    common(refresh, default_ws=False)
    refresh.add_argument("--dashboard", default=None, help="only this dashboard (name or id; needs -w)")
    refresh.add_argument("--json", action="store_true", help="JSON report")
    refresh.set_defaults(func=_refresh)


def _user(args: argparse.Namespace) -> str:
    return args.user or os.environ.get("DATATRUTH_USER") or settings().local_user


def _open(name: str | None) -> tuple[Any, Any]:
    from datatruth.store import open_store
    from datatruth.store.users import seed_from_config
    from datatruth.workspace.registry import load_workspace

    s = settings()
    ws = load_workspace(name, s)
    store = open_store(settings=s)
    seed_from_config(store, ws.name, ws.config.members)
    return ws, store


def _list(args: argparse.Namespace) -> int:
    from datatruth.dashboards import service
    from datatruth.store import dashboards as repo

    ws, store = _open(args.workspace)
    boards = service.list_dashboards(store, ws.name, _user(args))
    rows = [
        {
            "id": b.id,
            "name": b.name,
            "owner": b.owner,
            "tiles": len(repo.tiles_of(store, ws.name, b.id)),
            "link": service.share_link(ws.name, b.id),
        }
        for b in boards
    ]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(
            f'No dashboards in {ws.name} yet. Pin one: datatruth dashboards pin -w {ws.name} "Sales" "revenue by month"'
        )
        return 0
    for r in rows:
        print(f"#{r['id']:<4} {r['name']:<30} {r['tiles']:>3} tile(s)  owner {r['owner']:<10} {r['link']}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from datatruth.dashboards import run, service

    ws, store = _open(args.workspace)
    user = _user(args)
    board = service.resolve(store, ws.name, args.dashboard)
    result = run.run_dashboard(ws, store, user, board.id, refresh=args.refresh)
    if args.json:
        print_json(
            {
                "id": board.id,
                "name": board.name,
                "filters": result.filters.to_dict(),
                "tiles": [_tile_json(t) for t in result.tiles],
            }
        )
        return 0
    print(f"{board.name} (#{board.id}) — {len(result.tiles)} tile(s)")
    for t in result.tiles:
        print(f"\n[{t.tile.id}] {t.tile.title}  (model {t.tile.model_version or '?'})")
        if t.answer is None:
            print(f"  {'STALE: ' if t.stale else 'error: '}{t.error}")
            if t.hint:
                print(f"  hint: {t.hint}")
            continue
        from datatruth.ask.rows import as_frame

        print("  " + as_frame(t.answer.frame).head(12).to_string(index=False).replace("\n", "\n  "))
        if t.answer.row_count > 12:
            print(f"  … {t.answer.row_count - 12} more row(s)")
        for note in t.skipped:
            print(f"  filter not applied: {note}")
        if t.tile.alert:
            print(f"  alert: {t.tile.alert['metric']} {t.tile.alert['op']} {t.tile.alert['value']}")
    return 0


def _tile_json(t: Any) -> dict[str, Any]:
    return {
        "id": t.tile.id,
        "title": t.tile.title,
        "question": t.tile.question,
        "plan": t.tile.plan,
        "model_version": t.tile.model_version,
        "stale": t.stale,
        "error": t.error or None,
        "applied_filters": list(t.applied),
        "skipped_filters": list(t.skipped),
        "alert": t.tile.alert,
        "answer": t.answer.to_json() if t.answer is not None else None,
    }


def _pin(args: argparse.Namespace) -> int:
    from datatruth.ask.pipeline import plan_only
    from datatruth.dashboards import alerts, service

    ws, store = _open(args.workspace)
    user = _user(args)
    rule = alerts.parse_rule(args.alert, args.severity) if args.alert else None
    plan, _sql = plan_only(ws, args.question, store=store)
    pinned = service.pin_answer(
        store, ws, user, args.dashboard, args.title or args.question, args.question, plan, kind=args.kind
    )
    tile = pinned.tile
    if rule is not None:
        service.set_alert(store, ws.name, user, tile.id, rule)
    if pinned.added:
        print(f"pinned tile {tile.id} to dashboard #{tile.dashboard_id}: {plan.describe()}")
    else:
        print(
            f"already pinned as tile {tile.id} ('{tile.title}') on dashboard #{tile.dashboard_id}; not added twice"
        )
    print(f"share: {service.share_link(ws.name, tile.dashboard_id, tile.id)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from datatruth.dashboards import export, service
    from datatruth.store import dashboards as repo

    ws, store = _open(args.workspace)
    user = _user(args)
    board = service.resolve(store, ws.name, args.dashboard)
    out = Path(args.output)
    if args.format == "html":
        out.write_text(export.export_dashboard_html(ws, store, user, board.id), encoding="utf-8")
        print(f"wrote {out} (standalone HTML, opens offline)")
        return 0
    tile_ids = (
        [args.tile] if args.tile is not None else [t.id for t in repo.tiles_of(store, ws.name, board.id)]
    )
    if args.tile is None:
        out.mkdir(parents=True, exist_ok=True)
    for tile_id in tile_ids:
        name, payload = export.export_tile_data(ws, store, user, tile_id, args.format)
        target = out / f"{tile_id}-{name}" if args.tile is None else out
        target.write_bytes(payload)
        print(f"wrote {target}")
    return 0


def _refresh(args: argparse.Namespace) -> int:
    from datatruth.dashboards import alerts, service
    from datatruth.workspace.registry import workspace_names

    if args.dashboard and not args.workspace:
        raise UserError(
            "--dashboard needs --workspace", "e.g. datatruth dashboards refresh -w retail --dashboard Sales"
        )
    names = [args.workspace] if args.workspace else workspace_names(settings())
    user = _user(args)
    reports = []
    broken: list[tuple[str, UserError]] = []
    for name in names:
        try:
            ws, store = _open(name)
            board_id = service.resolve(store, ws.name, args.dashboard).id if args.dashboard else None
            reports.append(alerts.refresh(store, ws, user, board_id))
        except UserError as err:
            if args.workspace:
                raise
            # One broken workspace must not stop the scheduled refresh of all the others: report it, go on.
            broken.append((name, err))
    fired = sum(len(r.fired) for r in reports)
    unevaluated = sum(len(r.unevaluated) for r in reports)
    for name, error in broken:
        issues = getattr(error, "issues", None)
        problem = issues[0] if issues else error.message
        print(f"{name}: NOT refreshed: {problem}", file=sys.stderr)
    if broken:
        exit_code = EXIT_BROKEN
    else:
        exit_code = EXIT_ALERT if fired or unevaluated else 0
    if args.json:
        print_json(
            [
                {
                    "workspace": r.workspace,
                    "tiles_refreshed": r.tiles_refreshed,
                    "alerts": [
                        {
                            "tile_id": a.tile.id,
                            "dashboard_id": a.tile.dashboard_id,
                            "rule": a.rule.describe(),
                            "value": a.check.value if a.check else None,
                            "fired": a.fired,
                            "problem": a.problem or None,
                        }
                        for a in r.alerts
                    ],
                    "incidents": {
                        "opened": list(r.incidents.opened),
                        "appended": list(r.incidents.appended),
                        "resolved": list(r.incidents.resolved),
                        "reopened": list(r.incidents.reopened),
                    },
                }
                for r in reports
            ]
            + [{"workspace": name, "error": err.message, "hint": err.hint} for name, err in broken]
        )
    else:
        for r in reports:
            print(f"{r.workspace}: refreshed {r.tiles_refreshed} tile(s), checked {len(r.alerts)} alert(s)")
            for a in r.alerts:
                print(f"  {a.describe()}")
            inc = r.incidents
            if inc.opened or inc.reopened or inc.resolved:
                print(
                    f"  incidents opened {list(inc.opened)} reopened {list(inc.reopened)} resolved {list(inc.resolved)}"
                )
    return exit_code
