"""The incident board page renders an empty state, then a board with a detail panel and actions."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from datatruth.incidents import service
from datatruth.quality.outcome import CheckOutcome
from datatruth.store import incidents as repo

REPO = Path(__file__).resolve().parent.parent


def test_empty_board(retail_members) -> None:
    at = AppTest.from_file(str(REPO / "pages" / "incidents.py"), default_timeout=60).run()
    assert not at.exception
    assert any("No incidents yet" in i.value for i in at.info)


def test_board_acknowledge_from_page(retail_members) -> None:
    store, ws = retail_members
    oc = CheckOutcome(
        "emails_not_null",
        "not_null",
        "customers",
        "email",
        "fail",
        "critical",
        "ana",
        698.0,
        "0",
        "698 customers have no email",
        run_id=uuid.uuid4().hex[:6],
    )
    (iid,) = service.process_outcomes(store, ws, [oc]).opened
    at = AppTest.from_file(str(REPO / "pages" / "incidents.py"), default_timeout=60).run()
    assert not at.exception
    assert at.metric[0].value == "1"
    assert any("emails_not_null" in s.value for s in at.subheader)
    at.text_area[0].input("checking the sign-up form")
    at.radio[0].set_value("acknowledge")
    at.button[-1].click().run()
    assert not at.exception
    assert repo.get(store, "retail", iid).status == "acknowledged"


def _two_incidents(store, ws) -> tuple[int, int]:
    run = uuid.uuid4().hex[:6]
    first = CheckOutcome(
        "emails_not_null",
        "not_null",
        "customers",
        "email",
        "fail",
        "critical",
        "ana",
        698.0,
        "0",
        "698 customers have no email",
        run_id=run,
    )
    second = CheckOutcome(
        "phones_format",
        "format",
        "customers",
        "phone",
        "fail",
        "warning",
        "ana",
        12.0,
        "0",
        "12 phones in another format",
        run_id=run,
    )
    opened = service.process_outcomes(store, ws, [first, second]).opened
    return opened[0], opened[1]


def test_resolve_confirms_and_keeps_the_incident_selected(retail_members) -> None:
    store, ws = retail_members
    first, second = _two_incidents(store, ws)
    at = AppTest.from_file(str(REPO / "pages" / "incidents.py"), default_timeout=60).run()
    at.selectbox(key="incident-pick").set_value(second).run()
    assert any(f"#{second}" in s.value for s in at.subheader)
    at.text_area[0].input("fixed the phone parser")
    at.radio[0].set_value("resolve")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception
    assert repo.get(store, "retail", second).status == "resolved"
    # The resolved incident left the "active" filter, yet it stays on screen with a confirmation...
    assert at.selectbox(key="incident-pick").value == second
    assert any(f"#{second}" in s.value for s in at.subheader)
    assert any(
        f"Resolved incident #{second}" in s.value and "status now resolved" in s.value for s in at.success
    )
    # ...so the next Apply lands on the same incident, not on the one that moved up.
    at.text_area[0].input("and deployed")
    at.radio[0].set_value("comment")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception
    assert [e.comment for e in repo.events(store, "retail", second) if e.kind == "comment"] == [
        "and deployed"
    ]
    assert not [e for e in repo.events(store, "retail", first) if e.kind == "comment"]


@pytest.mark.parametrize(
    "name, words", [("", "type the user name"), ("nobody", "'nobody' is not an active member")]
)
def test_assign_explains_a_missing_or_unknown_name(retail_members, name: str, words: str) -> None:
    store, ws = retail_members
    first, _second = _two_incidents(store, ws)
    at = AppTest.from_file(str(REPO / "pages" / "incidents.py"), default_timeout=60).run()
    at.selectbox(key="incident-pick").set_value(first).run()
    at.radio[0].set_value("assign")
    next(t for t in at.text_input if t.label == "Assign to (user name)").input(name)
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert not any("invite you" in e.value for e in at.error)
    assert any("members of 'retail'" in c.value and "ana" in c.value for c in at.caption)
    assert repo.get(store, "retail", first).owner in (None, "ana")
