"""Issue 14, finding 3: a workspace name is an identifier on every face (core, CLI, magics, ?ws=), never a path.

`-w 'retail/../flights'` used to work, and `-w /some/dir/retail` loaded a foreign workspace.yaml under the
name "retail" and seeded its member mallory as an admin into the store.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from streamlit.testing.v1 import AppTest

from datatruth.cli.main import main
from datatruth.errors import UserError
from datatruth.settings import load_settings
from datatruth.store import open_store, users
from datatruth.workspace.registry import check_workspace_name, load_config, load_workspace

REPO = Path(__file__).resolve().parent.parent
BAD = ["retail/../flights", "../retail", "/tmp/x/retail", "retail\n", "Retail", "", ".", "a" * 41, "re tail"]


@pytest.fixture
def foreign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace.yaml outside the workspaces folder naming mallory as admin, and an isolated store."""
    folder = tmp_path / "elsewhere" / "retail"
    folder.mkdir(parents=True)
    (folder / "workspace.yaml").write_text(
        yaml.safe_dump(
            {
                "title": "Not ours",
                "warehouse": {"url": "duckdb:///:memory:"},
                "members": [{"user": "mallory", "role": "admin"}],
            }
        )
    )
    monkeypatch.setenv("DATATRUTH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATATRUTH_STORE_URL", raising=False)
    monkeypatch.delenv("DATATRUTH_WORKSPACES_DIR", raising=False)
    return folder


@pytest.mark.parametrize("name", BAD)
def test_core_refuses_names_that_are_not_identifiers(name: str) -> None:
    with pytest.raises(UserError, match="not a valid workspace name"):
        check_workspace_name(name)
    with pytest.raises(UserError, match="not a valid workspace name"):
        load_config(name)


def test_core_never_loads_a_foreign_workspace(foreign: Path) -> None:
    for name in (str(foreign), str(foreign.parent / ".." / "elsewhere" / "retail")):
        with pytest.raises(UserError, match="not a valid workspace name"):
            load_workspace(name)
    assert users.membership(open_store(settings=load_settings()), "retail", "mallory") is None


@pytest.mark.parametrize(
    "argv",
    [
        ["sql", "-w", "retail/../flights", "SELECT 1"],
        ["ask", "-w", "../flights", "revenue"],
        ["workspace", "show", "/tmp/x/retail"],
        ["quality", "run", "-w", "retail/.."],
        ["users", "role", "ana", "viewer", "-w", "../x"],
        ["audit", "-w", "../retail"],
    ],
)
def test_cli_refuses_paths_as_names(
    argv: list[str], foreign: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "not a valid workspace name" in err and "Traceback" not in err


def test_cli_sql_with_foreign_path_seeds_nobody(foreign: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sql", "-w", str(foreign), "SELECT 1"])
    assert users.membership(open_store(settings=load_settings()), "retail", "mallory") is None
    assert main(["audit", "-w", "_global"]) == 0, "sign-ins are audited under _global, which stays allowed"


def test_magics_refuse_paths(foreign: Path) -> None:
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "datatruth")
    with pytest.raises(UsageError, match="not a valid workspace name"):
        shell.run_line_magic("dt_workspace", str(foreign))
    with pytest.raises(UsageError, match="not a valid workspace name"):
        shell.run_cell_magic("ask", "-w retail/../flights", "revenue")
    with pytest.raises(UsageError, match="not a valid workspace name"):
        shell.run_cell_magic("dt_sql", "-w ../retail", "SELECT 1")
    assert users.membership(open_store(settings=load_settings()), "retail", "mallory") is None


def test_ws_link_is_only_ever_a_name(foreign: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # With no workspace listed, the page used to open whatever ?ws= said, a path included.
    empty = tmp_path / "no-workspaces"
    empty.mkdir()
    monkeypatch.setenv("DATATRUTH_WORKSPACES_DIR", str(empty))
    monkeypatch.chdir(REPO)
    at = AppTest.from_file(str(REPO / "pages" / "ask.py"), default_timeout=60)
    at.query_params["ws"] = str(foreign)
    at.run()
    assert any("not a valid workspace name" in e.value for e in at.error)
    assert users.membership(open_store(settings=load_settings()), "retail", "mallory") is None
