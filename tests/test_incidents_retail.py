"""The shipped retail checks against the planted faults: one incident each, occurrences on re-runs, fix → resolved."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from datatruth.cli.main import main
from datatruth.demo.build import ensure_demo
from datatruth.quality.runner import run_checks
from datatruth.settings import load_settings
from datatruth.store import incidents as repo
from datatruth.store import open_store
from datatruth.store.users import seed_from_config
from datatruth.workspace.registry import load_workspace

REPO = Path(__file__).resolve().parent.parent
FAULTS = ("missing_emails", "duplicate_customers", "late_orders", "price_outlier_spike", "phone_format_drift")


def test_planted_faults_become_incidents_then_resolve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path))
    settings = load_settings()
    store = open_store(settings=settings)
    ws = load_workspace("retail", settings)
    seed_from_config(store, "retail", ws.config.members)

    run_checks(ws, store)
    opened = repo.search(store, "retail", status="open")
    by_fault = {f: [i for i in opened if i.dedup_key.startswith(f"check:{f}")] for f in FAULTS}
    assert {f: len(items) for f, items in by_fault.items()} == dict.fromkeys(FAULTS, 1)
    assert len(opened) == len(FAULTS)  # nothing else in the healthy part of the data fails

    run_checks(ws, store)
    again = repo.search(store, "retail", status="open")
    assert len(again) == len(FAULTS) and all(i.occurrences == 2 for i in again)

    # Fix one fault at the source, as a data engineer would, and run the checks again.
    ws.close()
    con = duckdb.connect(ensure_demo(ws).path)
    con.execute(
        "UPDATE customers SET email = 'restored' || customer_id || '@example.org' WHERE email IS NULL"
    )
    con.close()
    run_checks(ws, store)
    emails = by_fault["missing_emails"][0]
    assert repo.get(store, "retail", emails.id).status == "resolved"
    assert [e.kind for e in repo.events(store, "retail", emails.id)][-1] == "auto_resolved"
    assert len(repo.search(store, "retail", status="open")) == len(FAULTS) - 1

    # The board through the CLI shows the same state.
    assert main(["incidents", "list", "-w", "retail", "--status", "resolved", "--json"]) == 0
    assert str(emails.id) in capsys.readouterr().out
