"""Fault 4: one malformed workspace.yaml broke `workspace list`, the app's list and `dashboards refresh`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datatruth.cli.main import main
from datatruth.settings import load_settings
from datatruth.workspace.registry import create_workspace, list_workspaces

REPO = Path(__file__).resolve().parents[2]
BROKEN = {
    "syntax": "title: [unclosed\n",
    "alias bomb": "x0: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"x{i}: &a{i} [{', '.join(['*a' if i == 1 else f'*a{i - 1}'] * 9)}]\n" for i in range(1, 8)),
    "recursive alias": "title: &t [*t]\n",
    "list as key": "[a, b]: c\n",
    "bad values": "limits: {timeout_s: .nan, row_cap: 100000000000000000000000}\nclock: 2013-02-30\n",
    "not a mapping": "- just\n- a list\n",
    "not utf-8": "title: caf\xe9\n",
}


@pytest.fixture()
def workspaces(private_dirs: dict[str, str]):
    settings = load_settings()
    for name in ("alpha", "omega"):
        create_workspace(name, settings=settings)
    return settings


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_list_shows_the_good_ones_and_names_the_broken_one(workspaces, capsys, kind: str) -> None:
    folder = workspaces.workspaces_dir / "broken"
    folder.mkdir()
    raw = BROKEN[kind]
    (folder / "workspace.yaml").write_bytes(raw.encode("latin-1") if kind == "not utf-8" else raw.encode())
    summaries = {s.name: s for s in list_workspaces(workspaces)}  # what the app's switcher is built from
    assert summaries["alpha"].valid and summaries["omega"].valid
    assert not summaries["broken"].valid and summaries["broken"].problem
    assert main(["workspace", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["broken"]["valid"] is False and "workspace.yaml" in rows["broken"]["problem"]
    assert rows["alpha"]["valid"] and rows["omega"]["valid"]


def test_scheduled_refresh_skips_the_broken_workspace_and_refreshes_the_others(workspaces, capsys) -> None:
    folder = workspaces.workspaces_dir / "broken"
    folder.mkdir()
    (folder / "workspace.yaml").write_text(BROKEN["syntax"])
    assert main(["dashboards", "refresh", "--json"]) == 2
    captured = capsys.readouterr()
    report = {r["workspace"]: r for r in json.loads(captured.out)}
    assert report["alpha"]["tiles_refreshed"] == 0 and report["omega"]["tiles_refreshed"] == 0
    assert "not valid YAML" in report["broken"]["error"]
    assert "broken: NOT refreshed" in captured.err


def test_the_app_lists_the_valid_workspaces_and_says_which_is_unavailable(workspaces) -> None:
    from streamlit.testing.v1 import AppTest

    (workspaces.workspaces_dir / "broken").mkdir()
    (workspaces.workspaces_dir / "broken" / "workspace.yaml").write_text(BROKEN["list as key"])
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.sidebar.selectbox[0].options == ["Alpha", "Omega"]
    assert any("broken" in c.value and "not available" in c.value for c in at.sidebar.caption)
