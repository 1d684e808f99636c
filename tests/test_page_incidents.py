"""The incident board page renders an empty state, then a board with a detail panel and actions."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from datatruth.incidents import service
from datatruth.quality.outcome import CheckOutcome
from datatruth.settings import load_settings
from datatruth.store import incidents as repo
from datatruth.store import open_store
from datatruth.store.users import seed_from_config
from datatruth.workspace.registry import Workspace, load_config

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(REPO)
    settings = load_settings()
    store = open_store(settings=settings)
    ws = Workspace(load_config("retail", settings), settings)
    seed_from_config(store, "retail", ws.config.members)
    return store, ws


def test_empty_board(env) -> None:
    at = AppTest.from_file(str(REPO / "pages" / "incidents.py"), default_timeout=60).run()
    assert not at.exception
    assert any("No incidents yet" in i.value for i in at.info)


def test_board_acknowledge_from_page(env) -> None:
    store, ws = env
    oc = CheckOutcome("emails_not_null", "not_null", "customers", "email", "fail", "critical", "ana", 698.0, "0",
                      "698 customers have no email", run_id=uuid.uuid4().hex[:6])
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
