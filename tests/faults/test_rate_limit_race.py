"""Fault 9: the hourly limit was check-then-act (limit 10 let 11-12 answers through with 4 processes), failed
raw SQL counted against the quota while successful raw SQL was not limited at all.

Policy now: questions and raw SQL share one quota; every run that reaches the planner or the guard counts,
successful or not; taking a slot and recording it is one serialised step."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from datatruth import resources
from datatruth.ask import pipeline
from datatruth.errors import GuardRejected, RateLimited
from datatruth.settings import load_settings
from datatruth.store import history, open_store
from datatruth.store.users import seed_from_config
from datatruth.workspace.load_files import load_files
from datatruth.workspace.registry import create_workspace, load_workspace

LIMIT = 10
WORKER = r"""
import sys, time
from datatruth.ask import pipeline
from datatruth.errors import RateLimited
from datatruth.store import open_store
from datatruth.workspace.registry import load_workspace

start = float(sys.argv[1])
ws = load_workspace("mine")
store = open_store()
ok = limited = 0
time.sleep(max(start - time.time(), 0))
for _ in range(5):
    try:
        pipeline.run_sql(ws, "SELECT COUNT(*) FROM t", user="local", store=store, refresh=True)
        ok += 1
    except RateLimited:
        limited += 1
print(ok, limited)
"""


def _workspace(env: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings()
    path = create_workspace("mine", settings=settings)
    doc = yaml.safe_load(path.read_text())
    doc["limits"]["questions_per_user_per_hour"] = LIMIT
    path.write_text(yaml.safe_dump(doc))
    csv = tmp_path / "t.csv"
    csv.write_text("a\n1\n2\n")
    load_files("mine", [csv], settings)
    ws = load_workspace("mine", settings)
    seed_from_config(open_store(settings=settings), ws.name, ws.config.members)


def _race(env: dict[str, str]) -> tuple[int, int]:
    start = time.time() + 5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(start)],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    totals = [0, 0]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        ok, limited = map(int, out.split())
        totals[0] += ok
        totals[1] += limited
    return totals[0], totals[1]


def test_four_processes_get_exactly_the_limit_on_sqlite(private_dirs: dict[str, str], tmp_path: Path) -> None:
    _workspace(private_dirs, tmp_path)
    assert _race(private_dirs) == (LIMIT, 20 - LIMIT)


@pytest.mark.postgres
def test_four_processes_get_exactly_the_limit_on_postgresql(
    private_dirs: dict[str, str], tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = f"quota_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        env = {**private_dirs, "DATATRUTH_STORE_URL": f"{pg_url}?options=-csearch_path%3D{schema}"}
        monkeypatch.setenv("DATATRUTH_STORE_URL", env["DATATRUTH_STORE_URL"])
        _workspace(env, tmp_path)
        assert _race(env) == (LIMIT, 20 - LIMIT)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_raw_sql_counts_whether_it_succeeds_or_fails(private_dirs: dict[str, str], tmp_path: Path) -> None:
    _workspace(private_dirs, tmp_path)
    settings = load_settings()
    ws, store = load_workspace("mine", settings), open_store(settings=settings)
    try:
        for _ in range(4):
            pipeline.run_sql(ws, "SELECT COUNT(*) FROM t", user="local", store=store)
        for _ in range(6):
            with pytest.raises(GuardRejected):
                pipeline.run_sql(ws, "SELECT * FROM no_such_table", user="local", store=store)
        with pytest.raises(RateLimited, match="limit in this workspace is 10"):
            pipeline.run_sql(ws, "SELECT COUNT(*) FROM t", user="local", store=store)
        entries = history.recent(store, "mine", "local")
        assert len(entries) == LIMIT  # the refused run is not recorded
        assert sum(1 for e in entries if e.error) == 6 and sum(1 for e in entries if e.row_count == 1) == 4
    finally:
        resources.invalidate(ws.name)
        ws.close()
