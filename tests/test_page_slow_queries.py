"""The Slow queries page (issue 19.7, 19.11): readable class text, no N+1 advice for BEGIN/END, one trend per source."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from datatruth.errors import LogFormatError
from datatruth.slowlog import service
from datatruth.store import slowqueries as repo
from datatruth.ui.context import USER_KEY

REPO = Path(__file__).resolve().parent.parent
PAGE = str(REPO / "pages" / "slow_queries.py")
SHARDED = (
    "UPDATE db{a}.tuningdetail_{b}_{c} n INNER JOIN db{a}.gonzo a ON a.id = n.gonzo_id "
    "SET n.state = 'done' WHERE a.batch = {c}"
)


def _log(path: Path, statements: list[tuple[str, float]]) -> Path:
    """A MySQL slow log with one event per (statement, seconds), 10 ms apart."""
    start = datetime(2024, 3, 1, 8, 0, 0)
    with open(path, "w") as out:
        for i, (sql, seconds) in enumerate(statements):
            when = start + timedelta(milliseconds=10 * i)
            out.write(
                f"# Time: {when:%Y-%m-%dT%H:%M:%S.%f}Z\n# User@Host: app[app] @ web-1 [10.0.0.1]  Id: 5\n"
                f"# Query_time: {seconds:.6f}  Lock_time: 0.000001 Rows_sent: 1  Rows_examined: 1\n{sql};\n"
            )
    return path


def _workload(path: Path) -> Path:
    statements: list[tuple[str, float]] = []
    for i in range(600):
        statements += [
            ("BEGIN", 0.0001),
            (f"SELECT * FROM items WHERE id = {i}", 0.0002),
            ("END", 0.0001),
            ("COMMIT", 0.0001),
        ]
    statements += [(SHARDED.format(a=i % 3 + 1, b=20 + i, c=265507 + i), 2.0) for i in range(5)]
    return _log(path, statements)


def _upload(env, path: Path) -> int:
    store, ws = env
    triage = service.triage_upload(path.name, path.read_bytes(), ws.data_dir)
    saved = service.save(store, ws, triage, "admin", open_incidents=False)
    assert saved.snapshot_id is not None
    return saved.snapshot_id


def _page(user: str = "admin") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state[USER_KEY] = user
    return at.run()


def test_store_and_page_show_whole_names_not_pt_text(retail_members, tmp_path: Path) -> None:
    store, _ws = retail_members
    snap = _upload(retail_members, _workload(tmp_path / "app-slow.log"))
    stored = {c.fingerprint: c for c in repo.classes(store, "retail", snap)}
    want = (
        "update db?.tuningdetail_?_? n inner join db?.gonzo a on a.id = n.gonzo_id set n.state = ? "
        "where a.batch = ?"
    )
    assert want in stored
    # pt's own text (from which the Query ID comes) is kept beside it.
    assert stored[want].stats["pt_fingerprint"].startswith("update d?tuningdetail_?_? n inner join d?gonzo")
    at = _page()
    assert not at.exception, [e.message for e in at.exception]
    shown = at.dataframe[0].value
    assert want[:120] in list(shown["fingerprint"])
    assert not any("d?tuningdetail" in text or "d?gonzo" in text for text in shown["fingerprint"])


def test_begin_and_end_are_not_n_plus_one(retail_members, tmp_path: Path) -> None:
    store, _ws = retail_members
    snap = _upload(retail_members, _workload(tmp_path / "app-slow.log"))
    by_text = {c.fingerprint: c for c in repo.classes(store, "retail", snap)}
    for control in ("begin", "end", "commit"):
        assert by_text[control].calls == 600
        assert not by_text[control].findings, by_text[control].findings
    # A real per-item loop of 600 tiny SELECTs still is one.
    loop = by_text["select * from items where id = ?"]
    assert [f["rule"] for f in loop.findings if f["rule"] == "n_plus_one"] == ["n_plus_one"]
    assert "fetch the items in one query" in next(
        f["reason"] for f in loop.findings if f["rule"] == "n_plus_one"
    )
    at = _page()
    frame = at.dataframe[0].value
    assert set(frame.loc[frame["fingerprint"].isin(["begin", "end", "commit"]), "severity"]) == {""}


def _chart_traces(at: AppTest) -> list[dict]:
    charts = at.get("plotly_chart")
    assert charts, "no chart on the page"
    return json.loads(charts[0].proto.spec)["data"]


def test_trend_draws_one_line_per_source(retail_members, tmp_path: Path) -> None:
    store, _ws = retail_members
    app = _workload(tmp_path / "app-slow.log")
    _upload(retail_members, app)
    _upload(retail_members, app)  # the same log, analysed again later
    batch = _log(tmp_path / "batch-slow.log", [(SHARDED.format(a=1, b=2, c=3), 9.0)])
    _upload(retail_members, batch)
    [sharded] = [c for c in repo.classes(store, "retail", repo.snapshots(store, "retail")[0].id)]
    lines = service.trend_lines(store, "retail", sharded.query_id)
    assert sorted((line.source, len(line.taken_at)) for line in lines) == [
        ("app-slow.log", 2),
        ("batch-slow.log", 1),
    ]
    at = _page()
    at.selectbox[1].set_value(sharded.id).run()  # "Open a class"
    assert not at.exception, [e.message for e in at.exception]
    traces = _chart_traces(at)
    assert sorted((t["name"], len(t["x"])) for t in traces) == [("app-slow.log", 2), ("batch-slow.log", 1)]


def test_unrelated_uploads_are_not_joined(retail_members, tmp_path: Path) -> None:
    store, _ws = retail_members
    _upload(retail_members, _log(tmp_path / "one.log", [(SHARDED.format(a=1, b=2, c=3), 1.0)]))
    _upload(retail_members, _log(tmp_path / "two.log", [(SHARDED.format(a=4, b=5, c=6), 1.0)]))
    [cls] = repo.classes(store, "retail", repo.snapshots(store, "retail")[0].id)
    at = _page()
    at.selectbox[1].set_value(cls.id).run()
    assert not at.get("plotly_chart")
    assert any("2 unrelated uploads" in c.value for c in at.caption)


def test_upload_errors_name_the_file_not_the_server_folder(retail_members, tmp_path: Path) -> None:
    _store, ws = retail_members
    with pytest.raises(LogFormatError) as err:
        service.triage_upload("garbage.log", b"this is not a log\n" * 20, ws.data_dir)
    assert err.value.message.startswith("garbage.log ")
    assert str(ws.data_dir) not in err.value.message and "tmp" not in err.value.message
    with pytest.raises(LogFormatError) as err:
        service.triage_upload("empty.log", b"", ws.data_dir)
    assert err.value.message == "empty.log is empty"
    # Nothing of the uploads is left on the server.
    assert not list(ws.data_dir.glob("slowlog-upload-*"))
