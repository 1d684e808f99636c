"""Fuzzing the slow-log readers (issue 18): no input makes them raise anything but a clear UserError.

Hypothesis builds logs from the pieces real logs are made of (headers with odd numbers,
statements with quotes, brackets, '#', NUL bytes and non-ASCII text, server banners, cut
lines), optionally compressed and cut short, and runs each reader plus the aggregation
and both reports over them. Examples are derandomized and few, so CI stays within seconds.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
from collections.abc import Callable, Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datatruth.errors import UserError
from datatruth.slowlog import pg_log
from datatruth.slowlog.aggregate import Aggregator
from datatruth.slowlog.events import ParseProblem, SlowEvent
from datatruth.slowlog.mysql_log import iter_mysql_events
from datatruth.slowlog.report import ReportOptions, render_json, render_text
from datatruth.slowlog.service import triage_events

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NUMBERS = st.sampled_from(
    [
        "0",
        "0.000001",
        "1.5",
        "12",
        "-3",
        "1e400",
        "nan",
        "inf",
        "9" * 40,
        "",
        "x",
        "1.2.3",
        "0.25  ",
        "18446744073709551616",
    ]
)
SQL_PIECES = st.sampled_from(
    [
        "SELECT ",
        "* ",
        "FROM t",
        " WHERE a = 1",
        " AND b IN (2, 3)",
        " ORDER BY x",
        " LIMIT 9",
        ";",
        "'",
        '"',
        "`",
        "#",
        "--",
        "/*",
        "*/",
        "(",
        ")",
        "\n",
        "\\",
        "$1",
        "$$",
        "\x00",
        "é",
        "€",
        "𝔘",
        "\t",
        ";\n#",
        " union all ",
        "1e400",
        "x",
        " ",
    ]
)
SQL_TEXT = st.lists(SQL_PIECES, max_size=24).map("".join)
COMPRESSORS: list[Callable[[bytes], bytes]] = [lambda b: b, gzip.compress, bz2.compress, lzma.compress]


def _run(events: Iterator[SlowEvent], triage: bool = False) -> None:
    """Aggregate and render what a reader yields, as `slowlog analyze` does."""
    materialised = list(events)
    aggregator = Aggregator()
    aggregator.add_all(materialised)
    result = aggregator.result()
    render_text(result, ReportOptions(limit=5))
    json.dumps(render_json(result, ReportOptions(limit=5)), default=str)
    if triage:
        triage_events(materialised, "fuzz", limit=3)


def _packed(data: bytes, compress: int, cut: float) -> bytes:
    packed = COMPRESSORS[compress](data)
    return packed[: max(1, int(len(packed) * cut))] if cut < 1 else packed


# ---------------------------------------------------------------------------------------------
# MySQL slow log
# ---------------------------------------------------------------------------------------------


@st.composite
def mysql_log(draw: st.DrawFn) -> bytes:
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["event", "event", "event", "banner", "admin", "junk", "noquery"]))
        if kind == "banner":
            parts.append(
                "/usr/sbin/mysqld, Version: 8.0.36 (MySQL). started with:\nTcp port: 3306  Unix socket: x\n"
                "Time                 Id Command    Argument\n"
            )
            continue
        if kind == "junk":
            parts.append(draw(SQL_TEXT) + "\n")
            continue
        if draw(st.booleans()):
            parts.append(
                f"# Time: {draw(st.sampled_from(['2024-03-01T08:00:00.123456Z', '071015 21:43:52', '2024-13-45T99:99:99', 'x']))}\n"
            )
        parts.append(
            f"# User@Host: {draw(st.sampled_from(['app[app]', '[x]', 'é[é]', '']))} @ "
            f"{draw(st.sampled_from(['web-1 [10.0.0.1]', ' [::1]', '[', 'h']))}  Id: {draw(NUMBERS)}\n"
        )
        parts.append(
            f"# Query_time: {draw(NUMBERS)}  Lock_time: {draw(NUMBERS)} Rows_sent: {draw(NUMBERS)}  "
            f"Rows_examined: {draw(NUMBERS)}\n"
        )
        if draw(st.booleans()):
            parts.append(
                f"# Schema: {draw(st.sampled_from(['db', '']))}  InnoDB_trx_id: {draw(NUMBERS)}  "
                f"Full_scan: {draw(st.sampled_from(['Yes', 'No', '']))}\n"
            )
        if draw(st.booleans()):
            parts.append(f"use {draw(st.sampled_from(['shop', '`a b`', '']))};\n")
        if draw(st.booleans()):
            parts.append(f"SET timestamp={draw(NUMBERS)};\n")
        if kind == "admin":
            parts.append("# administrator command: Ping;\n")
        elif kind == "event":
            parts.append(draw(SQL_TEXT) + ";\n")
    return "".join(parts).encode("utf-8", "surrogatepass")


@FUZZ
@given(mysql_log(), st.integers(0, 3), st.sampled_from([1.0, 1.0, 0.5, 0.9]))
def test_mysql_reader_never_raises_a_traceback(data: bytes, compress: int, cut: float) -> None:
    problems: list[ParseProblem] = []
    try:
        aggregator = Aggregator()
        events = list(
            iter_mysql_events(io.BytesIO(_packed(data, compress, cut)), problems, on_row=aggregator.add_row)
        )
        aggregator.add_all(events)
        render_text(aggregator.result(), ReportOptions(limit=5))
        _run(iter(events), triage=True)
    except UserError:
        pass  # a clear message (not a slow log at all) is a fine answer
    assert all(isinstance(p, ParseProblem) and p.message for p in problems)


@FUZZ
@given(st.binary(max_size=400), st.integers(0, 3))
def test_mysql_reader_on_random_bytes(data: bytes, compress: int) -> None:
    try:
        _run(iter_mysql_events(io.BytesIO(_packed(data, compress, 1.0)), []))
    except UserError:
        pass


# ---------------------------------------------------------------------------------------------
# PostgreSQL: stderr, csvlog, jsonlog
# ---------------------------------------------------------------------------------------------

PREFIXES = st.sampled_from(
    [
        "2024-03-01 08:00:00.123 UTC [42] ",
        "2024-03-01 08:00:00 CET [7]: [1-1] user=u,db=d ",
        "Mar  1 08:00:00 host postgres[42]: [3-1] ",
        "",
        "[x] ",
        "2024-03-01 25:61:00 ZZZ [9] ",
    ]
)
LEVELS = st.sampled_from(["LOG", "ERROR", "DETAIL", "STATEMENT", "HINT", "FATAL", "LOG", "LOG"])


@st.composite
def pg_message(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["duration", "duration", "statement", "bare", "params", "text"]))
    if kind == "duration":
        return (
            f"duration: {draw(NUMBERS)} ms  {draw(st.sampled_from(['statement', 'execute S_1', 'parse', 'bind']))}: "
            + draw(SQL_TEXT)
        )
    if kind == "statement":
        return "statement: " + draw(SQL_TEXT)
    if kind == "bare":
        return f"duration: {draw(NUMBERS)} ms"
    if kind == "params":
        return "parameters: $1 = '" + draw(SQL_TEXT) + "', $2 = NULL"
    return draw(SQL_TEXT)


@st.composite
def pg_stderr_log(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.integers(0, 4)) == 0:
            lines.append("\t" + draw(SQL_TEXT))  # a continuation line
        else:
            lines.append(f"{draw(PREFIXES)}{draw(LEVELS)}:  {draw(pg_message())}")
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@st.composite
def pg_csv_log(draw: st.DrawFn) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for _ in range(draw(st.integers(0, 5))):
        row = [
            "2024-03-01 08:00:00.123 UTC",
            "u",
            "d",
            draw(NUMBERS),
            "10.0.0.1:5432",
            "abc.1",
            "1",
            "SELECT",
            "2024-03-01 07:00:00 UTC",
            "3/4",
            "0",
            draw(LEVELS),
            "00000",
            draw(pg_message()),
            draw(SQL_TEXT),
            "",
            "",
            "",
            "",
            draw(SQL_TEXT),
            "",
            "",
            "psql",
            "client backend",
            "",
            draw(NUMBERS),
        ]
        writer.writerow(row[: draw(st.integers(10, len(row)))])
    text = out.getvalue()
    if draw(st.booleans()):
        text += '"unterminated,' + draw(SQL_TEXT)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def pg_json_log(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        shape = draw(st.sampled_from(["jsonlog", "record", "text", "garbage", "list"]))
        if shape == "jsonlog":
            doc: object = {
                "timestamp": "2024-03-01 08:00:00.123 UTC",
                "user": "u",
                "dbname": "d",
                "pid": draw(st.sampled_from([42, "x", None, -1])),
                "error_severity": draw(LEVELS),
                "message": draw(pg_message()),
                "query_id": draw(NUMBERS),
            }
        elif shape == "record":
            doc = {
                "record": {
                    "error_severity": draw(LEVELS),
                    "message": draw(pg_message()),
                    "log_time": draw(NUMBERS),
                }
            }
        elif shape == "text":
            doc = {"textPayload": f"{draw(PREFIXES)}LOG:  {draw(pg_message())}", "timestamp": draw(NUMBERS)}
        elif shape == "list":
            doc = [1, {"message": "x"}]
        else:
            lines.append(draw(SQL_TEXT).replace("\n", " "))
            continue
        lines.append(json.dumps(doc))
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def _pg(data: bytes, log_format: str | None) -> Iterator[SlowEvent]:
    problems: list[ParseProblem] = []
    return pg_log.events_from_records(
        pg_log.iter_pg_records(io.BytesIO(data), problems, log_format=log_format), problems
    )


@FUZZ
@given(pg_stderr_log(), st.integers(0, 3), st.sampled_from([1.0, 1.0, 0.6]))
def test_postgres_stderr_reader_never_raises_a_traceback(data: bytes, compress: int, cut: float) -> None:
    try:
        _run(_pg(_packed(data, compress, cut), None), triage=True)
    except UserError:
        pass


@FUZZ
@given(pg_csv_log(), st.integers(0, 3))
def test_postgres_csv_reader_never_raises_a_traceback(data: bytes, compress: int) -> None:
    try:
        _run(_pg(_packed(data, compress, 1.0), "postgres-csv"))
    except UserError:
        pass


@FUZZ
@given(pg_json_log(), st.integers(0, 3))
def test_postgres_json_reader_never_raises_a_traceback(data: bytes, compress: int) -> None:
    try:
        _run(_pg(_packed(data, compress, 1.0), "postgres-json"))
    except UserError:
        pass


@FUZZ
@given(st.binary(max_size=400), st.sampled_from([None, "postgres-csv", "postgres-json", "postgres-stderr"]))
def test_postgres_readers_on_random_bytes(data: bytes, log_format: str | None) -> None:
    try:
        _run(_pg(data, log_format))
    except UserError:
        pass
