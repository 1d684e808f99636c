"""Per-class aggregation checked against pt-query-digest's own expected reports, plus merging and limits.

Pairs tested: every row of pairs.jsonl whose pt-query-digest arguments only choose the
report sections (--report-format, --limit) over the default grouping (fingerprint) and
order (Query_time:sum). Excluded, because they configure pt features this module does not
offer: --group-by (tables, distill, file, user, db), --filter, --order-by, --outliers,
--since/--until, --variations, --limit 100%:1, --expected-range, an attribute-value-limit
environment, and the --output json pairs (a different document format).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import pytest

from datatruth.slowlog import aggregate as aggregate_module
from datatruth.slowlog.aggregate import Aggregator, ClassStats, aggregate
from datatruth.slowlog.events import SlowEvent
from datatruth.slowlog.mysql_log import iter_mysql_events
from datatruth.slowlog.parallel import aggregate_mysql_file, plan_slices
from datatruth.slowlog.report import ReportOptions, micro_t, render_json, render_text, shorten

pytestmark = pytest.mark.corpus
# Read at collection time for parametrisation; every test also takes the `corpora` fixture,
# which skips (or fails under CI) when the corpora are missing.
CORPUS = (
    Path(
        os.environ.get("DATATRUTH_CORPORA")
        or Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"
    )
    / "percona"
)
GOLDEN = Path(__file__).resolve().parent / "golden" / "slowlog"
REPORT_ONLY_ARGS = {
    "--report-format=query_report",
    "--report-format",
    "--limit",
    "10",
    "query_report",
    "query_report,profile",
    "header,query_report,profile",
    "header,query_report",
}


def _default_pairs() -> list[dict]:
    path = CORPUS / "pairs.jsonl"
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [r for r in rows if not r["env"] and set(r["args"]) <= REPORT_ONLY_ARGS]


def _expected_classes(text: str) -> list[dict]:
    classes = []
    for block in re.split(r"\n(?=# Query \d+:)", text):
        head = re.match(r"# Query (\d+): .*ID 0x([0-9A-F]+) at byte (\d+)", block)
        if not head:
            continue
        found: dict = {"rank": int(head[1]), "id": head[2], "byte": int(head[3])}
        for line in block.splitlines():
            if line.startswith("# Count "):
                found["count"] = int(line.split()[-1])
            if line.startswith("# Databases"):
                found["databases"] = line[len("# Databases") :].strip()
            for label in ("Exec time", "Rows examine", "Query size", "Lock time"):
                if line.startswith(f"# {label} "):
                    found[label] = line[len(label) + 2 :].split()[1:]  # drop the pct column
        classes.append(found)
    return classes


def _row(fmt, stats) -> list[str]:
    return [
        fmt(v) for v in (stats.total, stats.min, stats.max, stats.avg, stats.p95, stats.stddev, stats.median)
    ]


def test_enough_pairs_are_tested(corpora: Path) -> None:
    assert len(_default_pairs()) >= 20


@pytest.mark.parametrize("pair", _default_pairs(), ids=lambda p: Path(p["expected_path"]).name)
def test_matches_pt_query_digest_report(corpora: Path, pair: dict) -> None:
    result = aggregate(iter_mysql_events(CORPUS / pair["input_path"], []))
    expected = _expected_classes((CORPUS / pair["expected_path"]).read_text())
    by_id = {c.query_id: c for c in result.classes}
    for want in expected:
        got: ClassStats = by_id[want["id"]]
        assert got.count == want["count"]
        assert got.sample.pos_in_log == want["byte"]
        assert _row(micro_t, got.query_time) == want["Exec time"]  # total, min, max, avg, 95%, stddev, median
        if "Lock time" in want:
            assert _row(micro_t, got.lock_time) == want["Lock time"]
        if "Rows examine" in want:
            assert got.rows_examined is not None and _row(shorten, got.rows_examined) == want["Rows examine"]
        if "Query size" in want:
            assert _row(shorten, got.query_size) == want["Query size"]
        if "databases" in want and "(" not in want["databases"]:  # a single database, or none
            assert [name for name, _ in got.databases] == ([want["databases"]] if want["databases"] else [])
        # Ranks: pt orders ties by hash order, so only classes with a distinct total have a fixed rank.
        ours = result.classes.index(got) + 1
        tied = [c for c in result.classes if c.query_time.total == got.query_time.total]
        if len(tied) == 1:
            assert ours == want["rank"]
        else:
            first = min(result.classes.index(c) for c in tied) + 1
            assert first <= want["rank"] < first + len(tied)


def test_no_events_report(corpora: Path) -> None:
    result = aggregate([])
    assert result.events == 0 and result.classes == ()
    assert render_text(result) == "\n# No events processed.\n"


def _event(query: str, qt: float, pos: int, **kw) -> SlowEvent:
    return SlowEvent(
        query=query, query_time=qt, rows_examined=kw.pop("rows", 10), rows_sent=1, pos_in_log=pos, **kw
    )


def test_ranking_orders_and_limit(corpora: Path) -> None:
    events = (
        [_event("select 1 from a", 1.0, 0)] * 5
        + [_event("select 1 from b", 10.0, 100)]
        + [_event("select 1 from c", 0.1 * i, 200 + i) for i in range(1, 31)]
    )
    by_total = aggregate(events)
    assert [c.fingerprint for c in by_total.classes] == [
        "select ? from c",
        "select ? from b",
        "select ? from a",
    ]
    by_count = aggregate(events, order_by="count", limit=2)
    assert [c.fingerprint for c in by_count.classes] == ["select ? from c", "select ? from a"]
    by_p95 = aggregate(events, order_by="p95")
    assert by_p95.classes[0].fingerprint == "select ? from b"
    assert by_total.unique == 3 and by_total.events == 36


def test_sample_is_the_worst_event_and_strings_are_counted(corpora: Path) -> None:
    events = [
        _event("select * from t where id = 1", 0.5, 0, db="shop", user="app", host="web1"),
        _event("select * from t where id = 2", 2.0, 50, db="shop", user="app", host="web2"),
        _event("select * from t where id = 3", 2.0, 90, db="crm", user="batch", host="web2"),
    ]
    [stats] = aggregate(events).classes
    assert stats.sample.pos_in_log == 90  # ties go to the later event, like pt
    assert stats.databases == (("shop", 2), ("crm", 1))
    assert stats.hosts == (("web2", 2), ("web1", 1))
    assert stats.query_time.total == pytest.approx(4.5) and stats.query_time.max == 2.0


def test_distinct_strings_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr(aggregate_module, "MAX_DISTINCT_STRINGS", 3)
    events = [_event("select 1", 0.1, i, user=f"user{i}") for i in range(10)]
    [stats] = aggregate(events).classes
    assert len(stats.users) == 4 and dict(stats.users)["(other)"] == 7


def test_merging_slices_equals_one_pass(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from slowlog_throughput import generate

    log = tmp_path / "gen.log"
    generate(log, events=6000, seed=3, classes=40)
    single = Aggregator()
    single.add_all(iter_mysql_events(log, []))
    monkeypatch.setattr("datatruth.slowlog.parallel.MIN_PARALLEL_BYTES", 0)
    assert len(plan_slices(log, 3)) == 3
    parallel, problems, count = aggregate_mysql_file(log, jobs=3)
    assert problems == [] and count == 6000
    _assert_close(parallel.result(), single.result())


def _assert_close(got: object, want: object, where: str = "result") -> None:
    """Equal, except that float sums may differ in the last bits (they are added in another order)."""
    if dataclasses.is_dataclass(got) and not isinstance(got, SlowEvent):
        assert type(got) is type(want), where
        for field in dataclasses.fields(got):
            _assert_close(getattr(got, field.name), getattr(want, field.name), f"{where}.{field.name}")
    elif isinstance(got, tuple | list):
        assert len(got) == len(want), where  # type: ignore[arg-type]
        for i, (a, b) in enumerate(zip(got, want, strict=True)):  # type: ignore[call-overload]
            _assert_close(a, b, f"{where}[{i}]")
    elif isinstance(got, float):
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), where
    else:
        assert got == want, where


def test_json_report_shape(corpora: Path, tmp_path: Path) -> None:
    result = aggregate(iter_mysql_events(CORPUS / "slowlogs" / "slow002.txt", []))
    payload = render_json(result, ReportOptions(limit=2))
    assert payload["global"]["events"] == 8 and payload["global"]["unique"] == 7
    first = payload["classes"][0]
    assert first["query_id"] == "45FE45AEC222350466825DDC008FFA89"
    assert first["metrics"]["Query_time"]["max"] == pytest.approx(0.726052)
    assert first["sample"]["pos_in_log"] == 338
    json.dumps(payload)  # serialisable


def test_text_report_golden(corpora: Path) -> None:
    result = aggregate(iter_mysql_events(CORPUS / "slowlogs" / "slow002.txt", []))
    text = render_text(result, ReportOptions(limit=3, allow_raw=True))
    golden = GOLDEN / "slow002_report.txt"
    if os.environ.get("DATATRUTH_REWRITE_GOLDEN") == "1":
        golden.write_text(text)
    assert text == golden.read_text()


def test_samples_are_redacted_unless_raw_is_allowed(corpora: Path) -> None:
    result = aggregate(iter_mysql_events(CORPUS / "slowlogs" / "slow002.txt", []))
    assert "91848182522" not in render_text(result)
    assert "91848182522" not in json.dumps(render_json(result))
    assert "91848182522" in render_text(result, ReportOptions(allow_raw=True))


def test_collector_events_count_their_calls(corpora: Path) -> None:
    rows = [
        SlowEvent(
            query="SELECT * FROM t WHERE id = $1",
            query_time=3.0,
            rows_sent=30,
            attributes={"calls": 30, "mean_time": 0.1},
            source="pg_stat_statements",
        ),
        SlowEvent(
            query="SELECT * FROM t WHERE id = $1",
            query_time=1.0,
            rows_sent=10,
            attributes={"calls": 5},
            source="pg_stat_statements",
        ),
    ]
    [stats] = aggregate(rows).classes
    assert stats.count == 35
    assert stats.query_time.total == pytest.approx(4.0)
    assert stats.query_time.max == pytest.approx(0.2) and stats.query_time.min == pytest.approx(0.1)
    assert stats.rows_sent is not None and stats.rows_sent.total == 40
    assert "calls" not in dict(stats.extra) and "mean_time" not in dict(stats.extra)


def test_batch_buckets_equal_the_formula() -> None:
    """The C-level batch counting (bisect on exact bounds) puts every value in _bucket's bucket."""
    import math
    import random

    rng = random.Random(5)
    aggregate_module._bucket_counts([1.0])  # builds the bounds
    bounds = aggregate_module._BOUNDS
    values = (
        [10 ** rng.uniform(-9, 17) for _ in range(50_000)]
        + [rng.randint(0, 10**9) for _ in range(20_000)]
        + bounds
        + [math.nextafter(b, 0.0) for b in bounds]
        + [0.0, -1.0, 1e-300]
    )
    want: dict[int, int] = {}
    for value in values:
        want[aggregate_module._bucket(value)] = want.get(aggregate_module._bucket(value), 0) + 1
    assert aggregate_module._bucket_counts(values) == want


def test_hot_path_rows_aggregate_exactly_like_events(tmp_path: Path, monkeypatch) -> None:
    """Rows accounted in batches give the very same result (sums, buckets, samples) as one event at a time."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from slowlog_throughput import generate

    log = tmp_path / "gen.log"
    generate(log, events=8000, seed=9, classes=60)
    monkeypatch.setattr(aggregate_module, "_CLASS_BATCH", 97)  # many flushes, of odd sizes
    monkeypatch.setattr(aggregate_module, "_PENDING_ROWS", 1000)
    batched = Aggregator()
    count = batched.add_all(iter_mysql_events(log, [], on_row=batched.add_row))
    assert count + batched.rows == 8000 and 0 < count < 20  # administrator commands take the general path
    single = Aggregator()
    single.add_all(iter_mysql_events(log, []))
    assert batched.result() == single.result()
