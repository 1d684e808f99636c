"""The offline embedder and the per-workspace chroma index: meaning search, rebuilds, isolation, term resolver."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from fake_openai import build_shop

from datatruth.errors import UserError
from datatruth.store.feedback import add_verified_question, learn_synonym
from datatruth.vector import index as vindex
from datatruth.vector.chroma_function import MiniLMEmbeddingFunction
from datatruth.vector.embedder import DIMENSIONS, default_embedder, model_files
from datatruth.vector.index import Entry, VectorIndex, collection_name, open_index, term_resolver


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory):
    ws, store = build_shop(tmp_path_factory.mktemp("vec"))
    yield ws, store
    ws.close()


def test_model_files_are_installed_packages_not_downloads() -> None:
    files = model_files()
    assert files.onnx.name == "model.onnx" and "site-packages" in str(files.onnx)
    assert files.tokenizer.name == "tokenizer.json" and "site-packages" in str(files.tokenizer)


def test_vectors_are_unit_length_384_and_capture_meaning() -> None:
    emb = default_embedder()
    vectors = emb.embed(["income", "revenue", "flight delay", ""])
    assert vectors.shape == (4, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    near, far = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert near > far + 0.3, (near, far)
    # the same text in a batch or alone gives the same vector (padding must not leak into the mean)
    alone = emb.embed(["income"])[0]
    assert np.allclose(alone, vectors[0], atol=1e-3)


def test_chroma_embedding_function_is_ours_and_serialisable() -> None:
    ef = MiniLMEmbeddingFunction()
    out = ef(["income", "revenue"])
    assert len(out) == 2 and len(out[0]) == DIMENSIONS
    assert not ef.is_legacy() and ef.default_space() == "cosine"
    assert MiniLMEmbeddingFunction.build_from_config(ef.get_config()).name() == ef.name()


def test_search_finds_by_meaning_and_filters_kinds(shop) -> None:
    ws, store = shop
    index = open_index(ws, store=store)
    hits = index.search("income", k=3)
    assert hits and hits[0].name == "revenue" and 0 < hits[0].score <= 1
    assert all(h.kind == "dimension" for h in index.search("where the customer is", k=3, kinds=["dimension"]))
    values = index.search("Acme", k=2, kinds=("value",))
    assert values[0].name == "customer__name" and values[0].text == "Acme Corp"
    question = index.search("revenue per region for 2025", k=1, kinds=("question",))[0]
    assert question.text == "Sales by region in 2025" and '"customer__region"' in question.detail
    with pytest.raises(UserError, match="unknown index kind"):
        index.search("x", kinds=("tables",))
    with pytest.raises(AttributeError):
        hits[0].score = 2  # type: ignore[misc]  # hits are frozen


@pytest.mark.parametrize(
    ("word", "kind", "name"),
    [
        ("income", "metric", "revenue"),
        ("earnings", "metric", "revenue"),
        ("purchase count", "metric", "orders"),
        ("number of transactions", "metric", "orders"),
        ("day of purchase", "dimension", "order__order_date"),
    ],
)
def test_term_resolver_places_words_fuzzy_matching_cannot(shop, word: str, kind: str, name: str) -> None:
    ws, store = shop
    resolved = term_resolver(ws, store=store)(word)
    assert resolved is not None and (resolved.kind, resolved.name) == (kind, name), resolved


@pytest.mark.parametrize("word", ["volcano eruption", "client"])
def test_term_resolver_says_none_for_unrelated_or_ambiguous_words(shop, word: str) -> None:
    ws, store = shop
    # "client" is about as close to revenue as to customer__name: guessing would be worse than asking
    assert term_resolver(ws, store=store)(word) is None


def test_index_is_rebuilt_when_synonyms_or_verified_questions_change(shop) -> None:
    ws, store = shop
    first = open_index(ws, store=store)
    fingerprint, count = first.fingerprint, first.count()
    again = open_index(ws, store=store)
    assert again.fingerprint == fingerprint and again.count() == count
    learn_synonym(store, ws.name, "local", "dosh", "metric", "revenue")
    add_verified_question(
        store,
        ws.name,
        "local",
        "How many orders did Acme place?",
        plan={
            "metrics": ["orders"],
            "filters": [{"dimension": "customer__name", "op": "=", "values": ["Acme Corp"]}],
        },
    )
    rebuilt = open_index(ws, store=store)
    assert rebuilt.fingerprint != fingerprint and rebuilt.count() == count + 2
    top = rebuilt.search("dosh", k=1)[0]
    assert (top.kind, top.name, top.text) == ("synonym", "revenue", "dosh")
    assert rebuilt.search("orders placed by Acme", k=1, kinds=["question"])[0].text.startswith(
        "How many orders"
    )
    assert (ws.data_dir / "vectors").is_dir()


def test_workspaces_never_share_a_collection(tmp_path: Path) -> None:
    # Two workspaces on one chroma store (as on a shared chroma server): each sees only its own entries.
    a, b = VectorIndex("alpha", tmp_path), VectorIndex("beta", tmp_path)
    assert collection_name("alpha") != collection_name("beta")
    assert a.sync([Entry("metric", "revenue", "Revenue. Money from sales")])
    assert b.sync([Entry("metric", "delay_minutes", "Departure delay in minutes")])
    assert [h.name for h in a.search("late departures", k=5)] == ["revenue"]
    assert [h.name for h in b.search("money", k=5)] == ["delay_minutes"]
    assert a.count() == 1 and b.count() == 1


def test_layer_entries_cover_every_kind(shop) -> None:
    ws, _ = shop
    from datatruth.semantic.model import load_semantic_model

    entries = vindex.layer_entries(load_semantic_model(ws.config.semantic_models))
    assert {e.kind for e in entries} == set(vindex.KINDS)
    assert len({e.key for e in entries}) == len(entries)


def test_a_meaning_from_the_index_is_offered_as_a_choice_never_answered(shop) -> None:
    from datatruth.ask.meaning import ChoicePlanner
    from datatruth.ask.planner import build_planner
    from datatruth.errors import PlanningError

    ws, store = shop
    rules = build_planner(ws, store=store)
    with pytest.raises(PlanningError) as err:
        rules.plan("what was our income by region in 2025")
    assert err.value.unmatched == ["income"]
    planner = ChoicePlanner(rules, term_resolver(ws, store=store))
    with pytest.raises(PlanningError) as offered:
        planner.plan("what was our income by region in 2025")
    choice = offered.value.choices[0]
    assert choice == "what was our revenue by region in 2025"  # the index's reading, in the model's words
    direct = rules.plan("revenue by region in 2025")
    assert dataclasses.replace(planner.plan(choice), evidence=()) == dataclasses.replace(direct, evidence=())
    with pytest.raises(PlanningError) as still:
        planner.plan("what was our volcano by region")
    assert "volcano" in still.value.message
    assert not any("volcano" in c for c in still.value.choices)


def test_a_reopened_collection_embeds_with_our_model_not_chromas_default(tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings

    VectorIndex("alpha", tmp_path).sync([Entry("metric", "revenue", "Revenue. Money from sales")])
    client = chromadb.PersistentClient(
        path=str(tmp_path / "vectors"), settings=Settings(anonymized_telemetry=False)
    )
    collection = client.get_collection(collection_name("alpha"))  # no embedding function passed
    stored = collection.configuration_json["embedding_function"]
    assert stored["name"] == MiniLMEmbeddingFunction.name() and stored["type"] == "known"
    assert collection.query(query_texts=["income"], n_results=1)["documents"] == [
        ["Revenue. Money from sales"]
    ]


def test_an_unreachable_chroma_server_is_a_user_error(tmp_path: Path) -> None:
    from datatruth.vector.index import VectorIndexUnavailable

    with pytest.raises(VectorIndexUnavailable, match="not reachable"):
        VectorIndex("alpha", tmp_path, chroma_url="http://127.0.0.1:9")
