"""The one resource cache: built once per slot and version across threads, bounded, dropped by invalidate()."""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from pathlib import Path

import pytest

from datatruth import resources
from datatruth.ask import pipeline
from datatruth.errors import InternalError
from datatruth.resources import Kind, ResourceCache

REPO = Path(__file__).resolve().parent.parent


def _cache(max_slots: int = 4) -> ResourceCache:
    return ResourceCache({"thing": Kind("thing", max_slots), "handle": Kind("handle", 4, invalidated=False)})


def _in_threads(count: int, work) -> list:
    out: list = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            out[i] = work()
        except BaseException as err:  # noqa: BLE001 - re-raised in the test's thread below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    if errors:
        raise errors[0]
    return out


def test_threads_asking_for_the_same_slot_build_it_once() -> None:
    cache = _cache()
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def build() -> object:
        calls.append(1)
        entered.set()
        release.wait(10)  # hold the build open until every thread has asked
        return object()

    def ask() -> object:
        return cache.get("thing", "retail", build, slot="s", version=1)

    results: list[object] = []
    first = threading.Thread(target=lambda: results.append(ask()))
    first.start()
    assert entered.wait(10)
    waiting = threading.Thread(target=lambda: results.extend(_in_threads(4, ask)))
    waiting.start()
    time.sleep(0.3)  # the others are now waiting for the slot's build
    release.set()
    first.join(10)
    waiting.join(10)
    assert len(calls) == 1 and cache.builds == 1
    assert len(results) == 5 and all(r is results[0] for r in results)


def test_different_slots_build_in_parallel() -> None:
    cache = _cache()
    barrier = threading.Barrier(2, timeout=10)

    def build(name: str):
        def go() -> str:
            barrier.wait()  # would time out if one slot's build waited for the other's
            return name

        return go

    out: dict[str, str] = {}
    threads = [
        threading.Thread(target=lambda n=n: out.update({n: cache.get("thing", "ws", build(n), slot=n)}))
        for n in ("a", "b")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert out == {"a": "a", "b": "b"}


def test_a_failed_build_is_not_kept_and_the_next_ask_builds_again() -> None:
    cache = _cache()

    def fail() -> object:
        raise RuntimeError("warehouse down")

    with pytest.raises(RuntimeError):
        cache.get("thing", "retail", fail)
    assert cache.size("thing") == 0
    assert cache.get("thing", "retail", lambda: 42) == 42


def test_a_new_version_replaces_the_slot() -> None:
    cache = _cache()
    assert cache.get("thing", "retail", lambda: "v1", slot="layer", version=1) == "v1"
    assert cache.get("thing", "retail", lambda: "stale", slot="layer", version=1) == "v1"
    assert cache.get("thing", "retail", lambda: "v2", slot="layer", version=2) == "v2"
    assert cache.size("thing") == 1 and cache.peek("thing", "retail", slot="layer", version=1) is None


def test_invalidate_drops_the_workspace_own_slots_only() -> None:
    cache = _cache()
    cache.get("thing", "retail", lambda: "r")
    cache.get("thing", "flights", lambda: "f")
    cache.get("handle", "retail", lambda: "h")
    assert cache.invalidate("retail") == 1
    assert cache.peek("thing", "retail") is None and cache.peek("thing", "flights") == "f"
    assert cache.peek("handle", "retail") == "h"  # declared invalidated=False: it re-checks itself on use
    assert cache.get("thing", "retail", lambda: "r2") == "r2"


def test_a_value_built_across_an_invalidation_is_returned_but_not_kept() -> None:
    cache = _cache()

    def build() -> str:
        cache.invalidate("retail")  # e.g. a model edit accepted while the old model was being activated
        return "old"

    assert cache.get("thing", "retail", build) == "old"
    assert cache.peek("thing", "retail") is None


def test_a_value_built_across_a_clear_is_not_kept() -> None:
    cache = _cache()

    def build() -> str:
        cache.clear()
        return "old"

    assert cache.get("thing", "retail", build) == "old"
    assert cache.size("thing") == 0


def test_each_kind_keeps_at_most_its_bound_evicting_the_least_recently_used() -> None:
    cache = _cache(max_slots=3)
    for i in range(3):
        cache.get("thing", "ws", lambda i=i: i, slot=i)
    cache.get("thing", "ws", lambda: -1, slot=0)  # used again: now the most recent
    cache.get("thing", "ws", lambda: 3, slot=3)
    assert cache.size("thing") == 3
    assert cache.peek("thing", "ws", slot=1) is None  # the least recently used went
    assert [cache.peek("thing", "ws", slot=s) for s in (0, 2, 3)] == [0, 2, 3]
    for i in range(100):
        cache.get("thing", "ws", lambda i=i: i, slot=("many", i))
    assert cache.size("thing") == 3


def test_fresh_and_keep_decide_what_is_served_and_kept() -> None:
    cache = _cache()
    assert cache.get("thing", "ws", lambda: "error", keep=lambda v: v != "error") == "error"
    assert cache.size("thing") == 0
    cache.get("thing", "ws", lambda: "ok")
    assert cache.get("thing", "ws", lambda: "again", fresh=lambda v: False) == "again"


def test_a_build_that_asks_for_its_own_slot_fails_instead_of_hanging() -> None:
    cache = _cache()

    def build() -> object:
        return cache.get("thing", "retail", build)

    with pytest.raises(InternalError, match="needs that thing itself"):
        cache.get("thing", "retail", build)
    assert cache.get("thing", "retail", lambda: "fine") == "fine"  # nothing was left half-built


def test_every_declared_kind_is_bounded() -> None:
    assert all(kind.max_slots > 0 for kind in resources.KINDS.values())


# -- the pipeline's resources on a real workspace ------------------------------------------------------------


@pytest.fixture()
def flights(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from datatruth.cli.ask import open_context

    built = REPO / ".datatruth" / "flights"
    if (built / "warehouse.duckdb").exists() and (built / "warehouse.build.json").exists():
        (tmp_path / "flights").mkdir()
        for name in ("warehouse.duckdb", "warehouse.build.json"):
            shutil.copy2(built / name, tmp_path / "flights" / name)
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATATRUTH_STORE_URL", f"sqlite:///{tmp_path / 'metadata.sqlite'}")
    monkeypatch.setenv("DATATRUTH_LOCAL_USER", "local")
    resources.clear()
    ws, store, user = open_context("flights")
    yield ws, store, user
    resources.invalidate(ws.name)
    ws.close()


def test_two_threads_asking_for_a_workspace_layer_build_it_once(
    flights, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, store, _user = flights
    real = pipeline._build_resources
    calls: list[int] = []

    def slow_build(*args: object) -> pipeline.Resources:
        calls.append(1)
        time.sleep(0.3)  # long enough for the other thread to ask meanwhile
        return real(*args)

    monkeypatch.setattr(pipeline, "_build_resources", slow_build)
    got = _in_threads(2, lambda: pipeline.workspace_resources(ws, store))
    assert len(calls) == 1 and got[0] is got[1]


def test_invalidate_rebuilds_the_workspace_layer(flights) -> None:
    ws, store, _user = flights
    first = pipeline.workspace_resources(ws, store)
    assert pipeline.workspace_resources(ws, store) is first
    resources.invalidate(ws.name)
    assert pipeline.workspace_resources(ws, store) is not first


def test_a_model_edit_replaces_the_layer_of_the_workspace(flights, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, store, _user = flights
    first = pipeline.workspace_resources(ws, store)
    edited = pipeline._model_state(ws, store) + (("edited.yaml", 1, 1),)  # what a saved file changes
    monkeypatch.setattr(pipeline, "_model_state", lambda _ws, _store: edited)
    second = pipeline.workspace_resources(ws, store)
    assert second is not first and pipeline.workspace_resources(ws, store) is second
    assert resources.CACHE.size("layer") == 1  # the edited model's layer replaced the old one


def test_workspaces_loaded_from_the_same_files_share_and_new_settings_do_not(flights) -> None:
    from datatruth.workspace.registry import Workspace

    ws, store, _user = flights
    first = pipeline.workspace_resources(ws, store)
    twin = Workspace(ws.config, ws.settings)
    assert pipeline.workspace_resources(twin, store) is first
    limits = dataclasses.replace(ws.config.limits, cache_ttl_s=ws.config.limits.cache_ttl_s + 1)
    edited = Workspace(dataclasses.replace(ws.config, limits=limits), ws.settings)
    try:
        other = pipeline.workspace_resources(edited, store)
        assert other is not first and other.cache.ttl_s == limits.cache_ttl_s
    finally:
        edited.close()
        twin.close()


def test_memos_of_a_vocabulary_are_its_own_and_stay_out_of_snapshots() -> None:
    import pickle

    from datatruth.ask.vocabulary import build_vocabulary
    from datatruth.semantic.model import load_semantic_model

    layer = load_semantic_model([REPO / "semantic_models" / "flights"])
    one, other = build_vocabulary(layer), build_vocabulary(layer)
    one.memo("verified readings", dict)["flights by origin"] = "a reading"
    assert other.memo("verified readings", dict) == {}  # keyed by the object itself, never by its id()
    assert pickle.loads(pickle.dumps(one)).memo("verified readings", dict) == {}
