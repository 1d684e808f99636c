"""Every page runs without an exception for an admin and for a viewer; the viewer sees no edit controls."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from datatruth.incidents import service
from datatruth.quality.outcome import CheckOutcome
from datatruth.settings import load_settings
from datatruth.store import open_store
from datatruth.store.users import seed_from_config
from datatruth.ui.context import USER_KEY
from datatruth.ui.shell import PAGES
from datatruth.workspace.registry import load_workspace

REPO = Path(__file__).resolve().parent.parent
# Words that only ever label a control that changes something.
EDIT_WORDS = (
    "save",
    "delete",
    "run checks",
    "apply",
    "restore",
    "create",
    "invite",
    "clear",
    "analyse",
    "collect",
    "acknowledge",
    "upload",
    "deactivate",
    "unlock",
    "open incident",
    "pin",
)
# Per page: a control an admin sees and a viewer must not (kind, label), where the page has one.
ADMIN_ONLY = {
    "pages/ask.py": ("tab", "SQL"),
    "pages/semantic_layer.py": ("button", "Save"),
    "pages/quality.py": ("button", "Run checks now"),
    "pages/incidents.py": ("button", "Apply"),
    "pages/slow_queries.py": ("radio", "Format"),
    "pages/admin.py": ("tab", "Users and roles"),
}


@pytest.fixture(scope="module")
def retail_with_incident(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A private data dir with the retail demo built, one open incident, and the shipped members."""
    data = tmp_path_factory.mktemp("smoke")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATATRUTH_DATA_DIR", str(data))
        mp.setenv("DATATRUTH_DEFAULT_WORKSPACE", "retail")
        for var in (
            "DATATRUTH_STORE_URL",
            "DATATRUTH_CREDENTIALS",
            "DATATRUTH_WORKSPACES_DIR",
            "DATATRUTH_HOSTED",
        ):
            mp.delenv(var, raising=False)
        mp.chdir(REPO)
        settings = load_settings()
        ws = load_workspace("retail", settings)  # builds the demo warehouse into the private data dir
        store = open_store(settings=settings)
        seed_from_config(store, "retail", ws.config.members)
        outcome = CheckOutcome(
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
        service.process_outcomes(store, ws, [outcome])
        yield
        ws.close()


def _run(page: str, user: str) -> AppTest:
    at = AppTest.from_file(str(REPO / page), default_timeout=120)
    at.session_state[USER_KEY] = user
    return at.run()


def _labels(at: AppTest, kind: str) -> list[str]:
    if kind == "tab":
        return [t.label for t in at.tabs]
    if kind == "radio":
        return [r.label for r in at.radio]
    return [b.label for b in at.button]


PAGE_FILES = [p.path for p in PAGES]


def test_every_page_is_listed() -> None:
    assert sorted(PAGE_FILES) == sorted(f"pages/{p.name}" for p in (REPO / "pages").glob("*.py"))


@pytest.mark.parametrize("page", PAGE_FILES)
def test_page_runs_for_admin(retail_with_incident: None, page: str) -> None:
    at = _run(page, "admin")
    assert not at.exception, [e.message for e in at.exception]
    assert at.title, "every page starts with its title"
    if page in ADMIN_ONLY:
        kind, label = ADMIN_ONLY[page]
        assert label in _labels(at, kind), f"an admin sees the {kind} '{label}' on {page}"


@pytest.mark.parametrize("page", PAGE_FILES)
def test_page_runs_for_viewer_without_edit_controls(retail_with_incident: None, page: str) -> None:
    at = _run(page, "vic")
    assert not at.exception, [e.message for e in at.exception]
    assert at.title
    editing = [b.label for b in at.button if any(w in b.label.lower() for w in EDIT_WORDS)]
    assert not editing, f"a viewer sees edit controls on {page}: {editing}"
    assert not at.text_area, f"a viewer gets a text area on {page}: {[t.label for t in at.text_area]}"
    if page in ADMIN_ONLY:
        kind, label = ADMIN_ONLY[page]
        assert label not in _labels(at, kind), f"a viewer sees the {kind} '{label}' on {page}"


def test_non_member_is_told_so(retail_with_incident: None) -> None:
    at = _run("pages/semantic_layer.py", "stranger")
    assert not at.exception
    assert not [b for b in at.button if "save" in b.label.lower()]


# Pictographs and dingbats need an emoji font; headless browsers and many servers have none and draw boxes.
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")
UI_SOURCES = ["app.py", "pages/*.py", "datatruth/ui/*.py", "datatruth/auth.py", "datatruth/notebook/*.py"]


def test_no_emoji_in_what_the_app_and_notebooks_show() -> None:
    found = []
    for pattern in UI_SOURCES:
        for path in sorted(REPO.glob(pattern)):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if EMOJI.search(line):
                    found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:80]}")
    assert not found, "use Streamlit's :material/...: icons instead of emoji:\n" + "\n".join(found)
    assert all(p.icon.startswith(":material/") for p in PAGES)


def test_the_emoji_rule_catches_emoji() -> None:
    assert EMOJI.search("st.title('\u2705 Data quality')") and EMOJI.search("\U0001f4cc Pin")
    assert not EMOJI.search("cost 3.0 \u2192 1.0, :material/download: CSV")
