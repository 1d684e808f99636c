"""Fault 5: first-use races. Processes starting together on a fresh store crashed (UniqueViolation on users /
pg_type, UNIQUE constraint failed on memberships); migrations and seeding are now safe to run at once."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from datatruth.store.migrations import MIGRATIONS

PROCESSES = 4
WORKER = r"""
import sys, time
from datatruth.store.engine import Store
from datatruth.store.users import list_memberships, seed_from_config
from datatruth.workspace.config import Member

url, start = sys.argv[1], float(sys.argv[2])
members = tuple(Member(name, "analyst") for name in ("ana", "bob", "cid", "dee", "eve"))
time.sleep(max(start - time.time(), 0))  # every process starts at the same instant
store = Store(url)                       # migrates a fresh store
seed_from_config(store, "fresh", members)
assert len(list_memberships(store, "fresh")) == 5
"""


def _start_together(url: str) -> list[subprocess.CompletedProcess]:
    start = time.time() + 4  # time for every interpreter to import before the start line
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, str(start)], stderr=subprocess.PIPE, text=True)
             for _ in range(PROCESSES)]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=180), "", p.stderr.read() if p.stderr else "")
            for p in procs]


def _check(url: str) -> None:
    results = _start_together(url)
    failures = [r.stderr.strip().splitlines()[-1] for r in results if r.returncode != 0]
    assert not failures, failures
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version FROM datatruth_schema_version ORDER BY version")).all()
            users = conn.execute(sa.text("SELECT COUNT(*) FROM users")).scalar_one()
            members = conn.execute(sa.text("SELECT COUNT(*) FROM memberships WHERE workspace = 'fresh'")).scalar_one()
    finally:
        engine.dispose()
    assert [v[0] for v in versions] == [m.version for m in MIGRATIONS]  # each migration ran once
    assert (users, members) == (5, 5)


def test_processes_starting_together_on_a_fresh_sqlite_store(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'metadata.sqlite'}")


@pytest.mark.postgres
def test_processes_starting_together_on_a_fresh_postgresql_store(pg_url: str) -> None:
    schema = f"race_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        _check(f"{pg_url}?options=-csearch_path%3D{schema}")
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
