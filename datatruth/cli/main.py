"""Entry point of the `datatruth` CLI: parses arguments, imports only the command that runs, renders errors."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from datatruth.errors import UserError

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug, not the user's input

DESCRIPTION = """\
DataTruth: governed answers from real databases, data quality, incidents and slow-query triage.

Examples:
  datatruth workspace list --json
  datatruth demo build --workspace retail
  datatruth ask --workspace retail --json "revenue by month last year"
  datatruth guard --dialect duckdb "SELECT 1"
  datatruth slowlog analyze slow.log --limit 10
"""

# Each command lives in datatruth.cli.<name>, whose `register` adds it. The one-line help is repeated here so
# that `datatruth --help` and every other command's parse import one command module, not all thirteen (their
# imports cost ~0.6 s); tests/test_cli_main.py checks this table against the modules.
COMMANDS: dict[str, str] = {
    "ask": "answer a question in plain words (or a batch of them)",
    "audit": "show or export the audit log of a workspace",
    "dashboards": "pinned answers: list, show, pin, export, refresh and alert",
    "demo": "build the demo warehouses (retail, flights)",
    "feedback": "mark answers right or wrong; review proposals and suggestions",
    "guard": "check SQL with the read-only SQL guard",
    "incidents": "the incident board from the command line",
    "quality": "data-quality checks, profiles and scores",
    "semantic": "validate, import, version and compile the semantic model",
    "slowlog": "slow-query triage: analyze logs, fingerprint statements",
    "sql": "run one guarded SELECT against a workspace's warehouse",
    "users": "invite users, set their roles, unlock accounts",
    "workspace": "list, show and create workspaces (tenants)",
}


def build_parser(only: str | None = None, *, every: bool = True) -> argparse.ArgumentParser:
    """The top-level parser: command `only` (or, with `every`, all commands) fully registered, the rest by name."""
    parser = argparse.ArgumentParser(
        prog="datatruth", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, help_text in COMMANDS.items():
        if every or name == only:
            importlib.import_module(f"datatruth.cli.{name}").register(sub)
        else:
            # A placeholder that lists the command in --help; it never parses, since a named command is
            # always registered in full before parsing.
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The command named on a command line (its first word that is not an option), if any."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def configure_logging() -> None:
    """Structured logs on stderr at DATATRUTH_LOG_LEVEL (a bad level is a UserError like any bad setting)."""
    from datatruth import logs
    from datatruth.settings import load_settings

    logs.configure(load_settings().log_level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; a UserError becomes a message on stderr and exit code 2."""
    words = list(sys.argv[1:] if argv is None else argv)
    if argv is None:
        # A command runs once and exits. Its imports (SQLAlchemy, sqlglot, DuckDB) leave ~100,000 objects that
        # live until exit; at the default threshold (700) a one-question run collects ~270 times, frees a few
        # hundred objects and spends ~0.08 s scanning. Collections still happen, a hundred times less often.
        gc.set_threshold(100_000, 50, 100)
    try:
        return _run(words)
    finally:
        if argv is None:
            # The process is about to exit: pandas, sqlalchemy and sqlglot leave ~150,000 objects that the
            # collector would scan once more during shutdown (~0.2 s of a one-question run) only to free
            # them anyway. Frozen objects are skipped; modules are still torn down and files closed.
            gc.freeze()


def _run(words: list[str]) -> int:
    parser = build_parser(command_of(words), every=False)
    args = parser.parse_args(words)
    try:
        configure_logging()
        return int(args.func(args) or 0)
    except UserError as err:
        print(f"error: {err.message}", file=sys.stderr)
        if err.hint:
            print(f"hint: {err.hint}", file=sys.stderr)
        for issue in getattr(err, "issues", []):
            print(f"  - {issue}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; nothing left to say.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: the user gets one line, the log keeps the traceback
        if os.environ.get("DATATRUTH_DEBUG") == "1":
            raise
        logging.getLogger("datatruth.cli").exception("internal error in %s", command_of(words))
        print(f"error: internal error ({type(err).__name__}: {err})", file=sys.stderr)
        print("hint: this is a bug in DataTruth; rerun with DATATRUTH_DEBUG=1 to see where", file=sys.stderr)
        return EXIT_INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
