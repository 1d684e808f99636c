"""`datatruth feedback`: mark answers right or wrong, and review what people proposed to teach a workspace."""

from __future__ import annotations

import argparse

from datatruth.cli.common import print_json, workspace_name

EPILOG = """\
Examples:
  datatruth ask -w retail "revenue by region last year"
  datatruth feedback -w retail right                 # your latest answer is right (proposes a verified question)
  datatruth feedback -w retail wrong --id 42 --comment "excludes returns"
  datatruth feedback -w retail proposals             # open proposals (admins review them)
  datatruth feedback -w retail accept 7
  datatruth feedback -w retail reject 8 --note "sales is not revenue here"
  datatruth feedback -w retail suggestions --json    # refused and wrong questions, grouped
  datatruth feedback -w retail draft                 # ask the workspace's LLM for proposals (admins)

A proposal changes only its proposer's own questions until an admin accepts it. Viewers' feedback is
recorded and changes nothing for anyone else.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `feedback` command group."""
    p = sub.add_parser(
        "feedback",
        help="mark answers right or wrong; review proposals and suggestions",
        description="Feedback on answers and the review of what it proposes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "-w",
        "--workspace",
        type=workspace_name,
        default=None,
        help="workspace name (default: DATATRUTH_DEFAULT_WORKSPACE)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    fsub = p.add_subparsers(dest="feedback_command", metavar="ACTION")
    fsub.required = True
    for kind in ("right", "wrong"):
        mark = fsub.add_parser(kind, help=f"mark an answer {kind} (default: your latest question)")
        mark.add_argument("--id", type=int, default=None, help="the question's history id")
        if kind == "wrong":
            mark.add_argument("--comment", default="", help="what is wrong with it")
        mark.set_defaults(func=_mark, kind=kind)
    listing = fsub.add_parser("proposals", help="list proposals (open ones by default)")
    listing.add_argument("--status", choices=("proposed", "accepted", "rejected", "all"), default="proposed")
    listing.set_defaults(func=_list)
    acc = fsub.add_parser("accept", help="admins: apply a proposal for everyone")
    acc.add_argument("id", type=int)
    acc.set_defaults(func=_accept)
    rej = fsub.add_parser("reject", help="admins: close a proposal without applying it")
    rej.add_argument("id", type=int)
    rej.add_argument("--note", default="", help="why")
    rej.set_defaults(func=_reject)
    sug = fsub.add_parser("suggestions", help="admins: refused and wrong questions, grouped by similarity")
    sug.add_argument("--limit", type=int, default=20, help="at most this many groups")
    sug.set_defaults(func=_suggestions)
    draft = fsub.add_parser(
        "draft",
        help="admins: ask the workspace's LLM to propose synonyms, phrasings, "
        "descriptions and verified questions (reviewed like any proposal)",
    )
    draft.set_defaults(func=_draft)


def _context(args: argparse.Namespace):  # noqa: ANN202 - (Workspace, Store, user) from cli.ask
    from datatruth.cli.ask import open_context

    return open_context(args.workspace)


def _mark(args: argparse.Namespace) -> int:
    from datatruth.teach import review

    ws, store, user = _context(args)
    entry = args.id if args.id is not None else review.last_answer(store, ws, user)
    if args.kind == "right":
        marked = review.mark_right(ws, store, user, entry)
    else:
        marked = review.mark_wrong(ws, store, user, entry, args.comment)
    if args.json:
        print_json(
            {
                "history_id": entry,
                "feedback_id": marked.feedback_id,
                "proposal": marked.proposal.id if marked.proposal else None,
            }
        )
    else:
        print(marked.message + (f" (proposal #{marked.proposal.id})" if marked.proposal else ""))
    return 0


def _list(args: argparse.Namespace) -> int:
    from datatruth.ask.pipeline import workspace_resources
    from datatruth.store import proposals
    from datatruth.teach.views import proposal_rows

    ws, store, _user = _context(args)
    items = proposals.listed(store, ws.name, status=None if args.status == "all" else args.status)
    rows = proposal_rows(items, workspace_resources(ws, store).layer)
    if args.json:
        print_json(rows)
    elif not rows:
        print("No proposals." if args.status != "proposed" else "No open proposals.")
    for r in rows if not args.json else ():
        print(f"#{r['#']:<4} {r['status']:<9} {r['kind']:<18} by {r['by']:<10} {r['proposal']}")
    return 0


def _accept(args: argparse.Namespace) -> int:
    from datatruth.teach import review

    ws, store, user = _context(args)
    done = review.accept(ws, store, user, args.id)
    print_json({"accepted": args.id, "result": done}) if args.json else print(f"accepted #{args.id}: {done}")
    return 0


def _reject(args: argparse.Namespace) -> int:
    from datatruth.teach import review

    ws, store, user = _context(args)
    review.reject(ws, store, user, args.id, args.note)
    print_json({"rejected": args.id}) if args.json else print(f"rejected #{args.id}")
    return 0


def _suggestions(args: argparse.Namespace) -> int:
    from datatruth.teach.suggestions import suggestions

    ws, store, user = _context(args)
    groups = suggestions(ws, store, user, limit=args.limit)
    if args.json:
        print_json([g.to_json() for g in groups])
        return 0
    if not groups:
        print("No refused or wrong questions.")
    for g in groups:
        print(f"{g.count:>4} × {g.question}  [{g.status}]")
        if g.failed_words:
            print("       words that failed: " + ", ".join(g.failed_words))
        for other in g.variants[1:4]:
            print(f"       also: {other}")
    return 0


def _draft(args: argparse.Namespace) -> int:
    from datatruth.teach.author import draft_proposals

    ws, store, user = _context(args)
    result = draft_proposals(ws, store, user)
    if args.json:
        print_json({"proposed": [p.id for p in result.proposed], "dropped": list(result.dropped)})
        return 0
    print(f"{len(result.proposed)} proposal(s) from the LLM, to review with `datatruth feedback proposals`")
    for reason in result.dropped:
        print(f"  dropped: {reason}")
    return 0
