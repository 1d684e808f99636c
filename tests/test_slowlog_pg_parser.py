"""PostgreSQL log parsing: pgBadger fixtures (stderr/syslog/logplex/csvlog/jsonlog), prefixes, damage."""

from __future__ import annotations

import bz2
import collections
import gzip
import io
import json
import os
import re
from datetime import datetime
from pathlib import Path

import pytest

from datatruth.errors import LogFormatError
from datatruth.slowlog.events import ParseProblem
from datatruth.slowlog.pg_log import (
    compile_pattern,
    detect_format,
    iter_pg_events,
    iter_pg_records,
    parse_parameters,
    parse_pg_timestamp,
)
from datatruth.slowlog.redact import redact_sample

GOLDEN = Path(__file__).parent / "golden" / "slowlog_pg"
REWRITE = os.environ.get("DATATRUTH_REWRITE_GOLDEN") == "1"

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def fixtures(corpora: Path) -> Path:
    return corpora / "pgbadger" / "fixtures"


@pytest.fixture(scope="module")
def fixture_rows(corpora: Path) -> list[dict]:
    lines = (corpora / "pgbadger" / "fixtures.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    elif data[:3] == b"BZh":
        data = bz2.decompress(data)
    return data.decode("utf-8", "replace")


# ----------------------------------------------------------------------------------------------
# format detection, one case per fixture, expectation from fixtures.jsonl's "format" column
# ----------------------------------------------------------------------------------------------


def _expected_format(declared: str) -> str:
    if declared.startswith("csvlog"):
        return "postgres-csv"
    if declared.startswith("jsonlog"):
        return "postgres-json"
    return "postgres-stderr"  # stderr, stderr (RDS), syslog, logplex


def test_detect_format_matches_every_fixture(fixtures: Path, fixture_rows: list[dict]) -> None:
    mismatches = []
    for row in fixture_rows:
        path = fixtures.parent / row["file"]
        got = detect_format(path)
        if got != _expected_format(row["format"]):
            mismatches.append((row["file"], row["format"], got))
    assert len(fixture_rows) == 18
    assert mismatches == []


def test_detect_format_mysql_and_errors(corpora: Path, tmp_path: Path) -> None:
    assert detect_format(corpora / "percona" / "slowlogs" / "slow002.txt") == "mysql"
    empty = tmp_path / "empty.log"
    empty.write_text("")
    with pytest.raises(LogFormatError, match="empty"):
        detect_format(empty)
    prose = tmp_path / "notes.txt"
    prose.write_text("Dear diary,\nnothing to see here.\n")
    with pytest.raises(LogFormatError) as err:
        detect_format(prose)
    assert "log_min_duration_statement" in err.value.hint
    with pytest.raises(LogFormatError, match="does not exist"):
        detect_format(tmp_path / "missing.log")


# ----------------------------------------------------------------------------------------------
# golden values reused from pgBadger's own test assertions (fixtures.jsonl)
# ----------------------------------------------------------------------------------------------


def test_light_pgbench_has_629_statements(fixtures: Path) -> None:
    problems: list[ParseProblem] = []
    events = list(iter_pg_events(fixtures / "light.postgres.log.bz2", problems))
    assert len(events) == 629  # database_info.postgres.postgres.count == 629
    assert problems == []
    assert {e.user for e in events} == {"postgres"} and {e.db for e in events} == {"postgres"}
    assert {e.attributes["application"] for e in events} == {"pgbench"}
    assert all(e.host == "172.23.0.1" and e.source == "postgres" for e in events)


def test_rds_duration_total_for_one_normalised_query(fixtures: Path) -> None:
    events = list(iter_pg_events(fixtures / "rds.log.bz2"))
    # Independent count: every "duration: ... statement:" line whose statement is not empty.
    text = _read_text(fixtures / "rds.log.bz2")
    expected = sum(1 for line in text.splitlines() if re.search(r"duration: [\d.]+ ms  statement: \S", line))
    assert len(events) == expected
    wanted = "select datname from pg_database where not datistemplate and datallowconn;"
    kept = [e for e in events if e.query.lower() == wanted and e.host != "192.168.1.201"]
    # normalyzed_info[...].duration == '2.667' (ms) with --exclude-client 192.168.1.201
    assert round(sum(e.query_time for e in kept) * 1000, 3) == 2.667


def test_logplex_cte_duration_sum(fixtures: Path) -> None:
    events = list(iter_pg_events(fixtures / "logplex.gz"))
    ctes = [e for e in events if e.query.lstrip().upper().startswith("WITH")]
    # database_info.postgres.GREEN["cte|duration"] == "21761.546"
    assert round(sum(e.query_time for e in ctes) * 1000, 3) == 21761.546
    assert {e.attributes["log_format"] for e in events} == {"logplex"}


def test_syslog_continuations_and_count(fixtures: Path) -> None:
    events = list(iter_pg_events(fixtures / "pg-syslog.1.bz2"))
    text = _read_text(fixtures / "pg-syslog.1.bz2")
    assert len(events) == sum(
        1 for line in text.splitlines() if "duration: " in line and " statement: " in line
    )
    first = events[0]
    # The [7-2].. lines are the rest of the statement; #011 is syslog's tab.
    assert first.query.startswith('SELECT d.datname as "Name",\n\t')
    assert first.query.rstrip().endswith("ORDER BY 1;")
    assert first.ts is not None and (first.ts.month, first.ts.day, first.ts.hour) == (2, 11, 13)


def test_csv_statement_without_duration(fixtures: Path) -> None:
    events = list(iter_pg_events(fixtures / "csv_statement_without_duration.log"))
    assert len(events) == 1  # the health_check line has no duration
    event = events[0]
    assert round(event.query_time * 1000, 3) == 688786.283
    assert "slow_table" in event.query
    assert event.attributes["statement_name"] == "stmt_slow/stmt_slow"
    assert (event.user, event.db, event.host) == ("example_user", "example_db", "192.0.2.10")
    assert event.ts == datetime(2026, 5, 16, 5, 11, 50, 269000)


def test_param_range_detail_parameters(fixtures: Path) -> None:
    events = list(iter_pg_events(fixtures / "postgresql_param_range.log"))
    assert len(events) == 3
    with_three = [e for e in events if e.attributes["parameters"].get("$1") == "D17756227"]
    assert len(with_three) == 1
    params = with_three[0].attributes["parameters"]
    assert [params["$2"], params["$3"], params["$4"]] == [
        "J16274127",
        "IDA001127",
        "[2023-02-24T00:00,2023-02-25T00:00]",
    ]
    assert with_three[0].attributes["statement_name"] == "<unnamed>"
    assert with_three[0].user == "usr6" and with_three[0].db == "progdb"


def test_multiline_parameters_stay_with_their_execute(fixtures: Path) -> None:
    events = list(iter_pg_events(fixtures / "multiline_param.log"))
    executes = [e for e in events if e.attributes["phase"] == "execute"]
    assert len(executes) == 2  # parse/bind phases are not events
    assert [e.attributes["parameters"]["$2"] for e in executes] == ["njchar\n\thello", "njvarchar\n\tbye"]
    assert [e.attributes["parameters"]["$3"] for e in executes] == ["aaaa", "iiii"]


def test_stmt_type_histogram(fixtures: Path, corpora: Path) -> None:
    events = list(iter_pg_events(fixtures / "stmt_type.log"))
    expected = {}
    for line in (corpora / "pgbadger" / "expected" / "stmt_type.out").read_text().splitlines():
        kind, count, _ = line.rsplit(" ", 2)
        expected[kind.rstrip(":")] = int(count)
    assert len(events) == sum(expected.values()) == 12
    assert sum(1 for e in events if "forêt & océan" in e.query) == 1
    assert sum(1 for e in events if "камень & почка" in e.query) == 1
    # MSK is UTC+3: timestamps come back as naive UTC.
    assert events[0].ts == datetime(2019, 10, 21, 9, 3, 31, 311000)


def test_queryid_prefix_and_multiline_statements(fixtures: Path) -> None:
    events = list(iter_pg_events(fixtures / "queryid.log.gz"))
    assert len(events) == 20
    assert all(e.attributes.get("queryid") for e in events)
    catalog = [e for e in events if e.attributes["queryid"] == "4266247047529477710"]
    assert (
        catalog and catalog[0].query.count("\n") >= 10 and catalog[0].query.rstrip().endswith("ORDER BY 1,2;")
    )
    assert {e.user for e in events} == {"postgres"} and {e.db for e in events} == {"stackoverflow"}


def test_tempfile_only_long_statements(fixtures: Path) -> None:
    events = list(iter_pg_events(fixtures / "tempfile_only.log.gz"))
    text = _read_text(fixtures / "tempfile_only.log.gz")
    assert len(events) == len(re.findall(r"LOG:  duration: [\d.]+ ms  statement:", text))
    assert max(e.query_time for e in events) > 11


@pytest.mark.parametrize(
    ("name", "user", "count"),
    [
        ("cloudsql.log.gz", "cloudsqladmin", 151),  # connection_info...cloudsqladmin.cloudsqladmin == 151
        ("cnpg.log.gz", "postgres", 378),  # connection_info...postgres.postgres == 378
    ],
)
def test_json_connection_counts(fixtures: Path, name: str, user: str, count: int) -> None:
    records = list(iter_pg_records(fixtures / name))
    authorized = [
        r
        for r in records
        if r.message.startswith("connection authorized") and r.user == user and r.db == user
    ]
    assert len(authorized) == count


def test_jsonlog_vacuum_counts(fixtures: Path) -> None:
    records = list(iter_pg_records(fixtures / "pg_vacuums.json.gz"))
    messages = collections.Counter(r.message.split(" of table")[0] for r in records)
    assert messages["automatic vacuum"] == 2094  # autovacuum_info.postgres.count
    assert messages["automatic analyze"] == 1450  # autoanalyze_info.postgres.count


def test_cnpg_durations(fixtures: Path) -> None:
    events = list(iter_pg_events(fixtures / "cnpg.log.gz"))
    text = _read_text(fixtures / "cnpg.log.gz")
    assert len(events) == text.count('"message":"duration: ')
    assert all(e.attributes["log_format"] == "json" and e.pos_in_log is not None for e in events)


def test_weeknumber_csv_across_year_boundary(fixtures: Path) -> None:
    events = list(iter_pg_events(fixtures / "weeknumber.log"))
    assert len(events) == 6
    assert [e.ts.date().isoformat() for e in events if e.ts][:2] == ["2021-01-01", "2021-01-02"]
    assert all(e.attributes["parameters"] == {"$1": "foo.bar"} for e in events)


def test_startup_failure_log_has_no_events_and_no_crash(fixtures: Path) -> None:
    problems: list[ParseProblem] = []
    records = list(iter_pg_records(fixtures / "pg_rawcsv.log", problems, prefix="%m [%p] %q%u@%d "))
    assert list(iter_pg_events(fixtures / "pg_rawcsv.log")) == []
    errors = [r for r in records if r.level == "ERROR"]
    assert len(errors) == 2 and all(r.statement for r in errors)
    assert errors[0].user == "gilles" and errors[0].db == "gilles"


# ----------------------------------------------------------------------------------------------
# golden event files for the small fixtures (queries stored redacted)
# ----------------------------------------------------------------------------------------------

GOLDEN_FIXTURES = [
    "stmt_type.log",
    "multiline_param.log",
    "pg-timezones.log",
    "postgresql_param_range.log",
    "anonymize.log",
    "csv_statement_without_duration.log",
    "weeknumber.log",
]


def _event_summary(event) -> dict:  # noqa: ANN001 - SlowEvent
    attributes = {k: v for k, v in event.attributes.items() if k != "parameters"}
    if "parameters" in event.attributes:
        attributes["parameter_count"] = len(event.attributes["parameters"])
    return {
        "query": redact_sample(event.query),
        "ms": round(event.query_time * 1000, 3),
        "ts": event.ts.isoformat() if event.ts else None,
        "user": event.user,
        "db": event.db,
        "host": event.host,
        "pos": event.pos_in_log,
        "attributes": attributes,
    }


@pytest.mark.parametrize("name", GOLDEN_FIXTURES)
def test_golden_events(fixtures: Path, name: str) -> None:
    problems: list[ParseProblem] = []
    got = {
        "events": [_event_summary(e) for e in iter_pg_events(fixtures / name, problems)],
        "problems": [[p.line, p.message] for p in problems],
    }
    path = GOLDEN / (name + ".json")
    if REWRITE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
        if not REWRITE:
            pytest.fail(f"golden file {path.name} was missing and has been written; check it and re-run")
    assert got == json.loads(path.read_text())


# ----------------------------------------------------------------------------------------------
# log_line_prefix translation
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "line", "expected"),
    [
        (
            "%t [%p]: [%l-1] user=%u,db=%d ",
            "2014-04-01 11:13:21 CEST [28414]: [12-1] user=creward,db=creward LOG:  duration: 1.0 ms  statement: SELECT 1",
            {"pid": "28414", "user": "creward", "db": "creward", "session_line": "12", "tz": "CEST"},
        ),
        (
            "%m [%p] %q%u@%d ",
            "2025-01-21 18:38:06.453 CET [78798] gilles@gilles ERROR:  boom",
            {"pid": "78798", "user": "gilles", "db": "gilles", "level": "ERROR"},
        ),
        (
            "%m [%p] %q%u@%d ",
            "2025-01-21 18:37:49.783 CET [78776] LOG:  listening on IPv4 address",
            {"pid": "78776", "user": None, "db": None},
        ),
        (
            "%t:%r:%u@%d:[%p]:",
            "2020-03-11 20:40:50 CET:192.168.1.201(50906):gilles@pgbench:[12795]:FATAL:  no pg_hba.conf entry",
            {"remote": "192.168.1.201(50906)", "user": "gilles", "db": "pgbench", "pid": "12795"},
        ),
        (
            "%n [%p] %a %e ",
            "1700000000.123 [7] psql 00000 LOG:  duration: 2.5 ms  statement: select 1",
            {"epoch": "1700000000.123", "app": "psql", "sqlstate": "00000"},
        ),
        (
            "%m %c %v %x %i %b %Q %% ",
            "2024-01-01 00:00:00.001 UTC 65a1.3f 3/7 0 SELECT client backend 42 % LOG:  hello",
            {
                "session": "65a1.3f",
                "vxid": "3/7",
                "xid": "0",
                "tag": "SELECT",
                "backend": "client backend",
                "queryid": "42",
            },
        ),
        ("%10u|%-5d|", "  postgres|db1  |LOG:  x", {"user": "postgres", "db": "db1"}),
    ],
)
def test_prefix_translation(prefix: str, line: str, expected: dict) -> None:
    match = compile_pattern(prefix).regex.match(line)
    assert match is not None
    groups = match.groupdict()
    for key, value in expected.items():
        assert groups.get(key) == value, key


def test_unknown_prefix_escape_is_a_user_error() -> None:
    with pytest.raises(LogFormatError, match="%z"):
        compile_pattern("%t %z ")


def test_given_prefix_equals_autodetected(fixtures: Path) -> None:
    auto = list(iter_pg_events(fixtures / "tempfile_only.log.gz"))
    given = list(iter_pg_events(fixtures / "tempfile_only.log.gz", prefix="%t [%p]: [%l-1] user=%u,db=%d "))
    assert given == auto and len(auto) > 0


def test_wrong_prefix_reports_problems_not_crash(fixtures: Path) -> None:
    problems: list[ParseProblem] = []
    events = list(iter_pg_events(fixtures / "stmt_type.log", problems, prefix="%t:%r:%u@%d:[%p]:"))
    assert events == []
    assert problems and problems[0].line == 1


# ----------------------------------------------------------------------------------------------
# streams, compression by magic bytes, pairing, timestamps, parameters
# ----------------------------------------------------------------------------------------------

SAMPLE = (
    "2024-03-01 10:00:00.100 UTC [11] app@shop LOG:  duration: 12.500 ms  statement: SELECT *\n"
    "\tFROM orders\n"
    "\tWHERE id = 7\n"
    "2024-03-01 10:00:01.000 UTC [12] app@shop LOG:  statement: UPDATE orders SET paid = true WHERE id = 8\n"
    "2024-03-01 10:00:01.200 UTC [13] app@shop LOG:  duration: 3.000 ms  execute S_1: SELECT name FROM users WHERE id = $1\n"
    "2024-03-01 10:00:01.200 UTC [13] app@shop DETAIL:  parameters: $1 = '42'\n"
    "2024-03-01 10:00:01.500 UTC [12] app@shop LOG:  duration: 40.000 ms\n"
)


def test_text_stream_and_log_duration_pairing() -> None:
    events = list(iter_pg_events(io.StringIO(SAMPLE), prefix="%m [%p] %q%u@%d "))
    assert [round(e.query_time * 1000, 3) for e in events] == [12.5, 3.0, 40.0]
    assert events[0].query == "SELECT *\n\tFROM orders\n\tWHERE id = 7"
    assert (
        events[1].attributes["parameters"] == {"$1": "42"} and events[1].attributes["statement_name"] == "S_1"
    )
    # log_statement wrote the text, log_duration the time: one event for pid 12.
    assert events[2].query.startswith("UPDATE orders") and events[2].attributes["pid"] == 12
    assert events[2].ts == datetime(2024, 3, 1, 10, 0, 1)


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lambda data: data])
def test_compression_is_detected_by_content_not_name(tmp_path: Path, compress) -> None:  # noqa: ANN001
    path = tmp_path / "postgresql.txt"  # misleading name on purpose
    path.write_bytes(compress(SAMPLE.encode()))
    assert len(list(iter_pg_events(path))) == 3
    assert detect_format(path) == "postgres-stderr"
    stream = io.BytesIO(compress(SAMPLE.encode()))
    assert len(list(iter_pg_events(stream))) == 3


def test_byte_offsets_point_at_event_lines() -> None:
    data = SAMPLE.encode()
    for event in iter_pg_events(io.BytesIO(data)):
        line = data[event.pos_in_log :].split(b"\n", 1)[0].decode()
        assert line.startswith("2024-03-01") and ("duration" in line or "statement:" in line)


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2021-05-27 17:00:00", "UTC", datetime(2021, 5, 27, 17, 0)),
        ("2021-01-22 10:03:22.785", "CET", datetime(2021, 1, 22, 9, 3, 22, 785000)),
        ("2024-06-27 00:00:07.369", "CEST", datetime(2024, 6, 26, 22, 0, 7, 369000)),
        ("2021-05-27 17:00:00", "+05", datetime(2021, 5, 27, 12, 0)),
        ("2021-05-27 17:00:00", "-03:30", datetime(2021, 5, 27, 20, 30)),
        ("2024-01-15 12:00:00", "Europe/Paris", datetime(2024, 1, 15, 11, 0)),
    ],
)
def test_timestamps_to_naive_utc(text: str, zone: str, expected: datetime) -> None:
    assert parse_pg_timestamp(text, zone) == (expected, None)


def test_unknown_zone_is_kept_as_logged() -> None:
    assert parse_pg_timestamp("2021-05-27 17:00:00", "XYZT") == (datetime(2021, 5, 27, 17, 0), "XYZT")


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ("parameters: $1 = 'a', $2 = NULL", {"$1": "a", "$2": None}),
        ("parameters: $1 = 'it''s', $2 = '5'", {"$1": "it's", "$2": "5"}),
        ("parameters: $1 = 'multi\nline', $10 = ''", {"$1": "multi\nline", "$10": ""}),
        ("Process holding the lock: 4821.", {}),
        ("parameters: $1 = 'unterminated", {"$1": "unterminated"}),
    ],
)
def test_parse_parameters(detail: str, expected: dict) -> None:
    assert parse_parameters(detail) == expected


# ----------------------------------------------------------------------------------------------
# damaged input: whatever can be read, plus problems with line numbers; never a crash
# ----------------------------------------------------------------------------------------------


def test_truncated_gzip(fixtures: Path, tmp_path: Path) -> None:
    whole = (fixtures / "queryid.log.gz").read_bytes()
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    problems: list[ParseProblem] = []
    events = list(iter_pg_events(cut, problems))
    assert 0 < len(events) < 20
    assert any("truncated" in p.message or "damaged" in p.message for p in problems)
    assert all(p.line >= 1 for p in problems)


def test_binary_garbage_in_the_middle(tmp_path: Path) -> None:
    lines = SAMPLE.encode().split(b"\n")
    damaged = b"\n".join(lines[:3] + [b"\x00\x01\x02\xff\xfe garbage \x00"] + lines[3:])
    path = tmp_path / "damaged.log"
    path.write_bytes(damaged)
    problems: list[ParseProblem] = []
    events = list(iter_pg_events(path, problems))
    assert len(events) == 3
    assert [p.line for p in problems] == [4]
    assert "binary" in problems[0].message


def test_file_cut_mid_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.log"
    path.write_text(
        SAMPLE + "2024-03-01 10:00:02.000 UTC [14] app@shop LOG:  duration: 9.000 ms  statement: SELECT na"
    )
    problems: list[ParseProblem] = []
    events = list(iter_pg_events(path, problems))
    assert len(events) == 4 and events[-1].attributes.get("truncated") == "1"
    assert [p.line for p in problems] == [8]


def test_mysql_log_given_to_pg_parser(corpora: Path) -> None:
    problems: list[ParseProblem] = []
    events = list(iter_pg_events(corpora / "percona" / "slowlogs" / "slow002.txt", problems))
    assert events == []
    assert len(problems) == 1 and "MySQL" in problems[0].message


def test_random_bytes_never_crash(tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    path = tmp_path / "noise.bin"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(20_000)))
    problems: list[ParseProblem] = []
    assert list(iter_pg_events(path, problems)) == []
    assert problems


def test_csv_with_broken_rows(fixtures: Path, tmp_path: Path) -> None:
    text = (fixtures / "weeknumber.log").read_text()
    rows = text.splitlines()
    broken = "\n".join(rows[:2] + ['"2021,too,few,columns'] + rows[2:4] + ["short,row"]) + "\n"
    path = tmp_path / "broken.csv"
    path.write_text(broken)
    problems: list[ParseProblem] = []
    events = list(
        iter_pg_events(
            path,
            problems,
        )
    )
    assert 2 <= len(events) <= 4
    assert problems and all(p.line >= 3 for p in problems)


def test_json_with_bad_lines(fixtures: Path, tmp_path: Path) -> None:
    text = _read_text(fixtures / "cnpg.log.gz").splitlines()
    mixed = "\n".join(text[:100] + ["{not json", "[1, 2]"] + text[100:200]) + "\n"
    path = tmp_path / "mixed.json"
    path.write_text(mixed)
    problems: list[ParseProblem] = []
    events = list(iter_pg_events(path, problems))
    clean = list(iter_pg_events(io.StringIO("\n".join(text[:200]) + "\n")))
    assert events == [e for e in events if e.source == "postgres"] and len(events) == len(clean)
    assert [p.line for p in problems] == [101, 102]
