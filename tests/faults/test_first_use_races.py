"""Fault 5: first-use races. Processes starting together on a fresh store crashed (UniqueViolation on users /
pg_type, UNIQUE constraint failed on memberships); migrations and seeding are now safe to run at once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from datatruth.store.migrations import VERSION_TABLE, head_revision, revisions

PROCESSES = 4
WORKER = r"""
import json, sys, time
from datatruth.store.engine import Store, create_store_engine
from datatruth.store.migrations import migrate
from datatruth.store.users import list_memberships, seed_from_config
from datatruth.workspace.config import Member

url, start = sys.argv[1], float(sys.argv[2])
members = tuple(Member(name, "analyst") for name in ("ana", "bob", "cid", "dee", "eve"))
time.sleep(max(start - time.time(), 0))  # every process starts at the same instant
engine = create_store_engine(url)
print(json.dumps(migrate(engine).applied))  # migrates a fresh store; reports the revisions this process applied
engine.dispose()
store = Store(url)                       # already migrated: applies nothing
seed_from_config(store, "fresh", members)
assert len(list_memberships(store, "fresh")) == 5
"""


def _start_together(url: str) -> list[subprocess.CompletedProcess]:
    start = time.time() + 4  # time for every interpreter to import before the start line
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def _check(url: str) -> None:
    results = _start_together(url)
    failures = [r.stderr.strip().splitlines()[-1] for r in results if r.returncode != 0]
    assert not failures, failures
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            stamped = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
            users = conn.execute(sa.text("SELECT COUNT(*) FROM users")).scalar_one()
            members = conn.execute(
                sa.text("SELECT COUNT(*) FROM memberships WHERE workspace = 'fresh'")
            ).scalar_one()
    finally:
        engine.dispose()
    applied = sorted(r for result in results for r in json.loads(result.stdout))
    assert applied == sorted(revisions())  # each revision ran once, in one of the processes
    assert stamped == [(head_revision(),)]
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
