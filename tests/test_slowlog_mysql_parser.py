"""MySQL slow-log parser: Percona's parser goldens, both parsing paths, damaged and odd inputs."""

from __future__ import annotations

import gzip
import io
import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from datatruth.errors import LogFormatError
from datatruth.slowlog import mysql_log
from datatruth.slowlog.events import ParseProblem, SlowEvent
from datatruth.slowlog.mysql_log import iter_mysql_events

pytestmark = pytest.mark.corpus

PERCONA = "percona"
# pt's parser test for slow010 runs with --embedded-attributes; these are the upstream values.
EMBEDDED = (r" -- .*", r"(\w+): ([^\,]+)")
# Keys compared through typed fields (or not meaningful for a SlowEvent).
TYPED = {
    "arg",
    "cmd",
    "bytes",
    "Query_time",
    "Lock_time",
    "Rows_sent",
    "Rows_examined",
    "user",
    "host",
    "db",
    "Schema",
    "pos_in_log",
    "ts",
}


def _golden_rows() -> list[dict]:
    root = (
        os.environ.get("DATATRUTH_CORPORA")
        or Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"
    )
    path = Path(root) / PERCONA / "slowlog_parser_expected.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _same(got: object, want: object) -> bool:
    if isinstance(got, bool):
        return want == ("Yes" if got else "No")
    try:
        return float(got) == float(want)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(got) == str(want)


def _events(corpora: Path, row: dict, problems: list[ParseProblem]) -> list[SlowEvent]:
    embedded = EMBEDDED if row["parser_options"] else None
    return list(
        iter_mysql_events(corpora / PERCONA / row["input_path"], problems, embedded_attributes=embedded)
    )


@pytest.mark.parametrize("row", _golden_rows(), ids=lambda r: r["input_path"])
def test_matches_percona_parser_goldens(corpora: Path, row: dict) -> None:
    problems: list[ParseProblem] = []
    events = _events(corpora, row, problems)
    expected = row["expected_events"] or []
    assert len(events) == len(expected), problems
    current_db = None  # the log's "use db;" carries over to later events
    for event, want in zip(events, expected, strict=True):
        assert event.query == want["arg"]
        assert event.attributes.get("cmd", "Query") == want["cmd"]
        assert event.query_time == float(want["Query_time"])
        assert event.lock_time == float(want["Lock_time"])
        assert event.rows_sent == int(want["Rows_sent"])
        assert event.rows_examined == int(want["Rows_examined"])
        assert event.pos_in_log == int(want["pos_in_log"])
        assert event.user == (want.get("user") or None)
        assert event.host == (want.get("host") or None)
        assert event.db == (want.get("db") or want.get("Schema") or current_db)
        current_db = want.get("db", current_db)
        if "ts" in want:
            text = want["ts"]
            parsed = (
                datetime.fromisoformat(text)
                if "T" in text
                else datetime.strptime(text.replace("  ", " 0"), "%y%m%d %H:%M:%S")
            )
            assert event.ts is not None and event.ts.replace(microsecond=0) == parsed
        for key, value in want.items():
            if key in TYPED:
                continue
            assert key in event.attributes, key
            assert _same(event.attributes[key], value), (key, event.attributes[key], value)


def test_the_golden_file_was_found(corpora: Path) -> None:
    assert len(_golden_rows()) >= 20


def test_truncated_golden_log_gives_problem_not_error(corpora: Path) -> None:
    problems: list[ParseProblem] = []
    events = list(iter_mysql_events(corpora / PERCONA / "slowlogs" / "slow015.txt", problems))
    assert events == []
    assert problems and problems[0].line == 1 and problems[0].message.startswith("truncated")


def _all_logs(corpora: Path) -> list[Path]:
    return sorted((corpora / PERCONA / "slowlogs").iterdir())


def test_fast_path_reads_the_same_events_as_the_general_path(corpora: Path, monkeypatch) -> None:
    for path in _all_logs(corpora):
        fast = list(iter_mysql_events(path, []))
        monkeypatch.setattr(mysql_log, "_fast_path", False)
        general = list(iter_mysql_events(path, []))
        monkeypatch.setattr(mysql_log, "_fast_path", True)
        assert fast == general, path.name


def test_every_corpus_log_parses(corpora: Path) -> None:
    counts = {}
    for path in _all_logs(corpora):
        problems: list[ParseProblem] = []
        counts[path.name] = len(list(iter_mysql_events(path, problems)))
    assert counts["slow052.txt"] == 200
    assert counts["empty"] == 0
    assert sum(counts.values()) > 300


def test_gzip_input_reads_like_plain(corpora: Path, tmp_path: Path) -> None:
    source = corpora / PERCONA / "slowlogs" / "slow002.txt"
    packed = tmp_path / "slow002.txt.gz"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    assert list(iter_mysql_events(packed, [])) == list(iter_mysql_events(source, []))


def test_truncated_gzip_keeps_what_was_read(corpora: Path, tmp_path: Path) -> None:
    source = (corpora / PERCONA / "slowlogs" / "slow052.txt").read_bytes()
    packed = gzip.compress(source)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    problems: list[ParseProblem] = []
    events = list(iter_mysql_events(cut, problems))
    assert 0 < len(events) < 200
    assert any(p.message.startswith("truncated") for p in problems)


def test_streams_text_and_binary() -> None:
    log = (
        "# Time: 071015 21:43:52\n# User@Host: root[root] @ localhost []\n"
        "# Query_time: 2  Lock_time: 0  Rows_sent: 1  Rows_examined: 0\nselect 1;\n"
    )
    from_text = list(iter_mysql_events(io.StringIO(log)))
    from_bytes = list(iter_mysql_events(io.BytesIO(log.encode())))
    assert from_text == from_bytes
    assert from_text[0].query == "select 1" and from_text[0].ts == datetime(2007, 10, 15, 21, 43, 52)


def _event_text(i: int, ts: str = "2024-03-01T08:00:00.000000Z") -> str:
    return (
        f"# Time: {ts}\n# User@Host: app[app] @ web [10.0.0.1]  Id: {i}\n"
        f"# Query_time: 0.{i:06d}  Lock_time: 0.000001 Rows_sent: {i}  Rows_examined: {i * 2}\n"
        f"SELECT * FROM t WHERE id = {i};\n"
    )


def test_log_cut_mid_event_yields_earlier_events_and_a_problem(tmp_path: Path) -> None:
    text = "".join(_event_text(i) for i in range(1, 6))
    cut = text[: text.rindex("# Query_time")]
    path = tmp_path / "cut.log"
    path.write_text(cut)
    problems: list[ParseProblem] = []
    events = list(iter_mysql_events(path, problems))
    assert [e.rows_sent for e in events] == [1, 2, 3, 4]
    assert len(problems) == 1 and problems[0].message.startswith("truncated")
    assert problems[0].line == 17  # the cut event starts on line 17


def test_binary_junk_between_events_is_reported_with_its_line(tmp_path: Path) -> None:
    junk = "\x00\x01\x02garbage\x00\nmore\x00junk;\n"
    text = _event_text(1) + junk + _event_text(2)
    path = tmp_path / "junk.log"
    path.write_bytes(text.encode())
    problems: list[ParseProblem] = []
    events = list(iter_mysql_events(path, problems))
    assert [e.rows_sent for e in events] == [1, 2]
    assert events[0].query == "SELECT * FROM t WHERE id = 1"
    assert problems and problems[0].line == 5 and "binary" in problems[0].message


def test_text_before_the_first_header_is_skipped_with_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "prefixed.log"
    path.write_text("some banner line\nanother\n" + _event_text(1) + _event_text(2))
    problems: list[ParseProblem] = []
    events = list(iter_mysql_events(path, problems))
    assert [e.rows_sent for e in events] == [1, 2]
    assert len(problems) == 1 and "unrecognised" in problems[0].message


def test_not_a_slow_log_raises_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "postgres.log"
    path.write_text("2024-01-01 10:00:00 UTC [1] LOG:  duration: 1.2 ms  statement: SELECT 1\n" * 5)
    with pytest.raises(LogFormatError, match="does not look like a MySQL slow query log"):
        list(iter_mysql_events(path, []))


def test_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(LogFormatError, match="not found"):
        list(iter_mysql_events(tmp_path / "nope.log"))


def test_timestamps_with_offsets_become_naive_utc() -> None:
    log = _event_text(1, ts="2024-03-01T10:30:00.250000+02:00") + _event_text(2, ts="2024-03-01T08:30:01Z")
    events = list(iter_mysql_events(io.StringIO(log)))
    assert events[0].ts == datetime(2024, 3, 1, 8, 30, 0, 250000)
    assert events[1].ts == datetime(2024, 3, 1, 8, 30, 1)


def test_time_header_carries_over_to_later_events() -> None:
    log = _event_text(1, ts="2024-03-01T08:00:00Z")
    second = _event_text(2).split("\n", 1)[1]  # no "# Time:" line, as MySQL writes within a second
    events = list(iter_mysql_events(io.StringIO(log + second)))
    assert events[1].ts == events[0].ts == datetime(2024, 3, 1, 8, 0, 0)


def test_percona_extended_attributes_are_typed(corpora: Path) -> None:
    events = list(iter_mysql_events(corpora / PERCONA / "slowlogs" / "slow059.txt"))
    attrs = events[0].attributes
    assert attrs["QC_Hit"] is False and attrs["Full_scan"] is False
    assert attrs["InnoDB_pages_distinct"] == 2 and attrs["InnoDB_IO_r_wait"] == 0.0
    assert attrs["InnoDB_trx_id"] == "1A88583F"  # hex stays text
    assert events[0].db == "maindb"
