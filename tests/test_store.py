"""The metadata store on SQLite and on the local PostgreSQL: migrations, scoping, repositories."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from datatruth import access
from datatruth.errors import NotFound, PermissionDenied
from datatruth.store import audit, feedback, history, proposals, semantic_versions, users
from datatruth.store.engine import Store
from datatruth.store.migrations import current_revision, head_revision


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'meta.sqlite'}")
        yield s
        s.dispose()
        return
    base = request.getfixturevalue("pg_url")
    schema = f"store_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base)
    with admin.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    s = Store(f"{base}?options=-csearch_path%3D{schema}")
    yield s
    s.dispose()
    with admin.begin() as c:
        c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_migrations_are_applied_once(store: Store) -> None:
    with store.connect() as c:
        assert current_revision(c) == head_revision()
    tables = set(sa.inspect(store.engine).get_table_names())
    for name in (
        "users",
        "memberships",
        "audit_log",
        "question_history",
        "feedback",
        "semantic_versions",
        "check_runs",
        "schema_versions",
        "incidents",
        "incident_events",
        "slow_classes",
        "slow_samples",
    ):
        assert name in tables
    # Opening again must not re-run anything.
    again = Store(store.url)
    with again.connect() as c:
        assert current_revision(c) == head_revision()
    again.dispose()


def test_history_is_scoped_to_workspace(store: Store) -> None:
    a = history.add(store, "alpha", "ana", "revenue by month", sql="SELECT 1", plan={"metrics": ["revenue"]})
    history.add(store, "beta", "ana", "secret beta question")
    assert [h.question for h in history.recent(store, "alpha")] == ["revenue by month"]
    assert history.get(store, "beta", a) is None  # an id from alpha is invisible from beta
    count, oldest = history.count_since(store, "alpha", "ana", dt.datetime(2000, 1, 1))
    assert count == 1 and oldest is not None


def test_audit_filters(store: Store) -> None:
    audit.record(store, "alpha", "ana", "semantic.save", "v1", {"message": "first"})
    audit.record(store, "alpha", "bob", "incident.ack", "7")
    audit.record(store, "beta", "ana", "semantic.save", "v1")
    assert [e.action for e in audit.entries(store, "alpha")] == ["incident.ack", "semantic.save"]
    assert [e.username for e in audit.entries(store, "alpha", action="semantic")] == ["ana"]
    assert audit.entries(store, "alpha", username="bob")[0].target == "7"


def test_semantic_versions_number_and_dedupe(store: Store) -> None:
    v1 = semantic_versions.save(store, "alpha", {"m.yaml": "metrics: []"}, author="ana", message="first")
    same = semantic_versions.save(
        store, "alpha", {"m.yaml": "metrics: []"}, author="ana", message="no change"
    )
    v2 = semantic_versions.save(store, "alpha", {"m.yaml": "metrics: [x]"}, author="bob", message="second")
    other = semantic_versions.save(store, "beta", {"m.yaml": "metrics: [y]"}, author="bob", message="beta")
    assert (v1.version, same.version, v2.version, other.version) == (1, 1, 2, 1)
    assert [v.version for v in semantic_versions.history(store, "alpha")] == [2, 1]
    assert semantic_versions.get(store, "alpha", 1).files == {"m.yaml": "metrics: []"}
    with pytest.raises(NotFound):
        semantic_versions.get(store, "beta", 2)


def test_feedback_and_synonyms(store: Store) -> None:
    users.set_membership(store, "alpha", "ada", "admin", actor="admin")
    feedback.learn_synonym(store, "alpha", "ada", "Income", "metric", "revenue")
    feedback.learn_synonym(store, "alpha", "ada", "income", "metric", "gross_margin")
    assert [(s.term, s.target) for s in feedback.synonyms(store, "alpha")] == [("income", "gross_margin")]
    assert feedback.synonyms(store, "beta") == []
    fid = feedback.record_feedback(store, "alpha", "ada", "right", history_id=1)
    assert fid > 0


def test_only_admins_teach_the_workspace_and_analysts_propose(store: Store) -> None:
    # A viewer taught "sales" -> cost and changed "sales by region" for every user (issue 14, finding 5); since
    # issue 17 an analyst's teaching is a proposal that changes only the analyst's own questions until accepted.
    users.set_membership(store, "alpha", "vic", "viewer", actor="admin")
    users.set_membership(store, "alpha", "ana", "analyst", actor="admin")
    for teach in (
        lambda u: feedback.learn_synonym(store, "alpha", u, "sales", "metric", "cost"),
        lambda u: feedback.add_verified_question(store, "alpha", u, "sales by region", sql="SELECT 1"),
    ):
        for user in ("vic", "ana", "stranger"):
            with pytest.raises(PermissionDenied):
                teach(user)
    assert feedback.synonyms(store, "alpha") == [] and feedback.verified(store, "alpha") == []
    assert not feedback.confirm_choice(store, "alpha", "vic", "Sales", "metric", "cost"), "only recorded"
    assert feedback.synonyms(store, "alpha") == [] and feedback.synonyms_for(store, "alpha", "vic") == []
    assert proposals.listed(store, "alpha") == []
    assert feedback.confirm_choice(store, "alpha", "ana", "sales", "metric", "revenue")
    assert feedback.synonyms(store, "alpha") == [], "a proposal changes nothing for everyone"
    assert [(s.term, s.target) for s in feedback.synonyms_for(store, "alpha", "ana")] == [
        ("sales", "revenue")
    ]
    assert feedback.synonyms_for(store, "alpha", "vic") == []
    [open_one] = proposals.pending(store, "alpha")
    assert (open_one.kind, open_one.proposer, open_one.source) == ("synonym", "ana", "choice")
    assert feedback.confirm_choice(store, "alpha", "ana", "sales", "metric", "revenue")
    assert len(proposals.pending(store, "alpha")) == 1, "the same proposal twice is one proposal"


def test_roles_enforced_in_core(store: Store) -> None:
    users.set_membership(store, "alpha", "vic", "viewer", actor="admin")
    users.set_membership(store, "alpha", "ana", "analyst", "reviewer", actor="admin")
    assert access.can(store, "alpha", "vic", "ask")
    with pytest.raises(PermissionDenied):
        access.require(store, "alpha", "vic", "edit_model")
    access.require(store, "alpha", "ana", "edit_model")
    access.require(store, "alpha", "ana", "incident_ack")
    with pytest.raises(PermissionDenied):
        access.require(store, "alpha", "ana", "incident_manage")
    with pytest.raises(PermissionDenied):
        access.require(store, "beta", "ana", "ask")  # member of alpha only
    users.set_active(store, "alpha", "ana", False, actor="admin")
    assert not access.can(store, "alpha", "ana", "ask")
    assert [e.action for e in audit.entries(store, "alpha", action="admin")][:1] == ["admin.user_active"]
