"""`datatruth slowlog ...`: analyze slow-query logs, fingerprint statements, collect from live servers."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from datatruth.errors import UserError
from datatruth.slowlog.events import ParseProblem, ParseReport, SlowEvent

if TYPE_CHECKING:
    from datatruth.slowlog.aggregate import Aggregator

EXIT_NOTHING_READ = 2
_SNIFF_BYTES = 65536

ANALYZE_EPILOG = """\
Examples:
  datatruth slowlog analyze /var/log/mysql/mysql-slow.log
  datatruth slowlog analyze slow.log.gz --limit 20 --order-by count
  datatruth slowlog analyze postgresql.log --format postgres --json > report.json

The report ranks query classes (statements that differ only in literals) by total
time, like pt-query-digest: an overall summary, a profile table (Rank, Query ID,
Response time, Calls, R/Call, V/M, Item) and a detail block per class. Query IDs are
pt-query-digest's, so they can be compared with pt's reports. Samples are redacted.
A truncated or partly unreadable log is reported as far as it could be read; the
problems go to stderr and the exit code is 0 (2 when nothing could be read).
"""

FINGERPRINT_EPILOG = """\
Examples:
  datatruth slowlog fingerprint "SELECT * FROM t WHERE id IN (1, 2, 3)"
      -> select * from t where id in(?+)
  datatruth slowlog fingerprint --style sqlglot --dialect postgres "SELECT * FROM t WHERE a = 'x'"
  datatruth slowlog fingerprint --style pg "SELECT a # b FROM t WHERE x = 1"
  datatruth slowlog fingerprint --batch queries.jsonl > fingerprints.jsonl

--style pt (default) gives pt-fingerprint's text and the Query ID pt-query-digest shows;
--style pg classes a PostgreSQL statement the way `analyze` does for PostgreSQL logs;
--style sqlglot normalises through the sqlglot parse tree (falls back to pt when the
statement does not parse). --batch reads JSON lines {"sql": ...} and writes one
{"fingerprint": ..., "query_id": ...} line per input line, in order.
"""

COLLECT_EPILOG = """\
Examples:
  datatruth slowlog collect --url postgresql+psycopg://postgres@127.0.0.1:5432/test
  datatruth slowlog collect --url mysql+pymysql://root@127.0.0.1:3306/test --json

Reads slow statements from a live server (pg_stat_statements, performance_schema)
and prints the same report as `analyze`.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `slowlog` command group (analyze, fingerprint, collect)."""
    group = subparsers.add_parser(
        "slowlog",
        help="slow-query triage: analyze logs, fingerprint statements",
        description="Slow-query triage: rank query classes in MySQL/PostgreSQL slow logs, fingerprint statements.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Examples:\n  datatruth slowlog analyze slow.log\n  datatruth slowlog fingerprint "SELECT 1"\n',
    )
    sub = group.add_subparsers(dest="slowlog_command", metavar="SUBCOMMAND")
    sub.required = True

    analyze = sub.add_parser(
        "analyze",
        help="rank query classes in a slow log (pt-query-digest-like report)",
        description="Rank the query classes of a slow-query log by total time and report them.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=ANALYZE_EPILOG,
    )
    analyze.add_argument("file", help="slow log file (plain, .gz, .bz2 or .xz)")
    analyze.add_argument(
        "--format",
        choices=("auto", "mysql", "postgres"),
        default="auto",
        help="log format (default: detect from the content)",
    )
    analyze.add_argument("--json", action="store_true", help="print the report as one JSON document")
    analyze.add_argument(
        "--limit", type=_positive_int, default=10, help="how many classes to show in detail (default: 10)"
    )
    analyze.add_argument(
        "--order-by",
        choices=("total", "count", "p95"),
        default="total",
        help="rank classes by total time, number of calls or 95th percentile time",
    )
    analyze.add_argument(
        "--raw-samples",
        action="store_true",
        help="show sample statements with their literals (personal data is still masked)",
    )
    analyze.add_argument(
        "--jobs",
        type=_positive_int,
        default=None,
        help="processes for large plain MySQL logs (default: one per free CPU, i.e. the CPUs "
        "available minus the 1-minute load, at least 1, at most 8; 1 = a single pass)",
    )
    analyze.set_defaults(func=_analyze)

    fingerprint = sub.add_parser(
        "fingerprint",
        help="print the fingerprint and Query ID of a statement",
        description="Normalise a statement into its query class and print the class's Query ID.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=FINGERPRINT_EPILOG,
    )
    fingerprint.add_argument("sql", nargs="?", help="the SQL statement (omit with --batch)")
    fingerprint.add_argument(
        "--style",
        choices=("pt", "pg", "sqlglot"),
        default="pt",
        help="pt (pt-fingerprint compatible, default), pg (PostgreSQL's lexer: '#' is an "
        "operator) or sqlglot (AST based)",
    )
    fingerprint.add_argument(
        "--dialect", default="mysql", help="sqlglot dialect for --style sqlglot (default: mysql)"
    )
    fingerprint.add_argument("--json", action="store_true", help="print {fingerprint, query_id} as JSON")
    fingerprint.add_argument(
        "--batch", metavar="FILE", help="JSON lines with {\"sql\": ...}; '-' reads stdin"
    )
    fingerprint.set_defaults(func=_fingerprint)

    # Live collection: datatruth/slowlog/collect.py provides collect(url) -> list[SlowEvent].
    collect = sub.add_parser(
        "collect",
        help="collect slow statements from a live server and report them",
        description="Collect slow statements from a live PostgreSQL or MySQL server and rank them.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=COLLECT_EPILOG,
    )
    collect.add_argument("--url", required=True, help="SQLAlchemy URL of the server")
    collect.add_argument("--json", action="store_true", help="print the report as one JSON document")
    collect.add_argument(
        "--limit", type=_positive_int, default=10, help="how many classes to show (default: 10)"
    )
    collect.add_argument(
        "--order-by",
        choices=("total", "count", "p95"),
        default="total",
        help="rank classes by total time, number of calls or 95th percentile time",
    )
    collect.add_argument("--raw-samples", action="store_true", help="show samples with their literals")
    collect.set_defaults(func=_collect)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from err
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _detect(path: Path) -> str:
    """'mysql' or 'postgres' from the first 64 KiB of the file (decompressed)."""
    from datatruth.slowlog.logfile import head_bytes

    head = head_bytes(path, _SNIFF_BYTES)
    if b"# Query_time:" in head or b"# User@Host:" in head:
        return "mysql"
    from datatruth.slowlog import pg_log  # another module's detector also knows csv/json logs

    found = pg_log.detect_format(path)
    return "mysql" if found == "mysql" else "postgres"


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise UserError(f"no such file: {path}", "check the path of the slow log")


def _pg_events(path: Path, problems: list[ParseProblem]) -> Iterator[SlowEvent]:
    from datatruth.slowlog.pg_log import iter_pg_events

    return iter_pg_events(path, problems)


def _print_problems(problems: list[ParseProblem], path: str) -> None:
    shown = problems[:50]
    # A log cut short or a damaged archive is always said, however many problems came first.
    ends = [p for p in problems[50:] if p.message.startswith("truncated")]
    for problem in shown + ends:
        print(f"warning: {path}:{problem.line}: {problem.message}", file=sys.stderr)
    if len(problems) > len(shown) + len(ends):
        print(f"warning: ... and {len(problems) - len(shown) - len(ends)} more problems", file=sys.stderr)


def _report(
    aggregator: Aggregator, count: int, args: argparse.Namespace, source: str, problems: list[ParseProblem]
) -> int:
    from datatruth.slowlog.report import ReportOptions, render_json, render_text

    result = aggregator.result(order_by=args.order_by)
    options = ReportOptions(limit=args.limit, allow_raw=args.raw_samples, source_name=source)
    if problems:
        _print_problems(problems, source)
    if count == 0 and problems:
        print(f"error: no events could be read from {source}", file=sys.stderr)
        return EXIT_NOTHING_READ
    if args.json:
        payload = render_json(result, options)
        parse = ParseReport(count, tuple(problems), any(p.message.startswith("truncated") for p in problems))
        payload["parse"] = {
            "events_read": parse.events_read,
            "truncated": parse.truncated,
            "problems": [{"line": p.line, "message": p.message} for p in parse.problems],
        }
        sys.stdout.write(json.dumps(payload, default=str) + "\n")
    else:
        sys.stdout.write(render_text(result, options))
    if problems:
        print(
            f"warning: {len(problems)} problem(s) while reading {source}; "
            f"the report covers the {count} event(s) that could be read",
            file=sys.stderr,
        )
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from datatruth.slowlog.aggregate import Aggregator
    from datatruth.slowlog.parallel import aggregate_mysql_file

    path = Path(args.file)
    _check_file(path)
    fmt = _detect(path) if args.format == "auto" else args.format
    problems: list[ParseProblem] = []
    if fmt == "postgres":
        aggregator = Aggregator()
        count = aggregator.add_all(_pg_events(path, problems))
    else:
        aggregator, problems, count = aggregate_mysql_file(path, args.jobs)
    return _report(aggregator, count, args, str(path), problems)


def _collect(args: argparse.Namespace) -> int:
    from datatruth.slowlog.aggregate import Aggregator
    from datatruth.slowlog.collect import collect

    aggregator = Aggregator()
    count = aggregator.add_all(collect(args.url))
    return _report(aggregator, count, args, args.url, [])


def _one_fingerprint(sql: str, style: str, dialect: str) -> tuple[str, str]:
    from datatruth.slowlog.fingerprint import fingerprint_pg, fingerprint_pt, fingerprint_sqlglot, query_id

    if style == "pt":
        fp = fingerprint_pt(sql)
    elif style == "pg":
        fp = fingerprint_pg(sql)
    else:
        fp = fingerprint_sqlglot(sql, dialect)
    return fp, query_id(fp)


def _check_dialect(dialect: str) -> None:
    from sqlglot.dialects.dialect import Dialect

    try:
        Dialect.get_or_raise(dialect)
    except ValueError as err:
        raise UserError(
            f"unknown SQL dialect {dialect!r}",
            "use a sqlglot dialect name such as mysql, postgres, duckdb or snowflake",
        ) from err


def _fingerprint(args: argparse.Namespace) -> int:
    if args.style == "sqlglot":
        _check_dialect(args.dialect)
    if args.batch:
        if args.sql:
            raise UserError("give either SQL or --batch FILE, not both", "drop the SQL argument")
        return _fingerprint_batch(args)
    if not args.sql:
        raise UserError("no SQL given", "pass the statement as an argument, or --batch FILE")
    fp, qid = _one_fingerprint(args.sql, args.style, args.dialect)
    if args.json:
        sys.stdout.write(json.dumps({"fingerprint": fp, "query_id": qid}) + "\n")
    else:
        sys.stdout.write(f"{fp}\n# Query ID 0x{qid}\n")
    return 0


def _fingerprint_batch(args: argparse.Namespace) -> int:
    source = sys.stdin if args.batch == "-" else None
    if source is None:
        path = Path(args.batch)
        if not path.is_file():
            raise UserError(
                f"no such file: {path}", '--batch takes a JSON-lines file with {"sql": ...} per line'
            )
        lines = path.read_text(encoding="utf-8").splitlines()
    else:
        lines = source.read().splitlines()
    issues: list[str] = []
    rows: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            issues.append(f"{args.batch}:{number}: not JSON ({err.msg})")
            continue
        if not isinstance(item, dict) or not isinstance(item.get("sql"), str):
            issues.append(f'{args.batch}:{number}: expected an object with a string "sql"')
            continue
        fp, qid = _one_fingerprint(item["sql"], args.style, args.dialect)
        rows.append(json.dumps({"fingerprint": fp, "query_id": qid}))
    if issues:
        from datatruth.errors import ConfigError

        raise ConfigError(f"{len(issues)} bad line(s) in {args.batch}", "fix the lines listed", issues=issues)
    if rows:
        sys.stdout.write("\n".join(rows) + "\n")
    return 0
