"""Semantic model versions: validated saves (disk + store, audited), diffs, restores, and the current version."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from isolation import SHOP_MODEL as MODEL
from isolation import make_shop

from datatruth.errors import ConfigError, PermissionDenied, UserError
from datatruth.semantic import versions
from datatruth.settings import load_settings
from datatruth.store import audit, open_store, users
from datatruth.store import semantic_versions as sv
from datatruth.workspace.registry import load_workspace

KEY = "models/orders.yaml"


def _workspace(tmp_path: Path, name: str = "ver"):
    settings = load_settings(
        {
            "DATATRUTH_DATA_DIR": str(tmp_path / "data"),
            "DATATRUTH_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        }
    )
    make_shop(settings, name, tmp_path)
    return load_workspace(name, settings)


def _members(store, workspace: str) -> None:
    users.set_membership(store, workspace, "ana", "analyst", actor="test")
    users.set_membership(store, workspace, "vic", "viewer", actor="test")


@pytest.fixture()
def shop_versions(tmp_path: Path):
    """(workspace, store): a one-table shop whose model files are versioned, with an analyst and a viewer."""
    ws = _workspace(tmp_path)
    store = open_store(f"sqlite:///{tmp_path / 'meta.sqlite'}")
    _members(store, ws.name)
    yield ws, store
    ws.close()
    store.dispose()


def test_current_version_records_the_disk_files_once(shop_versions) -> None:
    ws, store = shop_versions
    assert sv.latest_version(store, ws.name) is None
    assert versions.current_version(store, ws) == 1
    assert versions.current_version(store, ws) == 1
    first = sv.get(store, ws.name, 1)
    assert first.files == {KEY: MODEL} and first.author == versions.DISK_AUTHOR


def test_current_version_notices_edits_on_disk(shop_versions) -> None:
    ws, store = shop_versions
    versions.current_version(store, ws)
    path = ws.config.directory / KEY
    path.write_text(MODEL.replace("sum, expr: amount", "sum, expr: amount * 2"))
    assert versions.current_version(store, ws) == 2


def test_save_writes_disk_and_a_new_audited_version(shop_versions) -> None:
    ws, store = shop_versions
    new = MODEL.replace("measure: order_total}", "measure: order_total, synonyms: [sales]}")
    saved = versions.save_model(ws, store, {KEY: new}, "ana", "add a synonym")
    assert saved.version == 2 and saved.author == "ana" and saved.message == "add a synonym"
    assert (ws.config.directory / KEY).read_text() == new
    assert sv.get(store, ws.name, 1).files[KEY] == MODEL  # the state before the save is kept
    entries = audit.entries(store, ws.name, action="semantic.save")
    assert any(e.username == "ana" and e.target == "v2" for e in entries)


def test_a_viewer_may_not_save(shop_versions) -> None:
    ws, store = shop_versions
    with pytest.raises(PermissionDenied):
        versions.save_model(ws, store, {KEY: MODEL + "\n"}, "vic", "try")
    with pytest.raises(PermissionDenied):
        versions.save_model(ws, store, {KEY: MODEL + "\n"}, "stranger", "try")
    assert sv.latest_version(store, ws.name) is None


def test_a_model_with_errors_is_never_saved_and_every_issue_is_listed(shop_versions) -> None:
    ws, store = shop_versions
    broken = MODEL.replace("expr: amount", "expr: amount_typo").replace(
        "measure: order_total}", "measure: nope}"
    )
    with pytest.raises(ConfigError) as caught:
        versions.save_model(ws, store, {KEY: broken, "models/extra.yaml": "metrics: [\n"}, "ana", "broken")
    text = "\n".join(str(i) for i in caught.value.issues)
    assert "models/extra.yaml" in text  # the YAML syntax error
    with pytest.raises(ConfigError) as caught2:
        versions.save_model(ws, store, {KEY: broken}, "ana", "broken")
    messages = "\n".join(str(i) for i in caught2.value.issues)
    assert "amount_typo" in messages and "nope" in messages
    assert all(i.line for i in caught2.value.issues)
    assert (ws.config.directory / KEY).read_text() == MODEL
    assert not (ws.config.directory / "models" / "extra.yaml").exists()
    assert sv.latest_version(store, ws.name) is None


@pytest.mark.parametrize("name", ["../workspace.yaml", "elsewhere/x.yaml", "models/notes.txt"])
def test_only_model_files_may_be_written(shop_versions, name: str) -> None:
    ws, store = shop_versions
    with pytest.raises(UserError):
        versions.save_model(ws, store, {name: MODEL}, "ana", "sneaky")


def test_a_save_needs_a_message(shop_versions) -> None:
    ws, store = shop_versions
    with pytest.raises(UserError, match="message"):
        versions.save_model(ws, store, {KEY: MODEL}, "ana", "  ")


def test_diff_is_a_readable_unified_diff_per_file(shop_versions) -> None:
    ws, store = shop_versions
    new = MODEL.replace("agg: sum, expr: amount", "agg: sum, expr: amount, description: Paid amount")
    versions.save_model(
        ws,
        store,
        {KEY: new, "models/more.yaml": "metrics:\n  - {name: rev2, type: simple, measure: order_total}\n"},
        "ana",
        "describe",
    )
    text = versions.diff(store, ws, 1, 2)
    assert f"--- v1/{KEY}" in text and f"+++ v2/{KEY}" in text
    assert "-      - {name: order_total, agg: sum, expr: amount}" in text
    assert "+      - {name: order_total, agg: sum, expr: amount, description: Paid amount}" in text
    assert "--- /dev/null" in text and "+++ v2/models/more.yaml" in text
    assert versions.diff(store, ws, 2, 2) == ""


def test_restore_makes_a_new_version_with_the_old_content(shop_versions) -> None:
    ws, store = shop_versions
    versions.save_model(
        ws,
        store,
        {
            KEY: MODEL.replace("amount}", "amount * 2}"),
            "models/more.yaml": "metrics:\n  - {name: rev2, type: simple, measure: order_total}\n",
        },
        "ana",
        "double",
    )
    restored = versions.restore(store, ws, 1, "ana")
    assert restored.version == 3 and restored.files == sv.get(store, ws.name, 1).files
    assert (ws.config.directory / KEY).read_text() == MODEL
    assert not (ws.config.directory / "models" / "more.yaml").exists()
    assert [v.version for v in versions.history(store, ws)] == [3, 2, 1]
    assert audit.entries(store, ws.name, action="semantic.restore")[0].target == "v1"
    with pytest.raises(PermissionDenied):
        versions.restore(store, ws, 2, "vic")


@pytest.mark.postgres
def test_versions_on_a_postgresql_store(tmp_path: Path, pg_url: str) -> None:
    schema = f"semver_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    ws = _workspace(tmp_path)
    try:
        store = open_store(f"{pg_url}?options=-csearch_path%3D{schema}")
        _members(store, ws.name)
        versions.save_model(ws, store, {KEY: MODEL.replace("amount}", "amount * 3}")}, "ana", "triple")
        assert [v.version for v in versions.history(store, ws)] == [2, 1]
        assert "amount * 3" in versions.diff(store, ws, 1, 2)
        with admin.connect() as conn:
            count = conn.execute(sa.text(f"SELECT COUNT(*) FROM {schema}.semantic_versions")).scalar()
        assert count == 2
        store.dispose()
    finally:
        ws.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
