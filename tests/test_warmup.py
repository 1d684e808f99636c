"""Background warm-up: it fills the memos the first question reads, reports progress, and reports a failure."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from datatruth import resources
from datatruth.ask import pipeline, planner, warmup
from datatruth.errors import UserError
from datatruth.semantic import validate

REPO = Path(__file__).resolve().parent.parent


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


def test_the_first_question_finds_everything_warm(flights, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, store, user = flights
    warm = warmup.start(ws, store, ("json",))
    assert warmup.start(ws, store) is warm and warmup.find(ws) is warm  # once per process and workspace
    status = warm.wait(timeout=300)
    assert status.finished and not status.error and status.fraction == 1.0
    assert status.step == "loading json" and status.seconds > 0

    def no_more(*_a: object, **_k: object) -> None:
        raise AssertionError("the first question built a resource the warm-up should have built")

    monkeypatch.setattr(validate, "activate", no_more)
    monkeypatch.setattr(planner, "load_or_build", no_more)
    monkeypatch.setattr(planner, "RulePlanner", no_more)
    answer = pipeline.ask(ws, "number of flights by origin", user=user, store=store)
    assert answer.row_count == 3


def test_progress_is_reported_step_by_step() -> None:
    release = threading.Event()
    entered = threading.Event()

    def slow() -> None:
        entered.set()
        assert release.wait(timeout=60)

    warm = warmup.Warmup(
        "w",
        (
            warmup.Step("first", lambda: None),
            warmup.Step("second", slow),
            warmup.Step("third", lambda: None),
            warmup.Step("fourth", lambda: None),
        ),
    )
    assert warm.status().step == "waiting" and not warm.status().finished
    warm.start()
    assert entered.wait(timeout=60)
    during = warm.status()
    assert (during.step, during.fraction, during.finished) == ("second", 0.25, False)
    release.set()
    after = warm.wait(timeout=60)
    assert after.finished and after.fraction == 1.0 and after.step == "fourth"


def test_a_failing_step_stops_the_warm_up_with_its_message() -> None:
    ran: list[str] = []

    def broken() -> None:
        raise UserError("the warehouse is not reachable", "start it")

    warm = warmup.Warmup(
        "w",
        (
            warmup.Step("one", lambda: ran.append("one")),
            warmup.Step("two", broken),
            warmup.Step("three", lambda: ran.append("three")),
        ),
    )
    warm.start()
    status = warm.wait(timeout=60)
    assert status.finished and status.error == "the warehouse is not reachable" and status.step == "two"
    assert ran == ["one"]


class Slot:
    """Records what warmup_progress draws in its placeholder."""

    def __init__(self) -> None:
        self.drawn: list[str] = []

    def progress(self, fraction: float, text: str) -> None:
        self.drawn.append(f"{fraction:.2f} {text}")

    def caption(self, text: str) -> None:
        self.drawn.append(f"caption {text}")

    def empty(self) -> None:
        self.drawn.append("empty")


def test_the_sidebar_follows_the_warm_up_until_it_is_done() -> None:
    from datatruth.ui.shell import warmup_progress

    release = threading.Event()
    warm = warmup.Warmup(
        "retail",
        (
            warmup.Step("opening the warehouse", lambda: None),
            warmup.Step("activating the semantic model", lambda: release.wait(60)),
        ),
    )
    warm.start()
    threading.Timer(1.0, release.set).start()
    slot = Slot()
    warmup_progress(warm, slot)
    assert "0.50 Preparing retail: activating the semantic model…" in slot.drawn
    assert slot.drawn[-1] == "empty" and warm.status().finished


def test_the_sidebar_says_why_a_warm_up_stopped() -> None:
    from datatruth.ui.shell import warmup_progress

    def broken() -> None:
        raise UserError("the warehouse is not reachable", "start it")

    warm = warmup.Warmup("flights", (warmup.Step("opening the warehouse", broken),))
    warm.start()
    slot = Slot()
    warmup_progress(warm, slot)
    assert (
        slot.drawn[-1]
        == "caption :material/warning: Preparing flights stopped: the warehouse is not reachable"
    )


def _app_with_progress() -> None:
    import streamlit as st

    from datatruth.ask import warmup as wu
    from datatruth.ui.shell import warmup_progress

    warm = wu.Warmup("retail", (wu.Step("opening the warehouse", lambda: None),))
    warm.start()
    warmup_progress(warm, st.sidebar.empty())
    st.write("page done")


def test_the_app_script_ends_once_the_warm_up_is_done() -> None:
    at = AppTest.from_function(_app_with_progress, default_timeout=60).run()
    assert not at.exception and at.markdown[0].value == "page done"


def _app_with_preload() -> None:
    import streamlit as st

    from datatruth.ui.shell import preload_browser_code

    preload_browser_code()
    st.write("page done")


def test_the_browser_code_is_preloaded_once_per_session() -> None:
    at = AppTest.from_function(_app_with_preload, default_timeout=60).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1 and len(at.dataframe) == 1 and len(at.code) == 1
    at.run()
    assert not at.exception and at.markdown[-1].value == "page done"
    assert not at.get("plotly_chart") and not at.dataframe and not at.code
