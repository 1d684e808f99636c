"""Entry point of the `datatruth` CLI: builds the parser from every command module and renders errors."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from datatruth.errors import UserError

EXIT_USER_ERROR = 2

DESCRIPTION = """\
DataTruth: governed answers from real databases, data quality, incidents and slow-query triage.

Examples:
  datatruth workspace list --json
  datatruth demo build --workspace retail
  datatruth ask --workspace retail --json "revenue by month last year"
  datatruth guard --dialect duckdb "SELECT 1"
  datatruth slowlog analyze slow.log --limit 10
"""


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser; every module in datatruth.cli with a `register` adds its commands."""
    parser = argparse.ArgumentParser(
        prog="datatruth", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    package = importlib.import_module("datatruth.cli")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name in ("main", "common") or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"datatruth.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def configure_logging() -> None:
    """Structured logs on stderr at DATATRUTH_LOG_LEVEL (a bad level is a UserError like any bad setting)."""
    from datatruth import logs
    from datatruth.settings import load_settings

    logs.configure(load_settings().log_level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; a UserError becomes a message on stderr and exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
