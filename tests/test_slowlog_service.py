"""Slow-query triage end to end: read, rank, redact, store per workspace, incidents, bad logs."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from datatruth.errors import LogFormatError
from datatruth.settings import load_settings
from datatruth.slowlog import service
from datatruth.store import incidents as incident_repo
from datatruth.store import open_store
from datatruth.store import slowqueries as repo
from datatruth.store.users import seed_from_config
from datatruth.workspace.registry import Workspace, load_config

REPO = Path(__file__).resolve().parent.parent

SLOW_LOG = """\
# Time: 2024-05-01T10:00:00.000000Z
# User@Host: app[app] @ web1 [10.0.0.5]
# Query_time: 2.500000  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 900000
SET timestamp=1714557600;
SELECT * FROM customers WHERE email LIKE '%jane.doe@example.org%' ORDER BY RAND();
# Time: 2024-05-01T10:00:01.000000Z
# User@Host: app[app] @ web1 [10.0.0.5]
# Query_time: 2.000000  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 900000
SET timestamp=1714557601;
SELECT * FROM customers WHERE email LIKE '%bob@example.org%' ORDER BY RAND();
# Time: 2024-05-01T10:00:02.000000Z
# User@Host: app[app] @ web1 [10.0.0.5]
# Query_time: 0.010000  Lock_time: 0.000000 Rows_sent: 1  Rows_examined: 1
SET timestamp=1714557602;
SELECT name FROM products WHERE id = 42;
"""


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings()
    store = open_store(settings=settings)
    ws = Workspace(load_config("retail", settings), settings)
    seed_from_config(store, "retail", ws.config.members)
    return store, ws


def test_triage_ranks_redacts_and_stores(ctx, tmp_path: Path) -> None:
    store, ws = ctx
    log = tmp_path / "slow.log"
    log.write_text(SLOW_LOG)
    triage = service.triage_file(log)
    assert [c.stats.count for c in triage.classes] == [2, 1]
    top = triage.classes[0]
    assert "jane.doe" not in top.sample and "example.org" not in top.sample
    assert {f.rule for f in top.analysis.findings} >= {
        "select_star",
        "leading_wildcard_like",
        "order_by_random",
    }
    saved = service.save(store, ws, triage, "ana")
    stored = repo.classes(store, "retail", saved.snapshot_id)
    assert [c.calls for c in stored] == [2, 1] and stored[0].total_time == pytest.approx(4.5)
    assert all("jane.doe" not in (c.sample or "") and "10.0.0.5" not in str(c.stats) for c in stored)
    assert repo.classes(store, "flights", saved.snapshot_id) == []  # another workspace sees nothing
    # Trend across two snapshots of the same log.
    service.save(store, ws, service.triage_file(log), "ana")
    assert [t["calls"] for t in repo.trend(store, "retail", stored[0].query_id)] == [2, 2]


def test_critical_class_opens_one_incident(ctx, tmp_path: Path) -> None:
    store, ws = ctx
    log = tmp_path / "slow.log"
    log.write_text(SLOW_LOG)
    saved = service.save(store, ws, service.triage_file(log), "ana")
    top = repo.classes(store, "retail", saved.snapshot_id)[0]
    first = service.open_incident(store, ws, top, "ana")
    again = service.open_incident(store, ws, top, "ana")
    assert first == again
    inc = incident_repo.get(store, "retail", first)
    assert inc.source == "slow_query" and inc.occurrences >= 2


def test_truncated_and_binary_logs(tmp_path: Path) -> None:
    truncated = tmp_path / "cut.log"
    truncated.write_text(SLOW_LOG[: SLOW_LOG.index("# Time: 2024-05-01T10:00:02")] + "# Query_time: 1.0 Lock")
    result = service.triage_file(truncated)
    assert result.aggregate.events >= 2
    binary = tmp_path / "blob.log"
    binary.write_bytes(bytes(range(256)) * 50)
    with pytest.raises(LogFormatError):
        service.triage_file(binary)
    gz = tmp_path / "slow.log.gz"
    gz.write_bytes(gzip.compress(SLOW_LOG.encode()))
    assert service.triage_file(gz).aggregate.events == 3


def test_corpus_postgres_log(corpora: Path) -> None:
    triage = service.triage_file(corpora / "pgbadger" / "fixtures" / "stmt_type.log")
    assert triage.aggregate.events == 12 and triage.classes


def test_page_lists_classes_and_opens_one(ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, ws = ctx
    monkeypatch.chdir(REPO)
    empty = AppTest.from_file(str(REPO / "pages" / "slow_queries.py"), default_timeout=60).run()
    assert not empty.exception and any("No slow-query data yet" in i.value for i in empty.info)
    log = tmp_path / "slow.log"
    log.write_text(SLOW_LOG)
    service.save(store, ws, service.triage_file(log), "ana")
    at = AppTest.from_file(str(REPO / "pages" / "slow_queries.py"), default_timeout=60).run()
    assert not at.exception
    assert any(s.value.startswith("Class ") for s in at.subheader)
    assert any("ORDER BY RAND" in c.value.upper() for c in at.code)
