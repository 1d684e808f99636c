"""Schema versions and their Confluent-style compatibility verdicts."""

from __future__ import annotations

import pytest

from datatruth.quality import schema_registry as reg
from datatruth.store import open_store

BASE = (("id", "INTEGER", False), ("name", "VARCHAR", True), ("amount", "DECIMAL(10,2)", True))


@pytest.mark.parametrize(
    ("new", "compat", "breaking"),
    [
        (BASE, "FULL", False),
        (BASE + (("note", "VARCHAR", True),), "FULL", False),  # optional column added
        (BASE + (("note", "VARCHAR", False),), "FORWARD", False),  # required column added
        (BASE[:2], "FULL", False),  # optional column removed
        (BASE[1:], "BACKWARD", False),  # required column removed
        ((("id", "BIGINT", False),) + BASE[1:], "BACKWARD", False),  # widening
        ((("id", "SMALLINT", False),) + BASE[1:], "FORWARD", True),  # narrowing
        (BASE[:2] + (("amount", "DECIMAL(8,2)", True),), "FORWARD", True),  # narrowing precision
        (BASE[:1] + (("full_name", "VARCHAR", True),) + BASE[2:], "NONE", True),  # rename
        ((("id", "VARCHAR", False),) + BASE[1:], "NONE", True),  # incompatible type
    ],
)
def test_compatibility(new, compat: str, breaking: bool) -> None:
    verdict = reg.compare(BASE, new)
    assert (verdict.compatibility, verdict.breaking) == (compat, breaking), verdict.changes


def test_snapshot_versions_only_on_change(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'm.sqlite'}")
    v1 = reg.snapshot(store, "ws", "t", BASE)
    assert v1.version == 1 and v1.compatibility is None
    assert reg.snapshot(store, "ws", "t", BASE).version == 1
    renamed = BASE[:1] + (("full_name", "VARCHAR", True),) + BASE[2:]
    v2 = reg.snapshot(store, "ws", "t", renamed)
    assert (v2.version, v2.compatibility, v2.breaking) == (2, "NONE", True)
    assert [c.kind for c in v2.changes] == ["renamed"]
    hist = reg.history(store, "ws", "t")
    assert [h.version for h in hist] == [1, 2] and hist[1].changes[0].detail == "name -> full_name"
    assert reg.history(store, "other", "t") == []  # workspaces never see each other's schemas


def test_runs_snapshot_schemas_and_a_rename_fails(tmp_path) -> None:
    import duckdb

    from datatruth.quality.runner import run_checks
    from datatruth.settings import load_settings
    from datatruth.workspace.registry import create_workspace, load_workspace

    db = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE sr_items AS SELECT range AS id, 'n' || range AS name FROM range(50)")
    con.close()
    settings = load_settings(
        {"DATATRUTH_DATA_DIR": str(tmp_path / "data"), "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "ws")}
    )
    create_workspace("srtest", warehouse_url=f"duckdb:///{db}", settings=settings)
    store = open_store(settings=settings)
    ws = load_workspace("srtest", settings)
    first = run_checks(ws, store)
    assert [v.version for v in first.schema_versions] == [1] and not first.failed
    ws.close()  # the warehouse connection is read-only; release the file so the owner can change it
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE sr_items RENAME COLUMN name TO title")
    con.close()
    ws = load_workspace("srtest", settings)
    second = run_checks(ws, store)
    (version,) = second.schema_versions
    assert (version.version, version.compatibility, version.breaking) == (2, "NONE", True)
    (outcome,) = second.outcomes
    assert (
        outcome.check_name == "schema_registry_sr_items"
        and outcome.failed
        and "name -> title" in outcome.message
    )
    third = run_checks(ws, store)
    assert not third.outcomes  # the change was reported once; the schema is stable again
