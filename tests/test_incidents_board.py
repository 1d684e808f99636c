"""The incident board reads through SQL filters: the same incidents as filtering everything in Python, fewer rows read."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from datatruth.incidents import service
from datatruth.settings import load_settings
from datatruth.store import incidents as repo
from datatruth.store import open_store
from datatruth.store.engine import Store, utcnow
from datatruth.store.schema import incidents
from datatruth.store.users import seed_from_config
from datatruth.workspace.registry import Workspace, load_config

REPO = Path(__file__).resolve().parent.parent
TABLES = ("customers", "orders", None)
OWNERS = ("ana", "max", None)


def _fill(store: Store, workspace: str, n: int) -> list[repo.Incident]:
    """n incidents with every status, severity, dataset, owner and age, opened up to ~n hours ago."""
    now = utcnow()
    kinds = itertools.cycle(itertools.product(repo.STATUSES, service.SEVERITY_ORDER, TABLES, OWNERS))
    with store.begin() as conn:
        for i in range(n):
            status, severity, table, owner = next(kinds)
            iid = repo.insert(
                conn,
                workspace,
                source="check",
                dedup_key=f"check:c{i}",
                title=f"check c{i} failed",
                severity=severity,
                table_name=table,
                owner=owner,
                detail={"example_rows": [{"x": i}]},
            )
            opened = now - dt.timedelta(hours=i)
            values = {"status": status, "opened_at": opened}
            if status != "open":
                values["acknowledged_at"] = opened + dt.timedelta(minutes=10 + i % 7)
            if status in repo.CLOSED:
                values["resolved_at"] = opened + dt.timedelta(minutes=60 + i % 13)
            conn.execute(incidents.update().where(incidents.c.id == iid).values(**values))
    return repo.search(store, workspace, limit=10 * n)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'meta.sqlite'}")
    yield s
    s.dispose()


FILTERS = [
    {},
    {"status": "active"},
    {"status": ["open", "resolved"]},
    {"status": ["active", "expected"], "severity": ["critical"]},
    {"severity": "warning", "table": ["orders"]},
    {"table": ["customers", "orders"], "owner": ["ana"]},
    {"owner": "max", "opened_since": "30h"},
    {"status": [], "severity": [], "table": [], "owner": []},
]


def _python_filter(items: list[repo.Incident], f: dict, now: dt.datetime) -> list[repo.Incident]:
    def wanted(key: str) -> set:
        value = f.get(key)
        values = {value} if isinstance(value, str) else set(value or ())
        return (values - {"active"}) | set(repo.ACTIVE) if "active" in values else values

    since = now - dt.timedelta(hours=int(f["opened_since"][:-1])) if f.get("opened_since") else None
    return [
        i
        for i in items
        if all(
            not wanted(k) or getattr(i, attr) in wanted(k)
            for k, attr in (
                ("status", "status"),
                ("severity", "severity"),
                ("table", "table_name"),
                ("owner", "owner"),
            )
        )
        and (since is None or i.opened_at >= since)
    ]


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: ",".join(f) or "none")
def test_sql_filters_match_python_filters(store: Store, f: dict) -> None:
    everything = _fill(store, "retail", 240)
    _fill(store, "flights", 30)  # another workspace's incidents never show
    now = utcnow()
    args = (
        {**f, "opened_since": now - dt.timedelta(hours=int(f["opened_since"][:-1]))}
        if "opened_since" in f
        else f
    )
    expected = _python_filter(everything, f, now)
    found = repo.search(store, "retail", limit=1000, with_detail=False, **args)
    assert [i.id for i in found] == [i.id for i in expected]
    assert all(i.detail is None for i in found)
    assert repo.count(store, "retail", **args) == len(expected)
    assert [i.id for i in repo.search(store, "retail", limit=7, **args)] == [i.id for i in expected[:7]]


def test_facets_and_stats_come_from_sql(store: Store) -> None:
    everything = _fill(store, "retail", 200)
    _fill(store, "flights", 20)
    facets = repo.facets(store, "retail")
    assert facets.tables == ("customers", "orders") and facets.owners == ("ana", "max")
    stats = service.board_stats(store, "retail")
    assert stats.by_status == dict(Counter(i.status for i in everything))
    assert stats.by_severity == dict(Counter(i.severity for i in everything if i.status in repo.ACTIVE))
    assert stats.active == sum(1 for i in everything if i.status in repo.ACTIVE)
    acks = [(i.acknowledged_at - i.opened_at).total_seconds() / 60 for i in everything if i.acknowledged_at]
    assert stats.mean_minutes_to_ack == round(sum(acks) / len(acks), 1)


@pytest.fixture
def page_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(REPO)
    settings = load_settings()
    store = open_store(settings=settings)
    ws = Workspace(load_config("retail", settings), settings)
    seed_from_config(store, "retail", ws.config.members)
    return store


def test_page_reads_only_the_rows_it_shows(page_env: Store) -> None:
    everything = _fill(page_env, "retail", 2000)
    selects: list[str] = []

    def spy(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM incidents" in statement:
            selects.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", spy)
    try:
        at = AppTest.from_file(str(REPO / "pages" / "incidents.py"), default_timeout=120).run()
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", spy)
    assert not at.exception
    active = [i for i in everything if i.status in repo.ACTIVE]
    assert at.metric[0].value == f"{len(active):,}" or at.metric[0].value == str(len(active))
    assert any(f"The newest 500 of {len(active):,} matching incidents" in c.value for c in at.caption)
    # every read of the incidents table is limited, grouped, distinct, by id, or two timestamp columns:
    # none reads all 2,000 rows with their details
    reads_everything = [
        s
        for s in selects
        if not any(
            mark in s
            for mark in ("LIMIT", "GROUP BY", "DISTINCT", "count(*)", "incidents.id = ?", "_at IS NOT NULL")
        )
    ]
    assert selects and not reads_everything, reads_everything
    # the detail JSON (example rows) is read for the one incident opened below, not for the list
    assert [s for s in selects if "incidents.detail" in s and "incidents.id = ?" not in s] == []
    at.multiselect[2].set_value(["orders"]).run()  # Dataset
    assert not at.exception
    shown = at.dataframe[0].value
    assert set(shown["dataset"]) == {"orders"}
    assert len(shown) == min(500, sum(1 for i in active if i.table_name == "orders"))
