"""`datatruth ask`: answer plain-words questions from the command line (one, or a batch file), as text or JSON.

The JSON form is a stable contract used by scripts and by the evaluation (tests/test_eval.py):
one object per question with question, sql, plan, columns, rows, row_count, cached, elapsed_ms and
explanation; on failure error, hint and suggestions instead of rows, and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datatruth.cli.common import print_json, settings, workspace_name
from datatruth.errors import PlanningError, UserError
from datatruth.semantic.plan import QueryPlan
from datatruth.store.engine import Store

EXIT_FAILED = 2
FOLLOW_UP_MARK = "+"

EPILOG = """\
Examples:
  datatruth ask --workspace retail "revenue by month last year"
  datatruth ask -w flights --json "average departure delay by carrier in July"
  datatruth ask -w retail --batch questions.txt --json > answers.jsonl

Batch files hold one question per line; blank lines and lines starting with # are skipped. A line
starting with "+" is a follow-up of the line before it ("+ only in Texas", "+ and by channel").

JSON output (one object per question, on one line):
  {"question", "interpretation", "sql", "plan", "columns", "rows", "row_count", "cached", "elapsed_ms",
   "explanation", ...}
  interpretation is the question as understood, in words; rows are lists in column order; numbers stay
  numbers, dates are ISO text.
  On failure: {"question", "error", "hint", "suggestions", "unmatched", "interpretation" (what was understood
  so far), "choices" (questions that can be answered instead)} and exit code 2.
"""


@dataclass(frozen=True)
class Asked:
    """One answered (or failed) question: its JSON payload and, when it worked, its plan for follow-ups."""

    payload: dict[str, Any]
    plan: QueryPlan | None
    ok: bool
    answer: Any = None  # the Answer, for readable output


def open_context(workspace: str | None) -> tuple[Any, Store, str]:
    """Load the workspace and the store once, and make sure the configured members exist in the store."""
    from datatruth.store import open_store
    from datatruth.store.users import seed_from_config
    from datatruth.workspace.registry import load_workspace

    s = settings()
    ws = load_workspace(workspace, s)
    store = open_store(settings=s)
    seed_from_config(store, ws.name, ws.config.members)
    return ws, store, s.local_user


def ask_one(
    ws: Any,
    store: Store,
    user: str,
    question: str,
    previous: QueryPlan | None = None,
    refresh: bool = False,
    session_id: str = "cli",
    as_json: bool = False,
) -> Asked:
    """Ask one question and return its JSON payload (an error payload for a UserError); `as_json` when only
    the payload is shown, which lets the answer skip pandas and the chart (datatruth.ask.lean)."""
    if as_json:
        from datatruth.ask.lean import ask_rows as ask
    else:
        from datatruth.ask.pipeline import ask

    try:
        answer = ask(
            ws, question, user=user, store=store, session_id=session_id, previous=previous, refresh=refresh
        )
    except UserError as err:
        payload: dict[str, Any] = {
            "question": question,
            "error": err.message,
            "hint": err.hint,
            "suggestions": [],
            "unmatched": [],
            "interpretation": "",
            "choices": [],
        }
        if isinstance(err, PlanningError):
            payload["suggestions"], payload["unmatched"] = err.suggestions, err.unmatched
            payload["interpretation"], payload["choices"] = err.interpretation, err.choices
        return Asked(payload, None, False)
    return Asked(answer.to_json(), answer.plan, True, answer)


def batch_lines(text: str) -> list[tuple[str, bool]]:
    """(question, is_follow_up) for each non-blank, non-comment line of a batch file."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        follow = line.startswith(FOLLOW_UP_MARK)
        out.append((line[1:].strip() if follow else line, follow))
    return out


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `ask` command."""
    p = sub.add_parser(
        "ask",
        help="answer a question in plain words (or a batch of them)",
        description="Plan, compile, guard and run a question against a workspace's warehouse "
        "through its semantic layer, and show the answer with its SQL.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("question", nargs="?", help="the question, in quotes")
    p.add_argument(
        "-w",
        "--workspace",
        type=workspace_name,
        default=None,
        help="workspace name (default: DATATRUTH_DEFAULT_WORKSPACE)",
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON object per question (the stable contract)"
    )
    p.add_argument(
        "--batch", type=Path, metavar="FILE", help="read one question per line from FILE ('-' = stdin)"
    )
    p.add_argument("--refresh", action="store_true", help="ignore the result cache and run on the warehouse")
    p.set_defaults(func=_handle)


def _handle(args: argparse.Namespace) -> int:
    if bool(args.question) == bool(args.batch):
        raise UserError(
            "give either a question or --batch FILE", 'e.g. datatruth ask -w retail "revenue by month"'
        )
    if args.batch:
        source = sys.stdin.read() if str(args.batch) == "-" else _read(args.batch)
        lines = batch_lines(source)
    else:
        lines = [(args.question, False)]
    ws, store, user = open_context(args.workspace)
    failed = False
    previous: QueryPlan | None = None
    for question, follow in lines:
        asked = ask_one(
            ws, store, user, question, previous if follow else None, args.refresh, as_json=args.json
        )
        previous = asked.plan if asked.ok else None
        failed = failed or not asked.ok
        if args.json:
            print_json(asked.payload)
        else:
            _print_readable(asked, len(lines) > 1)
    return EXIT_FAILED if failed else 0


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"batch file {path} does not exist", "pass a text file with one question per line"
        ) from None


def _print_readable(asked: Asked, several: bool) -> None:
    p = asked.payload
    if several:
        print(f"\n=== {p['question']}")
    if not asked.ok:
        print(f"error: {p['error']}", file=sys.stderr)
        if p.get("hint"):
            print(f"hint: {p['hint']}", file=sys.stderr)
        if p.get("choices"):
            print("you could ask: " + " | ".join(p["choices"]), file=sys.stderr)
        elif p.get("suggestions"):
            print("did you mean: " + ", ".join(p["suggestions"]), file=sys.stderr)
        return
    if p.get("interpretation"):
        print(f"understood: {p['interpretation']}")
    print(p["explanation"])
    for insight in p.get("insights", []):
        print(f"  • {insight}")
    print()
    print_answer_table(asked.answer)
    source = "cache" if p["cached"] else "warehouse"
    truncated = " (truncated at the row cap)" if p.get("truncated") else ""
    print(f"\n{p['row_count']} row(s){truncated} from the {source} in {p['elapsed_ms']:.0f} ms")
    print(f"\nSQL:\n{p['sql']}")


def print_answer_table(answer: Any, limit: int = 40) -> None:
    """Print an answer's rows as an aligned table under their labels, numbers in their metric's format."""
    from datatruth.ask.explain import format_label, format_value

    columns = answer.columns
    shown = []
    for row in answer.frame.head(limit).itertuples(index=False, name=None):
        shown.append(
            [
                format_value(v, c.format) if c.role == "metric" else format_label(v, c)
                for v, c in zip(row, columns, strict=True)
            ]
        )
    # people read labels ("Destination airport code"); `--json` keeps the column names for programs
    widths = [max([len(c.title)] + [len(r[i]) for r in shown]) for i, c in enumerate(columns)]
    print("  ".join(c.title.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in shown:
        print(
            "  ".join(
                v.rjust(w) if c.role == "metric" else v.ljust(w)
                for v, w, c in zip(row, widths, columns, strict=True)
            )
        )
    if answer.row_count > limit:
        print(f"… {answer.row_count - limit} more row(s); use --json for all of them")
