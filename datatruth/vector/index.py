"""A workspace's vector index: metrics, dimensions, synonyms, sample values and verified questions in chromadb.

One collection per workspace, named after the workspace id, in an embedded PersistentClient under
`<data_dir>/<workspace>/vectors` (or on the chroma server of `settings.chroma_url`), so no collection is ever
shared between workspaces. The collection carries a fingerprint of everything it holds; when the semantic
model, the learned synonyms or the verified questions change, it is rebuilt. Vectors come from the installed
MiniLM model (datatruth.vector.embedder); chroma's own downloading default is never used.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datatruth import resources
from datatruth.errors import UserError
from datatruth.semantic.model import SemanticLayer
from datatruth.vector.embedder import MODEL_ID

if TYPE_CHECKING:
    from datatruth.vector.chroma_function import MiniLMEmbeddingFunction

KINDS = ("metric", "dimension", "synonym", "value", "question")
INDEX_FORMAT = "1"  # bump when the entry layout changes, so old collections are rebuilt
MAX_VALUES_PER_DIMENSION = 50  # sample values are for meaning, not lookup (the value index does lookups)
_TARGET_KINDS = ("metric", "dimension")


class VectorIndexUnavailable(UserError):
    """The chroma server of a shared deployment cannot be reached."""


@dataclass(frozen=True)
class Entry:
    """One indexed text: `name` is what it points to (metric, qualified dimension, or question id)."""

    kind: str
    name: str
    text: str
    target_kind: str = ""  # for synonyms and values: metric | dimension
    detail: str = ""  # for verified questions: the plan as JSON, or the SQL

    @property
    def key(self) -> str:
        """A stable id, unique within the collection."""
        digest = hashlib.sha1(f"{self.kind}\x1f{self.name}\x1f{self.text}".encode()).hexdigest()[:16]
        return f"{self.kind}:{digest}"


@dataclass(frozen=True)
class Hit:
    """A search result: what matched, and how close (cosine similarity, 1 is identical)."""

    kind: str
    name: str
    text: str
    score: float
    target_kind: str = ""
    detail: str = ""


@dataclass(frozen=True)
class ResolvedTerm:
    """A word the vector index placed: it most likely means metric or dimension `name`."""

    word: str
    kind: str  # metric | dimension
    name: str
    score: float
    via: str  # the indexed text that matched


def _describe(*parts: str) -> str:
    return ". ".join(p.strip() for p in parts if p and p.strip())


def layer_entries(layer: SemanticLayer) -> list[Entry]:
    """Metrics, dimensions, their synonyms and sample values, and the model's verified questions."""
    out: list[Entry] = []
    for metric in layer.metrics:
        out.append(Entry("metric", metric.name, _describe(metric.title, metric.description)))
        out += [Entry("synonym", metric.name, s, "metric") for s in metric.synonyms]
    for qd in layer.dimensions():
        dim = qd.dimension
        label = dim.label or dim.name.replace("_", " ")
        out.append(Entry("dimension", qd.name, _describe(f"{label} ({qd.model.name})", dim.description)))
        out += [Entry("synonym", qd.name, s, "dimension") for s in dim.synonyms]
        out += [
            Entry("value", qd.name, str(v), "dimension") for v in dim.sample_values[:MAX_VALUES_PER_DIMENSION]
        ]
    for i, vq in enumerate(layer.verified_questions):
        detail = json.dumps(dict(vq.plan), default=str, sort_keys=True) if vq.plan else (vq.sql or "")
        out.append(Entry("question", f"model:{i}", vq.question, "", detail))
    return out


def learned_entries(synonyms: Iterable[Any], verified: Iterable[Mapping[str, Any]]) -> list[Entry]:
    """Synonyms and verified questions learned from feedback (datatruth.store.feedback)."""
    out: list[Entry] = []
    for s in synonyms:
        if str(s.target_kind) in _TARGET_KINDS:
            out.append(Entry("synonym", str(s.target), str(s.term), str(s.target_kind)))
    for i, vq in enumerate(verified):
        plan, sql = vq.get("plan"), vq.get("sql")
        detail = json.dumps(plan, default=str, sort_keys=True) if plan else (sql or "")
        out.append(Entry("question", f"learned:{i}", str(vq["question"]), "", detail))
    return out


def value_entries(values: Mapping[str, Sequence[str]]) -> list[Entry]:
    """Distinct values per qualified dimension (e.g. from the planner's value index), capped per dimension."""
    return [
        Entry("value", dim, str(v), "dimension")
        for dim, vals in values.items()
        for v in list(vals)[:MAX_VALUES_PER_DIMENSION]
        if str(v).strip()
    ]


def fingerprint(entries: Sequence[Entry]) -> str:
    """A hash of the model id, the format and every entry: a change means rebuild."""
    h = hashlib.sha256(f"{MODEL_ID}|{INDEX_FORMAT}".encode())
    for e in sorted(entries, key=lambda e: e.key):
        h.update(f"{e.key}|{e.target_kind}|{e.detail}\n".encode())
    return h.hexdigest()[:24]


def collection_name(workspace: str) -> str:
    """The chroma collection of one workspace (chroma names must start and end with a letter or digit)."""
    return f"dt-{workspace}-index"


def _client(workspace_dir: Path, chroma_url: str = "") -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        from urllib.parse import urlparse

        url = urlparse(chroma_url)
        if not url.hostname:
            raise UserError(
                f"DATATRUTH_CHROMA_URL {chroma_url!r} is not a URL", "write e.g. http://chroma:8000"
            )
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except ValueError as err:  # chromadb's way of saying the server did not answer
            raise VectorIndexUnavailable(
                f"the chroma server at {chroma_url} is not reachable: {err}",
                "start it, or unset DATATRUTH_CHROMA_URL to use an embedded index",
            ) from err
    path = workspace_dir / "vectors"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class VectorIndex:
    """The chroma collection of one workspace, rebuilt when its content changes."""

    def __init__(
        self,
        workspace: str,
        workspace_dir: Path,
        *,
        chroma_url: str = "",
        embedding: MiniLMEmbeddingFunction | None = None,
    ) -> None:
        # chromadb (seconds to import) is loaded only when an index is opened, never for planning alone.
        from datatruth.vector.chroma_function import MiniLMEmbeddingFunction

        self.workspace = workspace
        self._embedding = embedding or MiniLMEmbeddingFunction()
        self._client = _client(workspace_dir, chroma_url)
        self._collection: Any = None
        self._lock = threading.Lock()
        self.fingerprint = ""

    def sync(self, entries: Sequence[Entry]) -> bool:
        """Make the collection hold exactly `entries`; True when it had to be (re)built."""
        unique = list({e.key: e for e in entries}.values())
        wanted = fingerprint(unique)
        name = collection_name(self.workspace)
        with self._lock:
            collection = self._client.get_or_create_collection(
                name,
                embedding_function=self._embedding,
                metadata={"hnsw:space": "cosine", "workspace": self.workspace},
            )
            if (collection.metadata or {}).get("fingerprint") == wanted and collection.count() == len(unique):
                self._collection, self.fingerprint = collection, wanted
                return False
            # Rebuilding from scratch is simpler than diffing and takes well under a second for a model.
            self._client.delete_collection(name)
            collection = self._client.create_collection(
                name,
                embedding_function=self._embedding,
                metadata={"hnsw:space": "cosine", "workspace": self.workspace, "fingerprint": wanted},
            )
            for start in range(0, len(unique), 256):
                part = unique[start : start + 256]
                collection.add(
                    ids=[e.key for e in part],
                    documents=[e.text for e in part],
                    metadatas=[
                        {"kind": e.kind, "name": e.name, "target_kind": e.target_kind, "detail": e.detail}
                        for e in part
                    ],
                )
            self._collection, self.fingerprint = collection, wanted
            return True

    def count(self) -> int:
        """How many entries the collection holds."""
        return 0 if self._collection is None else int(self._collection.count())

    def search(self, text: str, k: int = 8, kinds: Iterable[str] | None = None) -> tuple[Hit, ...]:
        """The k entries closest in meaning to `text`, optionally only of some kinds, best first."""
        if self._collection is None:
            raise UserError(
                f"the vector index of workspace '{self.workspace}' is not built",
                "call sync() (or open_index) before searching",
            )
        kinds = tuple(kinds or ())
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise UserError(f"unknown index kind(s) {', '.join(unknown)}", f"kinds: {', '.join(KINDS)}")
        total = self.count()
        if not text.strip() or total == 0 or k < 1:
            return ()
        where: dict[str, Any] | None = None
        if len(kinds) == 1:
            where = {"kind": kinds[0]}
        elif kinds:
            where = {"kind": {"$in": list(kinds)}}
        result = self._collection.query(
            query_texts=[text],
            n_results=min(k, total),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        hits = []
        for doc, meta, dist in zip(
            result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
        ):
            hits.append(
                Hit(
                    str(meta["kind"]),
                    str(meta["name"]),
                    str(doc),
                    round(1.0 - float(dist), 4),
                    str(meta.get("target_kind") or ""),
                    str(meta.get("detail") or ""),
                )
            )
        return tuple(hits)

    def resolve(
        self, word: str, *, min_score: float = 0.4, margin: float = 0.05, kinds: Iterable[str] = _TARGET_KINDS
    ) -> ResolvedTerm | None:
        """The metric or dimension a word most likely means; None when nothing is close or two targets tie.

        Single words score lower than sentences with this model (income~revenue ≈ 0.45, unrelated < 0.25), so
        the bar is modest, and a runner-up pointing elsewhere within `margin` makes the word ambiguous.
        """
        wanted = set(kinds)
        best: ResolvedTerm | None = None
        for hit in self.search(word, k=8, kinds=("metric", "dimension", "synonym")):
            kind = hit.kind if hit.kind in _TARGET_KINDS else hit.target_kind
            if kind not in wanted:
                continue
            if best is None:
                if hit.score < min_score:
                    return None
                best = ResolvedTerm(word, kind, hit.name, hit.score, hit.text)
            elif (kind, hit.name) != (best.kind, best.name):
                return best if best.score - hit.score >= margin else None
        return best


def open_index(
    ws: Any,
    *,
    layer: SemanticLayer | None = None,
    store: Any = None,
    values: Mapping[str, Sequence[str]] | None = None,
) -> VectorIndex:
    """The workspace's index, synced with its semantic layer, learned synonyms and verified questions."""
    if layer is None:
        from datatruth.semantic.model import load_semantic_model

        layer = load_semantic_model(ws.config.semantic_models)
    entries = layer_entries(layer)
    if store is not None:
        from datatruth.store.feedback import synonyms, verified

        entries += learned_entries(synonyms(store, ws.name), verified(store, ws.name))
    if values:
        entries += value_entries(values)
    chroma_url = getattr(ws.settings, "chroma_url", "") or ""
    index = resources.get(
        "vector-index",
        ws.name,
        lambda: VectorIndex(ws.name, ws.data_dir, chroma_url=chroma_url),
        slot=(str(ws.data_dir), chroma_url),
    )
    index.sync(entries)
    return index


TermResolver = Callable[[str], "ResolvedTerm | None"]


def term_resolver(
    ws: Any, *, store: Any = None, layer: SemanticLayer | None = None, min_score: float = 0.4
) -> TermResolver:
    """A function the deterministic planner can call for a word fuzzy matching cannot place ("income" → revenue).

    The index is opened on the first call, so a planner that never needs it never loads the model.
    """
    opened: list[VectorIndex] = []

    def resolve(word: str) -> ResolvedTerm | None:
        if not opened:
            opened.append(open_index(ws, layer=layer, store=store))
        return opened[0].resolve(word, min_score=min_score)

    return resolve
