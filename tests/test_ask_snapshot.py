"""Snapshots of the activated layer and the planner: reused by a new process, rebuilt when anything they rest on changes."""

from __future__ import annotations

import os
import pickle
import shutil
import types
from pathlib import Path

import pytest

from datatruth import resources
from datatruth.ask import pipeline, planner, snapshot
from datatruth.semantic import validate
from datatruth.store import feedback

REPO = Path(__file__).resolve().parent.parent
QUESTION = "number of flights by origin"


def _new_process() -> None:
    """Forget what this process memoised, as a fresh `datatruth ask` would not have it."""
    resources.clear()


@pytest.fixture()
def flights(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The flights workspace with its data dir in tmp and a copy of its semantic model that tests may edit."""
    from datatruth.cli.ask import open_context

    built = REPO / ".datatruth" / "flights"
    if (built / "warehouse.duckdb").exists() and (built / "warehouse.build.json").exists():
        (tmp_path / "data" / "flights").mkdir(parents=True)
        for name in ("warehouse.duckdb", "warehouse.build.json"):
            shutil.copy2(built / name, tmp_path / "data" / "flights" / name)
    workspaces = tmp_path / "workspaces"
    shutil.copytree(REPO / "workspaces" / "flights", workspaces / "flights")
    shutil.copytree(REPO / "semantic_models" / "flights", tmp_path / "semantic_models" / "flights")
    monkeypatch.setenv("DATATRUTH_WORKSPACES_DIR", str(workspaces))
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATATRUTH_STORE_URL", f"sqlite:///{tmp_path / 'metadata.sqlite'}")
    monkeypatch.setenv("DATATRUTH_LOCAL_USER", "local")
    _new_process()
    ws, store, user = open_context("flights")
    yield ws, store, user, tmp_path
    _new_process()
    ws.close()


def _ask(ws, store, user: str) -> list:
    return pipeline.ask(ws, QUESTION, user=user, store=store, refresh=True).frame.values.tolist()


def _refuse_rebuilds(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_activate(_ws: object) -> None:
        raise AssertionError("the layer was activated again")

    def no_index(*_a: object, **_k: object) -> None:
        raise AssertionError("the value index was loaded again")

    monkeypatch.setattr(validate, "activate", no_activate)
    monkeypatch.setattr(planner, "load_or_build", no_index)


def test_a_new_process_reuses_layer_and_planner(flights, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, store, user, _ = flights
    first = _ask(ws, store, user)
    assert (ws.data_dir / "ask" / snapshot.LAYER_FILE).is_file()
    assert (ws.data_dir / "ask" / snapshot.PLANNER_FILE).is_file()
    _new_process()
    _refuse_rebuilds(monkeypatch)
    assert _ask(ws, store, user) == first


def test_a_changed_model_file_activates_again(flights, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, store, user, tmp_path = flights
    _ask(ws, store, user)
    _new_process()
    model = next((tmp_path / "semantic_models" / "flights").rglob("*.yaml"))
    model.write_text(model.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    calls: list[str] = []
    real = validate.activate

    def counting(w: object) -> object:
        calls.append("activate")
        return real(w)

    monkeypatch.setattr(validate, "activate", counting)
    _ask(ws, store, user)
    assert calls == ["activate"]


def test_changed_warehouse_data_activates_again(flights, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, store, user, _ = flights
    _ask(ws, store, user)
    _new_process()
    before = snapshot.layer_key(ws, pipeline._model_state(ws, store))
    from datatruth.warehouse import dataversion

    dataversion.bump(ws.data_dir)
    assert snapshot.layer_key(ws, pipeline._model_state(ws, store)) != before
    calls: list[str] = []
    real = validate.activate
    monkeypatch.setattr(validate, "activate", lambda w: calls.append("activate") or real(w))
    _ask(ws, store, user)
    assert calls == ["activate"]


def test_a_learned_synonym_builds_a_new_planner(flights) -> None:
    ws, store, user, _ = flights
    _ask(ws, store, user)
    layer = pipeline.workspace_resources(ws, store).layer
    _new_process()
    feedback.learn_synonym(store, "flights", "local", "zorblax", "metric", "flights")
    built = planner.build_planner(ws, store=store, layer=layer)
    assert any(s.term == "zorblax" for s in built.synonyms)
    assert pipeline.ask(ws, "zorblax by origin", user=user, store=store).row_count == 3


@pytest.mark.parametrize("content", [b"", b"not a pickle", pickle.dumps(("some other key", "stale value"))])
def test_an_unreadable_or_foreign_snapshot_is_rebuilt(flights, content: bytes) -> None:
    ws, store, user, _ = flights
    first = _ask(ws, store, user)
    _new_process()
    for name in (snapshot.LAYER_FILE, snapshot.PLANNER_FILE):
        (ws.data_dir / "ask" / name).write_bytes(content)
    assert _ask(ws, store, user) == first
    key, _value = pickle.loads((ws.data_dir / "ask" / snapshot.LAYER_FILE).read_bytes())
    assert key == snapshot.layer_key(ws, pipeline._model_state(ws, store))


def test_a_snapshot_from_other_code_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.pickle"
    snapshot.save(path, snapshot._digest("k"), "old")
    assert snapshot.load(path, snapshot._digest("k")) == "old"
    monkeypatch.setattr(snapshot, "_CODE_STAMP", ["another version of the code"])
    assert snapshot.load(path, snapshot._digest("k")) is None
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("url", ["postgresql+psycopg://u@h/db", "sqlite:///x.sqlite", "duckdb:///:memory:"])
def test_server_warehouses_activate_every_time(url: str, tmp_path: Path) -> None:
    config = types.SimpleNamespace(
        warehouse_url=url, semantic_models=(), sensitive_columns=(), exposed_tables=()
    )
    ws = types.SimpleNamespace(name="w", config=config, data_dir=tmp_path)
    assert snapshot.layer_key(ws, ()) is None  # type: ignore[arg-type]
    calls: list[str] = []
    layer, tables = snapshot.activated_layer(ws, (), lambda: (calls.append("x") or "layer", frozenset()))  # type: ignore[arg-type]
    snapshot.activated_layer(ws, (), lambda: (calls.append("x") or "layer", frozenset()))  # type: ignore[arg-type]
    assert calls == ["x", "x"] and not os.listdir(tmp_path)
