"""The per-workspace resources this process keeps: one thread-safe cache, one eviction rule, one invalidation.

A resource (an activated semantic layer, a planner, a vector index handle, a rendered dashboard tile...) is
kept under a *slot*: its kind, the workspace that owns it and what else picks it out (the workspace's
settings, a user, a tile). A slot holds one value, built for one *version* (the model files' state, the
model's content hash, the warehouse's data version). Asking for a slot with another version rebuilds the
value and replaces the old one, so an edited model takes effect on the next question and the old value is
not kept alongside.

- Keys are made of names and stamps, never `id()` of an object: an id is reused once its object is garbage
  collected, and a new Workspace would then be served the resources of a dead one.
- Each kind keeps at most `Kind.max_slots` slots and evicts the least recently used one.
- Two threads (Streamlit runs each session in a thread) asking for the same slot build its value once: the
  second waits for the first and is given its value. Builds of different slots run in parallel.
- `invalidate(workspace)` drops every slot the workspace owns, except kinds declared `invalidated=False` (a
  handle that re-syncs itself on every use, a background job); a value being built while its workspace is
  invalidated is returned to its caller but not kept.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from datatruth.errors import InternalError

T = TypeVar("T")

# The owner of resources that depend only on their content (a vocabulary is the same for every workspace whose
# model has the same content hash), so no workspace's invalidation needs to drop them.
SHARED = ""


@dataclass(frozen=True)
class Kind:
    """A kind of resource: how many slots are kept, and whether `invalidate()` drops them."""

    name: str
    max_slots: int
    invalidated: bool = True
    help: str = ""


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "layer",
            16,
            help="activated semantic layer, result cache handle and exposed tables (ask.pipeline)",
        ),
        Kind("sql", 16, help="result cache handle and exposed tables for raw SQL (ask.pipeline)"),
        Kind("llm-planner", 16, help="a workspace's LLM planner (ask.pipeline, llm.planner)"),
        Kind("planner", 16, help="deterministic planner with its value index (ask.planner)"),
        Kind("vocabulary", 32, help="vocabulary of a model content hash and learned synonyms (ask.planner)"),
        Kind("table-columns", 512, help="column types of a warehouse table, for masking (ask.masking)"),
        Kind("tile", 512, help="rendered dashboard tiles (dashboards.tiles)"),
        Kind("table-detail", 64, help="drill-down profiles of the quality page (quality.overview)"),
        # One handle per chroma collection: its lock serialises rebuilds, and it re-syncs with the model on every
        # open, so it is never stale and a second handle next to it could rebuild the collection under a reader.
        Kind("vector-index", 16, invalidated=False, help="vector index handle (vector.index)"),
        # A warm-up is a background job, not a value derived from the model; the next one starts with new settings.
        Kind("warmup", 16, invalidated=False, help="background warm-up of a workspace (ask.warmup)"),
    )
}


def _always(_value: Any) -> bool:
    return True


@dataclass(frozen=True)
class _Held:
    version: Hashable
    value: Any


class ResourceCache:
    """Bounded, thread-safe values per (kind, workspace, slot), each built once per version."""

    def __init__(self, kinds: dict[str, Kind]) -> None:
        self._kinds = dict(kinds)
        self._lock = threading.Lock()  # guards the dicts below; never held while a value is built
        self._held: dict[str, OrderedDict[tuple, _Held]] = {name: OrderedDict() for name in self._kinds}
        self._building: dict[tuple, threading.Lock] = {}  # slot → the lock its one builder holds
        self._builders: dict[tuple, int] = {}  # slot → the thread building it
        self._generation: dict[
            str, int
        ] = {}  # bumped by invalidate(): a build that started before is not kept
        self._epoch = 0  # bumped by clear(), the same for every workspace
        self.builds = 0  # how many values were built (for tests)

    def get(
        self,
        kind: str,
        workspace: str,
        build: Callable[[], T],
        *,
        slot: Hashable = (),
        version: Hashable = (),
        fresh: Callable[[T], bool] = _always,
        keep: Callable[[T], bool] = _always,
    ) -> T:
        """The value of a slot for `version`, built with `build()` (once, whoever else asks meanwhile) when absent,
        of another version or no longer `fresh`; a built value is kept only when `keep(value)`.

        `fresh` is called with the cache locked, so it must be cheap (a clock check).
        """
        key = (workspace, slot)
        held = self._held[kind]  # a KeyError here is a bug: every kind is declared in KINDS
        building, me = (kind, *key), threading.get_ident()
        while True:
            with self._lock:
                found = held.get(key)
                if found is not None and found.version == version and fresh(found.value):
                    held.move_to_end(key)
                    return found.value
                if self._builders.get(building) == me:
                    # waiting for ourselves would hang this thread (and every later asker) for good
                    raise InternalError(
                        f"building the {kind} of workspace {workspace!r} needs that {kind} itself"
                    )
                lock = self._building.setdefault(building, threading.Lock())
            with lock:
                with self._lock:
                    if self._building.get(building) is not lock:
                        continue  # another thread built (or failed to build) it meanwhile: look again
                    generation = (self._epoch, self._generation.get(workspace, 0))
                    self._builders[building] = me
                try:
                    value = build()
                finally:
                    with self._lock:
                        del self._building[building], self._builders[building]
                with self._lock:
                    self.builds += 1
                    if keep(value) and (self._epoch, self._generation.get(workspace, 0)) == generation:
                        self._put(kind, key, _Held(version, value))
                return value

    def _put(self, kind: str, key: tuple, held: _Held) -> None:
        slots = self._held[kind]
        slots[key] = held
        slots.move_to_end(key)
        while len(slots) > self._kinds[kind].max_slots:
            slots.popitem(last=False)

    def peek(self, kind: str, workspace: str, *, slot: Hashable = (), version: Hashable = ()) -> Any | None:
        """The kept value of a slot for `version`, or None (nothing is built)."""
        with self._lock:
            found = self._held[kind].get((workspace, slot))
        return found.value if found is not None and found.version == version else None

    def invalidate(self, workspace: str) -> int:
        """Drop what `workspace` owns (every kind declared `invalidated`); return how many slots were dropped."""
        dropped = 0
        with self._lock:
            self._generation[workspace] = self._generation.get(workspace, 0) + 1
            for name, slots in self._held.items():
                if not self._kinds[name].invalidated:
                    continue
                for key in [k for k in slots if k[0] == workspace]:
                    del slots[key]
                    dropped += 1
        return dropped

    def clear(self) -> None:
        """Drop every slot of every kind and workspace (a fresh process, for tests)."""
        with self._lock:
            self._epoch += 1
            for slots in self._held.values():
                slots.clear()

    def size(self, kind: str) -> int:
        """How many slots of `kind` are kept."""
        with self._lock:
            return len(self._held[kind])


CACHE = ResourceCache(KINDS)


def get(
    kind: str,
    workspace: str,
    build: Callable[[], T],
    *,
    slot: Hashable = (),
    version: Hashable = (),
    fresh: Callable[[T], bool] = _always,
    keep: Callable[[T], bool] = _always,
) -> T:
    """The process-wide cache's value of a slot (see ResourceCache.get)."""
    return CACHE.get(kind, workspace, build, slot=slot, version=version, fresh=fresh, keep=keep)


def peek(kind: str, workspace: str, *, slot: Hashable = (), version: Hashable = ()) -> Any | None:
    """The process-wide cache's kept value of a slot, or None."""
    return CACHE.peek(kind, workspace, slot=slot, version=version)


def invalidate(workspace: str) -> int:
    """Drop the resources `workspace` owns in this process (after a model edit, a data load, new settings)."""
    return CACHE.invalidate(workspace)


def clear() -> None:
    """Drop every kept resource (as a new process would start)."""
    CACHE.clear()


def workspace_stamp(ws: Any) -> str:
    """A stamp of what a loaded workspace was configured with (its workspace.yaml and the process settings).

    Two Workspace objects loaded from the same files share their resources; one loaded after an edit of its
    settings (a new row cap, another data dir) gets its own.
    """
    return hashlib.sha256(repr((ws.config, ws.settings)).encode()).hexdigest()[:24]
